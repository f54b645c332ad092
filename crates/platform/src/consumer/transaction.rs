//! The transaction a consumer applies events in ([`ConsumerTxn`]), and the connection
//! each lane runs it on ([`LaneDb`]).
//!
//! On PostgreSQL a lane keeps a connection of its own, detached from the pool, and
//! sends `BEGIN` in the same message as the statement recording the events' ids: an
//! event then costs three round trips (begin and record, the handler's statement,
//! commit) where a pooled sea-orm transaction took five (`BEGIN` alone, and sqlx's
//! check of every connection going back to the pool). Those round trips were most of
//! PostgreSQL's work per event (docs/performance.md, event-latency). Elsewhere (SQLite)
//! it is a sea-orm transaction from the pool.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict, PostgresQueryBuilder, Query};
use sea_orm::sqlx::{self, Connection, PgConnection, Row};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    ExecResult, QueryResult, RuntimeErr, Set, Statement, TransactionTrait,
};
use sea_query_sqlx::SqlxValues;
use uuid::Uuid;

use super::processed;
use crate::event::IncomingEvent;

/// The transaction an [`EventHandler`](super::EventHandler) applies an event in: pass it
/// wherever sea-orm takes a connection. The runner commits it with the event's id.
pub struct ConsumerTxn(Inner);

enum Inner {
    /// A lane's own connection, inside `BEGIN`. Statements run one at a time, in order.
    Postgres(tokio::sync::Mutex<PgConnection>),
    Pooled(DatabaseTransaction),
}

/// A lane's database: its own PostgreSQL connection between transactions, taken from
/// the pool the first time and kept while it works; or the pool itself elsewhere.
pub(super) struct LaneDb {
    db: DatabaseConnection,
    connection: Option<PgConnection>,
}

impl LaneDb {
    pub(super) fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            connection: None,
        }
    }

    /// Opens a transaction and records in it that `consumer` handled `events`. For each
    /// event, whether it is new: false when an earlier delivery (or another replica of the
    /// service, which then waits on the key) already recorded it.
    pub(super) async fn begin(
        &mut self,
        consumer: &str,
        events: &[&IncomingEvent],
    ) -> Result<(ConsumerTxn, Vec<bool>), DbErr> {
        if self.db.get_database_backend() != DbBackend::Postgres {
            let txn = self.db.begin().await?;
            let mut new = Vec::with_capacity(events.len());
            for event in events {
                new.push(record(&txn, consumer, event).await?);
            }
            return Ok((ConsumerTxn(Inner::Pooled(txn)), new));
        }
        let mut connection = match self.connection.take() {
            Some(connection) => connection,
            None => self
                .db
                .get_postgres_connection_pool()
                .acquire()
                .await
                .map_err(crate::db::sqlx_err)?
                .detach(),
        };
        // One simple-query message, so its values are written into the text (by
        // sea-query, which quotes them). On an error the connection is dropped, and the
        // open transaction with it.
        let sql = format!("BEGIN; {}", record_all(consumer, events));
        let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut connection)
            .await
            .map_err(exec_err)?;
        let mut recorded = rows
            .iter()
            .map(|row| row.try_get::<Uuid, _>(0))
            .collect::<Result<HashSet<_>, _>>()
            .map_err(exec_err)?;
        // An event delivered twice in one batch is new once.
        let new = events.iter().map(|e| recorded.remove(&e.id)).collect();
        Ok((
            ConsumerTxn(Inner::Postgres(tokio::sync::Mutex::new(connection))),
            new,
        ))
    }

    pub(super) async fn commit(&mut self, txn: ConsumerTxn) -> Result<(), DbErr> {
        match txn.0 {
            Inner::Postgres(connection) => self.end(connection.into_inner(), "COMMIT").await,
            Inner::Pooled(txn) => txn.commit().await,
        }
    }

    pub(super) async fn rollback(&mut self, txn: ConsumerTxn) -> Result<(), DbErr> {
        match txn.0 {
            Inner::Postgres(connection) => self.end(connection.into_inner(), "ROLLBACK").await,
            Inner::Pooled(txn) => txn.rollback().await,
        }
    }

    /// Keeps the connection for the next transaction only when this one ended cleanly:
    /// whatever else happened to it, a new one is cheaper than doubt.
    async fn end(&mut self, mut connection: PgConnection, sql: &'static str) -> Result<(), DbErr> {
        sqlx::raw_sql(sql)
            .execute(&mut connection)
            .await
            .map_err(exec_err)?;
        self.connection = Some(connection);
        Ok(())
    }

    /// Ends the lane's session, if it holds one (a lane idle for a while, or stopping).
    pub(super) async fn release(&mut self) {
        if let Some(connection) = self.connection.take() {
            let _ = connection.close().await;
        }
    }
}

