//! The outbox relay: publishes pending outbox rows to the bus and deletes them once
//! acknowledged.
//!
//! - Wakes on [`OutboxSignal`] after each commit, and polls every
//!   [`POLL_INTERVAL`] for rows written by other replicas or before a crash.
//! - Pipelines publishes in *waves*: wave `n` holds the `n`-th pending event of every
//!   aggregate in the batch, so many aggregates are in flight at once while one
//!   aggregate's event `n + 1` is only sent after event `n` was acknowledged.
//! - On PostgreSQL one replica relays at a time (a transaction-scoped advisory lock
//!   held while it drains), which keeps per-aggregate order across replicas.
//! - Acknowledged rows are deleted (the stream keeps the events). A crash between the
//!   acknowledgement and the delete republishes rows, which JetStream drops as
//!   duplicates by `Nats-Msg-Id`.
//! - Batch `n` is published while batch `n + 1` is read and batch `n - 1` deleted.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use tokio_util::sync::CancellationToken;

use super::OutboxSignal;
use super::entity::{self, Column, Entity};
use crate::bus::{Bus, BusError, OutgoingMessage, PendingAck, Subjects};
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

pub struct Relay {
    service: &'static str,
    source: String,
    db: DatabaseConnection,
    bus: Arc<dyn Bus>,
    subjects: Subjects,
    signal: OutboxSignal,
    /// Rows deleted since the last VACUUM.
    deleted: AtomicU64,
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
            source: source_of(service),
            db,
            bus,
            subjects,
            signal,
            deleted: AtomicU64::new(0),
        }
    }

    /// Relays until `shutdown`, then makes a last attempt, bounded by `drain_timeout`,
    /// to publish what is still pending.
    pub async fn run(self, shutdown: CancellationToken, drain_timeout: Duration) {
        let mut backoff = Duration::from_millis(50);
        let mut busy_wait = BUSY_FIRST_WAIT;
        let mut last_count = tokio::time::Instant::now() - COUNT_EVERY;
        let mut last_vacuum = tokio::time::Instant::now();
        loop {
            match self.drain().await {
                Ok(()) => {
                    backoff = Duration::from_millis(50);
                    busy_wait = BUSY_FIRST_WAIT;
                    metrics::set_outbox_backlog(self.service, 0);
                    if self.deleted.load(Ordering::Relaxed) >= VACUUM_AFTER_ROWS
                        && last_vacuum.elapsed() >= VACUUM_EVERY
                    {
                        last_vacuum = tokio::time::Instant::now();
                        self.vacuum().await;
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
                    tracing::warn!(service = self.service, %error, retry_in = ?backoff, "outbox relay failed");
                    if last_count.elapsed() >= COUNT_EVERY {
                        last_count = tokio::time::Instant::now();
                        if let Ok(pending) = self.pending_count().await {
                            metrics::set_outbox_backlog(self.service, pending);
                        }
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
    }

    /// Publishes what is pending: batches from the start of the outbox while they come
    /// back full. Rows committed during a pass may be left for the next one.
    pub async fn drain(&self) -> Result<(), RelayError> {
        match self.db.get_database_backend() {
            DbBackend::Postgres => {
                // The lock lives in a transaction of its own, open while this replica
                // drains; the reads and deletes run beside it in autocommit, so each
                // batch's deletion is durable as soon as it is made.
                let lock = self.db.begin().await?;
                let key = crate::db::lock_key("relay", self.service);
                let locked = lock
                    .query_one_raw(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        "SELECT pg_try_advisory_xact_lock($1) AS locked",
                        [key.into()],
                    ))
                    .await?
                    .map(|row| row.try_get::<bool>("", "locked"))
                    .transpose()?
                    .unwrap_or(false);
                if !locked {
                    lock.rollback().await?;
                    return Err(RelayError::Busy);
                }
                let drained = self.drain_unlocked().await;
                lock.commit().await?;
                drained
            }
            // SQLite has one process and one relay per service: no lock.
            _ => self.drain_unlocked().await,
        }
    }

    async fn vacuum(&self) {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return;
        }
        self.deleted.store(0, Ordering::Relaxed);
        if let Err(error) = self.db.execute_unprepared("VACUUM fabrique_outbox").await {
            // Autovacuum still comes by; a role that may not vacuum only walks more.
            tracing::debug!(service = self.service, %error, "outbox vacuum failed");
        }
    }

    /// Rows not yet published.
    pub async fn pending_count(&self) -> Result<u64, DbErr> {
        Entity::find().count(&self.db).await
    }

    /// Publishes what is pending, from the start of the outbox.
    ///
    /// Three things overlap: batch `n` is published while batch `n + 1` is read and
    /// the rows acknowledged in batch `n - 1` are deleted. Batch `n + 1` starts after
    /// the last id of batch `n`; reading stops at the first batch that is not full. A
    /// row committed meanwhile (even one with a smaller id, committed late) woke the
    /// relay again, so the next pass, from the start, takes it: no pass re-reads an
    /// empty outbox to be sure, which under a stream of single writes was one round
    /// trip in six.
    async fn drain_unlocked(&self) -> Result<(), RelayError> {
        let mut batch = pending_rows(&self.db, 0).await?;
        let mut acknowledged: Vec<i64> = Vec::new();
        while !batch.is_empty() {
            let after = batch.last().map_or(0, |row| row.id);
            let more = batch.len() as u64 == BATCH_SIZE;
            let (sent, next, deleted) = tokio::join!(
                self.publish_rows(&batch),
                async {
                    if more {
                        pending_rows(&self.db, after).await
                    } else {
                        Ok(Vec::new())
                    }
                },
                delete_published(&self.db, &acknowledged),
            );
            deleted?;
            self.deleted
                .fetch_add(acknowledged.len() as u64, Ordering::Relaxed);
            let (published, error) = sent;
            if let Some(error) = error {
                delete_published(&self.db, &published).await?;
                return Err(error.into());
            }
            acknowledged = published;
            batch = next?;
        }
        delete_published(&self.db, &acknowledged).await?;
        self.deleted
            .fetch_add(acknowledged.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Publishes rows wave by wave; returns the ids acknowledged, and the first error.
    async fn publish_rows(&self, rows: &[entity::Model]) -> (Vec<i64>, Option<BusError>) {
        let mut waves: Vec<Vec<&entity::Model>> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for row in rows {
            let wave = seen.entry(row.ce_subject.as_str()).or_insert(0);
            if waves.len() <= *wave {
                waves.push(Vec::new());
            }
            waves[*wave].push(row);
            *wave += 1;
        }

        let mut published = Vec::with_capacity(rows.len());
        for wave in waves {
            let mut in_flight: Vec<(i64, &str, tracing::Span, PendingAck)> =
                Vec::with_capacity(wave.len());
            let mut error = None;
            for row in wave {
                // The span lasts from the publish to the acknowledgement; it is current
                // only while the message is built, so that its traceparent is the one
                // sent (polling futures inside it would cost an enter and an exit each).
                let span = publish_span(row);
                let message = {
                    let _entered = span.enter();
                    self.message(row)
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
                        metrics::event_published(self.service, subject);
                        published.push(id);
                    }
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
                drop(span);
            }
            if error.is_some() {
                return (published, error);
            }
        }
        (published, None)
    }

    fn message(&self, row: &entity::Model) -> OutgoingMessage {
        let mut headers = event_headers(
            row.event_id,
            &self.source,
            &row.ce_type,
            &row.ce_subject,
            row.occurred_at,
        );
        // The publish span (current) is the parent the consumer continues from.
        let (traceparent, tracestate) = crate::telemetry::current_trace_headers();
        if let Some(traceparent) = traceparent.or_else(|| row.traceparent.clone()) {
            headers.insert(TRACEPARENT, traceparent);
        }
        if let Some(tracestate) = tracestate.or_else(|| row.tracestate.clone()) {
            headers.insert(TRACESTATE, tracestate);
        }
        OutgoingMessage {
            subject: self.subjects.full(&row.subject),
            headers,
            payload: row.payload.clone().into(),
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

async fn pending_rows<C: ConnectionTrait>(db: &C, after: i64) -> Result<Vec<entity::Model>, DbErr> {
    Entity::find()
        .filter(Column::Id.gt(after))
        .order_by_asc(Column::Id)
        .limit(BATCH_SIZE)
        .all(db)
        .await
}

/// Acknowledged rows leave the outbox: the stream keeps the events, and a delete is
/// cheaper for PostgreSQL than an update that writes a new row version.
async fn delete_published<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    if db.get_database_backend() == DbBackend::Postgres {
        let array = crate::db::pg_array_literal(ids);
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "DELETE FROM fabrique_outbox WHERE id = ANY($1::bigint[])",
            [array.into()],
        ))
        .await?;
        return Ok(());
    }
    Entity::delete_many()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}
