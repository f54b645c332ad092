//! Requests expire when their owner does not answer: each resource's answer window
//! (`resources.answer_within_hours`, none for the 72-hour default) and each request's
//! deadline (`reservations.answer_by_us`, `claims.answer_by_us`), indexed for the sweep
//! that expires them. Reservations requested before get their slot's start as their
//! deadline (their owners were given none); claims made before keep none.

use sea_orm_migration::prelude::*;

/// Adds the columns and the sweep's indexes.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000302_answer_deadlines"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in [
            "ALTER TABLE resources ADD COLUMN answer_within_hours BIGINT",
            "ALTER TABLE reservations ADD COLUMN answer_by_us BIGINT",
            "UPDATE reservations SET answer_by_us = start_us",
            "ALTER TABLE claims ADD COLUMN answer_by_us BIGINT",
            "CREATE INDEX reservations_answer_by ON reservations (state, answer_by_us)",
            "CREATE INDEX claims_answer_by ON claims (state, answer_by_us)",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in [
            "DROP INDEX claims_answer_by",
            "DROP INDEX reservations_answer_by",
            "ALTER TABLE claims DROP COLUMN answer_by_us",
            "ALTER TABLE reservations DROP COLUMN answer_by_us",
            "ALTER TABLE resources DROP COLUMN answer_within_hours",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