/// `INSERT … ON CONFLICT DO NOTHING RETURNING event_id` of the events' ids, as text.
fn record_all(consumer: &str, events: &[&IncomingEvent]) -> String {
    let now = Utc::now();
    let mut insert = Query::insert();
    insert
        .into_table(processed::Entity)
        .columns([
            processed::Column::Consumer,
            processed::Column::EventId,
            processed::Column::Subject,
            processed::Column::ProcessedAt,
        ])
        .on_conflict(
            OnConflict::columns([processed::Column::Consumer, processed::Column::EventId])
                .do_nothing()
                .to_owned(),
        )
        .returning_col(processed::Column::EventId);
    for event in events {
        insert.values_panic([
            Expr::val(consumer),
            Expr::val(event.id),
            Expr::val(event.subject.as_str()),
            Expr::val(now),
        ]);
    }
    insert.to_string(PostgresQueryBuilder)
}

/// One event's id recorded with sea-orm: false when it already was.
async fn record(
    txn: &DatabaseTransaction,
    consumer: &str,
    event: &IncomingEvent,
) -> Result<bool, DbErr> {
    let inserted = processed::Entity::insert(processed::ActiveModel {
        consumer: Set(consumer.to_string()),
        event_id: Set(event.id),
        subject: Set(event.subject.clone()),
        processed_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([processed::Column::Consumer, processed::Column::EventId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(inserted > 0)
}

fn exec_err(error: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
}

fn query_err(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
}

/// A sea-orm statement as an sqlx query, its values bound (and prepared, as sea-orm's).
fn bound(stmt: &Statement) -> sqlx::query::Query<'_, sqlx::Postgres, SqlxValues> {
    let values = stmt
        .values
        .clone()
        .unwrap_or_else(|| sea_orm::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

#[async_trait]
impl ConnectionTrait for ConsumerTxn {
    fn get_database_backend(&self) -> DbBackend {
        match &self.0 {
            Inner::Postgres(_) => DbBackend::Postgres,
            Inner::Pooled(txn) => txn.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match &self.0 {
            Inner::Postgres(connection) => bound(&stmt)
                .execute(&mut *connection.lock().await)
                .await
                .map(Into::into)
                .map_err(exec_err),
            Inner::Pooled(txn) => txn.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match &self.0 {
            Inner::Postgres(connection) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut *connection.lock().await)
                .await
                .map(Into::into)
                .map_err(exec_err),
            Inner::Pooled(txn) => txn.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.0 {
            Inner::Postgres(connection) => bound(&stmt)
                .fetch_optional(&mut *connection.lock().await)
                .await
                .map(|row| row.map(Into::into))
                .map_err(query_err),
            Inner::Pooled(txn) => txn.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.0 {
            Inner::Postgres(connection) => bound(&stmt)
                .fetch_all(&mut *connection.lock().await)
                .await
                .map(|rows| rows.into_iter().map(Into::into).collect())
                .map_err(query_err),
            Inner::Pooled(txn) => txn.query_all_raw(stmt).await,
        }
    }
}
