//! The members API on PostgreSQL (with NATS) and on SQLite (with the in-process bus):
//! lifecycle, idempotent creation, updates with field masks and etags, filters,
//! pagination, authorization.

use std::collections::HashSet;

use fabrique_api::members as proto;
use fabrique_testkit::{Backend, TestPlatform};
use tonic::Code;

use crate::support::{Members, association, commune, id_of, platform, reason, violated_fields};

async fn admin(platform: &TestPlatform) -> Members {
    Members::connect(platform, TestPlatform::admin_token()).await
}

async fn lifecycle_follows_its_rules(backend: Backend) {
    let platform = platform(backend).await;
    let admin = admin(&platform).await;
    let created = admin
        .create(commune("Thiers", "63430", "216304303"))
        .await
        .expect("create");
    assert!(created.name.starts_with("members/"));
    assert_eq!(created.state, proto::MemberState::Pending as i32);
    assert!(created.joined_at.is_none());
    assert!(!created.etag.is_empty());
    assert_eq!(admin.get(&created.name).await.expect("get"), created);

    let active = admin.approve(&created.name).await.expect("approve");
    assert_eq!(active.state, proto::MemberState::Active as i32);
    assert!(active.joined_at.is_some());
    assert_ne!(active.etag, created.etag);

    let again = admin
        .approve(&created.name)
        .await
        .expect_err("approve twice");
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert_eq!(reason(&again), "MEMBER_NOT_PENDING");
    assert!(again.message().contains("ACTIVE"), "{}", again.message());

    let no_reason = admin
        .suspend(&created.name, " ")
        .await
        .expect_err("reason required");
    assert_eq!(violated_fields(&no_reason), ["reason"]);
    let suspended = admin
        .suspend(&created.name, "cotisation impayée")
        .await
        .expect("suspend");
    assert_eq!(suspended.state, proto::MemberState::Suspended as i32);
    assert_eq!(suspended.state_reason, "cotisation impayée");
    assert_eq!(
        admin
            .suspend(&created.name, "again")
            .await
            .unwrap_err()
            .code(),
        Code::FailedPrecondition
    );

    let reinstated = admin.reinstate(&created.name).await.expect("reinstate");
    assert_eq!(reinstated.state, proto::MemberState::Active as i32);
    assert_eq!(
        reinstated.joined_at, active.joined_at,
        "joining happens once"
    );

    let left = admin
        .leave(&created.name, "fin de mandat")
        .await
        .expect("leave");
    assert_eq!(left.state, proto::MemberState::Left as i32);
    for refused in [
        admin.reinstate(&created.name).await,
        admin.approve(&created.name).await,
        admin.leave(&created.name, "").await,
    ] {
        assert_eq!(refused.unwrap_err().code(), Code::FailedPrecondition);
    }
    let mut changed = left.clone();
    changed.display_name = "Ville de Thiers".into();
    let update = admin.update(changed, &["display_name"]).await.unwrap_err();
    assert_eq!(update.code(), Code::FailedPrecondition);
    assert_eq!(reason(&update), "MEMBER_LEFT");

    let missing = admin
        .get("members/01900000-0000-7000-8000-000000000000")
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

async fn a_retried_create_returns_the_first_result(backend: Backend) {
    let platform = platform(backend).await;
    let admin = admin(&platform).await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let first = admin
        .create_with_id(association("Aduhme"), &request_id)
        .await
        .expect("create");
    let retry = admin
        .create_with_id(association("Aduhme"), &request_id)
        .await
        .expect("retry");
    assert_eq!(retry.name, first.name);

    // Concurrent retries of another request create one member.
    let concurrent_id = uuid::Uuid::new_v4().to_string();
    let mut calls = Vec::new();
    for _ in 0..8 {
        let admin = admin.clone();
        let id = concurrent_id.clone();
        calls.push(tokio::spawn(async move {
            admin.create_with_id(association("ATEMIS"), &id).await
        }));
    }
    let mut names = HashSet::new();
    for call in calls {
        names.insert(call.await.expect("task").expect("create").name);
    }
    assert_eq!(names.len(), 1, "{names:?}");
    let all = admin.list_all(proto::ListMembersRequest::default()).await;
    assert_eq!(all.len(), 2, "one Aduhme and one ATEMIS: {all:?}");

    // Another caller cannot reuse the id to read someone else's result.
    let other = admin.with_token(TestPlatform::member_token(
        &uuid::Uuid::now_v7().to_string(),
    ));
    let reused = other
        .create_with_id(association("Other"), &request_id)
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::AlreadyExists);
}

