//! The outbox with NATS away: writes keep succeeding, and when NATS is back every
//! pending event is published once, in order per member. And readiness: a service is
//! NOT_SERVING (its calls UNAVAILABLE) until its bus is reachable.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use fabrique_api::members as proto;
use fabrique_testkit::{Backend, BusChoice, NatsServer, TestPlatform};
use prost::Message;
use tonic::Code;

use crate::support::{Members, association, services};

#[tokio::test]
async fn writes_succeed_while_nats_is_down_and_drain_in_order_when_it_returns() {
    let mut nats = NatsServer::start().await;
    let platform =
        TestPlatform::spawn(services(), Backend::Postgres, BusChoice::Nats(nats.url())).await;
    let admin = Members::connect(&platform, TestPlatform::admin_token()).await;

    nats.stop().await;
    let mut names = Vec::new();
    for i in 0..20 {
        let member = admin
            .create(association(&format!("Allié {i}")))
            .await
            .expect("create while NATS is down");
        let mut renamed = member.clone();
        renamed.display_name = format!("Allié {i} (renommé)");
        admin
            .update(renamed, &["display_name"])
            .await
            .expect("update while NATS is down");
        names.push(member.name);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    nats.restart().await;

    let stream = platform.stream("members");
    let url = nats.url();
    let messages = fabrique_testkit::eventually(
        "40 events after NATS returned",
        Duration::from_secs(60),
        || {
            let (url, stream) = (url.clone(), stream.clone());
            async move {
                let messages = fabrique_testkit::stream_messages(&url, &stream).await;
                (messages.len() >= 40).then_some(messages)
            }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let messages_after = fabrique_testkit::stream_messages(&url, &stream).await;
    assert_eq!(messages_after.len(), 40, "no duplicates once drained");

    let ids: HashSet<String> = messages
        .iter()
        .map(|m| m.headers.get("ce-id").expect("ce-id").as_str().to_string())
        .collect();
    assert_eq!(ids.len(), 40, "every event once");
    let mut versions: HashMap<String, Vec<i64>> = HashMap::new();
    for message in &messages {
        let snapshot = match message.subject.rsplit('.').next() {
            Some("applied") => {
                proto::MemberApplied::decode(message.payload.clone())
                    .expect("decode")
                    .member
            }
            Some("updated") => {
                proto::MemberUpdated::decode(message.payload.clone())
                    .expect("decode")
                    .member
            }
            other => panic!("unexpected event {other:?}"),
        }
        .expect("snapshot");
        versions
            .entry(format!("members/{}", snapshot.id))
            .or_default()
            .push(snapshot.version);
    }
    for name in names {
        assert_eq!(versions.get(&name), Some(&vec![1, 2]), "{name} in order");
    }
}

#[tokio::test]
async fn a_service_is_not_serving_until_its_bus_is_reachable() {
    let mut nats = NatsServer::unstarted();
    let platform = TestPlatform::launch(
        services(),
        Backend::Postgres,
        BusChoice::Nats(nats.url()),
        |_| {},
    )
    .await;
    let admin = Members::connect(&platform, TestPlatform::admin_token()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(platform.channel().await);
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: fabrique_members::GRPC_NAME.into(),
        })
        .await
        .expect("health answers")
        .into_inner()
        .status;
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::NotServing as i32
    );
    let refused = admin.create(association("Trop tôt")).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable);

    nats.restart().await;
    platform
        .wait_serving(fabrique_members::GRPC_NAME, Duration::from_secs(30))
        .await;
    admin
        .create(association("À l'heure"))
        .await
        .expect("serving now");
}
