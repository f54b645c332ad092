//! Each co-funder's committed and paid parts per programme (`co_funding`), held like
//! the funder's totals on `programmes`; the parts of the awards stored before are
//! carried over (nothing of them was recorded as paid by a co-funder then).

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::prelude::*;

/// Creates the table and totals the awards' co-funders' parts.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000406_co_funding"
    }
}

/// A breakdown line as applications store it (the funder's first).
#[derive(serde::Deserialize)]
struct Line {
    funder: uuid::Uuid,
    amount_cents: i64,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE TABLE co_funding (
                programme_id UUID NOT NULL REFERENCES programmes (id),
                member_id UUID NOT NULL,
                committed_cents BIGINT NOT NULL CHECK (committed_cents >= 0),
                paid_cents BIGINT NOT NULL CHECK (paid_cents >= 0),
                PRIMARY KEY (programme_id, member_id)
            )",
        )
        .await?;
        // Raw columns, not the entity: later migrations may add columns to it.
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT programme_id, breakdown FROM applications \
                 WHERE state IN ('approved', 'paid')",
            ))
            .await?;
        let mut totals: BTreeMap<(uuid::Uuid, uuid::Uuid), i64> = BTreeMap::new();
        for row in rows {
            let programme: uuid::Uuid = row.try_get_by_index(0)?;
            // PostgreSQL gives JSONB, SQLite the text it stores.
            let breakdown: serde_json::Value =
                row.try_get_by_index::<serde_json::Value>(1).or_else(|_| {
                    let text: String = row.try_get_by_index(1)?;
                    serde_json::from_str(&text).map_err(|e| DbErr::Custom(e.to_string()))
                })?;
            let lines: Vec<Line> =
                serde_json::from_value(breakdown).map_err(|e| DbErr::Custom(e.to_string()))?;
            for line in lines.iter().skip(1) {
                *totals.entry((programme, line.funder)).or_default() += line.amount_cents;
            }
        }
        for ((programme, member), cents) in totals {
            let sql = match backend {
                sea_orm::DbBackend::Postgres => "INSERT INTO co_funding VALUES ($1, $2, $3, 0)",
                _ => "INSERT INTO co_funding VALUES (?, ?, ?, 0)",
            };
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [programme.into(), member.into(), cents.into()],
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE co_funding")
            .await?;
        Ok(())
    }
}
