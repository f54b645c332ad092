//! `fabrique.operations.v1.DeadLetterService`, as the site's administration page calls
//! it, on PostgreSQL + NATS and on the embedded default: a service's dead letters are
//! listed with why each failed; one that still cannot be handled is refused and stays;
//! one whose cause is gone is handed to the consumer that gave up on it, applied at once,
//! and leaves the DLQ. Admins only; a bad request names its field.

use std::time::Duration;

use bytes::Bytes;
use fabrique_api::members as members_proto;
use fabrique_api::operations::{self as op, dead_letter_service_client::DeadLetterServiceClient};
use fabrique_api::registry::{self as proto, registry_service_client::RegistryServiceClient};
use fabrique_platform::bus::{Headers, OutgoingMessage, Subjects};
use fabrique_platform::consumer::{DLQ_CONSUMER, DLQ_DELIVERIES, DLQ_REASON, DLQ_SUBJECT};
use fabrique_platform::event::{event_headers, source_of};
use fabrique_testkit::{Backend, BusChoice, TestPlatform, authed, eventually};
use prost::Name;
use tonic::Code;

use crate::support::all_services;

async fn publish(platform: &TestPlatform, subject: String, headers: Headers, payload: Vec<u8>) {
    platform
        .bus
        .publish(OutgoingMessage {
            subject,
            headers,
            payload: Bytes::from(payload),
        })
        .await
        .expect("publish")
        .await
        .expect("stored");
}

