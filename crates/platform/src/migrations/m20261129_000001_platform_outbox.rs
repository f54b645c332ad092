//! Creates `fabrique_outbox`, where a service writes its events in the transaction of
//! the change they describe, until the relay publishes them.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000001_platform_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let table = match db.get_database_backend() {
            DbBackend::Postgres => {
                "CREATE TABLE fabrique_outbox (
                    id BIGSERIAL PRIMARY KEY,
                    event_id UUID NOT NULL,
                    subject TEXT NOT NULL,
                    ce_type TEXT NOT NULL,
                    ce_subject TEXT NOT NULL,
                    payload BYTEA NOT NULL,
                    traceparent TEXT,
                    tracestate TEXT,
                    occurred_at TIMESTAMPTZ NOT NULL,
                    published_at TIMESTAMPTZ
                )"
            }
            _ => {
                // AUTOINCREMENT: ids are never reused, so their order stays the order
                // in which events were written, even after purges.
                "CREATE TABLE fabrique_outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    event_id BLOB NOT NULL,
                    subject TEXT NOT NULL,
                    ce_type TEXT NOT NULL,
                    ce_subject TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    traceparent TEXT,
                    tracestate TEXT,
                    occurred_at TEXT NOT NULL,
                    published_at TEXT
                )"
            }
        };
        db.execute_unprepared(table).await?;
        // The relay only ever reads unpublished rows in id order.
        db.execute_unprepared(
            "CREATE INDEX fabrique_outbox_pending ON fabrique_outbox (id) WHERE published_at IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE fabrique_outbox")
            .await?;
        Ok(())
    }
}
