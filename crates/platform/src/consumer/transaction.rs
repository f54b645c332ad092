//! The transaction a consumer applies events in ([`ConsumerTxn`]), and the connection
//! each lane runs it on ([`LaneDb`]).
//!
//! On PostgreSQL a lane keeps a connection of its own, detached from the pool, and
//! sends `BEGIN` in the same message as the statement recording the events' ids. Those
//! round trips were most of PostgreSQL's work per event (docs/performance.md,
//! event-latency), so a lane's first try goes further ([`LaneDb::begin_deferred`]):
//! `BEGIN` and the record wait for the handler's first statement (a write or a query)
//! and go out with it, its values written into the text. An event then costs two round
//! trips (that message, and `COMMIT`) where the record-first transaction
//! ([`LaneDb::begin`]) takes three and a pooled sea-orm one five (`BEGIN` alone, and
//! sqlx's check of every connection going back to the pool). A handler whose first
//! statement is also its last says so ([`ConsumerTxn::commit_with_next_statement`]), and
//! `COMMIT` goes out in the same message: one round trip. Elsewhere (SQLite) it is a
//! sea-orm transaction from the pool.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::Utc;
use futures::TryStreamExt;
use sea_orm::sea_query::{Expr, OnConflict, PostgresQueryBuilder, Query, inject_parameters};
use sea_orm::sqlx::postgres::{PgQueryResult, PgRow};
use sea_orm::sqlx::{self, Connection, Either, PgConnection, Row};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    ExecResult, QueryResult, Set, Statement, TransactionTrait,
};
use uuid::Uuid;

use super::processed;
use crate::db::{bound, exec_err, query_err};
use crate::event::IncomingEvent;

/// The transaction an [`EventHandler`](super::EventHandler) applies an event in: pass it
/// wherever sea-orm takes a connection. The runner commits it with the event's id.
pub struct ConsumerTxn {
    inner: Inner,
    /// Set when [`crate::outbox::enqueue`] wrote events: only then does the commit wake the service's
    /// relay.
    wrote_events: AtomicBool,
    /// Set by [`Self::commit_with_next_statement`], taken by the next statement.
    commit_next: AtomicBool,
    /// While set, [`Self::commit_with_next_statement`] is not heeded: the handler's
    /// `handle` runs for one event of several ([`super::EventHandler::handle_all`]'s
    /// default), and its last statement is not the transaction's.
    commit_held: AtomicBool,
}

enum Inner {
    /// A lane's own connection, inside `BEGIN` or about to be. Statements run one at a
    /// time, in order.
    Postgres(tokio::sync::Mutex<LaneTxn>),
    Pooled(DatabaseTransaction),
}

struct LaneTxn {
    connection: PgConnection,
    /// `BEGIN` and the record of the events' ids, not sent yet: they go out in the
    /// message of the first statement, or of the `COMMIT`.
    opening: Option<Opening>,
    /// `COMMIT` went out with the handler's last statement: nothing more may be sent.
    committed: bool,
}

struct Opening {
    /// `INSERT …` of the events' ids, values in the text, without its conflict clause.
    insert: String,
    /// The events' ids: sent ahead of a statement, all must come back as newly recorded.
    ids: Vec<Uuid>,
}

impl crate::outbox::EventWriter for ConsumerTxn {
    fn events_written(&self) {
        self.wrote_events.store(true, Ordering::Relaxed);
    }
}

impl ConsumerTxn {
    fn new(inner: Inner) -> Self {
        Self {
            inner,
            wrote_events: AtomicBool::new(false),
            commit_next: AtomicBool::new(false),
            commit_held: AtomicBool::new(false),
        }
    }

    /// The handler's next statement is its last: on PostgreSQL, when it is also the
    /// first (the transaction's start and the record of the events' ids are still to
    /// be sent), `COMMIT` goes out in the same message, a round trip less (and the
    /// lane free a commit earlier). The statement's answer then means committed; a
    /// statement after it fails. Anywhere else the hint changes nothing, and the runner
    /// commits as usual.
    pub fn commit_with_next_statement(&self) {
        if !self.commit_held.load(Ordering::Relaxed) {
            self.commit_next.store(true, Ordering::Relaxed);
        }
    }

