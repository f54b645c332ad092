//! Groupings: `groupings`, and on each application the grouping it was filed in and
//! its filer.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// Creates `groupings` and adds `applications.grouping_id` and `.filer_id`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000404_groupings"
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
            format!(
                "CREATE TABLE groupings (
                    id {uuid} PRIMARY KEY,
                    programme_id {uuid} NOT NULL REFERENCES programmes (id),
                    filer_id {uuid} NOT NULL,
                    purpose TEXT NOT NULL,
                    units_per_member BIGINT NOT NULL CHECK (units_per_member > 0),
                    members {json} NOT NULL,
                    created_by TEXT NOT NULL,
                    create_request_id {uuid},
                    created_at {time} NOT NULL
                )"
            ),
            "CREATE UNIQUE INDEX groupings_create_request_id ON groupings (create_request_id)"
                .to_string(),
            format!("ALTER TABLE applications ADD COLUMN grouping_id {uuid}"),
            format!("ALTER TABLE applications ADD COLUMN filer_id {uuid}"),
            "CREATE INDEX applications_grouping ON applications (grouping_id)".to_string(),
        ] {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in [
            "DROP INDEX applications_grouping",
            "ALTER TABLE applications DROP COLUMN filer_id",
            "ALTER TABLE applications DROP COLUMN grouping_id",
            "DROP TABLE groupings",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
