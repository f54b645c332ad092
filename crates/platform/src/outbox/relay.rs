//! The outbox relay: publishes pending outbox rows to the bus and deletes them once
//! acknowledged.
//!
//! - Wakes on [`OutboxSignal`] after each commit, and polls every
//!   [`POLL_INTERVAL`] for rows written by other replicas or before a crash.
//! - Pipelines publishes in *waves*: wave `n` holds the `n`-th pending event of every
//!   aggregate in the batch, so many aggregates are in flight at once while one
//!   aggregate's event `n + 1` is only sent after event `n` was acknowledged.
//! - On PostgreSQL one replica relays at a time (a session advisory lock held while it
//!   drains), which keeps per-aggregate order across replicas. The relay reads, deletes
//!   and locks on a connection of its own, outside the pool: the pool's connections
//!   cost a round trip more each time they are handed back (sqlx checks them), and a
//!   pass at a low write rate made five round trips and three such checks for a few rows.
//! - Acknowledged rows are deleted (the stream keeps the events). A crash between the
//!   acknowledgement and the delete republishes rows, which JetStream drops as
//!   duplicates by `Nats-Msg-Id`.
//! - Batch `n` is published while batch `n + 1` is read and batch `n - 1` deleted.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::{self, Connection, PgConnection, Row, postgres::PgRow};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio_util::sync::CancellationToken;

use super::OutboxSignal;
use super::entity::{self, Column, Entity};
use crate::bus::{Bus, BusError, OutgoingMessage, PendingAck, Subjects};
use crate::db::sqlx_err;
use crate::event::{TRACEPARENT, TRACESTATE, event_headers, source_of};
use crate::metrics;

/// How often the relay looks for rows it was not told about.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Rows published per batch.
pub const BATCH_SIZE: u64 = 1000;
/// PostgreSQL: the relay vacuums the outbox after this many deletions, at most every
/// [`VACUUM_EVERY`]. Every pass reads from the start of the primary key, where deleted
/// rows leave entries until a vacuum; autovacuum looks at a table once a minute, by
/// which time a busy service has left tens of thousands, and each pass walked them
/// (measured: 4 ms a pass behind 30,000).
const VACUUM_AFTER_ROWS: u64 = 2_000;
const VACUUM_EVERY: Duration = Duration::from_secs(2);
/// How often the backlog gauge is refreshed while the bus is failing.
const COUNT_EVERY: Duration = Duration::from_secs(5);
/// Passes one lock may cover while writes keep coming (about 0.1 s at 1,000 events/s).
const PASSES_PER_LOCK: u32 = 64;
/// How long the relay keeps its lock after a pass, waiting for the next commit. Writes
/// a millisecond apart otherwise took and released it around every pass or two
/// (pg_stat_statements: 11,000 lock calls for 33,000 events at 1,000/s).
const LOCK_LINGER: Duration = Duration::from_millis(2);

/// While another replica holds the relay lock: first and longest wait between attempts.
const BUSY_FIRST_WAIT: Duration = Duration::from_millis(5);
const BUSY_MAX_WAIT: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("bus: {0}")]
    Bus(#[from] BusError),
    /// Another replica holds the relay lock.
    #[error("another replica is relaying")]
    Busy,
}

impl RelayError {
    /// The `reason` attribute of the `fabrique.outbox.relay_failures` metric.
    fn reason(&self) -> &'static str {
        match self {
            RelayError::Db(_) => "database",
            RelayError::Bus(BusError::StreamFull(_)) => "stream_full",
            RelayError::Bus(BusError::Unavailable(_)) => "bus_unavailable",
            RelayError::Bus(_) => "bus_error",
            RelayError::Busy => "busy",
        }
    }
}

/// The health-check name that answers SERVING while a service's events reach the bus,
/// and NOT_SERVING while they wait in its outbox (the bus unreachable, its stream full).
/// It is no readiness probe: the service keeps taking writes meanwhile.
pub fn health_name(service: &str) -> String {
    format!("outbox.{service}")
}

/// Where the relay stands, as its health entry and logs tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// No pass has ended yet.
    Starting,
    Flowing,
    /// The last pass failed; `full`: because the stream (or the bus's store) is full.
    Failing {
        full: bool,
    },
}

