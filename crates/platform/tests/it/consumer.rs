//! The consumer runner: effects applied once per event, poison messages dead-lettered
//! after `max_deliver` with the error, malformed ones at once, and the stream flowing on;
//! one aggregate's events in order, other aggregates' events meanwhile.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use fabrique_platform::bus::{
    Bus, ConsumerSpec, Headers, MSG_ID_HEADER, OutgoingMessage, Subjects,
};
use fabrique_platform::consumer::{
    ConsumerDef, ConsumerRunner, ConsumerSettings, ConsumerTxn, DLQ_CONSUMER, DLQ_DELIVERIES,
    DLQ_REASON, DLQ_SUBJECT, EventHandler, HandlerError, Handling,
};
use fabrique_platform::event::{CE_ID, IncomingEvent, event_headers};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{Kind, bus, database};

const THING: &str = "fabrique.tests.v1.Thing";

/// Records each event's payload in `effects`; refuses other types; fails on "poison";
/// does nothing for "nothing".
struct Recording;

#[async_trait]
impl EventHandler for Recording {
    async fn handle(&self, txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
        if event.ce_type != THING {
            return Err(HandlerError::Permanent(format!(
                "unexpected ce-type {}",
                event.ce_type
            )));
        }
        if event.payload == "poison" {
            return Err(HandlerError::Transient("poison always fails".into()));
        }
        if event.payload == "blocked" {
            // Applied only once another aggregate's "release" is committed: with events
            // handled one at a time, it never would be.
            let mut released = false;
            for _ in 0..100 {
                let count = txn
                    .query_one_raw(Statement::from_string(
                        txn.get_database_backend(),
                        "SELECT count(*) FROM effects WHERE payload = 'release'",
                    ))
                    .await?
                    .and_then(|row| row.try_get_by_index::<i64>(0).ok())
                    .unwrap_or(0);
                if count > 0 {
                    released = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if !released {
                return Err(HandlerError::Transient("never released".into()));
            }
        }
        if event.payload == "nothing" {
            return Ok(());
        }
        let backend = txn.get_database_backend();
        let values = vec![
            event.id.to_string().into(),
            String::from_utf8_lossy(&event.payload).to_string().into(),
        ];
        // On PostgreSQL the effect says whether it was written by the message that
        // began its transaction (the statement's time is when its message arrived).
        let insert = match backend {
            DbBackend::Postgres => Statement::from_sql_and_values(
                backend,
                "INSERT INTO effects (event_id, payload, with_begin) \
                 VALUES ($1, $2, statement_timestamp() = transaction_timestamp())",
                values,
            ),
            _ => Statement::from_sql_and_values(
                backend,
                "INSERT INTO effects (event_id, payload) VALUES (?, ?)",
                values,
            ),
        };
        let inserted = txn.execute_raw(insert).await?.rows_affected();
        if inserted != 1 {
            return Err(HandlerError::Permanent(format!(
                "the effect's insert answered {inserted} rows"
            )));
        }
        Ok(())
    }
}

/// Writes the effects of what queued up on a lane in one statement (returning their
/// rows, so on PostgreSQL the transaction's opening goes out with a query), and notes
/// how many events each call got. "slow" takes a second, once it said it started.
#[derive(Default)]
struct Batching {
    calls: std::sync::Mutex<Vec<usize>>,
    slow_started: tokio::sync::Notify,
}

impl Batching {
    async fn write(
        &self,
        txn: &ConsumerTxn,
        events: &[&IncomingEvent],
    ) -> Result<(), HandlerError> {
        self.calls.lock().expect("calls").push(events.len());
        if events.iter().any(|e| e.payload == "slow") {
            self.slow_started.notify_one();
            // Time for the events published meanwhile to reach the lane's queue.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let backend = txn.get_database_backend();
        let mut sql = "INSERT INTO effects (event_id, payload) VALUES ".to_string();
        let mut values: Vec<sea_orm::Value> = Vec::new();
        for (i, event) in events.iter().enumerate() {
            sql.push_str(&match backend {
                DbBackend::Postgres => format!(
                    "{}(${}, ${})",
                    if i > 0 { ", " } else { "" },
                    2 * i + 1,
                    2 * i + 2
                ),
                _ => format!("{}(?, ?)", if i > 0 { ", " } else { "" }),
            });
            values.push(event.id.to_string().into());
            values.push(String::from_utf8_lossy(&event.payload).to_string().into());
        }
        sql.push_str(" RETURNING seq");
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        if rows.len() != events.len() {
            return Err(HandlerError::Permanent(format!(
                "{} rows for {} events",
                rows.len(),
                events.len()
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl EventHandler for Batching {
    async fn handle(&self, txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
        self.write(txn, &[event]).await
    }

    async fn handle_all(
        &self,
        txn: &ConsumerTxn,
        events: &[Handling<'_>],
    ) -> Result<(), HandlerError> {
        let events: Vec<&IncomingEvent> = events.iter().map(|h| h.event).collect();
        self.write(txn, &events).await
    }
}

/// Announces its effect's insert as its last statement
/// ([`ConsumerTxn::commit_with_next_statement`]) and, on PostgreSQL, looks from another
/// connection whether the effect is already committed before returning; for
/// "then-more", sends another statement after it; for "commented", sends the insert as
/// raw text ending in a comment.
#[derive(Default)]
struct Final {
    /// PostgreSQL: where to look from.
    db: std::sync::OnceLock<DatabaseConnection>,
    seen: std::sync::Mutex<Vec<Seen>>,
}

/// Per call of [`Final`]: the payload, whether the effect was visible from its `db`, and
/// what the statement after the last one answered.
type Seen = (String, Option<bool>, Option<String>);

#[async_trait]
impl EventHandler for Final {
    async fn handle(&self, txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
        let backend = txn.get_database_backend();
        let payload = String::from_utf8_lossy(&event.payload).to_string();
        let effect = |payload: &str| {
            let sql = match backend {
                DbBackend::Postgres => "INSERT INTO effects (event_id, payload) VALUES ($1, $2)",
                _ => "INSERT INTO effects (event_id, payload) VALUES (?, ?)",
            };
            Statement::from_sql_and_values(
                backend,
                sql,
                [event.id.to_string().into(), payload.into()],
            )
        };
        txn.commit_with_next_statement();
        if payload == "commented" {
            // Raw text ending in a comment: the COMMIT after it must still run.
            txn.execute_unprepared(&format!(
                "INSERT INTO effects (event_id, payload) VALUES ('{}', 'commented') -- the last",
                event.id
            ))
            .await?;
        } else {
            txn.execute_raw(effect(&payload)).await?;
        }
        let visible = match self.db.get() {
            Some(db) => Some(
                db.query_one_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT count(*) AS n FROM effects WHERE payload = $1",
                    [payload.clone().into()],
                ))
                .await?
                .and_then(|row| row.try_get::<i64>("", "n").ok())
                    == Some(1),
            ),
            None => None,
        };
        let after = if payload == "then-more" {
            Some(match txn.execute_raw(effect("more")).await {
                Ok(_) => "ok".to_string(),
                Err(error) => error.to_string(),
            })
        } else {
            None
        };
        self.seen
            .lock()
            .expect("seen")
            .push((payload, visible, after));
        Ok(())
    }
}

struct Setup {
    bus: Arc<dyn Bus>,
    db: DatabaseConnection,
    subjects: Subjects,
    stop: CancellationToken,
    _pg: Option<fabrique_testkit::TestDatabase>,
    _dir: fabrique_testkit::TempDir,
}

async fn setup(kind: Kind, postgres: bool) -> Setup {
    setup_with(kind, postgres, Arc::new(Recording)).await
}

async fn setup_with(kind: Kind, postgres: bool, handler: Arc<dyn EventHandler>) -> Setup {
    let pg = fabrique_testkit::TestDatabase::create_if(postgres).await;
    let dir = fabrique_testkit::TempDir::new("consumer");
    let db = database(pg.as_ref(), &dir).await;
    db.execute_unprepared(if postgres {
        "CREATE TABLE effects (seq BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL, payload TEXT NOT NULL, with_begin BOOLEAN)"
    } else {
        "CREATE TABLE effects (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, payload TEXT NOT NULL)"
    })
        .await
        .expect("effects table");
    let bus = bus(kind).await;
    let subjects = Subjects::new(fabrique_testkit::unique_prefix());
    bus.ensure_stream(&subjects.service_stream("source"))
        .await
        .expect("stream");
    bus.ensure_stream(&subjects.dlq_stream())
        .await
        .expect("dlq stream");
    let stop = CancellationToken::new();
    let runner = ConsumerRunner::new(
        "tests",
        ConsumerDef {
            name: "tests-source".into(),
            source_service: "source".into(),
            subjects: vec!["fabrique.source.>".into()],
            handler,
            outbox: None,
        },
        db.clone(),
        bus.clone(),
        subjects.clone(),
        ConsumerSettings {
            max_deliver: 3,
            ack_wait: Duration::from_secs(30),
            retry_delay: Duration::from_millis(10),
            lanes: 8,
        },
    );
    tokio::spawn(runner.run(stop.clone()));
    Setup {
        bus,
        db,
        subjects,
        stop,
        _pg: pg,
        _dir: dir,
    }
}

impl Setup {
    /// Publishes an event; `msg_id` differs from the event id so the bus stores repeats.
    async fn publish(&self, event_id: Uuid, ce_type: &str, payload: &str, msg_id: &str) {
        self.publish_about("things/1", event_id, ce_type, payload, msg_id)
            .await;
    }

    /// Publishes an event about `aggregate` (its `ce-subject`).
    async fn publish_about(
        &self,
        aggregate: &str,
        event_id: Uuid,
        ce_type: &str,
        payload: &str,
        msg_id: &str,
    ) {
        let mut headers = event_headers(
            event_id,
            "/fabrique/source",
            ce_type,
            aggregate,
            chrono::Utc::now(),
        );
        headers.insert(MSG_ID_HEADER, msg_id);
        self.publish_raw(headers, payload).await;
    }

    async fn publish_raw(&self, headers: Headers, payload: &str) {
        self.publish_on("fabrique.source.thing.happened", headers, payload)
            .await;
    }

    async fn publish_on(&self, subject: &str, headers: Headers, payload: &str) {
        self.bus
            .publish(OutgoingMessage {
                subject: self.subjects.full(subject),
                headers,
                payload: Bytes::from(payload.to_string()),
            })
            .await
            .expect("sent")
            .await
            .expect("acked");
    }

    /// Effects in the order they were committed.
    async fn effects(&self) -> Vec<(String, String)> {
        let backend = self.db.get_database_backend();
        self.db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT event_id, payload FROM effects ORDER BY seq",
            ))
            .await
            .expect("query")
            .into_iter()
            .map(|row| {
                (
                    row.try_get("", "event_id").expect("id"),
                    row.try_get("", "payload").expect("payload"),
                )
            })
            .collect()
    }

    async fn wait_for_effect(&self, payload: &str) {
        let payload = payload.to_string();
        fabrique_testkit::eventually(
            &format!("effect {payload}"),
            Duration::from_secs(15),
            || async {
                self.effects()
                    .await
                    .iter()
                    .any(|(_, p)| *p == payload)
                    .then_some(())
            },
        )
        .await;
    }

    /// The dead letters so far (waits for `count` of them).
    async fn dead_letters(&self, count: usize) -> Vec<Headers> {
        let mut subscription = self
            .bus
            .subscribe(&ConsumerSpec {
                stream: self.subjects.dlq_stream().name,
                durable_name: format!("inspect-{}", Uuid::now_v7().simple()),
                filter_subjects: vec![],
                ack_wait: Duration::from_secs(30),
            })
            .await
            .expect("dlq subscription");
        let mut letters = Vec::new();
        while letters.len() < count {
            let delivery = tokio::time::timeout(Duration::from_secs(15), subscription.next())
                .await
                .expect("a dead letter within 15 s")
                .expect("open")
                .expect("ok");
            assert_eq!(delivery.subject, self.subjects.dlq_subject("tests"));
            letters.push(delivery.headers.clone());
            delivery.acker.ack().await.expect("ack");
        }
        letters
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn a_redelivered_event_is_applied_once(kind: Kind, postgres: bool) {
    let setup = setup(kind, postgres).await;
    let event = Uuid::now_v7();
    setup.publish(event, THING, "first", "copy-1").await;
    setup.publish(event, THING, "first", "copy-2").await;
    setup
        .publish(Uuid::now_v7(), THING, "second", "other")
        .await;
    // Events are handled in order: once the second one is applied, both copies of the
    // first were handled.
    setup.wait_for_effect("second").await;
    let effects = setup.effects().await;
    assert_eq!(
        effects.iter().filter(|(_, p)| p == "first").count(),
        1,
        "{effects:?}"
    );
    assert_eq!(effects.len(), 2);
}

async fn a_poison_event_goes_to_the_dlq_and_the_stream_flows(kind: Kind, postgres: bool) {
    let setup = setup(kind, postgres).await;
    let poison = Uuid::now_v7();
    setup.publish(poison, THING, "poison", "p").await;
    setup.publish(Uuid::now_v7(), THING, "after", "a").await;
    setup.wait_for_effect("after").await;
    let letters = setup.dead_letters(1).await;
    let letter = &letters[0];
    assert!(
        letter
            .get(DLQ_REASON)
            .unwrap_or_default()
            .contains("poison always fails"),
        "{letter:?}"
    );
    assert_eq!(letter.get(DLQ_DELIVERIES), Some("3"));
    assert_eq!(letter.get(DLQ_CONSUMER), Some("tests-source"));
    assert_eq!(
        letter.get(DLQ_SUBJECT),
        Some(
            setup
                .subjects
                .full("fabrique.source.thing.happened")
                .as_str()
        )
    );
    assert_eq!(letter.get(CE_ID), Some(poison.to_string().as_str()));
    assert!(setup.effects().await.iter().all(|(_, p)| p != "poison"));
}

async fn malformed_messages_are_dead_lettered_at_once(kind: Kind, postgres: bool) {
    let setup = setup(kind, postgres).await;
    let mut garbage = Headers::new();
    garbage.insert(MSG_ID_HEADER, "garbage");
    setup.publish_raw(garbage, "\u{1}\u{2}garbage").await;
    setup
        .publish(Uuid::now_v7(), "fabrique.tests.v1.Other", "wrong type", "w")
        .await;
    setup.publish(Uuid::now_v7(), THING, "fine", "f").await;
    setup.wait_for_effect("fine").await;
    // Two aggregates (none, and things/1): their letters may come in either order.
    let letters = setup.dead_letters(2).await;
    let reason = |needle: &str| {
        letters
            .iter()
            .find(|l| l.get(DLQ_REASON).unwrap_or_default().contains(needle))
            .unwrap_or_else(|| panic!("no letter for {needle}: {letters:?}"))
    };
    assert_eq!(
        reason("missing header ce-specversion").get(DLQ_DELIVERIES),
        Some("1")
    );
    assert_eq!(reason("unexpected ce-type").get(DLQ_DELIVERIES), Some("1"));
    assert_eq!(setup.effects().await.len(), 1);
}

/// Events of eight aggregates, interleaved, published faster than they are applied (so
/// they are applied in batches), with repeats and a poison event among them: each
/// aggregate's are applied once and in the order they were published.
async fn each_aggregate_keeps_its_order(kind: Kind, postgres: bool) {
    let setup = setup(kind, postgres).await;
    for n in 0..10 {
        for aggregate in 0..8 {
            let id = Uuid::now_v7();
            let (about, payload) = (format!("things/{aggregate}"), format!("{aggregate}:{n}"));
            setup
                .publish_about(&about, id, THING, &payload, &Uuid::now_v7().to_string())
                .await;
            if n % 3 == 0 {
                setup
                    .publish_about(&about, id, THING, &payload, &Uuid::now_v7().to_string())
                    .await;
            }
            if n == 5 && aggregate == 3 {
                setup
                    .publish_about(&about, Uuid::now_v7(), THING, "poison", "poison-3")
                    .await;
            }
        }
    }
    fabrique_testkit::eventually("80 effects", Duration::from_secs(30), || async {
        (setup.effects().await.len() == 80).then_some(())
    })
    .await;
    let effects = setup.effects().await;
    for aggregate in 0..8 {
        let order: Vec<u32> = effects
            .iter()
            .filter_map(|(_, p)| p.strip_prefix(&format!("{aggregate}:")))
            .map(|n| n.parse().expect("a number"))
            .collect();
        assert_eq!(order, (0..10).collect::<Vec<_>>(), "things/{aggregate}");
    }
    let letters = setup.dead_letters(1).await;
    assert!(
        letters[0]
            .get(DLQ_REASON)
            .unwrap_or_default()
            .contains("poison always fails")
    );
}

/// An event that waits for another aggregate's later event is applied once that one is:
/// events of different aggregates are handled at the same time.
async fn other_aggregates_are_not_held_up(kind: Kind, postgres: bool) {
    let setup = setup(kind, postgres).await;
    // Lanes are chosen by a hash of the aggregate: find one not on "things/1"'s lane.
    let other = (2..100)
        .map(|n| format!("things/{n}"))
        .find(|a| {
            let lane = |s: &str| fabrique_platform::hash::fnv1a64(s.as_bytes()) % 8;
            lane(a) != lane("things/1")
        })
        .expect("another lane");
    setup.publish(Uuid::now_v7(), THING, "blocked", "b").await;
    setup
        .publish_about(&other, Uuid::now_v7(), THING, "release", "r")
        .await;
    setup.wait_for_effect("blocked").await;
    let effects: Vec<String> = setup.effects().await.into_iter().map(|(_, p)| p).collect();
    assert_eq!(effects, ["release", "blocked"]);
}

/// The processed record's subject is the event's, whatever characters it holds (on
/// PostgreSQL it is written into the statement's text, quoted).
async fn a_subject_with_quotes_is_recorded_as_it_is(kind: Kind, postgres: bool) {
    let setup = setup(kind, postgres).await;
    let subject = r"fabrique.source.o'brien\'--;.happened";
    let mut headers = event_headers(
        Uuid::now_v7(),
        "/fabrique/source",
        THING,
        "things/1",
        chrono::Utc::now(),
    );
    headers.insert(MSG_ID_HEADER, "quoted");
    setup.publish_on(subject, headers, "quoted").await;
    setup.wait_for_effect("quoted").await;
    let backend = setup.db.get_database_backend();
    let recorded: Vec<String> = setup
        .db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT subject FROM fabrique_processed_events",
        ))
        .await
        .expect("query")
        .into_iter()
        .map(|row| row.try_get("", "subject").expect("subject"))
        .collect();
    assert_eq!(recorded, [subject]);
}

/// On PostgreSQL a new event's transaction starts in the message of the handler's
/// first statement, its values written into the text: whatever the text holds, it is
/// stored as it is, and the handler reads its own statement's row count.
#[tokio::test]
async fn a_new_events_first_statement_goes_out_with_its_begin() {
    let setup = setup(crate::Kind::Nats, true).await;
    let payload = "l'été \\ \"quoted\" \n\t E'\\x00' $1 -- ; COMMIT; \u{1F33B}";
    setup
        .publish(Uuid::now_v7(), THING, payload, "tricky")
        .await;
    setup.wait_for_effect(payload).await;
    setup.publish(Uuid::now_v7(), THING, "plain", "plain").await;
    setup.wait_for_effect("plain").await;
    let rows = setup
        .db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT payload, with_begin FROM effects ORDER BY seq",
        ))
        .await
        .expect("effects");
    let written: Vec<(String, bool)> = rows
        .iter()
        .map(|row| {
            (
                row.try_get("", "payload").expect("payload"),
                row.try_get("", "with_begin").expect("with_begin"),
            )
        })
        .collect();
    assert_eq!(
        written,
        [(payload.to_string(), true), ("plain".to_string(), true)]
    );
}

/// An event already handled does not get its effect twice, though its first try sends
/// the effect before learning that (it is rolled back, and the retry records first).
/// One whose handler sends nothing is recorded with the commit.
#[tokio::test]
async fn a_deferred_start_rolls_back_an_event_already_handled() {
    let setup = setup(crate::Kind::Nats, true).await;
    let (event, quiet) = (Uuid::now_v7(), Uuid::now_v7());
    setup.publish(event, THING, "once", "copy-1").await;
    setup.publish(quiet, THING, "nothing", "quiet-1").await;
    setup.wait_for_effect("once").await;
    // A second delivery after the first one committed: not in the same batch.
    setup.publish(event, THING, "once", "copy-2").await;
    setup.publish(quiet, THING, "nothing", "quiet-2").await;
    setup.publish(Uuid::now_v7(), THING, "after", "after").await;
    setup.wait_for_effect("after").await;
    let payloads: Vec<String> = setup.effects().await.into_iter().map(|(_, p)| p).collect();
    assert_eq!(payloads, ["once", "after"]);
    let recorded = setup
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT count(*) AS n FROM fabrique_processed_events \
                 WHERE event_id IN ('{event}', '{quiet}')"
            ),
        ))
        .await
        .expect("query")
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("n");
    assert_eq!(recorded, 2);
}

/// On PostgreSQL a lane keeps a connection of its own between events: when it is cut
/// (a restarted or failed-over server), the next event is applied on a new one.
#[tokio::test]
async fn a_lane_whose_connection_is_cut_takes_a_new_one() {
    let setup = setup(crate::Kind::Nats, true).await;
    setup.publish(Uuid::now_v7(), THING, "before", "b").await;
    setup.wait_for_effect("before").await;
    // The lane's connection is the one whose last statement was a commit.
    let cut = setup
        .db
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND query = 'COMMIT'",
        ))
        .await
        .expect("terminate")
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("n");
    assert_eq!(cut, 1, "the lane's own connection");
    setup.publish(Uuid::now_v7(), THING, "after", "a").await;
    setup.wait_for_effect("after").await;
    let payloads: Vec<String> = setup.effects().await.into_iter().map(|(_, p)| p).collect();
    assert_eq!(payloads, ["before", "after"]);
}

