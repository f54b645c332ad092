//! Bad input: every invalid field is refused with INVALID_ARGUMENT naming it, nothing is
//! written (no member, no event), and the server keeps serving.

use std::time::Duration;

use fabrique_api::members as proto;
use fabrique_testkit::{Backend, TestPlatform};
use tonic::Code;

use crate::support::{Members, association, commune, platform, violated_fields};

async fn every_invalid_field_is_named_and_nothing_is_written(backend: Backend) {
    let platform = platform(backend).await;
    let admin = Members::connect(&platform, TestPlatform::admin_token()).await;

    let with = |change: fn(&mut proto::Member)| {
        let mut member = commune("Thiers", "63430", "216304303");
        change(&mut member);
        member
    };
    let cases: Vec<(&str, proto::Member, &str)> = vec![
        (
            "bad SIREN checksum",
            with(|m| m.siren = "216304304".into()),
            "member.siren",
        ),
        (
            "SIREN not 9 digits",
            with(|m| m.siren = "2163043".into()),
            "member.siren",
        ),
        (
            "bad INSEE code",
            with(|m| m.insee_code = "6343".into()),
            "member.insee_code",
        ),
        (
            "INSEE code of no department",
            with(|m| m.insee_code = "20123".into()),
            "member.insee_code",
        ),
        (
            "commune without INSEE code",
            with(|m| m.insee_code = String::new()),
            "member.insee_code",
        ),
        (
            "empty name",
            with(|m| m.display_name = "   ".into()),
            "member.display_name",
        ),
        ("unknown kind", with(|m| m.kind = 99), "member.kind"),
        ("no kind", with(|m| m.kind = 0), "member.kind"),
        (
            "5 MB name",
            with(|m| m.display_name = "x".repeat(5 * 1024 * 1024)),
            "member.display_name",
        ),
        (
            "bad website",
            with(|m| m.website = "javascript:alert(1)".into()),
            "member.website",
        ),
        (
            "bad contact e-mail",
            with(|m| m.contacts[0].email = "nope".into()),
            "member.contacts[0].email",
        ),
        (
            "contact without role",
            with(|m| m.contacts[0].role = 0),
            "member.contacts[0].role",
        ),
        (
            "control characters",
            with(|m| m.territory = "a\u{7}b".into()),
            "member.territory",
        ),
    ];
    for (case, member, field) in cases {
        let status = admin.create(member).await.expect_err(case);
        assert_eq!(violated_fields(&status), [field], "{case}");
        assert!(
            status.message().contains(field),
            "{case}: {}",
            status.message()
        );
    }

    // Several bad fields at once are all reported.
    let mut many = commune("", "6343", "1");
    many.kind = 42;
    let fields = violated_fields(&admin.create(many).await.unwrap_err());
    for field in [
        "member.display_name",
        "member.kind",
        "member.siren",
        "member.insee_code",
    ] {
        assert!(fields.contains(&field.to_string()), "{fields:?}");
    }
    let status = admin
        .create_with_id(association("A"), "not-a-uuid")
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["request_id"]);
    let mut client = admin.client.clone();
    let no_member = client
        .create_member(fabrique_testkit::authed(
            proto::CreateMemberRequest::default(),
            &admin.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&no_member), ["member"]);

    // Reads and lists.
    assert_eq!(
        violated_fields(&admin.get("members/42").await.unwrap_err()),
        ["name"]
    );
    assert_eq!(
        violated_fields(&admin.get("places/x").await.unwrap_err()),
        ["name"]
    );
    let list_cases: Vec<(&str, proto::ListMembersRequest, &str)> = vec![
        (
            "oversized page_size",
            proto::ListMembersRequest {
                page_size: 501,
                ..Default::default()
            },
            "page_size",
        ),
        (
            "negative page_size",
            proto::ListMembersRequest {
                page_size: -1,
                ..Default::default()
            },
            "page_size",
        ),
        (
            "forged page_token",
            proto::ListMembersRequest {
                page_token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            "garbage page_token",
            proto::ListMembersRequest {
                page_token: "%%%".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            "bad department",
            proto::ListMembersRequest {
                insee_department: "6".into(),
                ..Default::default()
            },
            "insee_department",
        ),
        (
            "unknown kind filter",
            proto::ListMembersRequest {
                kinds: vec![77],
                ..Default::default()
            },
            "kinds[0]",
        ),
        (
            "long query",
            proto::ListMembersRequest {
                query: "q".repeat(101),
                ..Default::default()
            },
            "query",
        ),
    ];
    for (case, request, field) in list_cases {
        let status = admin.list(request).await.expect_err(case);
        assert_eq!(violated_fields(&status), [field], "{case}");
    }

    // A message over the size limit (8 MiB here) is refused from its length prefix,
    // before it is buffered or decoded.
    let huge = with(|m| m.territory = "y".repeat(9 * 1024 * 1024));
    let status = admin.create(huge).await.unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");

    // Nothing was written: no member, and (on NATS) no event.
    assert!(
        admin
            .list_all(proto::ListMembersRequest::default())
            .await
            .is_empty()
    );
    if let Some(nats) = &platform.nats_url {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            fabrique_testkit::stream_messages(nats, &platform.stream("members"))
                .await
                .is_empty()
        );
    }
    // And the server still serves.
    let ok = admin
        .create(commune("Thiers", "63430", "216304303"))
        .await
        .expect("valid create");
    assert_eq!(
        admin.get(&ok.name).await.expect("get").display_name,
        "Thiers"
    );
}

#[tokio::test]
async fn on_postgres() {
    every_invalid_field_is_named_and_nothing_is_written(Backend::Postgres).await;
}

#[tokio::test]
async fn on_sqlite() {
    every_invalid_field_is_named_and_nothing_is_written(Backend::Sqlite).await;
}
