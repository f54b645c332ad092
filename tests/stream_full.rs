//! A full event stream, on a private nats-server whose JetStream store is tiny: writes
//! keep being accepted (their events wait in the outbox), the backlog metric grows, the
//! `outbox.members` health entry says NOT_SERVING while the service itself stays SERVING,
//! and once there is room again every event is published, once, in order per member.
//!
//! Its own binary: the backlog gauge is one per process and service, and other tests of
//! the members service would set it meanwhile.

#![allow(clippy::unwrap_used)] // a test that unwraps fails loudly, which is the point

#[allow(dead_code)] // the helpers this test does not use
#[path = "it/support.rs"]
mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_nats::jetstream;
use fabrique_api::members as proto;
use fabrique_platform::bus::StreamLimits;
use fabrique_platform::config::{BusSettings, Settings};
use fabrique_testkit::{Backend, BusChoice, NatsServer, TestPlatform, eventually};
use prost::Message;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use support::{Members, association, services};

const KIB: u64 = 1024;

fn limits(max_bytes: u64) -> impl FnOnce(&mut Settings) {
    move |settings| {
        let BusSettings::Nats(nats) = &mut settings.bus else {
            panic!("NATS expected");
        };
        nats.stream_limits = StreamLimits {
            max_bytes: Some(max_bytes),
            max_age: None,
        };
        nats.dlq_limits = StreamLimits {
            max_bytes: Some(32 * KIB),
            max_age: Some(Duration::from_secs(30 * 86_400)),
        };
    }
}

async fn health(platform: &TestPlatform, service: &str) -> i32 {
    HealthClient::new(platform.channel().await)
        .check(HealthCheckRequest {
            service: service.to_string(),
        })
        .await
        .expect("health answers")
        .into_inner()
        .status
}

fn backlog() -> u64 {
    fabrique_platform::metrics::outbox_backlog()
        .get("members")
        .copied()
        .unwrap_or(0)
}

/// Creates and approves a member: two events, `applied` then `joined`.
async fn join(admin: &Members, i: usize) -> String {
    let member = admin
        .create(association(&format!("Ressourcerie {i}")))
        .await
        .expect("a write is accepted whatever the stream");
    admin
        .approve(&member.name)
        .await
        .expect("an approval is accepted whatever the stream");
    member.name
}

#[tokio::test]
async fn a_full_stream_keeps_events_in_the_outbox_until_there_is_room() {
    let nats =
        NatsServer::start_with_config("jetstream { max_file_store: 512KB }\n", |url| async move {
            match async_nats::connect(&url).await {
                Ok(client) => jetstream::new(client).query_account().await.is_ok(),
                Err(_) => false,
            }
        })
        .await;
    let platform = TestPlatform::spawn_with(
        services(),
        Backend::Postgres,
        BusChoice::Nats(nats.url()),
        limits(48 * KIB),
    )
    .await;
    let outbox = fabrique_platform::outbox::health_name("members");
    platform
        .wait_serving(&outbox, Duration::from_secs(30))
        .await;

    // The streams carry their limits: the service's refuses what does not fit, the dead
    // letters' make room.
    let js = jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    let config = js
        .get_stream(platform.stream("members"))
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .config
        .clone();
    assert_eq!(config.max_bytes, 48 * 1024);
    assert_eq!(config.discard, jetstream::stream::DiscardPolicy::New);
    let dlq = js
        .get_stream(platform.stream("dlq"))
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .config
        .clone();
    assert_eq!(dlq.max_bytes, 32 * 1024);
    assert_eq!(dlq.max_age, Duration::from_secs(30 * 86_400));
    assert_eq!(dlq.discard, jetstream::stream::DiscardPolicy::Old);

    // Fill it: members join until the outbox says its events wait.
    let admin = Members::connect(&platform, TestPlatform::admin_token()).await;
    let mut joined = Vec::new();
    while health(&platform, &outbox).await == ServingStatus::Serving as i32 {
        assert!(
            joined.len() < 400,
            "48 KiB of events never filled the stream"
        );
        joined.push(join(&admin, joined.len()).await);
        // The relay publishes within milliseconds; its failure shows on the next pass.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        health(&platform, fabrique_members::GRPC_NAME).await,
        ServingStatus::Serving as i32,
        "the service keeps taking writes"
    );
    assert_eq!(
        health(&platform, "").await,
        ServingStatus::Serving as i32,
        "readiness is not the outbox's health"
    );
    let first = eventually("a backlog", Duration::from_secs(20), || {
        std::future::ready((backlog() > 0).then(backlog))
    })
    .await;
    for _ in 0..10 {
        joined.push(join(&admin, joined.len()).await);
    }
    eventually("the backlog to grow", Duration::from_secs(20), || {
        std::future::ready((backlog() >= first + 20).then_some(()))
    })
    .await;
    let stored = js
        .get_stream(platform.stream("members"))
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .state
        .bytes;
    assert!(
        stored <= 48 * 1024,
        "the stream kept to its limit: {stored}"
    );

    // Room returns: the operator raises the limit, and a replica started with it
    // applies it to the stream.
    let replica = platform
        .another_instance_with(services(), limits(256 * KIB))
        .await;
    platform
        .wait_serving(&outbox, Duration::from_secs(30))
        .await;
    eventually("an empty backlog", Duration::from_secs(30), || {
        std::future::ready((backlog() == 0).then_some(()))
    })
    .await;

    let messages =
        fabrique_testkit::stream_messages(&nats.url(), &platform.stream("members")).await;
    assert_eq!(messages.len(), joined.len() * 2, "every event, once");
    let ids: HashSet<String> = messages
        .iter()
        .map(|m| m.headers.get("ce-id").unwrap().as_str().to_string())
        .collect();
    assert_eq!(ids.len(), messages.len(), "no event twice");
    let mut verbs: HashMap<String, Vec<String>> = HashMap::new();
    for message in &messages {
        let verb = message.subject.rsplit('.').next().unwrap().to_string();
        let member = match verb.as_str() {
            "applied" => {
                proto::MemberApplied::decode(message.payload.clone())
                    .unwrap()
                    .member
            }
            "joined" => {
                proto::MemberJoined::decode(message.payload.clone())
                    .unwrap()
                    .member
            }
            other => panic!("unexpected event {other}"),
        }
        .unwrap();
        verbs
            .entry(format!("members/{}", member.id))
            .or_default()
            .push(verb);
    }
    for name in &joined {
        assert_eq!(
            verbs.get(name).map(Vec::as_slice),
            Some(&["applied".to_string(), "joined".to_string()][..]),
            "{name}: its events in order"
        );
    }
    replica.stop().await;
    platform.stop().await;
}
