//! The `places` table and its indexes, one DDL for PostgreSQL and SQLite but for the
//! column types. A database that ran it never runs it again: change the schema in a new
//! migration.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// Creates the `places` table.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000201_create_places"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Long as the schema is: the table with every column, then its indexes.
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
        db.execute_unprepared(&format!(
            "CREATE TABLE places (
                id {uuid} PRIMARY KEY,
                display_name TEXT NOT NULL,
                search_text TEXT NOT NULL,
                kind_tags TEXT NOT NULL,
                capability_tags TEXT NOT NULL,
                description TEXT,
                street TEXT,
                postal_code TEXT,
                locality TEXT,
                insee_code TEXT,
                insee_department TEXT,
                latitude {double} NOT NULL,
                longitude {double} NOT NULL,
                opening_hours TEXT,
                website TEXT,
                contact_email TEXT,
                phone TEXT,
                operator_id {uuid},
                eco_labels {json} NOT NULL,
                siret TEXT,
                state TEXT NOT NULL,
                state_reason TEXT,
                needs_review {boolean} NOT NULL,
                review_reason TEXT,
                possible_duplicates {json} NOT NULL,
                source TEXT,
                external_id TEXT,
                created_by TEXT NOT NULL,
                create_request_id {uuid},
                created_at {time} NOT NULL,
                updated_at {time} NOT NULL,
                version BIGINT NOT NULL
            )"
        ))
        .await?;
        for statement in [
            "CREATE UNIQUE INDEX places_create_request_id ON places (create_request_id)",
            // An imported place is known by its source's id: importing again updates it.
            "CREATE UNIQUE INDEX places_source_key ON places (source, external_id) WHERE source IS NOT NULL",
            // Searches around a point scan a latitude band first.
            "CREATE INDEX places_latitude ON places (latitude, longitude)",
            "CREATE INDEX places_state ON places (state, id)",
            "CREATE INDEX places_department ON places (insee_department, id)",
            "CREATE INDEX places_operator ON places (operator_id)",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP TABLE places").await?;
        Ok(())
    }
}
