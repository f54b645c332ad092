//! The projects service's tables, created at once: the envelope and the award limit are
//! CHECKs here as well as conditional updates in the store, so that no code path can
//! exceed them.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// Creates every table of the service and its indexes (unique `create_request_id`s make
/// retried creates find what they created).
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000401_create_projects"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Over 60 lines: the schema as one DDL listing, each table whole, in the order the
    /// foreign keys need.
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (uuid, time, json) = match db.get_database_backend() {
            DbBackend::Postgres => ("UUID", "TIMESTAMPTZ", "JSONB"),
            _ => ("BLOB", "TEXT", "TEXT"),
        };
        for table in [
            format!(
                "CREATE TABLE projects (
                    id {uuid} PRIMARY KEY,
                    lead_id {uuid} NOT NULL,
                    title TEXT NOT NULL,
                    summary TEXT,
                    theme_tags TEXT NOT NULL,
                    member_tags TEXT NOT NULL,
                    participants {json} NOT NULL,
                    host_place_id {uuid},
                    milestones {json} NOT NULL,
                    state TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    create_request_id {uuid},
                    created_at {time} NOT NULL,
                    updated_at {time} NOT NULL,
                    version BIGINT NOT NULL
                )"
            ),
            // The envelope is never exceeded: approvals raise `committed_cents` with a
            // conditional update, and the CHECK holds whatever code runs.
            format!(
                "CREATE TABLE programmes (
                    id {uuid} PRIMARY KEY,
                    funder_id {uuid} NOT NULL,
                    funder_siret TEXT,
                    title TEXT NOT NULL,
                    description TEXT,
                    envelope_cents BIGINT NOT NULL CHECK (envelope_cents > 0),
                    aid_per_unit_cents BIGINT NOT NULL CHECK (aid_per_unit_cents > 0),
                    unit_label TEXT NOT NULL,
                    max_units_per_application BIGINT,
                    eligible_kinds {json} NOT NULL,
                    max_awards_per_member BIGINT,
                    co_funders {json} NOT NULL,
                    opens_at {time},
                    closes_at {time},
                    state TEXT NOT NULL,
                    committed_cents BIGINT NOT NULL,
                    paid_cents BIGINT NOT NULL,
                    created_by TEXT NOT NULL,
                    create_request_id {uuid},
                    created_at {time} NOT NULL,
                    updated_at {time} NOT NULL,
                    CHECK (committed_cents >= 0 AND committed_cents <= envelope_cents),
                    CHECK (paid_cents >= 0 AND paid_cents <= committed_cents)
                )"
            ),
            format!(
                "CREATE TABLE applications (
                    id {uuid} PRIMARY KEY,
                    programme_id {uuid} NOT NULL REFERENCES programmes (id),
                    applicant_id {uuid} NOT NULL,
                    project_id {uuid},
                    units BIGINT NOT NULL CHECK (units > 0),
                    purpose TEXT NOT NULL,
                    beneficiary_siret TEXT,
                    aid_cents BIGINT NOT NULL,
                    breakdown {json} NOT NULL,
                    state TEXT NOT NULL,
                    state_reason TEXT,
                    created_by TEXT NOT NULL,
                    create_request_id {uuid},
                    created_at {time} NOT NULL,
                    decided_at {time},
                    paid_at {time},
                    version BIGINT NOT NULL
                )"
            ),
            format!(
                "CREATE TABLE award_counts (
                    programme_id {uuid} NOT NULL,
                    member_id {uuid} NOT NULL,
                    awards BIGINT NOT NULL CHECK (awards >= 0),
                    PRIMARY KEY (programme_id, member_id)
                )"
            ),
            format!(
                "CREATE TABLE group_purchases (
                    id {uuid} PRIMARY KEY,
                    coordinator_id {uuid} NOT NULL,
                    title TEXT NOT NULL,
                    category TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    lots {json} NOT NULL,
                    deadline {time} NOT NULL,
                    state TEXT NOT NULL,
                    supplier TEXT,
                    created_by TEXT NOT NULL,
                    create_request_id {uuid},
                    created_at {time} NOT NULL,
                    updated_at {time} NOT NULL,
                    version BIGINT NOT NULL
                )"
            ),
            format!(
                "CREATE TABLE participations (
                    group_purchase_id {uuid} NOT NULL REFERENCES group_purchases (id),
                    member_id {uuid} NOT NULL,
                    sites {json} NOT NULL,
                    updated_at {time} NOT NULL,
                    PRIMARY KEY (group_purchase_id, member_id)
                )"
            ),
            format!(
                "CREATE TABLE workshops (
                    id {uuid} PRIMARY KEY,
                    theme TEXT NOT NULL,
                    season TEXT,
                    required_roles {json} NOT NULL,
                    create_request_id {uuid},
                    created_at {time} NOT NULL
                )"
            ),
            format!(
                "CREATE TABLE workshop_teams (
                    workshop_id {uuid} NOT NULL REFERENCES workshops (id),
                    lead_id {uuid} NOT NULL,
                    members {json} NOT NULL,
                    updated_at {time} NOT NULL,
                    PRIMARY KEY (workshop_id, lead_id)
                )"
            ),
        ] {
            db.execute_unprepared(&table).await?;
        }
        for statement in [
            "CREATE UNIQUE INDEX projects_create_request_id ON projects (create_request_id)",
            "CREATE UNIQUE INDEX programmes_create_request_id ON programmes (create_request_id)",
            "CREATE UNIQUE INDEX applications_create_request_id ON applications (create_request_id)",
            "CREATE UNIQUE INDEX group_purchases_create_request_id ON group_purchases (create_request_id)",
            "CREATE UNIQUE INDEX workshops_create_request_id ON workshops (create_request_id)",
            "CREATE INDEX applications_programme ON applications (programme_id, state)",
            "CREATE INDEX applications_applicant ON applications (applicant_id, state)",
            "CREATE INDEX participations_member ON participations (member_id)",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in [
            "workshop_teams",
            "workshops",
            "participations",
            "group_purchases",
            "award_counts",
            "applications",
            "programmes",
            "projects",
        ] {
            db.execute_unprepared(&format!("DROP TABLE {table}"))
                .await?;
        }
        Ok(())
    }
}