/// What queues up on a lane while it is busy reaches a batch-aware handler in one call,
/// in order; an event delivered again in such a batch is skipped, though the batch's
/// first statement (a query, on PostgreSQL sent with the transaction's opening) wrote
/// its effect before that was known.
async fn a_lanes_queued_events_reach_the_handler_together(kind: Kind, postgres: bool) {
    let batching = Arc::new(Batching::default());
    let setup = setup_with(kind, postgres, batching.clone()).await;
    setup.publish(Uuid::now_v7(), THING, "slow", "slow").await;
    tokio::time::timeout(Duration::from_secs(15), batching.slow_started.notified())
        .await
        .expect("the slow event is being handled");
    let ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
    for (i, id) in ids.iter().enumerate() {
        setup
            .publish(*id, THING, &format!("queued-{i}"), &format!("q{i}"))
            .await;
    }
    setup.wait_for_effect("queued-4").await;
    assert_eq!(batching.calls.lock().expect("calls")[..], [1, 5]);

    setup.publish(ids[2], THING, "queued-2", "again").await;
    setup.publish(Uuid::now_v7(), THING, "after", "after").await;
    setup.wait_for_effect("after").await;
    let payloads: Vec<String> = setup.effects().await.into_iter().map(|(_, p)| p).collect();
    assert_eq!(
        payloads,
        [
            "slow", "queued-0", "queued-1", "queued-2", "queued-3", "queued-4", "after"
        ]
    );
}

