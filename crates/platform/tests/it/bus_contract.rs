//! One contract, two buses: whatever the in-process bus promises, JetStream does too.

use std::time::Duration;

use bytes::Bytes;
use fabrique_platform::bus::{
    Bus, BusError, ConsumerSpec, Headers, MSG_ID_HEADER, OutgoingMessage, StreamSpec, Subscription,
};

use crate::{Kind, bus};

fn stream(prefix: &str) -> StreamSpec {
    StreamSpec {
        name: format!("{}S", prefix.trim_end_matches('.').to_uppercase()),
        subjects: vec![format!("{prefix}fabrique.demo.>")],
        duplicate_window: Duration::from_secs(60),
        limits: Default::default(),
        discard: Default::default(),
        max_per_subject: None,
    }
}

fn message(subject: String, id: &str, body: &str) -> OutgoingMessage {
    let mut headers = Headers::new();
    headers.insert(MSG_ID_HEADER, id);
    headers.insert("x-body", body);
    OutgoingMessage {
        subject,
        headers,
        payload: Bytes::from(body.to_string()),
    }
}

async fn publish(bus: &dyn Bus, message: OutgoingMessage) -> fabrique_platform::bus::PublishAck {
    bus.publish(message)
        .await
        .expect("sent")
        .await
        .expect("acked")
}

async fn next(subscription: &mut Box<dyn Subscription>) -> fabrique_platform::bus::Delivery {
    tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .expect("a delivery within 10 s")
        .expect("subscription open")
        .expect("no error")
}

async fn nothing_within(subscription: &mut Box<dyn Subscription>, wait: Duration) {
    if let Ok(Some(Ok(delivery))) = tokio::time::timeout(wait, subscription.next()).await {
        panic!("unexpected delivery on {}", delivery.subject);
    }
}

fn consumer(stream: &StreamSpec, name: &str, filters: Vec<String>) -> ConsumerSpec {
    ConsumerSpec {
        stream: stream.name.clone(),
        durable_name: name.to_string(),
        filter_subjects: filters,
        ack_wait: Duration::from_secs(30),
    }
}

/// A bus with a stream of its own (a unique prefix), and one subject in it.
struct Demo {
    bus: std::sync::Arc<dyn Bus>,
    spec: StreamSpec,
    subject: String,
}

async fn demo(kind: Kind) -> Demo {
    let bus = bus(kind).await;
    let prefix = fabrique_testkit::unique_prefix();
    let spec = stream(&prefix);
    bus.ensure_stream(&spec).await.expect("stream");
    let subject = format!("{prefix}fabrique.demo.a.created");
    Demo { bus, spec, subject }
}

async fn filters_follow_subject_wildcards(kind: Kind) {
    let bus = bus(kind).await;
    let prefix = fabrique_testkit::unique_prefix();
    let spec = stream(&prefix);
    bus.ensure_stream(&spec).await.expect("stream");
    bus.ensure_stream(&spec)
        .await
        .expect("ensuring twice is fine");
    for (i, subject) in ["a.created", "a.deleted", "b.created", "b.x.created"]
        .iter()
        .enumerate()
    {
        publish(
            &*bus,
            message(
                format!("{prefix}fabrique.demo.{subject}"),
                &format!("m{i}"),
                subject,
            ),
        )
        .await;
    }
    let mut created = bus
        .subscribe(&consumer(
            &spec,
            "created",
            vec![format!("{prefix}fabrique.demo.*.created")],
        ))
        .await
        .expect("subscribe");
    let mut got = Vec::new();
    for _ in 0..2 {
        let delivery = next(&mut created).await;
        got.push(delivery.subject.clone());
        delivery.acker.ack().await.expect("ack");
    }
    assert_eq!(
        got,
        [
            format!("{prefix}fabrique.demo.a.created"),
            format!("{prefix}fabrique.demo.b.created")
        ]
    );
    nothing_within(&mut created, Duration::from_millis(300)).await;

    let mut everything = bus
        .subscribe(&consumer(
            &spec,
            "all",
            vec![format!("{prefix}fabrique.demo.>")],
        ))
        .await
        .expect("subscribe");
    for _ in 0..4 {
        next(&mut everything).await.acker.ack().await.expect("ack");
    }
    nothing_within(&mut everything, Duration::from_millis(300)).await;
}

