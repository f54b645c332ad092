//! The relay now deletes a row once JetStream acknowledged it, so no row is ever
//! "published but kept": the marker column and the partial index on it go.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000003_outbox_rows_leave_when_published"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Rows an older relay marked but had not purged yet are already on the stream.
        db.execute_unprepared("DELETE FROM fabrique_outbox WHERE published_at IS NOT NULL")
            .await?;
        // SQLite refuses to drop a column an index still names.
        db.execute_unprepared("DROP INDEX fabrique_outbox_pending")
            .await?;
        db.execute_unprepared("ALTER TABLE fabrique_outbox DROP COLUMN published_at")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let column = match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => "TIMESTAMPTZ",
            _ => "TEXT",
        };
        db.execute_unprepared(&format!(
            "ALTER TABLE fabrique_outbox ADD COLUMN published_at {column}"
        ))
        .await?;
        db.execute_unprepared(
            "CREATE INDEX fabrique_outbox_pending ON fabrique_outbox (id) WHERE published_at IS NULL",
        )
        .await?;
        Ok(())
    }
}
