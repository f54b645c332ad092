//! The sharing tables and their indexes, and the two guarantees the database holds
//! whatever the number of replicas writing: holding reservations of a resource never
//! overlap (an exclusion constraint on PostgreSQL, triggers on SQLite), and a
//! material's remaining quantity never goes below zero (a CHECK).

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// Creates `resources`, `reservations`, `claims` and `needs`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000301_create_sharing"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One statement after another, in the order the schema needs them: it stays one
    /// function so that it reads as the schema it creates, and a released migration is
    /// never changed anyway.
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = db.get_database_backend() == DbBackend::Postgres;
        let (uuid, time, json, double, boolean) = if postgres {
            (
                "UUID",
                "TIMESTAMPTZ",
                "JSONB",
                "DOUBLE PRECISION",
                "BOOLEAN",
            )
        } else {
            ("BLOB", "TEXT", "TEXT", "REAL", "INTEGER")
        };
        db.execute_unprepared(&format!(
            "CREATE TABLE resources (
                id {uuid} PRIMARY KEY,
                owner_id {uuid} NOT NULL,
                kind TEXT NOT NULL,
                title TEXT NOT NULL,
                description TEXT,
                search_text TEXT NOT NULL,
                place_id {uuid},
                latitude {double},
                longitude {double},
                location_from_place {boolean} NOT NULL,
                price_cents_per_day BIGINT,
                deposit_cents BIGINT NOT NULL,
                eco_labels {json} NOT NULL,
                state TEXT NOT NULL,
                state_reason TEXT,
                turnaround_minutes BIGINT NOT NULL,
                max_duration_minutes BIGINT,
                max_advance_days BIGINT,
                unit TEXT,
                offered_milli BIGINT,
                remaining_milli BIGINT CHECK (remaining_milli IS NULL OR remaining_milli >= 0),
                created_by TEXT NOT NULL,
                create_request_id {uuid},
                created_at {time} NOT NULL,
                updated_at {time} NOT NULL,
                version BIGINT NOT NULL
            )"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE TABLE reservations (
                id {uuid} PRIMARY KEY,
                resource_id {uuid} NOT NULL REFERENCES resources (id),
                owner_id {uuid} NOT NULL,
                borrower_id {uuid} NOT NULL,
                start_us BIGINT NOT NULL,
                end_us BIGINT NOT NULL,
                held_end_us BIGINT NOT NULL,
                note TEXT,
                state TEXT NOT NULL,
                state_reason TEXT,
                created_by TEXT NOT NULL,
                create_request_id {uuid},
                created_at {time} NOT NULL,
                updated_at {time} NOT NULL,
                version BIGINT NOT NULL,
                CHECK (start_us < end_us AND end_us <= held_end_us)
            )"
        ))
        .await?;
        if postgres {
            // The guarantee lives in the database: two reservations holding a slot of one
            // resource can never overlap, whatever the number of replicas writing.
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS btree_gist")
                .await?;
            db.execute_unprepared(
                "ALTER TABLE reservations ADD CONSTRAINT reservations_no_overlap
                 EXCLUDE USING gist (resource_id WITH =, int8range(start_us, held_end_us) WITH &&)
                 WHERE (state IN ('requested', 'confirmed'))",
            )
            .await?;
        } else {
            // SQLite has no exclusion constraint; triggers refuse the overlap inside the
            // writing transaction, and SQLite runs one writer at a time.
            for (event, exclude_self) in [
                ("INSERT", ""),
                ("UPDATE OF state, start_us, held_end_us", "AND id <> NEW.id"),
            ] {
                let trigger = if event == "INSERT" {
                    "insert"
                } else {
                    "update"
                };
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER reservations_no_overlap_{trigger} BEFORE {event} ON reservations
                     WHEN NEW.state IN ('requested', 'confirmed')
                     BEGIN
                       SELECT RAISE(ABORT, 'reservations_no_overlap')
                       FROM reservations
                       WHERE resource_id = NEW.resource_id {exclude_self}
                         AND state IN ('requested', 'confirmed')
                         AND start_us < NEW.held_end_us
                         AND NEW.start_us < held_end_us;
                     END"
                ))
                .await?;
            }
        }
        db.execute_unprepared(&format!(
            "CREATE TABLE claims (
                id {uuid} PRIMARY KEY,
                resource_id {uuid} NOT NULL REFERENCES resources (id),
                owner_id {uuid} NOT NULL,
                claimant_id {uuid} NOT NULL,
                quantity_milli BIGINT NOT NULL CHECK (quantity_milli > 0),
                unit TEXT NOT NULL,
                state TEXT NOT NULL,
                created_by TEXT NOT NULL,
                create_request_id {uuid},
                created_at {time} NOT NULL,
                updated_at {time} NOT NULL
            )"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE TABLE needs (
                id {uuid} PRIMARY KEY,
                member_id {uuid} NOT NULL,
                kind TEXT,
                description TEXT NOT NULL,
                place_id {uuid},
                latitude {double},
                longitude {double},
                radius_km {double},
                start_us BIGINT,
                end_us BIGINT,
                quantity_milli BIGINT,
                unit TEXT,
                state TEXT NOT NULL,
                created_by TEXT NOT NULL,
                create_request_id {uuid},
                created_at {time} NOT NULL,
                updated_at {time} NOT NULL
            )"
        ))
        .await?;
        for statement in [
            "CREATE UNIQUE INDEX resources_create_request_id ON resources (create_request_id)",
            "CREATE UNIQUE INDEX reservations_create_request_id ON reservations (create_request_id)",
            "CREATE UNIQUE INDEX claims_create_request_id ON claims (create_request_id)",
            "CREATE UNIQUE INDEX needs_create_request_id ON needs (create_request_id)",
            "CREATE INDEX resources_owner ON resources (owner_id)",
            "CREATE INDEX resources_place ON resources (place_id)",
            "CREATE INDEX resources_state_kind ON resources (state, kind, id)",
            "CREATE INDEX resources_latitude ON resources (latitude, longitude)",
            "CREATE INDEX reservations_resource ON reservations (resource_id, start_us)",
            "CREATE INDEX reservations_borrower ON reservations (borrower_id, start_us)",
            "CREATE INDEX reservations_owner ON reservations (owner_id, start_us)",
            "CREATE INDEX claims_resource ON claims (resource_id)",
            "CREATE INDEX needs_member ON needs (member_id)",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in ["needs", "claims", "reservations", "resources"] {
            db.execute_unprepared(&format!("DROP TABLE {table}"))
                .await?;
        }
        Ok(())
    }
}
