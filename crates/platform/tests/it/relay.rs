//! The outbox relay: everything written is published once, in write order per
//! aggregate, also with two relays (two replicas) racing on one PostgreSQL database.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use fabrique_platform::bus::{
    Bus, BusError, ConsumerSpec, OutgoingMessage, PendingAck, StoredMessage, StreamSpec, Subjects,
    Subscription,
};
use fabrique_platform::db::KeptConnections;
use fabrique_platform::event::OutgoingEvent;
use fabrique_platform::outbox::{self, OutboxSignal, Relay};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
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

/// A service's outbox database (PostgreSQL or SQLite) and a bus with its stream.
struct Outbox {
    db: DatabaseConnection,
    bus: Arc<dyn Bus>,
    subjects: Subjects,
    _pg: Option<fabrique_testkit::TestDatabase>,
    _dir: fabrique_testkit::TempDir,
}

async fn setup(kind: Kind, postgres: bool) -> Outbox {
    let pg = fabrique_testkit::TestDatabase::create_if(postgres).await;
    let dir = fabrique_testkit::TempDir::new("relay");
    let db = database(pg.as_ref(), &dir).await;
    let bus = bus(kind).await;
    let subjects = Subjects::new(fabrique_testkit::unique_prefix());
    bus.ensure_stream(&subjects.service_stream("tests"))
        .await
        .expect("stream");
    Outbox {
        db,
        bus,
        subjects,
        _pg: pg,
        _dir: dir,
    }
}

/// A relay of the `tests` service on `db`, woken by `signal`.
fn new_relay(
    db: &DatabaseConnection,
    bus: &Arc<dyn Bus>,
    subjects: &Subjects,
    signal: &OutboxSignal,
) -> Relay {
    Relay::new(
        "tests",
        db.clone(),
        bus.clone(),
        subjects.clone(),
        signal.clone(),
    )
}

/// A bus that counts what is published through it: JetStream drops a message sent
/// twice (same `Nats-Msg-Id`), so the stream alone would not show a row sent again.
struct Counting {
    inner: Arc<dyn Bus>,
    published: AtomicUsize,
}

