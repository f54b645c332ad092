//! `fabrique dlq` as an operator runs it: dead letters are listed with why they failed,
//! and a replayed one is applied by the consumer that had given up on it, then leaves
//! the DLQ; the others stay.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use fabrique_api::members as members_proto;
use fabrique_api::registry::{self as proto, registry_service_client::RegistryServiceClient};
use fabrique_platform::consumer::{DLQ_CONSUMER, DLQ_DELIVERIES, DLQ_REASON, DLQ_SUBJECT};
use fabrique_platform::event::{event_headers, source_of};
use fabrique_testkit::{Backend, BusChoice, TestPlatform, authed};
use prost::Name;
use tonic::Code;

use crate::support::all_services;

const BIN: &str = env!("CARGO_BIN_EXE_fabrique");

/// `fabrique dlq ARGS` against the platform's NATS and subject prefix.
async fn dlq(platform: &TestPlatform, args: &[&str]) -> Result<String, String> {
    let output = tokio::process::Command::new(BIN)
        .arg("dlq")
        .args(args)
        .env_clear()
        .env(
            "FABRIQUE_NATS_URL",
            platform.nats_url.as_deref().expect("NATS"),
        )
        .env("FABRIQUE_SUBJECT_PREFIX", &platform.prefix)
        .output()
        .await
        .expect("fabrique dlq runs");
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).to_string())
    }
}

async fn listed(platform: &TestPlatform, service: &str) -> Vec<serde_json::Value> {
    dlq(platform, &["list", "--service", service, "--json"])
        .await
        .unwrap_or_else(|e| panic!("dlq list: {e}"))
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

/// The registry's answer to a place operated by `member`: whether it knows the member.
async fn registry_knows(platform: &TestPlatform, member: &str) -> Result<(), Code> {
    let mut registry = RegistryServiceClient::new(platform.channel().await);
    registry
        .create_place(authed(
            proto::CreatePlaceRequest {
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
            },
            &TestPlatform::admin_token(),
        ))
        .await
        .map(|_| ())
        .map_err(|status| status.code())
}

#[tokio::test]
async fn dead_letters_are_listed_and_replayed() {
    let platform =
        TestPlatform::spawn(all_services(), Backend::Postgres, BusChoice::SharedNats).await;
    let js = jetstream::new(
        async_nats::connect(platform.nats_url.as_deref().expect("NATS"))
            .await
            .expect("NATS"),
    );
    let joined = format!("{}fabrique.members.member.joined", platform.prefix);

    // A message that is no event: every consumer of the members stream gives up at once.
    js.publish(joined.clone(), "pas un événement".into())
        .await
        .expect("publish")
        .await
        .expect("stored");
    let poison = fabrique_testkit::eventually(
        "the registry to dead-letter the poison",
        Duration::from_secs(20),
        || async { listed(&platform, "registry").await.into_iter().next() },
    )
    .await;
    assert_eq!(poison["subject"], joined.as_str());
    assert_eq!(poison["consumer"], "registry-members");
    assert_eq!(poison["deliveries"], 1);
    assert!(
        poison["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{poison}"
    );
    let text = dlq(&platform, &["list", "--service", "registry"])
        .await
        .expect("list");
    assert!(text.contains("registry-members"), "{text}");

    // A real event the registry failed to apply (its database was down, say): put in
    // its DLQ as its consumer would have, it never reached its replica.
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
    let mut headers = HeaderMap::new();
    let event_id = uuid::Uuid::now_v7();
    for (name, value) in event_headers(
        event_id,
        &source_of("members"),
        &members_proto::MemberJoined::full_name(),
        &member,
        chrono::Utc::now(),
    )
    .iter()
    {
        headers.insert(name, value);
    }
    headers.insert(DLQ_SUBJECT, joined.as_str());
    headers.insert(DLQ_CONSUMER, "registry-members");
    headers.insert(DLQ_DELIVERIES, "5");
    headers.insert(DLQ_REASON, "database unavailable");
    headers.insert("Nats-Msg-Id", format!("dlq-test-{event_id}").as_str());
    js.publish_with_headers(
        format!("{}fabrique.dlq.registry", platform.prefix),
        headers,
        prost::Message::encode_to_vec(&event).into(),
    )
    .await
    .expect("publish")
    .await
    .expect("stored");
    assert_eq!(
        registry_knows(&platform, &member).await,
        Err(Code::FailedPrecondition),
        "the registry never applied it"
    );
    let letters = listed(&platform, "registry").await;
    assert_eq!(letters.len(), 2, "{letters:?}");
    let failed = letters
        .iter()
        .find(|l| l["id"] == event_id.to_string().as_str())
        .expect("the failed event is listed");
    assert_eq!(failed["type"], "fabrique.members.v1.MemberJoined");
    assert_eq!(failed["reason"], "database unavailable");
    let sequence = failed["sequence"].as_u64().expect("a sequence").to_string();

    let replayed = dlq(
        &platform,
        &["replay", "--service", "registry", "--sequence", &sequence],
    )
    .await
    .expect("replay");
    assert!(
        replayed.contains(&format!("replayed {sequence}")),
        "{replayed}"
    );
    fabrique_testkit::eventually(
        "the registry to apply the replayed event",
        Duration::from_secs(20),
        || async {
            match registry_knows(&platform, &member).await {
                Ok(()) => Some(()),
                Err(Code::FailedPrecondition) => None,
                Err(code) => panic!("unexpected {code:?}"),
            }
        },
    )
    .await;

    // Gone from the DLQ; the poison stays; replaying it again is refused.
    let left = listed(&platform, "registry").await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["sequence"], poison["sequence"]);
    let again = dlq(
        &platform,
        &["replay", "--service", "registry", "--sequence", &sequence],
    )
    .await
    .expect_err("already replayed");
    assert!(again.contains("no dead letter with sequence"), "{again}");
    let refused = dlq(&platform, &["replay", "--service", "registry"])
        .await
        .expect_err("nothing chosen");
    assert!(refused.contains("--all"), "{refused}");
    let unknown = dlq(&platform, &["list", "--service", "billing"])
        .await
        .expect_err("unknown service");
    assert!(unknown.contains("billing"), "{unknown}");
}