async fn updates_need_a_mask_and_the_current_etag(backend: Backend) {
    let platform = platform(backend).await;
    let admin = admin(&platform).await;
    let member = admin.create(association("Busi")).await.expect("create");

    let mut renamed = member.clone();
    renamed.display_name = "Busi, incubateur".into();
    renamed.website = "https://busi.example.org".into();
    let updated = admin
        .update(renamed.clone(), &["display_name"])
        .await
        .expect("update");
    assert_eq!(updated.display_name, "Busi, incubateur");
    assert_eq!(updated.website, "", "fields outside the mask are untouched");
    assert_ne!(updated.etag, member.etag);

    let stale = admin
        .update(renamed.clone(), &["website"])
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    assert_eq!(admin.get(&member.name).await.expect("get").website, "");

    let mut no_etag = updated.clone();
    no_etag.etag = String::new();
    assert_eq!(
        violated_fields(&admin.update(no_etag, &["website"]).await.unwrap_err()),
        ["member.etag"]
    );
    assert_eq!(
        violated_fields(&admin.update(updated.clone(), &[]).await.unwrap_err()),
        ["update_mask"]
    );
    assert_eq!(
        violated_fields(&admin.update(updated.clone(), &["state"]).await.unwrap_err()),
        ["update_mask"]
    );
    assert_eq!(
        violated_fields(
            &admin
                .update(updated.clone(), &["colour"])
                .await
                .unwrap_err()
        ),
        ["update_mask"]
    );

    // Concurrent updates from the same read: exactly one wins.
    let mut calls = Vec::new();
    for i in 0..6 {
        let admin = admin.clone();
        let mut change = updated.clone();
        change.territory = format!("Territoire {i}");
        calls.push(tokio::spawn(async move {
            admin.update(change, &["territory"]).await
        }));
    }
    let mut won = 0;
    for call in calls {
        match call.await.expect("task") {
            Ok(_) => won += 1,
            Err(status) => assert_eq!(status.code(), Code::Aborted, "{status:?}"),
        }
    }
    assert_eq!(won, 1);

    // The member itself may describe itself, not change what it is, nor touch others.
    let current = admin.get(&member.name).await.expect("get");
    let itself = admin.with_token(TestPlatform::member_token(&id_of(&member.name)));
    let mut own = current.clone();
    own.website = "https://busi.example.org".into();
    let own = itself.update(own, &["website"]).await.expect("own update");
    let mut kind = own.clone();
    kind.kind = proto::MemberKind::Commune as i32;
    assert_eq!(
        itself.update(kind, &["kind"]).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    let stranger = admin.create(association("Autre")).await.expect("create");
    let mut theirs = stranger.clone();
    theirs.display_name = "Pris".into();
    assert_eq!(
        itself
            .update(theirs, &["display_name"])
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
}

async fn filters_narrow_the_list(backend: Backend) {
    let platform = platform(backend).await;
    let admin = admin(&platform).await;
    let thiers = admin
        .create(commune("Thiers", "63430", "216304303"))
        .await
        .expect("create");
    admin.approve(&thiers.name).await.expect("approve");
    admin
        .create(commune("Clermont-Ferrand", "63113", "216301135"))
        .await
        .expect("create");
    let departement = admin
        .create(proto::Member {
            display_name: "Département du Puy-de-Dôme".into(),
            kind: proto::MemberKind::Departement as i32,
            insee_code: "63113".into(),
            siren: "226300010".into(),
            ..Default::default()
        })
        .await
        .expect("create");
    admin.approve(&departement.name).await.expect("approve");
    admin
        .create(proto::Member {
            display_name: "Loos-en-Gohelle".into(),
            kind: proto::MemberKind::Commune as i32,
            insee_code: "62528".into(),
            siren: "216205286".into(),
            ..Default::default()
        })
        .await
        .expect("create");
    admin.create(association("Aduhme")).await.expect("create");

    let names = |members: Vec<proto::Member>| {
        let mut names: Vec<String> = members.into_iter().map(|m| m.display_name).collect();
        names.sort();
        names
    };
    let communes = admin
        .list_all(proto::ListMembersRequest {
            kinds: vec![proto::MemberKind::Commune as i32],
            ..Default::default()
        })
        .await;
    assert_eq!(
        names(communes),
        ["Clermont-Ferrand", "Loos-en-Gohelle", "Thiers"]
    );
    let in_63 = admin
        .list_all(proto::ListMembersRequest {
            insee_department: "63".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(
        names(in_63),
        ["Clermont-Ferrand", "Département du Puy-de-Dôme", "Thiers"]
    );
    let active_communes_63 = admin
        .list_all(proto::ListMembersRequest {
            kinds: vec![proto::MemberKind::Commune as i32],
            states: vec![proto::MemberState::Active as i32],
            insee_department: "63".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(names(active_communes_63), ["Thiers"]);
    let dome = admin
        .list_all(proto::ListMembersRequest {
            query: "DOME".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(
        names(dome),
        ["Département du Puy-de-Dôme"],
        "case and accents ignored"
    );
    let percent = admin
        .list_all(proto::ListMembersRequest {
            query: "%".into(),
            ..Default::default()
        })
        .await;
    assert!(percent.is_empty(), "LIKE wildcards are escaped");
    let pending_or_active = admin
        .list_all(proto::ListMembersRequest {
            states: vec![
                proto::MemberState::Pending as i32,
                proto::MemberState::Active as i32,
            ],
            ..Default::default()
        })
        .await;
    assert_eq!(pending_or_active.len(), 5);
}

async fn pages_have_no_duplicates_or_gaps(backend: Backend) {
    let platform = platform(backend).await;
    let admin = admin(&platform).await;
    let mut expected = HashSet::new();
    for i in 0..23 {
        expected.insert(
            admin
                .create(association(&format!("Allié {i:02}")))
                .await
                .expect("create")
                .name,
        );
    }
    let mut seen = Vec::new();
    let mut request = proto::ListMembersRequest {
        page_size: 10,
        ..Default::default()
    };
    let mut pages = 0;
    loop {
        let page = admin.list(request.clone()).await.expect("page");
        pages += 1;
        assert!(page.members.len() <= 10);
        seen.extend(page.members.into_iter().map(|m| m.name));
        // Inserted between pages: must neither shift nor repeat what is left to read.
        admin
            .create(association(&format!("Nouveau {pages}")))
            .await
            .expect("create");
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
        assert!(pages < 20, "pagination does not end");
    }
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates across pages");
    assert!(
        expected.is_subset(&unique),
        "a member present from the start was skipped"
    );

    // A token belongs to its filters.
    let first = admin
        .list(proto::ListMembersRequest {
            page_size: 5,
            ..Default::default()
        })
        .await
        .expect("page");
    let other_filters = admin
        .list(proto::ListMembersRequest {
            page_size: 5,
            page_token: first.next_page_token.clone(),
            query: "allié".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&other_filters), ["page_token"]);
    // A different page size with the same filters is fine (AIP-158).
    admin
        .list(proto::ListMembersRequest {
            page_size: 7,
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .expect("same filters, other size");
}

async fn callers_do_only_what_they_may(backend: Backend) {
    let platform = platform(backend).await;
    let admin = admin(&platform).await;
    let thiers = admin
        .create(commune("Thiers", "63430", "216304303"))
        .await
        .expect("create");

    // Without a token: nothing changes, and a PENDING member is not in the public
    // directory (an ACTIVE one is, tests/it/authorization.rs shows with what fields).
    let anonymous = admin.with_token(String::new());
    let mut client = anonymous.client.clone();
    let status = client
        .approve_member(proto::ApproveMemberRequest {
            name: thiers.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = client
        .get_member(proto::GetMemberRequest {
            name: thiers.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let forged = admin.with_token("not.a.jwt".into());
    assert_eq!(
        forged.get(&thiers.name).await.unwrap_err().code(),
        Code::Unauthenticated
    );

    let itself = admin.with_token(TestPlatform::member_token(&id_of(&thiers.name)));
    assert_eq!(
        itself.approve(&thiers.name).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    assert_eq!(
        itself.get(&thiers.name).await.expect("get").contacts[0].email,
        "transition@example.org",
        "a member sees its own contacts' e-mails"
    );
    let stranger = admin.with_token(TestPlatform::member_token(
        &uuid::Uuid::now_v7().to_string(),
    ));
    let seen_by_stranger = stranger.get(&thiers.name).await.expect("get");
    assert_eq!(
        seen_by_stranger.contacts[0].email, "",
        "e-mails are hidden from other members"
    );
    assert_eq!(
        seen_by_stranger.contacts[0].full_name,
        "Élu référent (exemple)"
    );
    assert_eq!(
        stranger.leave(&thiers.name, "").await.unwrap_err().code(),
        Code::PermissionDenied
    );
    assert_eq!(
        itself
            .leave(&thiers.name, "départ")
            .await
            .expect("a member may leave")
            .state,
        proto::MemberState::Left as i32
    );
}

async fn a_siren_belongs_to_one_current_member(backend: Backend) {
    let platform = platform(backend).await;
    let admin = admin(&platform).await;
    let first = admin
        .create(commune("Thiers", "63430", "216304303"))
        .await
        .expect("create");
    let duplicate = admin
        .create(commune("Thiers bis", "63430", "216304303"))
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), Code::AlreadyExists);
    assert!(
        duplicate.message().contains(&first.name),
        "{}",
        duplicate.message()
    );
    admin.leave(&first.name, "").await.expect("leave");
    admin
        .create(commune("Thiers", "63430", "216304303"))
        .await
        .expect("a member that left may apply again");
}

/// Whom a signed-in person may act for: the members one of whose contacts has their
/// e-mail, whatever its case, as only an admin may ask; a contact changed is found at
/// once under its new address and no longer under the old.
async fn members_are_found_by_a_contact_s_e_mail(backend: Backend) {
    let platform = platform(backend).await;
    let admin = admin(&platform).await;
    let with = |name: &str, email: &str| proto::Member {
        contacts: vec![proto::Contact {
            full_name: "Marie Martin".into(),
            role: proto::ContactRole::TransitionTechnician as i32,
            email: email.into(),
            title: String::new(),
        }],
        ..association(name)
    };
    let thiers = admin
        .create(with("Thiers", "Marie.Martin@exemple.fr"))
        .await
        .expect("create");
    let epci = admin
        .create(with("TDM", "marie.martin@exemple.fr"))
        .await
        .expect("create");
    admin
        .create(with("Autre", "marie@exemple.fr"))
        .await
        .expect("create");
    admin
        .create(association("Sans contact"))
        .await
        .expect("create");
    let by = |email: &str| proto::ListMembersRequest {
        contact_email: email.into(),
        ..Default::default()
    };
    let names = |members: Vec<proto::Member>| {
        let mut names: Vec<String> = members.into_iter().map(|m| m.display_name).collect();
        names.sort();
        names
    };
    assert_eq!(
        names(admin.list_all(by("MARIE.MARTIN@exemple.fr")).await),
        ["TDM", "Thiers"]
    );
    assert_eq!(
        names(admin.list_all(by("marie@exemple.fr")).await),
        ["Autre"]
    );
    assert!(
        admin.list_all(by("martin@exemple.fr")).await.is_empty(),
        "whole addresses"
    );
    // A LIKE pattern is taken literally.
    assert!(
        admin
            .list_all(by("marie_martin@exemple.fr"))
            .await
            .is_empty()
    );

    let mut changed = epci.clone();
    changed.contacts[0].email = "direction@tdm.example.fr".into();
    admin.update(changed, &["contacts"]).await.expect("update");
    assert_eq!(
        names(admin.list_all(by("marie.martin@exemple.fr")).await),
        ["Thiers"]
    );
    assert_eq!(
        names(admin.list_all(by("direction@tdm.example.fr")).await),
        ["TDM"]
    );

    // Admins only: a member, or nobody, is refused; a malformed address names the field.
    let member =
        Members::connect(&platform, TestPlatform::member_token(&id_of(&thiers.name))).await;
    let refused = member
        .list(by("marie.martin@exemple.fr"))
        .await
        .expect_err("a member");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(refused.message().contains("contact_email"), "{refused:?}");
    let anonymous = member
        .client
        .clone()
        .list_members(by("marie.martin@exemple.fr"))
        .await
        .expect_err("anonymous");
    assert_eq!(anonymous.code(), Code::PermissionDenied);
    let bad = admin
        .list(by("pas-une-adresse"))
        .await
        .expect_err("malformed");
    assert_eq!(violated_fields(&bad), ["contact_email"]);
}

macro_rules! on_both_stores {
    ($($test:ident),+ $(,)?) => {
        mod postgres {
            $(#[tokio::test] async fn $test() { super::$test(fabrique_testkit::Backend::Postgres).await; })+
        }
        mod sqlite {
            $(#[tokio::test] async fn $test() { super::$test(fabrique_testkit::Backend::Sqlite).await; })+
        }
    };
}

on_both_stores!(
    lifecycle_follows_its_rules,
    a_retried_create_returns_the_first_result,
    updates_need_a_mask_and_the_current_etag,
    filters_narrow_the_list,
    pages_have_no_duplicates_or_gaps,
    callers_do_only_what_they_may,
    a_siren_belongs_to_one_current_member,
    members_are_found_by_a_contact_s_e_mail,
);