pub struct Relay {
    service: &'static str,
    health: Option<tonic_health::server::HealthReporter>,
    source: String,
    db: DatabaseConnection,
    bus: Arc<dyn Bus>,
    subjects: Subjects,
    signal: OutboxSignal,
    /// Rows deleted since the last VACUUM.
    deleted: AtomicU64,
    /// PostgreSQL: the relay's own connection, kept between passes. Taken out for a
    /// pass and put back only when the pass ended cleanly, so that a pass that fails or
    /// is cancelled drops it, and the session's lock with it.
    connection: tokio::sync::Mutex<Option<PgConnection>>,
}

impl Relay {
    pub fn new(
        service: &'static str,
        db: DatabaseConnection,
        bus: Arc<dyn Bus>,
        subjects: Subjects,
        signal: OutboxSignal,
    ) -> Self {
        Self {
            service,
            health: None,
            source: source_of(service),
            db,
            bus,
            subjects,
            signal,
            deleted: AtomicU64::new(0),
            connection: tokio::sync::Mutex::new(None),
        }
    }

    /// Reports whether events flow under [`health_name`] of the service.
    pub fn reporting_to(mut self, health: tonic_health::server::HealthReporter) -> Self {
        self.health = Some(health);
        self
    }

    /// Records a change of `flow`: the health entry, and one log line per episode.
    async fn entered(&self, flow: Flow, pending: Option<u64>, error: Option<&RelayError>) {
        if let Some(health) = &self.health {
            let status = if flow == Flow::Flowing {
                tonic_health::ServingStatus::Serving
            } else {
                tonic_health::ServingStatus::NotServing
            };
            health
                .set_service_status(health_name(self.service), status)
                .await;
        }
        let service = self.service;
        match (flow, error) {
            (Flow::Failing { full: true }, Some(error)) => tracing::error!(
                service,
                %error,
                pending,
                "the event stream is full: writes go on and their events wait in the outbox \
                 until there is room (raise FABRIQUE_NATS_STREAM_MAX_BYTES, or the JetStream \
                 store; see docs/operations.md)"
            ),
            (Flow::Failing { full: false }, Some(error)) => tracing::warn!(
                service,
                %error,
                pending,
                "events cannot be published: they wait in the outbox"
            ),
            (Flow::Flowing, _) => tracing::info!(service, "events reach the bus"),
            _ => {}
        }
    }