async fn repeated_message_ids_are_stored_once(kind: Kind) {
    let Demo { bus, spec, subject } = demo(kind).await;
    let first = publish(&*bus, message(subject.clone(), "same-id", "one")).await;
    let second = publish(&*bus, message(subject.clone(), "same-id", "two")).await;
    assert!(!first.duplicate);
    assert!(second.duplicate);
    assert_eq!(first.sequence, second.sequence);
    let mut subscription = bus
        .subscribe(&consumer(&spec, "c", vec![subject]))
        .await
        .expect("subscribe");
    let delivery = next(&mut subscription).await;
    assert_eq!(delivery.payload, Bytes::from("one"));
    delivery.acker.ack().await.expect("ack");
    nothing_within(&mut subscription, Duration::from_millis(300)).await;
}

async fn nak_redelivers_and_counts(kind: Kind) {
    let Demo { bus, spec, subject } = demo(kind).await;
    publish(&*bus, message(subject.clone(), "1", "one")).await;
    let mut subscription = bus
        .subscribe(&consumer(&spec, "c", vec![subject]))
        .await
        .expect("subscribe");
    let first = next(&mut subscription).await;
    assert_eq!(first.delivered, 1);
    first.acker.nak(Duration::ZERO).await.expect("nak");
    let second = next(&mut subscription).await;
    assert_eq!(second.delivered, 2);
    assert_eq!(second.stream_sequence, first.stream_sequence);
    second.acker.ack().await.expect("ack");
    nothing_within(&mut subscription, Duration::from_millis(300)).await;
}

async fn unacked_messages_come_back_after_ack_wait(kind: Kind) {
    let Demo { bus, spec, subject } = demo(kind).await;
    publish(&*bus, message(subject.clone(), "1", "one")).await;
    let mut spec_c = consumer(&spec, "c", vec![subject]);
    spec_c.ack_wait = Duration::from_secs(1);
    let mut subscription = bus.subscribe(&spec_c).await.expect("subscribe");
    let first = next(&mut subscription).await;
    drop(first); // neither acked nor nak'ed: the process "died" while handling it
    let again = next(&mut subscription).await;
    assert_eq!(again.delivered, 2);
    again.acker.ack().await.expect("ack");
}

async fn a_durable_consumer_resumes_where_it_stopped(kind: Kind) {
    let Demo { bus, spec, subject } = demo(kind).await;
    for i in 0..3 {
        publish(
            &*bus,
            message(subject.clone(), &i.to_string(), &i.to_string()),
        )
        .await;
    }
    let mut durable = consumer(&spec, "durable", vec![subject.clone()]);
    // JetStream hands a pulling client a batch: what the first subscription held but
    // never acked comes back once its ack wait ran out.
    durable.ack_wait = Duration::from_secs(1);
    {
        let mut subscription = bus.subscribe(&durable).await.expect("subscribe");
        for expected in ["0", "1"] {
            let delivery = next(&mut subscription).await;
            assert_eq!(delivery.payload, Bytes::from(expected));
            delivery.acker.ack().await.expect("ack");
        }
    }
    let mut again = bus.subscribe(&durable).await.expect("subscribe again");
    let delivery = next(&mut again).await;
    assert_eq!(delivery.payload, Bytes::from("2"));
    delivery.acker.ack().await.expect("ack");
}

