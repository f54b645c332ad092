//! Comments on proposals, their reports (one per participant and comment) and each
//! process's report threshold (existing processes get the default, 3).

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// Creates `comments` and `comment_reports`; adds `processes.report_threshold`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000603_comments"
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
            "ALTER TABLE processes ADD COLUMN report_threshold INTEGER NOT NULL DEFAULT 3"
                .to_string(),
            format!(
                "CREATE TABLE comments (
                    id {uuid} PRIMARY KEY,
                    process_id {uuid} NOT NULL REFERENCES processes (id),
                    proposal_id {uuid} NOT NULL REFERENCES proposals (id),
                    author_id {uuid} NOT NULL REFERENCES participants (id),
                    body TEXT NOT NULL,
                    state TEXT NOT NULL,
                    report_count INTEGER NOT NULL CHECK (report_count >= 0),
                    reviewed_at {time},
                    created_at {time} NOT NULL,
                    updated_at {time} NOT NULL
                )"
            ),
            "CREATE INDEX comments_proposal ON comments (proposal_id, id)".into(),
            // The rate limit counts a participant's recent comments.
            "CREATE INDEX comments_author ON comments (author_id, created_at)".into(),
            format!(
                "CREATE TABLE comment_reports (
                    comment_id {uuid} NOT NULL REFERENCES comments (id),
                    participant_id {uuid} NOT NULL REFERENCES participants (id),
                    created_at {time} NOT NULL,
                    PRIMARY KEY (comment_id, participant_id)
                )"
            ),
        ] {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP TABLE comment_reports").await?;
        db.execute_unprepared("DROP TABLE comments").await?;
        db.execute_unprepared("ALTER TABLE processes DROP COLUMN report_threshold")
            .await?;
        Ok(())
    }
}