/// A handler that announces its statement as its last: on PostgreSQL the statement's
/// answer already means committed (a round trip less), also after raw text ending in a
/// comment, and a statement after it fails; an event delivered again is still applied
/// once. On SQLite the hint changes nothing.
async fn the_last_statement_can_carry_the_commit(kind: Kind, postgres: bool) {
    let handler = Arc::new(Final::default());
    let setup = setup_with(kind, postgres, handler.clone()).await;
    if postgres {
        handler.db.set(setup.db.clone()).expect("set once");
    }
    // One at a time, so that each is alone in its transaction.
    let event = Uuid::now_v7();
    for (payload, msg_id) in [
        ("last", "last-1"),
        ("then-more", "more"),
        ("commented", "c"),
    ] {
        let id = if payload == "last" {
            event
        } else {
            Uuid::now_v7()
        };
        setup.publish(id, THING, payload, msg_id).await;
        setup.wait_for_effect(payload).await;
    }
    // A copy of the first, then another event (the two may share a transaction).
    setup.publish(event, THING, "last", "last-2").await;
    setup.publish(Uuid::now_v7(), THING, "after", "after").await;
    setup.wait_for_effect("after").await;

    let payloads: Vec<String> = setup.effects().await.into_iter().map(|(_, p)| p).collect();
    let seen = handler.seen.lock().expect("seen").clone();
    let visible = postgres.then_some(true);
    assert_eq!(
        seen.len(),
        4,
        "the copy never reaches the handler's end: {seen:?}"
    );
    assert_eq!(seen[0], ("last".to_string(), visible, None));
    assert_eq!(seen[2], ("commented".to_string(), visible, None));
    assert_eq!(seen[3].0, "after");
    if postgres {
        assert_eq!(payloads, ["last", "then-more", "commented", "after"]);
        assert_eq!(seen[1].0, "then-more");
        assert_eq!(
            seen[1].1,
            Some(true),
            "committed before the handler returned"
        );
        let refused = seen[1].2.as_deref().unwrap_or_default();
        assert!(refused.contains("committed"), "{seen:?}");
    } else {
        assert_eq!(
            payloads,
            ["last", "then-more", "more", "commented", "after"]
        );
        assert_eq!(
            seen[1],
            ("then-more".to_string(), None, Some("ok".to_string()))
        );
    }
}

