//! Processed-event ids are purged once older than the retention
//! (`consumer::purge_processed`): an index on when each was recorded, so that the
//! purge reads only what it deletes.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000004_processed_events_by_age"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX fabrique_processed_events_age ON fabrique_processed_events (processed_at)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX fabrique_processed_events_age")
            .await?;
        Ok(())
    }
}
