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
//!
//! `relay/rows.rs` reads and deletes the rows, `relay/publish.rs` sends them in waves.

mod publish;
mod rows;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::{self, Connection, PgConnection};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, PaginatorTrait};
use tokio_util::sync::CancellationToken;

use super::OutboxSignal;
use super::entity::Entity;
use crate::bus::{Bus, BusError, Subjects};
use crate::db::sqlx_err;
use crate::event::source_of;
use crate::metrics;
use rows::Rows;

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

/// Why a relay pass stopped; the rows not yet acknowledged stay in the outbox for the
/// next one.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Reading or deleting rows failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// The bus refused a publish or its acknowledgement.
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

/// Publishes one service's outbox; one per service and process.
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
    /// The relay of `service`'s outbox in `db`, woken by `signal`.
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
                    self.failed(&error, &mut flow, &mut last_count, backoff)
                        .await;
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.cancelled() => break,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
        self.flush(drain_timeout).await;
        if let Some(task) = vacuuming {
            task.abort();
        }
        self.close().await;
    }

    /// Records a failed pass: the failure metric, the backlog gauge (counted at most
    /// every [`COUNT_EVERY`], since counting reads the whole outbox), and a change of
    /// flow, logged once per episode.
    async fn failed(
        &self,
        error: &RelayError,
        flow: &mut Flow,
        last_count: &mut tokio::time::Instant,
        backoff: Duration,
    ) {
        metrics::relay_failed(self.service, error.reason());
        let mut pending = None;
        if last_count.elapsed() >= COUNT_EVERY {
            *last_count = tokio::time::Instant::now();
            if let Ok(count) = self.pending_count().await {
                metrics::set_outbox_backlog(self.service, count);
                pending = Some(count);
            }
        }
        let failing = Flow::Failing {
            full: matches!(error, RelayError::Bus(BusError::StreamFull(_))),
        };
        if *flow != failing {
            *flow = failing;
            self.entered(failing, pending, Some(error)).await;
        } else {
            tracing::debug!(service = self.service, %error, retry_in = ?backoff, "outbox relay failed again");
        }
    }

    /// At shutdown, after the last call that could write: drains until the outbox is
    /// empty or `drain_timeout` passed; what is left is published at the next start.
    async fn flush(&self, drain_timeout: Duration) {
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
                let mut slot = self.connection.lock().await;
                let mut connection = match slot.take() {
                    Some(connection) => connection,
                    None => self.open_connection().await?,
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

    /// The relay's own connection, detached from the pool (see the module doc).
    async fn open_connection(&self) -> Result<PgConnection, DbErr> {
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
        Ok(connection)
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
}
