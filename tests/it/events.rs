//! What reaches JetStream: exactly one message per change, with the CloudEvents
//! NATS-binding headers, a payload that decodes with the proto, in order per member.

use std::time::Duration;

use fabrique_api::members as proto;
use fabrique_testkit::{Backend, TestPlatform};
use prost::Message;

use crate::support::{Members, association, id_of, platform};

#[tokio::test]
async fn creating_a_member_puts_one_applied_event_on_jetstream() {
    let platform = platform(Backend::Postgres).await;
    let nats = platform.nats_url.clone().expect("NATS");
    let admin = Members::connect(&platform, TestPlatform::admin_token()).await;
    let member = admin.create(association("Aduhme")).await.expect("create");

    let stream = platform.stream("members");
    fabrique_testkit::eventually("the applied event", Duration::from_secs(10), || {
        let (nats, stream) = (nats.clone(), stream.clone());
        async move {
            let messages = fabrique_testkit::stream_messages(&nats, &stream).await;
            (!messages.is_empty()).then_some(())
        }
    })
    .await;
    // Anything published twice would have arrived by now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let messages = fabrique_testkit::stream_messages(&nats, &stream).await;
    assert_eq!(messages.len(), 1, "exactly one message");
    let message = &messages[0];
    assert_eq!(
        message.subject.as_str(),
        format!("{}fabrique.members.member.applied", platform.prefix)
    );
    let header = |name: &str| {
        message
            .headers
            .get(name)
            .map(|v| v.as_str().to_string())
            .unwrap_or_else(|| panic!("header {name} missing"))
    };
    assert_eq!(header("ce-specversion"), "1.0");
    assert_eq!(header("ce-type"), "fabrique.members.v1.MemberApplied");
    assert_eq!(header("ce-source"), "/fabrique/members");
    assert_eq!(header("ce-subject"), member.name);
    assert_eq!(header("content-type"), "application/protobuf");
    let id = header("ce-id");
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(header("Nats-Msg-Id"), id);
    assert!(chrono::DateTime::parse_from_rfc3339(&header("ce-time")).is_ok());

    let applied =
        proto::MemberApplied::decode(message.payload.clone()).expect("decodes with the proto");
    let snapshot = applied.member.expect("snapshot");
    assert_eq!(snapshot.id, id_of(&member.name));
    assert_eq!(snapshot.display_name, "Aduhme");
    assert_eq!(snapshot.state, proto::MemberState::Pending as i32);
    assert_eq!(snapshot.version, 1);
    assert!(applied.occurred_at.is_some());
}

#[tokio::test]
async fn a_lifecycle_publishes_one_event_per_change_in_order() {
    let platform = platform(Backend::Postgres).await;
    let nats = platform.nats_url.clone().expect("NATS");
    let admin = Members::connect(&platform, TestPlatform::admin_token()).await;
    let member = admin.create(association("ATEMIS")).await.expect("create");
    let active = admin.approve(&member.name).await.expect("approve");
    let mut renamed = active.clone();
    renamed.display_name = "ATEMIS-LIR".into();
    admin
        .update(renamed, &["display_name"])
        .await
        .expect("update");
    admin.suspend(&member.name, "test").await.expect("suspend");
    admin.reinstate(&member.name).await.expect("reinstate");
    admin.leave(&member.name, "fin").await.expect("leave");

    let stream = platform.stream("members");
    let messages = fabrique_testkit::eventually("six events", Duration::from_secs(10), || {
        let (nats, stream) = (nats.clone(), stream.clone());
        async move {
            let messages = fabrique_testkit::stream_messages(&nats, &stream).await;
            (messages.len() >= 6).then_some(messages)
        }
    })
    .await;
    let verbs: Vec<String> = messages
        .iter()
        .map(|m| m.subject.rsplit('.').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        verbs,
        [
            "applied",
            "joined",
            "updated",
            "suspended",
            "reinstated",
            "left"
        ]
    );
    let updated = proto::MemberUpdated::decode(messages[2].payload.clone()).expect("decode");
    assert_eq!(updated.changed_fields, ["display_name"]);
    let left = proto::MemberLeft::decode(messages[5].payload.clone()).expect("decode");
    assert_eq!(left.reason, "fin");
    let snapshot = left.member.expect("snapshot");
    assert_eq!(snapshot.version, 6);
    assert_eq!(snapshot.display_name, "ATEMIS-LIR");
}

#[tokio::test]
async fn the_in_process_bus_carries_the_same_events() {
    use fabrique_platform::bus::ConsumerSpec;
    let platform = platform(Backend::Sqlite).await;
    let admin = Members::connect(&platform, TestPlatform::admin_token()).await;
    let member = admin.create(association("Busi")).await.expect("create");
    admin.approve(&member.name).await.expect("approve");
    let mut subscription = platform
        .bus
        .subscribe(&ConsumerSpec {
            stream: platform.stream("members"),
            durable_name: "test".into(),
            filter_subjects: vec![format!("{}fabrique.members.member.*", platform.prefix)],
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    let mut types = Vec::new();
    for _ in 0..2 {
        let delivery = tokio::time::timeout(Duration::from_secs(10), subscription.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("ok");
        types.push(
            delivery
                .headers
                .get("ce-type")
                .unwrap_or_default()
                .to_string(),
        );
        delivery.acker.ack().await.expect("ack");
    }
    assert_eq!(
        types,
        [
            "fabrique.members.v1.MemberApplied",
            "fabrique.members.v1.MemberJoined"
        ]
    );
}
