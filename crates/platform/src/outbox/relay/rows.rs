//! Where a pass reads and deletes outbox rows: on PostgreSQL the relay's own connection,
//! a bare sqlx one (so plain statements, rows read by position); elsewhere the pool,
//! through sea-orm.

use sea_orm::sqlx::{self, PgConnection, Row, postgres::PgRow};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::BATCH_SIZE;
use crate::db::sqlx_err;
use crate::outbox::entity::{self, Column, Entity};

/// Where a pass reads and deletes outbox rows.
pub(super) enum Rows<'a> {
    /// The relay's own connection, holding the relay lock.
    Postgres(&'a mut PgConnection),
    /// SQLite: the pool (one process, one relay per service, no lock).
    Pool(&'a DatabaseConnection),
}

const PENDING_ROWS: &str = "SELECT id, event_id, subject, ce_type, ce_subject, payload, \
     traceparent, tracestate, occurred_at, auth_type, auth_id FROM fabrique_outbox \
     WHERE id > $1 ORDER BY id LIMIT $2";

impl Rows<'_> {
    /// The next batch of pending rows, after id `after`.
    pub(super) async fn read(&mut self, after: i64) -> Result<Vec<entity::Model>, DbErr> {
        match self {
            Rows::Postgres(connection) => sqlx::query(PENDING_ROWS)
                .bind(after)
                .bind(BATCH_SIZE as i64)
                .try_map(|row: PgRow| model_of(&row))
                .fetch_all(&mut **connection)
                .await
                .map_err(sqlx_err),
            Rows::Pool(db) => {
                Entity::find()
                    .filter(Column::Id.gt(after))
                    .order_by_asc(Column::Id)
                    .limit(BATCH_SIZE)
                    .all(*db)
                    .await
            }
        }
    }

    /// Acknowledged rows leave the outbox: the stream keeps the events, and a delete is
    /// cheaper for PostgreSQL than an update that writes a new row version.
    pub(super) async fn delete(&mut self, ids: &[i64]) -> Result<(), DbErr> {
        if ids.is_empty() {
            return Ok(());
        }
        match self {
            Rows::Postgres(connection) => {
                sqlx::query("DELETE FROM fabrique_outbox WHERE id = ANY($1::bigint[])")
                    .bind(crate::db::pg_array_literal(ids))
                    .execute(&mut **connection)
                    .await
                    .map_err(sqlx_err)?;
            }
            Rows::Pool(db) => {
                Entity::delete_many()
                    .filter(Column::Id.is_in(ids.iter().copied()))
                    .exec(*db)
                    .await?;
            }
        }
        Ok(())
    }
}

/// A row of [`PENDING_ROWS`], read by position.
fn model_of(row: &PgRow) -> Result<entity::Model, sqlx::Error> {
    Ok(entity::Model {
        id: row.try_get(0)?,
        event_id: row.try_get(1)?,
        subject: row.try_get(2)?,
        ce_type: row.try_get(3)?,
        ce_subject: row.try_get(4)?,
        payload: row.try_get(5)?,
        traceparent: row.try_get(6)?,
        tracestate: row.try_get(7)?,
        occurred_at: row.try_get(8)?,
        auth_type: row.try_get(9)?,
        auth_id: row.try_get(10)?,
    })
}
