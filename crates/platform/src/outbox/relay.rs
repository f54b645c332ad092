//! The outbox relay: publishes pending outbox rows to the bus and marks them sent.
//!
//! - Wakes on [`OutboxSignal`] after each commit, and polls every
//!   [`POLL_INTERVAL`] for rows written by other replicas or before a crash.
//! - Pipelines publishes in *waves*: wave `n` holds the `n`-th pending event of every
//!   aggregate in the batch, so many aggregates are in flight at once while one
//!   aggregate's event `n + 1` is only sent after event `n` was acknowledged.
//! - On PostgreSQL one replica relays at a time (a transaction-scoped advisory lock
//!   held while its batch is in flight), which keeps per-aggregate order across replicas.
//! - A crash between the acknowledgement and the commit republishes rows, which
//!   JetStream drops as duplicates by `Nats-Msg-Id`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::OutboxSignal;
use super::entity::{self, Column, Entity};
use crate::bus::{Bus, BusError, OutgoingMessage, PendingAck, Subjects};
use crate::event::{TRACEPARENT, TRACESTATE, event_headers, source_of};
use crate::metrics;

/// How often the relay looks for rows it was not told about.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Rows published per batch.
pub const BATCH_SIZE: u64 = 1000;
/// Published rows are kept this long (for inspection), then deleted.
const RETENTION: chrono::TimeDelta = chrono::TimeDelta::hours(1);
const PURGE_EVERY: Duration = Duration::from_secs(60);
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
        }
    }

    /// Relays until `shutdown`, then makes a last attempt, bounded by `drain_timeout`,
    /// to publish what is still pending.
    pub async fn run(self, shutdown: CancellationToken, drain_timeout: Duration) {
        let mut backoff = Duration::from_millis(50);
        let mut busy_wait = BUSY_FIRST_WAIT;
        let mut last_purge = tokio::time::Instant::now();
        let mut last_count = tokio::time::Instant::now() - PURGE_EVERY;
        loop {
            match self.drain().await {
                Ok(()) => {
                    backoff = Duration::from_millis(50);
                    busy_wait = BUSY_FIRST_WAIT;
                    metrics::set_outbox_backlog(self.service, 0);
                    if last_purge.elapsed() >= PURGE_EVERY {
                        last_purge = tokio::time::Instant::now();
                        if let Err(error) = self.purge().await {
                            tracing::warn!(%error, "outbox purge failed");
                        }
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
                    if last_count.elapsed() >= Duration::from_secs(5) {
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
                match self.drain().await {
                    Ok(()) => return,
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

    /// Publishes batches until nothing is pending.
    pub async fn drain(&self) -> Result<(), RelayError> {
        while self.publish_batch().await? > 0 {}
        Ok(())
    }

    /// Rows not yet published.
    pub async fn pending_count(&self) -> Result<u64, DbErr> {
        Entity::find()
            .filter(Column::PublishedAt.is_null())
            .count(&self.db)
            .await
    }

    async fn purge(&self) -> Result<(), DbErr> {
        Entity::delete_many()
            .filter(Column::PublishedAt.lt(Utc::now() - RETENTION))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Publishes one batch; returns how many rows were published.
    async fn publish_batch(&self) -> Result<usize, RelayError> {
        match self.db.get_database_backend() {
            DbBackend::Postgres => {
                let txn = self.db.begin().await?;
                let key = crate::db::lock_key("relay", self.service);
                let locked = txn
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
                    txn.rollback().await?;
                    return Err(RelayError::Busy);
                }
                let rows = pending_rows(&txn).await?;
                let (published, error) = self.publish_rows(&rows).await;
                mark_published(&txn, &published).await?;
                txn.commit().await?;
                error.map_or(Ok(published.len()), |e| Err(e.into()))
            }
            _ => {
                // SQLite has one process and one relay per service: no lock, and no
                // write transaction held while waiting for the bus.
                let rows = pending_rows(&self.db).await?;
                let (published, error) = self.publish_rows(&rows).await;
                mark_published(&self.db, &published).await?;
                error.map_or(Ok(published.len()), |e| Err(e.into()))
            }
        }
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
                let span = publish_span(row);
                let message = {
                    let _entered = span.enter();
                    self.message(row)
                };
                match self.bus.publish(message).instrument(span.clone()).await {
                    Ok(ack) => in_flight.push((row.id, row.subject.as_str(), span, ack)),
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            for (id, subject, span, ack) in in_flight {
                match ack.instrument(span).await {
                    Ok(_) => {
                        metrics::event_published(self.service, subject);
                        published.push(id);
                    }
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
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

async fn pending_rows<C: ConnectionTrait>(db: &C) -> Result<Vec<entity::Model>, DbErr> {
    Entity::find()
        .filter(Column::PublishedAt.is_null())
        .order_by_asc(Column::Id)
        .limit(BATCH_SIZE)
        .all(db)
        .await
}

async fn mark_published<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    if db.get_database_backend() == DbBackend::Postgres {
        // One array parameter: one prepared statement whatever the batch size, where an
        // IN list of 1,000 placeholders is a statement of its own for every size.
        let mut array = String::with_capacity(ids.len() * 8 + 2);
        array.push('{');
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                array.push(',');
            }
            array.push_str(&id.to_string());
        }
        array.push('}');
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE fabrique_outbox SET published_at = $1 WHERE id = ANY($2::bigint[])",
            [Utc::now().into(), array.into()],
        ))
        .await?;
        return Ok(());
    }
    Entity::update_many()
        .col_expr(Column::PublishedAt, Expr::value(Utc::now()))
        .filter(Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}