    /// See `commit_held`.
    pub(super) fn hold_commit(&self, held: bool) {
        self.commit_held.store(held, Ordering::Relaxed);
    }

    /// Whether the statement about to be sent was announced as the last.
    fn takes_commit(&self) -> bool {
        self.commit_next.swap(false, Ordering::Relaxed)
    }

    /// Whether a handler wrote events to the outbox in this transaction.
    pub(super) fn wrote_events(&self) -> bool {
        self.wrote_events.load(Ordering::Relaxed)
    }
}

impl Opening {
    /// The record that `consumer` handled `events`, to go out in a simple-query message
    /// (so the values are written into the text, quoted by sea-query).
    fn of(consumer: &str, events: &[&IncomingEvent]) -> Self {
        Self {
            insert: record_all(consumer, events),
            ids: events.iter().map(|e| e.id).collect(),
        }
    }

    /// `BEGIN` and the record, which returns the ids it recorded. An event recorded
    /// already is left out of them, or, `strict`, fails the insert and everything after
    /// it in the message: a `COMMIT` there must not run after a duplicate's effect.
    fn sql(&self, strict: bool) -> String {
        let on_conflict = if strict {
            ""
        } else {
            " ON CONFLICT (\"consumer\", \"event_id\") DO NOTHING"
        };
        format!("BEGIN; {}{on_conflict} RETURNING \"event_id\"", self.insert)
    }
}

impl LaneTxn {
    /// Sends the opening, followed by `then` (statements whose values are in the text)
    /// when there is one; returns the ids recorded as new, what `then` did and the rows
    /// it returned. The record's answer is told apart from `then`'s by position:
    /// `BEGIN` completes first, the record's rows and completion come second. `strict`:
    /// see [`Opening::sql`].
    async fn open(
        &mut self,
        opening: Opening,
        then: Option<&str>,
        strict: bool,
    ) -> Result<(HashSet<Uuid>, PgQueryResult, Vec<PgRow>), DbErr> {
        let message = match then {
            Some(then) => format!("{}; {then}", opening.sql(strict)),
            None => opening.sql(strict),
        };
        let mut recorded = HashSet::with_capacity(opening.ids.len());
        let mut completed = 0;
        let mut result = PgQueryResult::default();
        let mut rows = Vec::new();
        let mut answers =
            sqlx::raw_sql(sqlx::AssertSqlSafe(message)).fetch_many(&mut self.connection);
        while let Some(answer) = answers.try_next().await.map_err(exec_err)? {
            match answer {
                Either::Left(done) => {
                    completed += 1;
                    if completed > 2 {
                        result.extend([done]);
                    }
                }
                Either::Right(row) if completed == 1 => {
                    recorded.insert(row.try_get::<Uuid, _>(0).map_err(exec_err)?);
                }
                Either::Right(row) if completed >= 2 => rows.push(row),
                Either::Right(_) => {}
            }
        }
        if completed < 2 {
            return Err(DbErr::Custom(format!(
                "the consumer transaction's opening answered {completed} statements of 2"
            )));
        }
        Ok((recorded, result, rows))
    }

    /// Sends `stmt` with the opening, its values written into the text, and requires
    /// every event to be new. `None` when the opening went out already. A statement
    /// that PostgreSQL reads differently as text than with bound values, or whose rows
    /// do not decode from text, fails here, and the runner's record-first retry sends
    /// it bound.
    /// `commit`: `COMMIT` follows `stmt` in the same message.
    async fn with_opening(
        &mut self,
        stmt: &Statement,
        commit: bool,
    ) -> Result<Option<(PgQueryResult, Vec<PgRow>)>, DbErr> {
        let Some(opening) = self.opening.take() else {
            return Ok(None);
        };
        let values = stmt.values.as_ref().map_or(&[][..], |values| &values.0[..]);
        let text = inject_parameters(&stmt.sql, values, &PostgresQueryBuilder);
        self.open_new(opening, text, commit).await.map(Some)
    }

