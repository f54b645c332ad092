//! The outbox relay: everything written is published once, in write order per
//! aggregate, also with two relays (two replicas) racing on one PostgreSQL database.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use fabrique_platform::bus::{Bus, ConsumerSpec, Subjects};
use fabrique_platform::event::OutgoingEvent;
use fabrique_platform::outbox::{self, OutboxSignal, Relay};
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio_util::sync::CancellationToken;

use crate::{Kind, bus, database};

/// A payload-free event whose subject says `aggregate` and `index`.
fn event(aggregate: &str, index: usize) -> OutgoingEvent {
    OutgoingEvent {
        id: uuid::Uuid::now_v7(),
        subject: "fabrique.tests.thing.changed".into(),
        ce_type: "fabrique.tests.v1.ThingChanged".into(),
        ce_subject: format!("things/{aggregate}"),
        payload: format!("{aggregate}:{index}").into_bytes(),
        occurred_at: chrono::Utc::now(),
    }
}

async fn write(db: &DatabaseConnection, events: Vec<OutgoingEvent>) {
    let txn = db.begin().await.expect("begin");
    outbox::enqueue(&txn, events).await.expect("enqueue");
    txn.commit().await.expect("commit");
}

/// All payloads on the stream, in stream order.
async fn published(bus: &Arc<dyn Bus>, subjects: &Subjects, expected: usize) -> Vec<String> {
    let mut subscription = bus
        .subscribe(&ConsumerSpec {
            stream: subjects.stream_name("tests"),
            durable_name: "reader".into(),
            filter_subjects: vec![],
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    let mut payloads = Vec::new();
    while payloads.len() < expected {
        let delivery = tokio::time::timeout(Duration::from_secs(20), subscription.next())
            .await
            .unwrap_or_else(|_| panic!("only {} of {expected} messages arrived", payloads.len()))
            .expect("open")
            .expect("ok");
        payloads.push(String::from_utf8_lossy(&delivery.payload).to_string());
        delivery.acker.ack().await.expect("ack");
    }
    if let Ok(Some(Ok(extra))) =
        tokio::time::timeout(Duration::from_millis(500), subscription.next()).await
    {
        panic!(
            "more than {expected} messages: {:?}",
            String::from_utf8_lossy(&extra.payload)
        );
    }
    payloads
}

fn assert_ordered_per_aggregate(payloads: &[String]) {
    let mut next: HashMap<&str, usize> = HashMap::new();
    for payload in payloads {
        let (aggregate, index) = payload.split_once(':').expect("aggregate:index");
        let index: usize = index.parse().expect("index");
        let expected = next.entry(aggregate).or_insert(0);
        assert_eq!(index, *expected, "{aggregate} out of order in {payloads:?}");
        *expected += 1;
    }
}

async fn publishes_everything_once_in_order_per_aggregate(kind: Kind, postgres: bool) {
    let pg = if postgres {
        Some(fabrique_testkit::TestDatabase::create().await)
    } else {
        None
    };
    let dir = fabrique_testkit::TempDir::new("relay");
    let db = database(pg.as_ref(), &dir).await;
    let bus = bus(kind).await;
    let subjects = Subjects::new(fabrique_testkit::unique_prefix());
    bus.ensure_stream(&subjects.service_stream("tests"))
        .await
        .expect("stream");
    for index in 0..5 {
        write(
            &db,
            ["a", "b", "c"].iter().map(|a| event(a, index)).collect(),
        )
        .await;
    }
    let relay = Relay::new(
        "tests",
        db.clone(),
        bus.clone(),
        subjects.clone(),
        OutboxSignal::new(),
    );
    relay.drain().await.expect("drain");
    assert_eq!(relay.pending_count().await.expect("count"), 0);
    let payloads = published(&bus, &subjects, 15).await;
    assert_ordered_per_aggregate(&payloads);
    // Draining again publishes nothing more.
    relay.drain().await.expect("drain again");
}

#[tokio::test]
async fn nats_postgres_publishes_everything_once_in_order() {
    publishes_everything_once_in_order_per_aggregate(Kind::Nats, true).await;
}

#[tokio::test]
async fn in_process_sqlite_publishes_everything_once_in_order() {
    publishes_everything_once_in_order_per_aggregate(Kind::Memory, false).await;
}

#[tokio::test]
async fn two_replicas_relaying_one_postgres_keep_order_per_aggregate() {
    let pg = fabrique_testkit::TestDatabase::create().await;
    let dir = fabrique_testkit::TempDir::new("relay");
    let db = database(Some(&pg), &dir).await;
    let bus = bus(Kind::Nats).await;
    let subjects = Subjects::new(fabrique_testkit::unique_prefix());
    bus.ensure_stream(&subjects.service_stream("tests"))
        .await
        .expect("stream");

    let stop = CancellationToken::new();
    let signals = [OutboxSignal::new(), OutboxSignal::new()];
    let mut relays = Vec::new();
    for signal in &signals {
        let relay = Relay::new(
            "tests",
            db.clone(),
            bus.clone(),
            subjects.clone(),
            signal.clone(),
        );
        relays.push(tokio::spawn(
            relay.run(stop.clone(), Duration::from_secs(5)),
        ));
    }
    // Writers on both "replicas", interleaving aggregates, waking their own relay.
    let mut writers = Vec::new();
    for (w, signal) in signals.iter().enumerate() {
        let db = db.clone();
        let signal = signal.clone();
        writers.push(tokio::spawn(async move {
            for index in 0..50 {
                write(
                    &db,
                    vec![
                        event(&format!("w{w}-x"), index),
                        event(&format!("w{w}-y"), index),
                    ],
                )
                .await;
                signal.notify();
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    let payloads = published(&bus, &subjects, 200).await;
    assert_ordered_per_aggregate(&payloads);
    stop.cancel();
    for relay in relays {
        relay.await.expect("relay stops");
    }
}