    /// Relays until `shutdown`, then makes a last attempt, bounded by `drain_timeout`,
    /// to publish what is still pending.
    pub async fn run(self, shutdown: CancellationToken, drain_timeout: Duration) {
        let mut backoff = Duration::from_millis(50);
        let mut busy_wait = BUSY_FIRST_WAIT;
        let mut last_count = tokio::time::Instant::now() - COUNT_EVERY;
        let mut last_vacuum = tokio::time::Instant::now();
        let mut vacuuming: Option<tokio::task::JoinHandle<()>> = None;
        let mut flow = Flow::Starting;
        loop {
            match self.drain().await {
                Ok(()) => {
                    backoff = Duration::from_millis(50);
                    busy_wait = BUSY_FIRST_WAIT;
                    metrics::set_outbox_backlog(self.service, 0);
                    if flow != Flow::Flowing {
                        flow = Flow::Flowing;
                        self.entered(flow, None, None).await;
                    }
                    if self.deleted.load(Ordering::Relaxed) >= VACUUM_AFTER_ROWS
                        && last_vacuum.elapsed() >= VACUUM_EVERY
                        && vacuuming.as_ref().is_none_or(|task| task.is_finished())
                    {
                        last_vacuum = tokio::time::Instant::now();
                        vacuuming = self.vacuum();
                    }
                    tokio::select! {
                        _ = self.signal.notified() => {}
                        _ = tokio::time::sleep(POLL_INTERVAL) => {}
                        _ = shutdown.cancelled() => break,
                    }
                }
                Err(RelayError::Busy) => {
                    // The lock holder may have read the outbox just before our commit:
                    // look again soon rather than at the next poll, backing off while
                    // it keeps draining.
                    tokio::select! {
                        _ = tokio::time::sleep(busy_wait) => {}
                        _ = shutdown.cancelled() => break,
                    }
                    busy_wait = (busy_wait * 2).min(BUSY_MAX_WAIT);
                }
                Err(error) => {
                    metrics::relay_failed(self.service, error.reason());
                    let mut pending = None;
                    if last_count.elapsed() >= COUNT_EVERY {
                        last_count = tokio::time::Instant::now();
                        if let Ok(count) = self.pending_count().await {
                            metrics::set_outbox_backlog(self.service, count);
                            pending = Some(count);
                        }
                    }
                    let failing = Flow::Failing {
                        full: matches!(error, RelayError::Bus(BusError::StreamFull(_))),
                    };
                    if flow != failing {
                        flow = failing;
                        self.entered(flow, pending, Some(&error)).await;
                    } else {
                        tracing::debug!(service = self.service, %error, retry_in = ?backoff, "outbox relay failed again");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.cancelled() => break,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
        let flushed = tokio::time::timeout(drain_timeout, async {
            loop {
                // A pass can leave a row that committed late behind it: done only
                // when the outbox is empty.
                match self.drain().await {
                    Ok(()) if matches!(self.pending_count().await, Ok(0)) => return,
                    Ok(()) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        })
        .await;
        match flushed {
            Ok(()) => tracing::info!(service = self.service, "outbox flushed"),
            Err(_) => match self.pending_count().await {
                Ok(pending) => tracing::warn!(
                    service = self.service,
                    pending,
                    "outbox not fully flushed before shutdown; the rest is published at next start"
                ),
                Err(error) => {
                    tracing::warn!(service = self.service, %error, "outbox flush timed out")
                }
            },
        }
        if let Some(task) = vacuuming {
            task.abort();
        }
        self.close().await;
    }

    /// Publishes what is pending: batches from the start of the outbox while they come
    /// back full. Rows committed during a pass may be left for the next one.
    pub async fn drain(&self) -> Result<(), RelayError> {
        match self.db.get_database_backend() {
            DbBackend::Postgres => {
                let mut slot = self.connection.lock().await;
                let mut connection = match slot.take() {
                    Some(connection) => connection,
                    None => {
                        let mut connection = self
                            .db
                            .get_postgres_connection_pool()
                            .acquire()
                            .await
                            .map_err(sqlx_err)?
                            .detach();
                        // The relay's only writes are deletes of published rows: one
                        // lost in a crash is published again, which JetStream (the
                        // event id as `Nats-Msg-Id`) and the consumers (processed ids)
                        // both absorb. So they need not wait for the WAL to be flushed.
                        sqlx::raw_sql("SET synchronous_commit = off")
                            .execute(&mut connection)
                            .await
                            .map_err(sqlx_err)?;
                        connection
                    }
                };
                let key = crate::db::lock_key("relay", self.service);
                let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut connection)
                    .await
                    .map_err(sqlx_err)?;
                if !locked {
                    *slot = Some(connection);
                    return Err(RelayError::Busy);
                }
                // Rows committed during the pass, or within LOCK_LINGER after it:
                // another pass, the lock still held (taking and releasing it are two
                // round trips a pass), a few times before letting another replica's
                // relay, or shutdown, have a turn.
                let mut passes = 1;
                let drained = loop {
                    let drained = self.drain_with(Rows::Postgres(&mut connection)).await;
                    if drained.is_err() || passes == PASSES_PER_LOCK {
                        break drained;
                    }
                    let more = self.signal.take_pending()
                        || tokio::time::timeout(LOCK_LINGER, self.signal.notified())
                            .await
                            .is_ok();
                    if !more {
                        break drained;
                    }
                    passes += 1;
                };
                if matches!(drained, Err(RelayError::Db(_))) {
                    // The connection may be broken or mid-statement: closing it ends
                    // the session, and the lock with it.
                    return drained;
                }
                // After the deletes committed: whoever locks next reads after them.
                sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(key)
                    .execute(&mut connection)
                    .await
                    .map_err(sqlx_err)?;
                *slot = Some(connection);
                drained
            }
            // SQLite has one process and one relay per service: no lock.
            _ => self.drain_with(Rows::Pool(&self.db)).await,
        }
    }

    /// Closes the relay's own database connection, if it has one (at shutdown).
    async fn close(&self) {
        if let Some(connection) = self.connection.lock().await.take() {
            let _ = connection.close().await;
        }
    }

    /// Starts a VACUUM of the outbox beside the relay, on a pool connection: it takes
    /// a lock that lets reads, inserts and deletes go on, and awaited in the relay's
    /// loop it held up every event committed meanwhile (a few milliseconds every two
    /// seconds under a stream of writes).
    fn vacuum(&self) -> Option<tokio::task::JoinHandle<()>> {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return None;
        }
        self.deleted.store(0, Ordering::Relaxed);
        let (db, service) = (self.db.clone(), self.service);
        Some(tokio::spawn(async move {
            if let Err(error) = db.execute_unprepared("VACUUM fabrique_outbox").await {
                // Autovacuum still comes by; a role that may not vacuum only walks more.
                tracing::debug!(service, %error, "outbox vacuum failed");
            }
        }))
    }

    /// Rows not yet published.
    pub async fn pending_count(&self) -> Result<u64, DbErr> {
        Entity::find().count(&self.db).await
    }

    /// Publishes what is pending, from the start of the outbox.
    ///
    /// Batch `n` is published while the rows acknowledged in batch `n - 1` are deleted
    /// and batch `n + 1` is read. Batch `n + 1` starts after
    /// the last id of batch `n`; reading stops at the first batch that is not full. A
    /// row committed meanwhile (even one with a smaller id, committed late) woke the
    /// relay again, so the next pass, from the start, takes it: no pass re-reads an
    /// empty outbox to be sure, which under a stream of single writes was one round
    /// trip in six.
    async fn drain_with(&self, mut rows: Rows<'_>) -> Result<(), RelayError> {
        let mut batch = rows.read(0).await?;
        let mut acknowledged: Vec<i64> = Vec::new();
        while !batch.is_empty() {
            let after = batch.last().map_or(0, |row| row.id);
            let more = batch.len() as u64 == BATCH_SIZE;
            let (sent, next) = tokio::join!(self.publish_rows(&mut batch), async {
                rows.delete(&acknowledged).await?;
                if more {
                    rows.read(after).await
                } else {
                    Ok(Vec::new())
                }
            });
            let next = next?;
            self.deleted
                .fetch_add(acknowledged.len() as u64, Ordering::Relaxed);
            let (published, error) = sent;
            if let Some(error) = error {
                rows.delete(&published).await?;
                return Err(error.into());
            }
            acknowledged = published;
            batch = next;
        }
        rows.delete(&acknowledged).await?;
        self.deleted
            .fetch_add(acknowledged.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Publishes rows wave by wave; returns the ids acknowledged, and the first error.
    /// The rows' payloads are moved into the messages (the rows are not sent again).
    async fn publish_rows(&self, rows: &mut [entity::Model]) -> (Vec<i64>, Option<BusError>) {
        let mut payloads: Vec<Option<bytes::Bytes>> = rows
            .iter_mut()
            .map(|row| Some(std::mem::take(&mut row.payload).into()))
            .collect();
        let rows = &*rows;
        let mut waves: Vec<Vec<(usize, &entity::Model)>> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, row) in rows.iter().enumerate() {
            let wave = seen.entry(row.ce_subject.as_str()).or_insert(0);
            if waves.len() <= *wave {
                waves.push(Vec::new());
            }
            waves[*wave].push((index, row));
            *wave += 1;
        }

        // Without an exporter the publish span would be built and dropped for every
        // event (a sixth of the relay's CPU); the message then carries the writer's
        // trace context, so a consumer's span still joins the call's trace.
        let traced = crate::telemetry::spans_exported();
        let mut published = Vec::with_capacity(rows.len());
        // Acknowledged events per subject, counted once per batch: a few subjects
        // share a batch, and the counter's labels cost an allocation each time.
        let mut counts: Vec<(&str, u64)> = Vec::new();
        let mut error = None;
        for wave in waves {
            let mut in_flight: Vec<(i64, &str, tracing::Span, PendingAck)> =
                Vec::with_capacity(wave.len());
            for (index, row) in wave {
                // The span lasts from the publish to the acknowledgement; it is current
                // only while the message is built, so that its traceparent is the one
                // sent (polling futures inside it would cost an enter and an exit each).
                let payload = payloads[index].take().unwrap_or_default();
                let (span, message) = if traced {
                    let span = publish_span(row);
                    let message = {
                        let _entered = span.enter();
                        self.message(row, payload, crate::telemetry::current_trace_headers())
                    };
                    (span, message)
                } else {
                    (
                        tracing::Span::none(),
                        self.message(row, payload, (None, None)),
                    )
                };
                match self.bus.publish(message).await {
                    Ok(ack) => in_flight.push((row.id, row.subject.as_str(), span, ack)),
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            for (id, subject, span, ack) in in_flight {
                match ack.await {
                    Ok(_) => {
                        match counts.iter_mut().find(|(s, _)| *s == subject) {
                            Some((_, count)) => *count += 1,
                            None => counts.push((subject, 1)),
                        }
                        published.push(id);
                    }
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
                drop(span);
            }
            if error.is_some() {
                break;
            }
        }
        for (subject, count) in counts {
            metrics::events_published(self.service, subject, count);
        }
        (published, error)
    }

    /// `context`: the publish span's W3C headers, when there is one.
    fn message(
        &self,
        row: &entity::Model,
        payload: bytes::Bytes,
        context: (Option<String>, Option<String>),
    ) -> OutgoingMessage {
        let mut headers = event_headers(
            row.event_id,
            &self.source,
            &row.ce_type,
            &row.ce_subject,
            row.occurred_at,
        );
        // The publish span is the parent the consumer continues from, or else the span
        // that wrote the event.
        let (traceparent, tracestate) = context;
        if let Some(traceparent) = traceparent.or_else(|| row.traceparent.clone()) {
            headers.insert(TRACEPARENT, traceparent);
        }
        if let Some(tracestate) = tracestate.or_else(|| row.tracestate.clone()) {
            headers.insert(TRACESTATE, tracestate);
        }
        OutgoingMessage {
            subject: self.subjects.full(&row.subject),
            headers,
            payload,
        }
    }
}

fn publish_span(row: &entity::Model) -> tracing::Span {
    let span = tracing::info_span!(
        target: crate::telemetry::TRACE_ONLY,
        "publish",
        otel.name = format!("publish {}", row.subject),
        otel.kind = "producer",
        messaging.system = "nats",
        messaging.operation.type = "send",
        messaging.destination.name = %row.subject,
        messaging.message.id = %row.event_id,
    );
    crate::telemetry::set_parent(&span, row.traceparent.as_deref(), row.tracestate.as_deref());
    span
}

/// Where a pass reads and deletes outbox rows.
enum Rows<'a> {
    /// The relay's own connection, holding the relay lock.
    Postgres(&'a mut PgConnection),
    Pool(&'a DatabaseConnection),
}

const PENDING_ROWS: &str = "SELECT id, event_id, subject, ce_type, ce_subject, payload, \
     traceparent, tracestate, occurred_at FROM fabrique_outbox \
     WHERE id > $1 ORDER BY id LIMIT $2";

impl Rows<'_> {
    /// The next batch of pending rows, after id `after`.
    async fn read(&mut self, after: i64) -> Result<Vec<entity::Model>, DbErr> {
        match self {
            Rows::Postgres(connection) => sqlx::query(PENDING_ROWS)
                .bind(after)
                .bind(BATCH_SIZE as i64)
                .try_map(|row: PgRow| model_of(&row))
                .fetch_all(&mut **connection)
                .await
                .map_err(sqlx_err),
            Rows::Pool(db) => {
                Entity::find()
                    .filter(Column::Id.gt(after))
                    .order_by_asc(Column::Id)
                    .limit(BATCH_SIZE)
                    .all(*db)
                    .await
            }
        }
    }

    /// Acknowledged rows leave the outbox: the stream keeps the events, and a delete is
    /// cheaper for PostgreSQL than an update that writes a new row version.
    async fn delete(&mut self, ids: &[i64]) -> Result<(), DbErr> {
        if ids.is_empty() {
            return Ok(());
        }
        match self {
            Rows::Postgres(connection) => {
                sqlx::query("DELETE FROM fabrique_outbox WHERE id = ANY($1::bigint[])")
                    .bind(crate::db::pg_array_literal(ids))
                    .execute(&mut **connection)
                    .await
                    .map_err(sqlx_err)?;
            }
            Rows::Pool(db) => {
                Entity::delete_many()
                    .filter(Column::Id.is_in(ids.iter().copied()))
                    .exec(*db)
                    .await?;
            }
        }
        Ok(())
    }
}

/// A row of [`PENDING_ROWS`], read by position.
fn model_of(row: &PgRow) -> Result<entity::Model, sqlx::Error> {
    Ok(entity::Model {
        id: row.try_get(0)?,
        event_id: row.try_get(1)?,
        subject: row.try_get(2)?,
        ce_type: row.try_get(3)?,
        ce_subject: row.try_get(4)?,
        payload: row.try_get(5)?,
        traceparent: row.try_get(6)?,
        tracestate: row.try_get(7)?,
        occurred_at: row.try_get(8)?,
    })
}
