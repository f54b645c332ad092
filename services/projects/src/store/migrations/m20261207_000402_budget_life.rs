//! Awards counted per legal entity, payments by instalment and envelope changes: the
//! `legal_entity_awards` table replaces `award_counts` (counted per member record), and
//! applications and programmes keep their payments and envelope changes. Existing
//! awards are counted again per legal entity and existing payments become balances.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use sea_orm_migration::prelude::*;
use uuid::Uuid;

use crate::domain::legal_entity;

/// Adds the columns and the table, carries the existing awards and payments over, and
/// drops `award_counts`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000402_budget_life"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let (uuid, json) = match backend {
            DbBackend::Postgres => ("UUID", "JSONB"),
            _ => ("BLOB", "TEXT"),
        };
        for statement in [
            "ALTER TABLE applications ADD COLUMN legal_entity TEXT".to_string(),
            format!("ALTER TABLE applications ADD COLUMN payments {json} NOT NULL DEFAULT '[]'"),
            format!(
                "ALTER TABLE programmes ADD COLUMN envelope_changes {json} NOT NULL DEFAULT '[]'"
            ),
            // Like `committed_cents`, the count is raised by a conditional update and
            // the CHECK holds whatever code runs.
            format!(
                "CREATE TABLE legal_entity_awards (
                    programme_id {uuid} NOT NULL REFERENCES programmes (id),
                    legal_entity TEXT NOT NULL,
                    awards BIGINT NOT NULL CHECK (awards >= 0),
                    PRIMARY KEY (programme_id, legal_entity)
                )"
            ),
        ] {
            db.execute_unprepared(&statement).await?;
        }
        carry_awards_over(db, backend).await?;
        db.execute_unprepared("DROP TABLE award_counts").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let uuid = match db.get_database_backend() {
            DbBackend::Postgres => "UUID",
            _ => "BLOB",
        };
        db.execute_unprepared(&format!(
            "CREATE TABLE award_counts (
                programme_id {uuid} NOT NULL,
                member_id {uuid} NOT NULL,
                awards BIGINT NOT NULL CHECK (awards >= 0),
                PRIMARY KEY (programme_id, member_id)
            )"
        ))
        .await?;
        db.execute_unprepared("DROP TABLE legal_entity_awards")
            .await?;
        Ok(())
    }
}

/// Each award (approved or paid) gets its legal entity from the member replica and is
/// counted against it; each paid one gets its whole aid as a balance paid the day it was
/// recorded.
async fn carry_awards_over<C: ConnectionTrait>(db: &C, backend: DbBackend) -> Result<(), DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT a.id, a.programme_id, a.applicant_id, r.siren, a.state, a.aid_cents, a.paid_at
             FROM applications a LEFT JOIN member_replica r ON r.id = a.applicant_id
             WHERE a.state IN ('approved', 'paid')",
        ))
        .await?;
    let placeholder = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_string(),
    };
    for row in rows {
        let id: Uuid = row.try_get("", "id")?;
        let programme: Uuid = row.try_get("", "programme_id")?;
        let applicant: Uuid = row.try_get("", "applicant_id")?;
        let siren: Option<String> = row.try_get("", "siren")?;
        let state: String = row.try_get("", "state")?;
        let aid_cents: i64 = row.try_get("", "aid_cents")?;
        let paid_at: Option<chrono::DateTime<chrono::Utc>> = row.try_get("", "paid_at")?;
        let entity = legal_entity(applicant, siren.as_deref());
        let payments = match (state.as_str(), paid_at) {
            ("paid", Some(at)) => serde_json::json!([{
                "kind": "balance",
                "amount_cents": aid_cents,
                "paid_on": at.date_naive(),
                "recorded_at": at,
            }]),
            _ => serde_json::json!([]),
        };
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE applications SET legal_entity = {}, payments = {} WHERE id = {}",
                placeholder(1),
                placeholder(2),
                placeholder(3)
            ),
            [
                Value::from(entity.clone()),
                json_value(backend, payments),
                Value::from(id),
            ],
        ))
        .await?;
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO legal_entity_awards (programme_id, legal_entity, awards)
                 VALUES ({}, {}, 1)
                 ON CONFLICT (programme_id, legal_entity)
                 DO UPDATE SET awards = legal_entity_awards.awards + 1",
                placeholder(1),
                placeholder(2)
            ),
            [Value::from(programme), Value::from(entity)],
        ))
        .await?;
    }
    Ok(())
}

/// A JSON document as the column of `backend` takes it: JSONB, or text in SQLite.
fn json_value(backend: DbBackend, value: serde_json::Value) -> Value {
    match backend {
        DbBackend::Postgres => Value::from(value),
        _ => Value::from(value.to_string()),
    }
}