#[async_trait]
impl Bus for Counting {
    async fn ensure_stream(&self, spec: &StreamSpec) -> Result<(), BusError> {
        self.inner.ensure_stream(spec).await
    }
    async fn publish(&self, message: OutgoingMessage) -> Result<PendingAck, BusError> {
        self.published.fetch_add(1, Ordering::Relaxed);
        self.inner.publish(message).await
    }
    async fn subscribe(&self, spec: &ConsumerSpec) -> Result<Box<dyn Subscription>, BusError> {
        self.inner.subscribe(spec).await
    }
    async fn ready(&self, timeout: Duration) -> Result<(), BusError> {
        self.inner.ready(timeout).await
    }
    async fn stored(
        &self,
        stream: &str,
        filter: &str,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, BusError> {
        self.inner.stored(stream, filter, limit).await
    }
    async fn remove(&self, stream: &str, sequence: u64) -> Result<bool, BusError> {
        self.inner.remove(stream, sequence).await
    }
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
}

async fn write(db: &DatabaseConnection, events: Vec<OutgoingEvent>) {
    let txn = db.begin().await.expect("begin");
    outbox::enqueue(&txn, events).await.expect("enqueue");
    txn.commit().await.expect("commit");
}

/// A reader of the whole `tests` stream, from its start.
async fn reader(bus: &Arc<dyn Bus>, subjects: &Subjects) -> Box<dyn Subscription> {
    bus.subscribe(&ConsumerSpec {
        stream: subjects.stream_name("tests"),
        durable_name: "reader".into(),
        filter_subjects: vec![],
        ack_wait: Duration::from_secs(30),
    })
    .await
    .expect("subscribe")
}

/// All payloads on the stream, in stream order.
async fn published(bus: &Arc<dyn Bus>, subjects: &Subjects, expected: usize) -> Vec<String> {
    let mut subscription = reader(bus, subjects).await;
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

/// One drain empties the outbox, and the stream then holds `expected` events, in
/// write order per aggregate.
async fn drain_in_order(
    db: &DatabaseConnection,
    bus: &Arc<dyn Bus>,
    subjects: &Subjects,
    expected: usize,
) -> Relay {
    let relay = new_relay(db, bus, subjects, &OutboxSignal::new());
    relay.drain().await.expect("drain");
    assert_eq!(relay.pending_count().await.expect("count"), 0);
    let payloads = published(bus, subjects, expected).await;
    assert_ordered_per_aggregate(&payloads);
    relay
}

async fn publishes_everything_once_in_order_per_aggregate(kind: Kind, postgres: bool) {
    let Outbox {
        db,
        bus,
        subjects,
        _pg,
        _dir,
    } = setup(kind, postgres).await;
    for index in 0..5 {
        write(
            &db,
            ["a", "b", "c"].iter().map(|a| event(a, index)).collect(),
        )
        .await;
    }
    let relay = drain_in_order(&db, &bus, &subjects, 15).await;
    // Draining again publishes nothing more.
    relay.drain().await.expect("drain again");
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
        let relay = new_relay(&db, &bus, &subjects, signal);
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

/// More than one batch pending: batch `n` is published while `n + 1` is read and
/// `n - 1` deleted, and every aggregate's events still arrive once and in order.
async fn publishes_several_batches_in_order(kind: Kind, postgres: bool) {
    let Outbox {
        db,
        bus,
        subjects,
        _pg,
        _dir,
    } = setup(kind, postgres).await;
    let aggregates = ["a", "b", "c", "d", "e"];
    let per_aggregate = 500;
    for chunk in 0..per_aggregate / 10 {
        let events = (chunk * 10..chunk * 10 + 10)
            .flat_map(|index| aggregates.iter().map(move |a| event(a, index)))
            .collect();
        write(&db, events).await;
    }
    let total = aggregates.len() * per_aggregate;
    assert!(
        total as u64 > 2 * outbox::BATCH_SIZE,
        "spans several batches"
    );
    drain_in_order(&db, &bus, &subjects, total).await;
}

/// Batches whose aggregates alternate (batches 1 and 3 share theirs, 2 and 4 theirs):
/// every event once, each aggregate's in order, across batches that do and do not
/// share aggregates with the one before.
async fn publishes_overlapping_batches_in_order(kind: Kind, postgres: bool) {
    let Outbox {
        db,
        bus,
        subjects,
        _pg,
        _dir,
    } = setup(kind, postgres).await;
    let batch = outbox::BATCH_SIZE as usize;
    let total = 4 * batch;
    for chunk in (0..total).collect::<Vec<_>>().chunks(100) {
        let events = chunk
            .iter()
            .map(|&i| {
                // Batches 1 and 3 hold aggregates 0..batch, 2 and 4 the next ones.
                let aggregate = (i / batch) % 2 * batch + i % batch;
                event(&format!("g{aggregate}"), i / (2 * batch))
            })
            .collect();
        write(&db, events).await;
    }
    drain_in_order(&db, &bus, &subjects, total).await;
}

/// `write_with_events`: the change and its events are written together or not at all.
async fn a_change_and_its_events_are_written_together(postgres: bool) {
    let Outbox {
        db,
        bus,
        subjects,
        _pg,
        _dir,
    } = setup(Kind::Memory, postgres).await;
    db.execute_unprepared("CREATE TABLE things (id BIGINT PRIMARY KEY)")
        .await
        .expect("table");
    let backend = db.get_database_backend();
    let insert = |id: i64| {
        let sql = match backend {
            DbBackend::Postgres => "INSERT INTO things (id) VALUES ($1)",
            _ => "INSERT INTO things (id) VALUES (?)",
        };
        Statement::from_sql_and_values(backend, sql, [id.into()])
    };
    let relay = Relay::new("tests", db.clone(), bus, subjects, OutboxSignal::new());

    outbox::write_with_events(&db, insert(1), vec![event("t1", 0), event("t1", 1)])
        .await
        .expect("written");
    assert_eq!(relay.pending_count().await.expect("count"), 2);

    // As the members service writes: through connections kept out of the pool.
    let kept = KeptConnections::new(db.clone());
    let duplicate = outbox::write_with_events(&kept, insert(1), vec![event("t1", 2)])
        .await
        .expect_err("the same id twice");
    assert!(
        fabrique_platform::db::is_unique_violation(&duplicate),
        "{duplicate}"
    );
    assert_eq!(
        relay.pending_count().await.expect("count"),
        2,
        "no event of the change that failed"
    );
    outbox::write_with_events(&kept, insert(2), vec![event("t2", 0)])
        .await
        .expect("written after the failure");
    assert_eq!(relay.pending_count().await.expect("count"), 3);
    let things = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT count(*) AS n FROM things",
        ))
        .await
        .expect("count")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("n");
    assert_eq!(things, 2);
}

#[tokio::test]
async fn postgres_writes_a_change_and_its_events_together() {
    a_change_and_its_events_are_written_together(true).await;
}

#[tokio::test]
async fn sqlite_writes_a_change_and_its_events_together() {
    a_change_and_its_events_are_written_together(false).await;
}

/// On PostgreSQL the relay relays under an advisory lock taken on a connection of its
/// own: while someone else holds the lock it publishes nothing, and when its connection
/// is cut it connects again, and the rows written meanwhile are still published once.
#[tokio::test]
async fn postgres_relay_keeps_its_lock_and_survives_a_cut_connection() {
    let Outbox {
        db,
        bus,
        subjects,
        _pg,
        _dir,
    } = setup(Kind::Nats, true).await;
    let key = fabrique_platform::db::lock_key("relay", "tests");

    // Another replica holds the lock: nothing is published.
    write(&db, (0..3).map(|i| event("a", i)).collect()).await;
    let relay = new_relay(&db, &bus, &subjects, &OutboxSignal::new());
    let other = db.begin().await.expect("begin");
    other
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [key.into()],
        ))
        .await
        .expect("lock");
    assert!(matches!(relay.drain().await, Err(outbox::RelayError::Busy)));
    assert_eq!(relay.pending_count().await.expect("count"), 3);
    other.commit().await.expect("unlock");

    let signal = OutboxSignal::new();
    let stop = CancellationToken::new();
    let running = tokio::spawn(
        new_relay(&db, &bus, &subjects, &signal).run(stop.clone(), Duration::from_secs(5)),
    );
    signal.notify();
    let pending = || async { relay.pending_count().await.expect("count") };
    fabrique_testkit::eventually(
        "the first rows published",
        Duration::from_secs(10),
        || async { (pending().await == 0).then_some(()) },
    )
    .await;

    // Cut the relay's connection, once it released the lock after its last pass.
    let cut = fabrique_testkit::eventually(
        "the relay's own connection, idle",
        Duration::from_secs(5),
        || async {
            let cut = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid() \
                     AND query LIKE '%pg_advisory_unlock%'",
                ))
                .await
                .expect("terminate")
                .expect("row")
                .try_get::<i64>("", "n")
                .expect("n");
            (cut > 0).then_some(cut)
        },
    )
    .await;
    assert_eq!(cut, 1, "the relay's own connection");

    write(&db, (3..6).map(|i| event("a", i)).collect()).await;
    signal.notify();
    fabrique_testkit::eventually(
        "the later rows published",
        Duration::from_secs(10),
        || async { (pending().await == 0).then_some(()) },
    )
    .await;
    let payloads = published(&bus, &subjects, 6).await;
    assert_ordered_per_aggregate(&payloads);
    // Once it connected again, the lock is free between passes (a few milliseconds
    // after one, which the relay waits for another commit).
    fabrique_testkit::eventually(
        "the lock free between passes",
        Duration::from_secs(5),
        || async { relay.drain().await.is_ok().then_some(()) },
    )
    .await;

    stop.cancel();
    running.await.expect("relay stops");
}

