//! How long processed-event ids are kept, and their purge.
//!
//! An id only has to outlive the copies of its event that can still arrive: a
//! redelivery after a lost ack (within the ack wait), or a row the relay published
//! again after a crash and JetStream no longer recognised (its duplicate window is two
//! minutes). Kept for days, an id covers both with a wide margin; kept forever, the
//! table grew by a row per event and consumer (at 1,000 events/s and three consumers,
//! tens of gigabytes a day on PostgreSQL). A consumer replaying its stream from the
//! start on purpose (a durable consumer deleted and created again) applies the purged
//! events again: the replica upserts keep the newest version whatever the order.
//!
//! The purge walks the primary key, `(consumer, event_id)`, with no index of its own:
//! an index on `processed_at` cost PostgreSQL 5 % more CPU per member event (three
//! more index entries, `event-latency`, alternated runs). Event ids are UUIDv7, whose
//! first 48 bits are the milliseconds at which the event was created, so the ids of
//! events created before the cut come first in the key. A row goes when both its event
//! and its record are older than the cut: an old event handled late (after an outage)
//! is kept for the whole retention from its handling.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, Value};
use tokio_util::sync::CancellationToken;

pub use crate::config::DEFAULT_RETENTION;
/// How often a service purges.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// The first purge comes this long after the start (or after [`PURGE_EVERY`], if
/// shorter): pods restarted more often than hourly (a deploy a day is enough) must
/// still purge, and a purge that finds nothing old is one short read of the key per
/// consumer.
pub const FIRST_PURGE_AFTER: Duration = Duration::from_secs(60);
/// Rows deleted per statement: each statement's locks and WAL stay small, and consumer
/// transactions go on between them.
pub const PURGE_CHUNK: u64 = 10_000;

/// Deletes the ids that `consumers` recorded before `before` of events created before
/// it, `chunk` rows per statement; returns how many went.
pub async fn purge_processed(
    db: &DatabaseConnection,
    consumers: &[String],
    before: DateTime<Utc>,
    chunk: u64,
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "DELETE FROM fabrique_processed_events WHERE consumer = $1 AND event_id IN \
             (SELECT event_id FROM fabrique_processed_events \
              WHERE consumer = $1 AND event_id < $2 AND processed_at < $3 \
              ORDER BY event_id LIMIT $4)"
        }
        _ => {
            "DELETE FROM fabrique_processed_events WHERE consumer = ?1 AND event_id IN \
             (SELECT event_id FROM fabrique_processed_events \
              WHERE consumer = ?1 AND event_id < ?2 AND processed_at < ?3 \
              ORDER BY event_id LIMIT ?4)"
        }
    };
    // The smallest UUIDv7 of the cut's millisecond: every event created earlier sorts
    // below it.
    let millis = u64::try_from(before.timestamp_millis()).unwrap_or(0);
    let first_after = uuid::Builder::from_unix_timestamp_millis(millis, &[0; 10]).into_uuid();
    let chunk = chunk.max(1);
    let mut purged = 0;
    for consumer in consumers {
        loop {
            let values: [Value; 4] = [
                consumer.as_str().into(),
                first_after.into(),
                before.into(),
                (chunk as i64).into(),
            ];
            let deleted = db
                .execute_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?
                .rows_affected();
            purged += deleted;
            if deleted < chunk {
                break;
            }
        }
    }
    Ok(purged)
}

/// Purges the ids `consumers` recorded more than `retention` ago, a minute after the
/// start and then every `every`, until `shutdown`. A failed purge is logged and tried again at the next turn: the ids only
/// wait longer.
pub async fn purge_every(
    db: DatabaseConnection,
    service: &'static str,
    consumers: Vec<String>,
    retention: Duration,
    every: Duration,
    shutdown: CancellationToken,
) {
    let mut wait = every.min(FIRST_PURGE_AFTER);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => return,
        }
        wait = every;
        // A retention longer than the calendar goes back purges nothing.
        let Some(before) = chrono::Duration::from_std(retention)
            .ok()
            .and_then(|retention| Utc::now().checked_sub_signed(retention))
        else {
            continue;
        };
        match purge_processed(&db, &consumers, before, PURGE_CHUNK).await {
            Ok(0) => {}
            Ok(purged) => {
                tracing::info!(service, purged, %before, "processed-event ids purged")
            }
            Err(error) => tracing::warn!(service, %error, "purging processed-event ids failed"),
        }
    }
}
