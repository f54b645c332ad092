//! Participants, their verifications, processes, proposals and supports, one DDL for
//! PostgreSQL and SQLite but for the column types. A database that ran it never runs it
//! again: change the schema in a new migration.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// Creates participation's tables.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000601_create_participation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Over 60 lines: one statement per table and index, each with its constraints.
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (uuid, time, json, double, boolean) = match db.get_database_backend() {
            DbBackend::Postgres => (
                "UUID",
                "TIMESTAMPTZ",
                "JSONB",
                "DOUBLE PRECISION",
                "BOOLEAN",
            ),
            _ => ("BLOB", "TEXT", "TEXT", "REAL", "INTEGER"),
        };
        for statement in [
            format!(
                "CREATE TABLE participants (
                    id {uuid} PRIMARY KEY,
                    subject TEXT NOT NULL,
                    display_name TEXT NOT NULL,
                    created_at {time} NOT NULL
                )"
            ),
            "CREATE UNIQUE INDEX participants_subject ON participants (subject)".into(),
            format!(
                "CREATE TABLE verifications (
                    participant_id {uuid} NOT NULL REFERENCES participants (id),
                    organiser_id {uuid} NOT NULL,
                    verified_by TEXT NOT NULL,
                    verified_at {time} NOT NULL,
                    PRIMARY KEY (participant_id, organiser_id)
                )"
            ),
            format!(
                "CREATE TABLE processes (
                    id {uuid} PRIMARY KEY,
                    organiser_id {uuid} NOT NULL,
                    title TEXT NOT NULL,
                    description TEXT NOT NULL,
                    territory_tags TEXT NOT NULL,
                    steps {json} NOT NULL,
                    active_step INTEGER NOT NULL,
                    verified_only {boolean} NOT NULL,
                    support_limit INTEGER NOT NULL CHECK (support_limit >= 0),
                    support_threshold INTEGER NOT NULL CHECK (support_threshold >= 0),
                    themes {json} NOT NULL,
                    created_by TEXT NOT NULL,
                    create_request_id {uuid},
                    created_at {time} NOT NULL,
                    updated_at {time} NOT NULL,
                    version BIGINT NOT NULL
                )"
            ),
            "CREATE UNIQUE INDEX processes_create_request_id ON processes (create_request_id)"
                .into(),
            "CREATE INDEX processes_organiser ON processes (organiser_id, id)".into(),
            format!(
                "CREATE TABLE proposals (
                    id {uuid} PRIMARY KEY,
                    process_id {uuid} NOT NULL REFERENCES processes (id),
                    author_id {uuid} NOT NULL REFERENCES participants (id),
                    title TEXT NOT NULL,
                    body TEXT NOT NULL,
                    theme TEXT,
                    place_id {uuid},
                    latitude {double},
                    longitude {double},
                    state TEXT NOT NULL,
                    support_count INTEGER NOT NULL CHECK (support_count >= 0),
                    threshold_reached_at {time},
                    answer_text TEXT,
                    answered_at {time},
                    create_request_id {uuid},
                    created_at {time} NOT NULL,
                    updated_at {time} NOT NULL,
                    version BIGINT NOT NULL
                )"
            ),
            "CREATE UNIQUE INDEX proposals_create_request_id ON proposals (create_request_id)"
                .into(),
            "CREATE INDEX proposals_process ON proposals (process_id, id)".into(),
            "CREATE INDEX proposals_supported ON proposals (process_id, support_count, id)".into(),
            // One support per participant and proposal: the key refuses a second.
            format!(
                "CREATE TABLE supports (
                    proposal_id {uuid} NOT NULL REFERENCES proposals (id),
                    participant_id {uuid} NOT NULL REFERENCES participants (id),
                    process_id {uuid} NOT NULL,
                    created_at {time} NOT NULL,
                    PRIMARY KEY (proposal_id, participant_id)
                )"
            ),
            "CREATE INDEX supports_participant ON supports (participant_id, process_id)".into(),
            // What each participant spent of a process's support limit: raised by a
            // conditional UPDATE that row-locks it, so concurrent supports queue here.
            format!(
                "CREATE TABLE support_tallies (
                    process_id {uuid} NOT NULL REFERENCES processes (id),
                    participant_id {uuid} NOT NULL REFERENCES participants (id),
                    used INTEGER NOT NULL CHECK (used >= 0),
                    PRIMARY KEY (process_id, participant_id)
                )"
            ),
        ] {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in [
            "support_tallies",
            "supports",
            "proposals",
            "processes",
            "verifications",
            "participants",
        ] {
            db.execute_unprepared(&format!("DROP TABLE {table}"))
                .await?;
        }
        Ok(())
    }
}