/// Moves the record of `event` back by `age`, as if it had been handled that long ago.
async fn age_processed(setup: &Setup, event: Uuid, age: chrono::Duration) {
    let backend = setup.db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE fabrique_processed_events SET processed_at = $1 WHERE event_id = $2"
        }
        _ => "UPDATE fabrique_processed_events SET processed_at = ? WHERE event_id = ?",
    };
    let moved = setup
        .db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [(chrono::Utc::now() - age).into(), event.into()],
        ))
        .await
        .expect("age the record")
        .rows_affected();
    assert_eq!(moved, 1, "one record of {event}");
}

async fn processed_ids(setup: &Setup) -> usize {
    setup
        .db
        .query_all_raw(Statement::from_string(
            setup.db.get_database_backend(),
            "SELECT event_id FROM fabrique_processed_events",
        ))
        .await
        .expect("read the records")
        .len()
}

/// An event id as `Uuid::now_v7` made it `age` ago.
fn id_from(age: chrono::Duration) -> Uuid {
    let at = chrono::Utc::now() - age;
    Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        at.timestamp() as u64,
        at.timestamp_subsec_nanos(),
    ))
}

async fn ids_older_than_the_retention_are_purged(kind: Kind, postgres: bool) {
    let setup = setup(kind, postgres).await;
    let (week, day, minute) = (
        chrono::Duration::days(7),
        chrono::Duration::days(1),
        chrono::Duration::minutes(1),
    );
    // Events of eight days ago, handled then.
    let old: Vec<Uuid> = (0..3).map(|_| id_from(week + day)).collect();
    for (i, id) in old.iter().enumerate() {
        let payload = format!("old-{i}");
        setup.publish(*id, THING, &payload, &payload).await;
    }
    // An event of eight days ago handled now (after an outage), one of now, and one
    // created and handled a minute short of the retention.
    let late = id_from(week + day);
    let recent = Uuid::now_v7();
    let kept = id_from(week - minute);
    for (id, payload) in [(late, "late"), (recent, "recent"), (kept, "kept")] {
        setup.publish(id, THING, payload, payload).await;
    }
    setup.wait_for_effect("kept").await;
    for id in &old {
        age_processed(&setup, *id, week + day).await;
    }
    age_processed(&setup, kept, week - minute).await;

    // Two rows a statement: the three old ones take two statements.
    let consumers = ["tests-source".to_string()];
    let cut = chrono::Utc::now() - week;
    let purged = fabrique_platform::consumer::purge_processed(&setup.db, &consumers, cut, 2)
        .await
        .expect("purge");
    assert_eq!(purged, 3);
    assert_eq!(
        processed_ids(&setup).await,
        3,
        "the late, the recent and the kept records stay"
    );
    // Another consumer's records are its own.
    let other = ["someone-else".to_string()];
    age_processed(&setup, late, week + day).await;
    let purged = fabrique_platform::consumer::purge_processed(&setup.db, &other, cut, 2)
        .await
        .expect("purge");
    assert_eq!((purged, processed_ids(&setup).await), (0, 3));

    // A copy of a remembered event still changes nothing; a copy of a forgotten one is
    // an event like any other.
    setup.publish(recent, THING, "recent", "recent-copy").await;
    setup.publish(old[0], THING, "old-0", "old-0-copy").await;
    setup.publish(Uuid::now_v7(), THING, "last", "last").await;
    setup.wait_for_effect("last").await;
    let payloads: Vec<String> = setup.effects().await.into_iter().map(|(_, p)| p).collect();
    assert_eq!(
        payloads,
        [
            "old-0", "old-1", "old-2", "late", "recent", "kept", "old-0", "last"
        ]
    );

    // The service's periodic purge takes the late one, now that its record is old too.
    let stop = CancellationToken::new();
    let purging = tokio::spawn(fabrique_platform::consumer::purge_every(
        setup.db.clone(),
        "tests",
        consumers.to_vec(),
        Duration::from_secs(7 * 24 * 3600),
        Duration::from_millis(20),
        stop.clone(),
    ));
    fabrique_testkit::eventually("the periodic purge", Duration::from_secs(10), || async {
        (processed_ids(&setup).await == 4).then_some(())
    })
    .await;
    stop.cancel();
    purging.await.expect("the purge task ends");
}

