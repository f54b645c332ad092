//! The runner's decisions that need no real server: how a batch is traced, and when a
//! commit wakes the relay (on the embedded database and bus).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::{DatabaseConnection, EntityTrait};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::bus::memory::MemoryBus;
use crate::bus::{Bus, MSG_ID_HEADER, OutgoingMessage, Subjects};
use crate::event::{IncomingEvent, OutgoingEvent};

/// Writes one event to the outbox for a payload "emit", nothing otherwise.
struct Emitting;

#[async_trait]
impl EventHandler for Emitting {
    async fn handle(&self, txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
        if event.payload == "emit" {
            let echo = OutgoingEvent {
                id: uuid::Uuid::now_v7(),
                subject: "fabrique.tests.thing.echoed".into(),
                ce_type: "fabrique.tests.v1.Echoed".into(),
                ce_subject: event.subject.clone(),
                payload: Vec::new(),
                occurred_at: chrono::Utc::now(),
            };
            crate::outbox::enqueue(txn, vec![echo]).await?;
        }
        Ok(())
    }
}

struct PlatformTables;

impl MigratorTrait for PlatformTables {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        crate::db::platform_migrations()
    }
}

/// What a batch-aware handler runs for one event carries that event's trace on,
/// not its neighbour's (here without exported spans, as the received headers).
#[tokio::test]
async fn each_event_of_a_batch_is_traced_as_its_own() {
    let parents = [
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ];
    let events: Vec<IncomingEvent> = parents
        .iter()
        .map(|parent| {
            let mut headers = crate::event::event_headers(
                uuid::Uuid::now_v7(),
                "/fabrique/source",
                "fabrique.source.v1.Thing",
                "things/1",
                chrono::Utc::now(),
            );
            headers.insert(crate::event::TRACEPARENT, *parent);
            IncomingEvent::parse("fabrique.source.thing.happened", &headers, "".into())
                .expect("event")
        })
        .collect();
    let span = tracing::Span::none();
    for (event, parent) in events.iter().zip(parents) {
        let (traceparent, _) = Handling::new(event, &span)
            .traced(async { crate::telemetry::current_trace_headers() })
            .await;
        assert_eq!(traceparent.as_deref(), Some(parent));
    }
    let (outside, _) = crate::telemetry::current_trace_headers();
    assert_eq!(outside, None);
}

// The decision is the runner's, the same over every database and bus; the
// embedded ones keep this a unit test (relay wake-ups are not visible outside).
#[tokio::test]
async fn only_a_commit_that_wrote_events_wakes_the_relay() {
    let dir =
        std::env::temp_dir().join(format!("fabrique-wakes-{}", uuid::Uuid::now_v7().simple()));
    let db = platform_db(&dir).await;
    let bus: Arc<dyn Bus> = Arc::new(MemoryBus::new());
    let subjects = Subjects::new("wakes");
    bus.ensure_stream(&subjects.service_stream("source"))
        .await
        .expect("stream");
    let signal = crate::outbox::OutboxSignal::new();
    let runner = ConsumerRunner::new(
        "tests",
        ConsumerDef {
            name: "tests-source".into(),
            source_service: "source".into(),
            subjects: vec!["fabrique.source.>".into()],
            handler: Arc::new(Emitting),
            outbox: Some(signal.clone()),
        },
        db.clone(),
        bus.clone(),
        subjects.clone(),
        ConsumerSettings::default(),
    );
    let stop = CancellationToken::new();
    let running = tokio::spawn(runner.run(stop.clone()));

    for (handled, payload) in [(1, "quiet"), (2, "emit"), (3, "quiet")] {
        publish(bus.as_ref(), &subjects, payload).await;
        wait_until_handled(&db, handled, payload).await;
        assert_eq!(
            signal.take_pending(),
            payload == "emit",
            "relay woken after the {payload} event"
        );
    }
    let outbox = crate::outbox::entity::Entity::find()
        .all(&db)
        .await
        .expect("outbox");
    assert_eq!(outbox.len(), 1, "the emitted event waits in the outbox");

    stop.cancel();
    running.await.expect("runner stops");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A SQLite database under `dir` with the platform's tables.
async fn platform_db(dir: &std::path::Path) -> DatabaseConnection {
    let settings = crate::config::DatabaseSettings {
        url: format!("sqlite://{}/tests.db", dir.display()),
        max_connections: 4,
    };
    let db = crate::db::connect(&settings, "tests").await.expect("db");
    crate::db::migrate::<PlatformTables>(&db, "tests")
        .await
        .expect("migrate");
    db
}

/// Publishes an event of the `source` service with `payload`, stored once acked.
async fn publish(bus: &dyn Bus, subjects: &Subjects, payload: &'static str) {
    let id = uuid::Uuid::now_v7();
    let mut headers = crate::event::event_headers(
        id,
        "/fabrique/source",
        "fabrique.source.v1.Thing",
        "things/1",
        chrono::Utc::now(),
    );
    headers.insert(MSG_ID_HEADER, id.to_string().as_str());
    bus.publish(OutgoingMessage {
        subject: subjects.full("fabrique.source.thing.happened"),
        headers,
        payload: payload.into(),
    })
    .await
    .expect("sent")
    .await
    .expect("stored");
}

/// Waits (10 s at most) until `handled` events are recorded as processed.
async fn wait_until_handled(db: &DatabaseConnection, handled: usize, payload: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while processed::Entity::find().all(db).await.expect("read").len() < handled {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{payload} not handled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