    /// Sends the opening followed by `sql` (and `COMMIT`, when `commit`), requiring
    /// every event to be new.
    async fn open_new(
        &mut self,
        opening: Opening,
        mut sql: String,
        commit: bool,
    ) -> Result<(PgQueryResult, Vec<PgRow>), DbErr> {
        if commit {
            // On a line of its own: a statement ending in a `--` comment would
            // otherwise comment the COMMIT out, and leave the transaction open.
            sql.push_str("\n; COMMIT");
        }
        let ids = opening.ids.clone();
        let (recorded, result, rows) = self.open(opening, Some(&sql), commit).await?;
        all_new(&ids, &recorded)?;
        self.committed = commit;
        Ok((result, rows))
    }

    /// Statements may still be sent: not after the `COMMIT` went out with one.
    fn open_for_statements(&self) -> Result<(), DbErr> {
        if self.committed {
            return Err(DbErr::Custom(
                "the consumer transaction was committed with the statement announced as its last"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Runs `sql` (values in the text), with the opening when it is still pending.
    async fn execute_text(&mut self, sql: &str, commit: bool) -> Result<ExecResult, DbErr> {
        self.open_for_statements()?;
        match self.opening.take() {
            Some(opening) => Ok(self
                .open_new(opening, sql.to_owned(), commit)
                .await?
                .0
                .into()),
            None => sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut self.connection)
                .await
                .map(Into::into)
                .map_err(exec_err),
        }
    }
}

/// A deferred transaction whose events were not all new has run its first statement
/// for an event already handled: it must not commit (the runner starts over with the
/// record first, which tells which events to skip).
fn all_new(ids: &[Uuid], recorded: &HashSet<Uuid>) -> Result<(), DbErr> {
    match ids.iter().find(|id| !recorded.contains(id)) {
        None => Ok(()),
        Some(id) => Err(DbErr::Custom(format!("event {id} was already handled"))),
    }
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
            return Ok((ConsumerTxn::new(Inner::Pooled(txn)), new));
        }
        // On an error the connection is dropped, and the open transaction with it.
        let mut txn = LaneTxn {
            connection: self.connection().await?,
            opening: None,
            committed: false,
        };
        let (mut recorded, _, _) = txn.open(Opening::of(consumer, events), None, false).await?;
        // An event delivered twice in one batch is new once.
        let new = events.iter().map(|e| recorded.remove(&e.id)).collect();
        Ok((
            ConsumerTxn::new(Inner::Postgres(tokio::sync::Mutex::new(txn))),
            new,
        ))
    }

    /// Whether [`Self::begin_deferred`] can start a transaction: on PostgreSQL.
    pub(super) fn defers(&self) -> bool {
        self.db.get_database_backend() == DbBackend::Postgres
    }

    /// On PostgreSQL, a transaction whose `BEGIN` and record of `events` go out with its
    /// first statement (or its commit): one round trip less than [`Self::begin`]. When
    /// an event turns out to have been handled already, that statement fails and
    /// nothing may be committed; the caller rolls back and uses [`Self::begin`].
    /// `None` elsewhere, and when an event appears twice in `events`.
    pub(super) async fn begin_deferred(
        &mut self,
        consumer: &str,
        events: &[&IncomingEvent],
    ) -> Result<Option<ConsumerTxn>, DbErr> {
        if !self.defers() {
            return Ok(None);
        }
        let opening = Opening::of(consumer, events);
        if opening.ids.iter().collect::<HashSet<_>>().len() != opening.ids.len() {
            return Ok(None);
        }
        Ok(Some(ConsumerTxn::new(Inner::Postgres(
            tokio::sync::Mutex::new(LaneTxn {
                connection: self.connection().await?,
                opening: Some(opening),
                committed: false,
            }),
        ))))
    }

    /// Commits; `Some(ids recorded as new)` when the record went out with the commit
    /// (the handlers sent nothing: events already handled are then told by their
    /// absence), `None` when every event was new.
    pub(super) async fn commit(
        &mut self,
        txn: ConsumerTxn,
    ) -> Result<Option<HashSet<Uuid>>, DbErr> {
        match txn.inner {
            Inner::Postgres(txn) => {
                let mut txn = txn.into_inner();
                if txn.committed {
                    self.connection = Some(txn.connection);
                    return Ok(None);
                }
                match txn.opening.take() {
                    Some(opening) => {
                        let (recorded, _, _) = txn.open(opening, Some("COMMIT"), false).await?;
                        self.connection = Some(txn.connection);
                        Ok(Some(recorded))
                    }
                    None => self.end(txn.connection, "COMMIT").await.map(|()| None),
                }
            }
            Inner::Pooled(txn) => txn.commit().await.map(|()| None),
        }
    }

    pub(super) async fn rollback(&mut self, txn: ConsumerTxn) -> Result<(), DbErr> {
        match txn.inner {
            Inner::Postgres(txn) => {
                let txn = txn.into_inner();
                if txn.committed {
                    // A handler that failed after its announced last statement: its
                    // events are recorded as handled, and what it did after is lost.
                    self.connection = Some(txn.connection);
                    tracing::error!(
                        "a consumer handler failed after committing with its last statement"
                    );
                    return Err(DbErr::Custom(
                        "committed with its last statement: nothing to roll back".into(),
                    ));
                }
                if txn.opening.is_some() {
                    // Nothing was sent: no transaction to end.
                    self.connection = Some(txn.connection);
                    return Ok(());
                }
                self.end(txn.connection, "ROLLBACK").await
            }
            Inner::Pooled(txn) => txn.rollback().await,
        }
    }

    /// The lane's connection, or one taken from the pool.
    async fn connection(&mut self) -> Result<PgConnection, DbErr> {
        match self.connection.take() {
            Some(connection) => Ok(connection),
            None => Ok(self
                .db
                .get_postgres_connection_pool()
                .acquire()
                .await
                .map_err(crate::db::sqlx_err)?
                .detach()),
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

/// `INSERT …` of the events' ids, as text ([`Opening::sql`] adds the conflict clause
/// and `RETURNING`).
fn record_all(consumer: &str, events: &[&IncomingEvent]) -> String {
    let now = Utc::now();
    let mut insert = Query::insert();
    insert.into_table(processed::Entity).columns([
        processed::Column::Consumer,
        processed::Column::EventId,
        processed::Column::Subject,
        processed::Column::ProcessedAt,
    ]);
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

#[async_trait]
impl ConnectionTrait for ConsumerTxn {
    fn get_database_backend(&self) -> DbBackend {
        match &self.inner {
            Inner::Postgres(_) => DbBackend::Postgres,
            Inner::Pooled(txn) => txn.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match &self.inner {
            Inner::Postgres(txn) => {
                let mut txn = txn.lock().await;
                txn.open_for_statements()?;
                if let Some((result, _)) = txn.with_opening(&stmt, self.takes_commit()).await? {
                    return Ok(result.into());
                }
                bound(&stmt)
                    .execute(&mut txn.connection)
                    .await
                    .map(Into::into)
                    .map_err(exec_err)
            }
            Inner::Pooled(txn) => txn.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match &self.inner {
            Inner::Postgres(txn) => {
                let commit = self.takes_commit();
                txn.lock().await.execute_text(sql, commit).await
            }
            Inner::Pooled(txn) => txn.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.inner {
            Inner::Postgres(txn) => {
                let mut txn = txn.lock().await;
                txn.open_for_statements()?;
                if let Some((_, rows)) = txn.with_opening(&stmt, self.takes_commit()).await? {
                    return Ok(rows.into_iter().next().map(Into::into));
                }
                bound(&stmt)
                    .fetch_optional(&mut txn.connection)
                    .await
                    .map(|row| row.map(Into::into))
                    .map_err(query_err)
            }
            Inner::Pooled(txn) => txn.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.inner {
            Inner::Postgres(txn) => {
                let mut txn = txn.lock().await;
                txn.open_for_statements()?;
                if let Some((_, rows)) = txn.with_opening(&stmt, self.takes_commit()).await? {
                    return Ok(rows.into_iter().map(Into::into).collect());
                }
                bound(&stmt)
                    .fetch_all(&mut txn.connection)
                    .await
                    .map(|rows| rows.into_iter().map(Into::into).collect())
                    .map_err(query_err)
            }
            Inner::Pooled(txn) => txn.query_all_raw(stmt).await,
        }
    }
}