macro_rules! on {
    ($module:ident, $kind:expr, $postgres:expr) => {
        mod $module {
            #[tokio::test]
            async fn a_redelivered_event_is_applied_once() {
                super::a_redelivered_event_is_applied_once($kind, $postgres).await;
            }
            #[tokio::test]
            async fn a_poison_event_goes_to_the_dlq_and_the_stream_flows() {
                super::a_poison_event_goes_to_the_dlq_and_the_stream_flows($kind, $postgres).await;
            }
            #[tokio::test]
            async fn malformed_messages_are_dead_lettered_at_once() {
                super::malformed_messages_are_dead_lettered_at_once($kind, $postgres).await;
            }
            #[tokio::test]
            async fn a_subject_with_quotes_is_recorded_as_it_is() {
                super::a_subject_with_quotes_is_recorded_as_it_is($kind, $postgres).await;
            }
            #[tokio::test]
            async fn each_aggregate_keeps_its_order() {
                super::each_aggregate_keeps_its_order($kind, $postgres).await;
            }
            #[tokio::test]
            async fn a_lanes_queued_events_reach_the_handler_together() {
                super::a_lanes_queued_events_reach_the_handler_together($kind, $postgres).await;
            }
            #[tokio::test]
            async fn the_last_statement_can_carry_the_commit() {
                super::the_last_statement_can_carry_the_commit($kind, $postgres).await;
            }
            #[tokio::test]
            async fn ids_older_than_the_retention_are_purged() {
                super::ids_older_than_the_retention_are_purged($kind, $postgres).await;
            }
        }
    };
}

on!(nats_postgres, crate::Kind::Nats, true);

// On PostgreSQL only: SQLite has one connection per service, which the waiting event
// holds.
#[tokio::test]
async fn other_aggregates_are_not_held_up_on_postgres() {
    other_aggregates_are_not_held_up(crate::Kind::Nats, true).await;
}
on!(in_process_sqlite, crate::Kind::Memory, false);
