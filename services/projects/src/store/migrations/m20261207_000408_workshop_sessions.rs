//! Peer workshops as they run: `workshops.co_pilots`, `workshop_sessions` (with who is
//! expected and who attended) and `workshop_restitutions`. Workshops created before have
//! no co-pilot (NULL reads as none) until an admin names them.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// Adds the column and creates the two tables.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000408_workshop_sessions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (uuid, time, json) = match db.get_database_backend() {
            DbBackend::Postgres => ("UUID", "TIMESTAMPTZ", "JSONB"),
            _ => ("BLOB", "TEXT", "TEXT"),
        };
        for statement in [
            format!("ALTER TABLE workshops ADD COLUMN co_pilots {json}"),
            format!(
                "CREATE TABLE workshop_sessions (
                    id {uuid} PRIMARY KEY,
                    workshop_id {uuid} NOT NULL REFERENCES workshops (id),
                    title TEXT NOT NULL,
                    starts_at {time} NOT NULL,
                    ends_at {time} NOT NULL,
                    place_id {uuid},
                    online_url TEXT,
                    expected_team {uuid},
                    peer_group TEXT,
                    expected_members {json} NOT NULL,
                    attendees {json} NOT NULL,
                    cancelled_at {time},
                    create_request_id {uuid},
                    created_at {time} NOT NULL,
                    CHECK (ends_at > starts_at),
                    CHECK ((place_id IS NULL) <> (online_url IS NULL))
                )"
            ),
            "CREATE INDEX workshop_sessions_workshop ON workshop_sessions (workshop_id, starts_at)"
                .to_string(),
            "CREATE UNIQUE INDEX workshop_sessions_request ON workshop_sessions (create_request_id)"
                .to_string(),
            format!(
                "CREATE TABLE workshop_restitutions (
                    id {uuid} PRIMARY KEY,
                    workshop_id {uuid} NOT NULL REFERENCES workshops (id),
                    session_id {uuid} NOT NULL REFERENCES workshop_sessions (id),
                    title TEXT NOT NULL,
                    body TEXT NOT NULL,
                    links {json} NOT NULL,
                    team_lead {uuid},
                    peer_group TEXT,
                    author_id {uuid} NOT NULL,
                    published_at {time},
                    create_request_id {uuid},
                    created_at {time} NOT NULL
                )"
            ),
            "CREATE INDEX workshop_restitutions_workshop ON workshop_restitutions (workshop_id, id)"
                .to_string(),
            "CREATE UNIQUE INDEX workshop_restitutions_request ON workshop_restitutions (create_request_id)"
                .to_string(),
        ] {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in [
            "DROP TABLE workshop_restitutions",
            "DROP TABLE workshop_sessions",
            "ALTER TABLE workshops DROP COLUMN co_pilots",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