/// Acks are not confirmed one by one (the consumer runner does not wait for the
/// server): a consumer that acked and went away — flushing first, as the platform does
/// at shutdown — gets nothing again, even after the ack wait.
async fn acked_messages_are_not_delivered_again_to_the_next_consumer(kind: Kind) {
    let Demo { bus, spec, subject } = demo(kind).await;
    publish(&*bus, message(subject.clone(), "1", "one")).await;
    let mut durable = consumer(&spec, "flushed", vec![subject]);
    durable.ack_wait = Duration::from_secs(1);
    // On NATS the consumer has a connection of its own, closed once it has flushed.
    let consuming = match kind {
        Kind::Nats => crate::bus(kind).await,
        Kind::Memory => bus.clone(),
    };
    {
        let mut subscription = consuming.subscribe(&durable).await.expect("subscribe");
        let delivery = next(&mut subscription).await;
        delivery.acker.ack().await.expect("ack");
        consuming.flush().await.expect("flush");
    }
    drop(consuming);
    let mut again = bus.subscribe(&durable).await.expect("subscribe again");
    nothing_within(&mut again, Duration::from_secs(2)).await;
}

async fn publishing_outside_any_stream_fails(kind: Kind) {
    let bus = bus(kind).await;
    let prefix = fabrique_testkit::unique_prefix();
    let result = match bus
        .publish(message(format!("{prefix}nowhere"), "1", "x"))
        .await
    {
        Ok(ack) => ack.await.map(|_| ()),
        Err(error) => Err(error),
    };
    assert!(matches!(result, Err(BusError::NoStream(_))), "{result:?}");
    let missing = bus
        .subscribe(&ConsumerSpec {
            stream: format!("{}MISSING", prefix.trim_end_matches('.').to_uppercase()),
            durable_name: "c".into(),
            filter_subjects: vec![],
            ack_wait: Duration::from_secs(5),
        })
        .await;
    assert!(matches!(missing, Err(BusError::StreamNotFound(_))));
}

/// Stored messages read back by subject, oldest first, without being consumed; one
/// removed is gone for readers and consumers alike, the others keep their sequences.
async fn stored_messages_are_read_back_and_removed(kind: Kind) {
    let Demo { bus, spec, subject } = demo(kind).await;
    let other = subject.replace(".a.", ".b.");
    let first = publish(bus.as_ref(), message(subject.clone(), "1", "un")).await;
    publish(bus.as_ref(), message(other.clone(), "2", "autre")).await;
    let third = publish(bus.as_ref(), message(subject.clone(), "3", "trois")).await;
    let read = |limit| {
        let (bus, name, subject) = (bus.clone(), spec.name.clone(), subject.clone());
        async move { bus.stored(&name, &subject, limit).await.expect("read") }
    };
    let both = read(10).await;
    let seen: Vec<(u64, &[u8])> = both
        .iter()
        .map(|m| (m.sequence, m.payload.as_ref()))
        .collect();
    assert_eq!(
        seen,
        [
            (first.sequence, &b"un"[..]),
            (third.sequence, &b"trois"[..])
        ]
    );
    assert_eq!(both[0].subject, subject);
    assert_eq!(both[0].headers.get("x-body"), Some("un"));
    assert_eq!(read(1).await.len(), 1, "at most the limit");
    assert_eq!(read(10).await.len(), 2, "reading consumes nothing");

    assert!(
        bus.remove(&spec.name, first.sequence)
            .await
            .expect("remove")
    );
    assert!(
        !bus.remove(&spec.name, first.sequence)
            .await
            .expect("remove"),
        "removed once"
    );
    let left = read(10).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].sequence, third.sequence);
    let mut subscription = bus
        .subscribe(&consumer(&spec, "after-removal", vec![subject.clone()]))
        .await
        .expect("subscribe");
    assert_eq!(next(&mut subscription).await.payload, Bytes::from("trois"));
    let missing = format!("{}MISSING", spec.name);
    assert!(
        bus.stored(&missing, &subject, 10)
            .await
            .is_ok_and(|m| m.is_empty()),
        "a missing stream keeps nothing"
    );
}

