//! Meetings and their registrations. `meetings.registered` counts the seats taken and
//! never exceeds `seats` (a CHECK, and the conditional UPDATE that takes a seat);
//! `queued` numbers the waiting list in the order people came.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// Creates `meetings` and `meeting_registrations`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000602_meetings"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (uuid, time) = match db.get_database_backend() {
            DbBackend::Postgres => ("UUID", "TIMESTAMPTZ"),
            _ => ("BLOB", "TEXT"),
        };
        for statement in [
            format!(
                "CREATE TABLE meetings (
                    id {uuid} PRIMARY KEY,
                    process_id {uuid} NOT NULL REFERENCES processes (id),
                    kind TEXT NOT NULL,
                    title TEXT NOT NULL,
                    description TEXT NOT NULL,
                    starts_at {time} NOT NULL,
                    ends_at {time} NOT NULL,
                    place_id {uuid},
                    online_url TEXT,
                    seats INTEGER NOT NULL CHECK (seats > 0),
                    registered INTEGER NOT NULL,
                    queued BIGINT NOT NULL,
                    cancelled_at {time},
                    minutes TEXT,
                    minutes_at {time},
                    created_by TEXT NOT NULL,
                    create_request_id {uuid},
                    created_at {time} NOT NULL,
                    updated_at {time} NOT NULL,
                    version BIGINT NOT NULL,
                    CHECK (ends_at > starts_at),
                    CHECK (registered >= 0 AND registered <= seats),
                    CHECK ((place_id IS NULL) <> (online_url IS NULL))
                )"
            ),
            "CREATE INDEX meetings_process ON meetings (process_id, starts_at, id)".into(),
            "CREATE UNIQUE INDEX meetings_create_request_id ON meetings (create_request_id)"
                .into(),
            format!(
                "CREATE TABLE meeting_registrations (
                    meeting_id {uuid} NOT NULL REFERENCES meetings (id),
                    participant_id {uuid} NOT NULL REFERENCES participants (id),
                    state TEXT NOT NULL,
                    position BIGINT NOT NULL,
                    created_at {time} NOT NULL,
                    PRIMARY KEY (meeting_id, participant_id)
                )"
            ),
            "CREATE INDEX meeting_registrations_queue ON meeting_registrations (meeting_id, state, position)"
                .into(),
        ] {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP TABLE meeting_registrations")
            .await?;
        db.execute_unprepared("DROP TABLE meetings").await?;
        Ok(())
    }
}
