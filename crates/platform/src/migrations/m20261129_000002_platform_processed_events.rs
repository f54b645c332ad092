//! Creates `fabrique_processed_events`: which consumer handled which event, keyed so
//! that a redelivered event, or a concurrent replica, finds the id and does nothing.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000002_platform_processed_events"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let table = match db.get_database_backend() {
            DbBackend::Postgres => {
                "CREATE TABLE fabrique_processed_events (
                    consumer TEXT NOT NULL,
                    event_id UUID NOT NULL,
                    subject TEXT NOT NULL,
                    processed_at TIMESTAMPTZ NOT NULL,
                    PRIMARY KEY (consumer, event_id)
                )"
            }
            _ => {
                "CREATE TABLE fabrique_processed_events (
                    consumer TEXT NOT NULL,
                    event_id BLOB NOT NULL,
                    subject TEXT NOT NULL,
                    processed_at TEXT NOT NULL,
                    PRIMARY KEY (consumer, event_id)
                )"
            }
        };
        db.execute_unprepared(table).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE fabrique_processed_events")
            .await?;
        Ok(())
    }
}
