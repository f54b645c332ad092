//! The `members` table and its indexes, one DDL for PostgreSQL and SQLite but for the
//! column types. A database that ran it never runs it again: change the schema in a new
//! migration.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// Creates the `members` table.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000101_create_members"
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
        db.execute_unprepared(&format!(
            "CREATE TABLE members (
                id {uuid} PRIMARY KEY,
                display_name TEXT NOT NULL,
                search_name TEXT NOT NULL,
                kind TEXT NOT NULL,
                siren TEXT,
                insee_code TEXT,
                insee_department TEXT,
                territory TEXT,
                website TEXT,
                contacts {json} NOT NULL,
                state TEXT NOT NULL,
                state_reason TEXT,
                joined_at {time},
                created_at {time} NOT NULL,
                updated_at {time} NOT NULL,
                version BIGINT NOT NULL,
                create_request_id {uuid},
                created_by TEXT NOT NULL
            )"
        ))
        .await?;
        for statement in [
            "CREATE UNIQUE INDEX members_create_request_id ON members (create_request_id)",
            // One current membership per legal entity; a member that left may apply again.
            "CREATE UNIQUE INDEX members_siren_current ON members (siren) WHERE siren IS NOT NULL AND state <> 'left'",
            "CREATE INDEX members_insee_department ON members (insee_department, id)",
            "CREATE INDEX members_kind ON members (kind, id)",
            "CREATE INDEX members_state ON members (state, id)",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE members")
            .await?;
        Ok(())
    }
}
