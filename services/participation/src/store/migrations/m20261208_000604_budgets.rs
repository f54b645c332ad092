//! Participatory budgets: `budgets` (its ballots counted by the conditional UPDATE that
//! lets each in while OPEN), `budget_items` (one per proposal and budget), `ballots`
//! (one per participant and budget, by their key) and `ballot_items`.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// Creates the four tables.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000604_budgets"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (uuid, time, boolean) = match db.get_database_backend() {
            DbBackend::Postgres => ("UUID", "TIMESTAMPTZ", "BOOLEAN"),
            _ => ("BLOB", "TEXT", "INTEGER"),
        };
        for statement in [
            format!(
                "CREATE TABLE budgets (
                    id {uuid} PRIMARY KEY,
                    process_id {uuid} NOT NULL REFERENCES processes (id),
                    title TEXT NOT NULL,
                    description TEXT NOT NULL,
                    envelope_cents BIGINT NOT NULL CHECK (envelope_cents > 0),
                    minimum_basis_points INTEGER NOT NULL
                        CHECK (minimum_basis_points BETWEEN 0 AND 10000),
                    state TEXT NOT NULL,
                    ballot_count INTEGER NOT NULL,
                    closed_at {time},
                    created_by TEXT NOT NULL,
                    create_request_id {uuid},
                    created_at {time} NOT NULL
                )"
            ),
            "CREATE INDEX budgets_process ON budgets (process_id, id)".into(),
            "CREATE UNIQUE INDEX budgets_create_request_id ON budgets (create_request_id)".into(),
            format!(
                "CREATE TABLE budget_items (
                    id {uuid} PRIMARY KEY,
                    budget_id {uuid} NOT NULL REFERENCES budgets (id),
                    proposal_id {uuid} NOT NULL REFERENCES proposals (id),
                    title TEXT NOT NULL,
                    cost_cents BIGINT NOT NULL CHECK (cost_cents > 0),
                    votes INTEGER NOT NULL,
                    rank INTEGER NOT NULL,
                    selected {boolean} NOT NULL,
                    created_at {time} NOT NULL
                )"
            ),
            "CREATE UNIQUE INDEX budget_items_proposal ON budget_items (budget_id, proposal_id)"
                .into(),
            format!(
                "CREATE TABLE ballots (
                    budget_id {uuid} NOT NULL REFERENCES budgets (id),
                    participant_id {uuid} NOT NULL REFERENCES participants (id),
                    total_cents BIGINT NOT NULL,
                    cast_at {time} NOT NULL,
                    PRIMARY KEY (budget_id, participant_id)
                )"
            ),
            format!(
                "CREATE TABLE ballot_items (
                    budget_id {uuid} NOT NULL,
                    participant_id {uuid} NOT NULL,
                    item_id {uuid} NOT NULL REFERENCES budget_items (id),
                    PRIMARY KEY (budget_id, participant_id, item_id),
                    FOREIGN KEY (budget_id, participant_id)
                        REFERENCES ballots (budget_id, participant_id)
                )"
            ),
        ] {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in ["ballot_items", "ballots", "budget_items", "budgets"] {
            db.execute_unprepared(&format!("DROP TABLE {table}"))
                .await?;
        }
        Ok(())
    }
}