macro_rules! on_both_buses {
    ($($test:ident),+ $(,)?) => {
        mod nats {
            $(#[tokio::test] async fn $test() { super::$test(crate::Kind::Nats).await; })+
        }
        mod in_process {
            $(#[tokio::test] async fn $test() { super::$test(crate::Kind::Memory).await; })+
        }
    };
}

on_both_buses!(
    filters_follow_subject_wildcards,
    repeated_message_ids_are_stored_once,
    nak_redelivers_and_counts,
    unacked_messages_come_back_after_ack_wait,
    a_durable_consumer_resumes_where_it_stopped,
    acked_messages_are_not_delivered_again_to_the_next_consumer,
    publishing_outside_any_stream_fails,
    stored_messages_are_read_back_and_removed,
);

/// JetStream's own limits: a full stream with the `new` policy refuses (the outbox then
/// keeps the event), one with the `old` policy makes room; a limit below what a stream
/// holds is not applied (JetStream would delete unread events to meet it), a larger one
/// is.
mod limits {
    use super::*;
    use async_nats::jetstream;
    use fabrique_platform::bus::{Discard, StreamLimits};

    const KIB: u64 = 1024;

    fn limited(prefix: &str, max_bytes: u64, discard: Discard) -> StreamSpec {
        StreamSpec {
            limits: StreamLimits {
                max_bytes: Some(max_bytes),
                max_age: None,
            },
            discard,
            ..stream(prefix)
        }
    }

    async fn config_and_count(name: &str) -> (jetstream::stream::Config, u64) {
        let client = async_nats::connect(fabrique_testkit::shared_nats_url())
            .await
            .unwrap();
        let mut stream = jetstream::new(client).get_stream(name).await.unwrap();
        let info = stream.info().await.unwrap();
        (info.config.clone(), info.state.messages)
    }

    async fn try_publish(bus: &dyn Bus, subject: &str, i: usize) -> Result<(), BusError> {
        let body = format!("{i:>1000}");
        bus.publish(message(subject.to_string(), &format!("m{i}"), &body))
            .await?
            .await
            .map(|_| ())
    }

    #[tokio::test]
    async fn a_full_stream_refuses_and_is_never_shrunk_below_its_content() {
        let bus = bus(Kind::Nats).await;
        let prefix = fabrique_testkit::unique_prefix();
        let spec = limited(&prefix, 16 * KIB, Discard::New);
        bus.ensure_stream(&spec).await.expect("stream");
        let subject = format!("{prefix}fabrique.demo.a.created");
        let mut stored = 0;
        let refusal = loop {
            assert!(stored < 100, "16 KiB held a hundred 1 KB messages");
            match try_publish(&*bus, &subject, stored).await {
                Ok(()) => stored += 1,
                Err(error) => break error,
            }
        };
        assert!(
            matches!(refusal, BusError::StreamFull(_)),
            "a full stream says so: {refusal:?}"
        );
        // Each message carries its body twice (payload and header): about 2 KB.
        assert!(stored >= 4, "{stored} messages fit in 16 KiB");

        bus.ensure_stream(&limited(&prefix, 4 * KIB, Discard::New))
            .await
            .expect("a smaller limit is not an error");
        let (config, count) = config_and_count(&spec.name).await;
        assert_eq!(config.max_bytes, 16 * 1024, "the limit is kept");
        assert_eq!(count, stored as u64, "no event was deleted");

        bus.ensure_stream(&limited(&prefix, 64 * KIB, Discard::New))
            .await
            .expect("a larger limit");
        let (config, _) = config_and_count(&spec.name).await;
        assert_eq!(config.max_bytes, 64 * 1024);
        try_publish(&*bus, &subject, stored)
            .await
            .expect("room again");
    }

    #[tokio::test]
    async fn a_stream_that_discards_old_messages_never_refuses() {
        let bus = bus(Kind::Nats).await;
        let prefix = fabrique_testkit::unique_prefix();
        let spec = limited(&prefix, 16 * KIB, Discard::Old);
        bus.ensure_stream(&spec).await.expect("stream");
        let subject = format!("{prefix}fabrique.demo.a.created");
        for i in 0..60 {
            try_publish(&*bus, &subject, i)
                .await
                .expect("the oldest make room");
        }
        let (config, count) = config_and_count(&spec.name).await;
        assert_eq!(config.discard, jetstream::stream::DiscardPolicy::Old);
        assert!(count < 60, "the oldest went: {count} kept");
    }
}