/// Under a stream of writes the relay keeps its lock from one pass to the next; once
/// the writes stop it gives the lock up, so another replica's relay may take it.
#[tokio::test]
async fn postgres_relay_gives_its_lock_up_once_writes_stop() {
    let Outbox {
        db,
        bus,
        subjects,
        _pg,
        _dir,
    } = setup(Kind::Nats, true).await;
    let signal = OutboxSignal::new();
    let stop = CancellationToken::new();
    let counting = Arc::new(Counting {
        inner: bus.clone(),
        published: AtomicUsize::new(0),
    });
    let counted: Arc<dyn Bus> = counting.clone();
    let running = tokio::spawn(
        new_relay(&db, &counted, &subjects, &signal).run(stop.clone(), Duration::from_secs(5)),
    );
    // One row at a time, each signalled: most arrive while a pass is under way.
    for i in 0..300 {
        write(&db, vec![event(["a", "b", "c"][i % 3], i / 3)]).await;
        signal.notify();
    }
    let other = new_relay(&db, &bus, &subjects, &OutboxSignal::new());
    fabrique_testkit::eventually("every row published", Duration::from_secs(20), || async {
        (other.pending_count().await.expect("count") == 0).then_some(())
    })
    .await;
    let payloads = published(&bus, &subjects, 300).await;
    assert_ordered_per_aggregate(&payloads);
    assert_eq!(
        counting.published.load(Ordering::Relaxed),
        300,
        "no row read again before its delete"
    );
    fabrique_testkit::eventually("the lock given up", Duration::from_secs(5), || async {
        other.drain().await.is_ok().then_some(())
    })
    .await;

    stop.cancel();
    running.await.expect("relay stops");
}

