//! How long processed-event ids are kept, and their purge.
//!
//! An id only has to outlive the copies of its event that can still arrive: a
//! redelivery after a lost ack (within the ack wait), or a row the relay published
//! again after a crash and JetStream no longer recognised (its duplicate window is two
//! minutes). Kept for days, an id covers both with a wide margin; kept forever, the
//! table grew by a row per event and consumer (at 1,000 events/s and three consumers,
//! tens of gigabytes a day on PostgreSQL). A consumer replaying its stream from the start on
//! purpose (a durable consumer deleted and created again) applies the purged events
//! again: the replica upserts keep the newest version whatever the order.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use tokio_util::sync::CancellationToken;

/// Ids kept unless `FABRIQUE_PROCESSED_RETENTION_HOURS` says otherwise: a week.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often a service purges; the first purge comes this long after the start, so
/// that a crash loop does not purge at every start.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// Rows deleted per statement: each statement's locks and WAL stay small, and consumer
/// transactions go on between them.
pub const PURGE_CHUNK: u64 = 10_000;

/// Deletes the ids recorded before `before`, `chunk` rows per statement; returns how
/// many went.
pub async fn purge_processed(
    db: &DatabaseConnection,
    before: DateTime<Utc>,
    chunk: u64,
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "DELETE FROM fabrique_processed_events WHERE (consumer, event_id) IN \
             (SELECT consumer, event_id FROM fabrique_processed_events \
              WHERE processed_at < $1 LIMIT $2)"
        }
        _ => {
            "DELETE FROM fabrique_processed_events WHERE (consumer, event_id) IN \
             (SELECT consumer, event_id FROM fabrique_processed_events \
              WHERE processed_at < ? LIMIT ?)"
        }
    };
    let chunk = chunk.max(1);
    let mut purged = 0;
    loop {
        let deleted = db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [before.into(), (chunk as i64).into()],
            ))
            .await?
            .rows_affected();
        purged += deleted;
        if deleted < chunk {
            return Ok(purged);
        }
    }
}

/// Purges ids older than `retention` every `every` until `shutdown`. A failed purge is
/// logged and tried again at the next turn: the ids only wait longer.
pub async fn purge_every(
    db: DatabaseConnection,
    service: &'static str,
    retention: Duration,
    every: Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.cancelled() => return,
        }
        // A retention longer than the calendar goes back purges nothing.
        let Some(before) = chrono::Duration::from_std(retention)
            .ok()
            .and_then(|retention| Utc::now().checked_sub_signed(retention))
        else {
            continue;
        };
        match purge_processed(&db, before, PURGE_CHUNK).await {
            Ok(0) => {}
            Ok(purged) => {
                tracing::info!(service, purged, %before, "processed-event ids purged")
            }
            Err(error) => tracing::warn!(service, %error, "purging processed-event ids failed"),
        }
    }
}