/// Whether the registry knows `member` (it refuses a place of a member it does not).
async fn registry_knows(platform: &TestPlatform, member: &str) -> Result<(), Code> {
    let request = proto::CreatePlaceRequest {
        place: Some(proto::Place {
            display_name: format!("Ressourcerie {}", &member[8..16]),
            kinds: vec![proto::PlaceKind::Ressourcerie as i32],
            operator: member.to_string(),
            location: Some(proto::Location {
                latitude: 45.7772,
                longitude: 3.0870,
            }),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    RegistryServiceClient::new(platform.channel().await)
        .create_place(authed(request, &TestPlatform::admin_token()))
        .await
        .map(|_| ())
        .map_err(|status| status.code())
}

/// A member's `MemberJoined` that the registry failed to apply (its database was down,
/// say), put in its DLQ as its consumer would have; the member's name.
async fn failed_event(platform: &TestPlatform, subjects: &Subjects) -> (String, uuid::Uuid) {
    let id = uuid::Uuid::now_v7();
    let member = format!("members/{id}");
    let event = members_proto::MemberJoined {
        member: Some(members_proto::MemberSnapshot {
            id: id.to_string(),
            display_name: "Ressourcerie du Livradois".into(),
            kind: members_proto::MemberKind::Association as i32,
            state: members_proto::MemberState::Active as i32,
            version: 2,
            ..Default::default()
        }),
        occurred_at: None,
    };
    let event_id = uuid::Uuid::now_v7();
    let mut headers = event_headers(
        event_id,
        &source_of("members"),
        &members_proto::MemberJoined::full_name(),
        &member,
        chrono::Utc::now(),
    );
    headers.insert(DLQ_SUBJECT, subjects.full("fabrique.members.member.joined"));
    headers.insert(DLQ_CONSUMER, "registry-members");
    headers.insert(DLQ_DELIVERIES, "5");
    headers.insert(DLQ_REASON, "database unavailable");
    publish(
        platform,
        subjects.dlq_subject("registry"),
        headers,
        prost::Message::encode_to_vec(&event),
    )
    .await;
    (member, event_id)
}

fn reason(status: &tonic::Status) -> String {
    tonic_types::StatusExt::get_details_error_info(status)
        .map(|info| info.reason)
        .unwrap_or_default()
}

async fn dead_letters_are_listed_and_handled_again(backend: Backend, bus: BusChoice) {
    let platform = TestPlatform::spawn(all_services(), backend, bus).await;
    let subjects = Subjects::new(platform.prefix.clone());
    let admin = TestPlatform::admin_token();
    let mut client = DeadLetterServiceClient::new(platform.channel().await);
    let list = |service: &str| op::ListDeadLettersRequest {
        service: service.into(),
        page_size: 0,
    };

    // A message that is no event: the registry's consumer of members gives up at once.
    let mut poison_headers = Headers::new();
    poison_headers.insert("ce-id", uuid::Uuid::now_v7().to_string());
    publish(
        &platform,
        subjects.full("fabrique.members.member.joined"),
        poison_headers,
        b"pas un evenement".to_vec(),
    )
    .await;
    let poison = eventually(
        "the registry to dead-letter the poison",
        Duration::from_secs(20),
        || {
            let (mut client, admin) = (client.clone(), admin.clone());
            async move {
                let listed = client
                    .list_dead_letters(authed(list("registry"), &admin))
                    .await
                    .expect("list")
                    .into_inner();
                listed.dead_letters.into_iter().next()
            }
        },
    )
    .await;
    assert_eq!(poison.consumer, "registry-members");
    assert_eq!(poison.event_subject, "fabrique.members.member.joined");
    assert_eq!(poison.deliveries, 1);
    assert!(!poison.reason.is_empty(), "{poison:?}");
    assert!(
        poison.name.starts_with("deadLetters/registry/"),
        "{poison:?}"
    );

    let (member, event_id) = failed_event(&platform, &subjects).await;
    assert_eq!(
        registry_knows(&platform, &member).await,
        Err(Code::FailedPrecondition),
        "the registry never applied it"
    );
    let listed = client
        .list_dead_letters(authed(list("registry"), &admin))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.total_size, 2, "{listed:?}");
    let failed = listed
        .dead_letters
        .iter()
        .find(|letter| letter.event_id == event_id.to_string())
        .expect("the failed event is listed")
        .clone();
    assert_eq!(failed.event_type, "fabrique.members.v1.MemberJoined");
    assert_eq!(failed.reason, "database unavailable");
    assert_eq!(failed.deliveries, 5);
    assert!(failed.event_time.is_some());

    // The poison still cannot be handled: refused with why, and it stays.
    let refused = client
        .replay_dead_letter(authed(
            op::ReplayDeadLetterRequest {
                name: poison.name.clone(),
            },
            &admin,
        ))
        .await
        .expect_err("a poison stays poison");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(reason(&refused), "DEAD_LETTER_STILL_FAILING");
    assert!(
        refused.message().contains("registry-members"),
        "{refused:?}"
    );

    // The failed event is applied at once, by its consumer, and leaves.
    let replayed = client
        .replay_dead_letter(authed(
            op::ReplayDeadLetterRequest {
                name: failed.name.clone(),
            },
            &admin,
        ))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replayed.consumer, "registry-members");
    assert!(replayed.applied);
    assert_eq!(registry_knows(&platform, &member).await, Ok(()));
    let left = client
        .list_dead_letters(authed(list("registry"), &admin))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(left.total_size, 1, "{left:?}");
    assert_eq!(left.dead_letters[0].name, poison.name);
    let again = client
        .replay_dead_letter(authed(
            op::ReplayDeadLetterRequest { name: failed.name },
            &admin,
        ))
        .await
        .expect_err("gone");
    assert_eq!(again.code(), Code::NotFound);

    // Another service's letters are its own; a bad request names its field; members
    // may not read them.
    let members = client
        .list_dead_letters(authed(list("members"), &admin))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(members.total_size, 0);
    let unknown = client
        .list_dead_letters(authed(list("billing"), &admin))
        .await
        .expect_err("no such service");
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(unknown.message().contains("service"), "{unknown:?}");
    let malformed = client
        .replay_dead_letter(authed(
            op::ReplayDeadLetterRequest {
                name: "deadLetters/registry".into(),
            },
            &admin,
        ))
        .await
        .expect_err("malformed");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert!(malformed.message().contains("name"), "{malformed:?}");
    let member_token = TestPlatform::member_token(&uuid::Uuid::now_v7().to_string());
    let denied = client
        .list_dead_letters(authed(list("registry"), &member_token))
        .await
        .expect_err("admins only");
    assert_eq!(denied.code(), Code::PermissionDenied);
    platform.stop().await;
}

#[tokio::test]
async fn dead_letters_are_listed_and_handled_again_on_postgres_and_nats() {
    dead_letters_are_listed_and_handled_again(Backend::Postgres, BusChoice::SharedNats).await;
}

#[tokio::test]
async fn dead_letters_are_listed_and_handled_again_on_the_embedded_default() {
    dead_letters_are_listed_and_handled_again(Backend::Sqlite, BusChoice::InProcess).await;
}