/// The relay vacuums its outbox beside its work: a VACUUM that waits (here on a lock
/// another session holds, which rows, reads and deletes do not need) does not hold up
/// the rows written meanwhile.
#[tokio::test]
async fn postgres_relay_publishes_while_its_outbox_is_vacuumed() {
    let Outbox {
        db,
        bus,
        subjects,
        _pg,
        _dir,
    } = setup(Kind::Nats, true).await;
    let blocker = db.begin().await.expect("begin");
    blocker
        .execute_unprepared("LOCK TABLE fabrique_outbox IN SHARE UPDATE EXCLUSIVE MODE")
        .await
        .expect("lock");
    let signal = OutboxSignal::new();
    let stop = CancellationToken::new();
    let running = tokio::spawn(
        new_relay(&db, &bus, &subjects, &signal).run(stop.clone(), Duration::from_secs(5)),
    );
    // Enough deletions for a VACUUM; the relay starts it at a pass at least 2 s after
    // its start (its poll comes every 0.5 s).
    write(&db, (0..2_100).map(|i| event("a", i)).collect()).await;
    signal.notify();
    let waiting_vacuum = || async {
        db.query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
             AND query = 'VACUUM fabrique_outbox' AND wait_event_type = 'Lock'",
        ))
        .await
        .expect("activity")
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("n")
    };
    fabrique_testkit::eventually("a VACUUM waiting", Duration::from_secs(10), || async {
        (waiting_vacuum().await == 1).then_some(())
    })
    .await;
    write(&db, vec![event("b", 0)]).await;
    signal.notify();
    let other = new_relay(&db, &bus, &subjects, &OutboxSignal::new());
    fabrique_testkit::eventually("the new row published", Duration::from_secs(5), || async {
        (other.pending_count().await.expect("count") == 0).then_some(())
    })
    .await;
    assert_eq!(waiting_vacuum().await, 1, "the VACUUM still waits");
    blocker.rollback().await.expect("unlock");
    stop.cancel();
    running.await.expect("relay stops");
}

/// With no span exporter (none in this test process) the relay builds no publish span:
/// the message carries the trace context stored with the row, the writer's, so a
/// consumer's span still joins the trace of the call that wrote the event.
async fn passes_the_writers_trace_context_on(kind: Kind, postgres: bool) {
    assert!(!fabrique_platform::telemetry::spans_exported());
    let outbox = setup(kind, postgres).await;
    write(&outbox.db, vec![event("traced", 0)]).await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    outbox
        .db
        .execute_unprepared(&format!(
            "UPDATE fabrique_outbox SET traceparent = '{traceparent}', tracestate = 'fab=1'"
        ))
        .await
        .expect("a stored context");
    let relay = new_relay(
        &outbox.db,
        &outbox.bus,
        &outbox.subjects,
        &OutboxSignal::new(),
    );
    relay.drain().await.expect("drain");

    let mut subscription = reader(&outbox.bus, &outbox.subjects).await;
    let delivery = tokio::time::timeout(Duration::from_secs(20), subscription.next())
        .await
        .expect("the event arrives")
        .expect("open")
        .expect("ok");
    assert_eq!(delivery.headers.get("traceparent"), Some(traceparent));
    assert_eq!(delivery.headers.get("tracestate"), Some("fab=1"));
}

macro_rules! on {
    ($module:ident, $kind:expr, $postgres:expr) => {
        mod $module {
            #[tokio::test]
            async fn publishes_everything_once_in_order() {
                super::publishes_everything_once_in_order_per_aggregate($kind, $postgres).await;
            }
            #[tokio::test]
            async fn publishes_several_batches_in_order() {
                super::publishes_several_batches_in_order($kind, $postgres).await;
            }
            #[tokio::test]
            async fn publishes_overlapping_batches_in_order() {
                super::publishes_overlapping_batches_in_order($kind, $postgres).await;
            }
            #[tokio::test]
            async fn passes_the_writers_trace_context_on() {
                super::passes_the_writers_trace_context_on($kind, $postgres).await;
            }
        }
    };
}

on!(nats_postgres, crate::Kind::Nats, true);
on!(in_process_sqlite, crate::Kind::Memory, false);
