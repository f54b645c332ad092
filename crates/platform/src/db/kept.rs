//! [`KeptConnections`]: a service's hottest single statements on PostgreSQL connections
//! kept checked out of sqlx's pool between them.
//!
//! sqlx checks every connection handed back to its pool with a round trip (`Sync`,
//! then waiting for `ReadyForQuery`), whatever the statement was: a second wake-up of
//! the PostgreSQL backend for each statement, and 9–10 % of the members process's CPU
//! in `create-member` (docs/performance.md). Connections kept here skip that check;
//! they still come from the pool and count against its size.

use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::future::BoxFuture;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, PgConnection, Postgres};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, IsolationLevel, QueryResult, Statement, TransactionError, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::{Semaphore, SemaphorePermit};

/// How long a kept connection may sit unused before it goes back to the pool, where
/// the pool's own policies (its check of idle connections, its idle timeout) apply.
pub const KEEP_IDLE: Duration = Duration::from_secs(2);

/// How long a connection stays out of the pool in all, however busy: back in the pool,
/// its maximum lifetime (sqlx's, 30 minutes by default) still replaces it.
pub const KEEP_AT_MOST: Duration = Duration::from_secs(600);

/// A [`DatabaseConnection`] whose single statements (on PostgreSQL) run on up to half
/// the pool's connections, kept out of the pool between statements (the other half
/// stays for transactions and other work). Statements beyond that wait their turn, first
/// come first served: letting them take from the pool instead let new arrivals overtake
/// them on the kept connections (`create-member` p99 27 → 75 ms). Transactions,
/// everything on SQLite and everything on a pool of one connection go to the pool as
/// before. Pass it wherever sea-orm takes a connection.
///
/// A statement that fails hands its connection back to the pool, which closes it if it
/// is broken: after a server restart, as with the pool, a statement per kept connection
/// may fail before new ones are taken.
pub struct KeptConnections {
    db: DatabaseConnection,
    limit: usize,
    /// One per statement on a kept connection; fair.
    turns: Semaphore,
    keep_idle: Duration,
    keep_at_most: Duration,
    /// Most recently used last: statements take from the end, so under a light load
    /// the connections at the front age out.
    idle: Mutex<Vec<Kept>>,
}

struct Kept {
    connection: PoolConnection<Postgres>,
    /// When it was taken from the pool.
    taken: Instant,
    last_used: Instant,
}

impl KeptConnections {
    /// Keeps up to half of `db`'s PostgreSQL pool; none elsewhere, where it is `db` as is.
    pub fn new(db: DatabaseConnection) -> Self {
        let limit = match db.get_database_backend() {
            DbBackend::Postgres => {
                let size = db
                    .get_postgres_connection_pool()
                    .options()
                    .get_max_connections();
                // A pool of one keeps none: its only connection, held here, would
                // leave transactions waiting for it.
                size as usize / 2
            }
            _ => 0,
        };
        Self {
            db,
            limit,
            turns: Semaphore::new(limit),
            keep_idle: KEEP_IDLE,
            keep_at_most: KEEP_AT_MOST,
            idle: Mutex::new(Vec::with_capacity(limit)),
        }
    }

    /// Instead of [`KEEP_IDLE`].
    pub fn keep_idle(mut self, keep_idle: Duration) -> Self {
        self.keep_idle = keep_idle;
        self
    }

    /// Instead of [`KEEP_AT_MOST`].
    pub fn keep_at_most(mut self, keep_at_most: Duration) -> Self {
        self.keep_at_most = keep_at_most;
        self
    }

    /// Whether statements run on kept connections: on PostgreSQL, with a pool of at
    /// least two.
    fn keeps(&self) -> bool {
        self.limit > 0
    }

    /// A turn, and the most recently used kept connection or one from the pool.
    /// Connections unused for longer than `keep_idle` go back to the pool on the way.
    async fn take(&self) -> Result<(SemaphorePermit<'_>, Kept), DbErr> {
        let turn = self
            .turns
            .acquire()
            .await
            .map_err(|_| DbErr::Custom("kept connections closed".into()))?;
        let kept = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let fresh = idle
                .iter()
                .position(|kept| kept.last_used.elapsed() < self.keep_idle)
                .unwrap_or(idle.len());
            // Dropped (so handed back) outside the lock.
            let stale: Vec<_> = idle.drain(..fresh).collect();
            let kept = idle.pop();
            drop(idle);
            drop(stale);
            kept
        };
        let kept = match kept {
            Some(kept) => kept,
            None => {
                let connection = self
                    .db
                    .get_postgres_connection_pool()
                    .acquire()
                    .await
                    .map_err(super::sqlx_err)?;
                let now = Instant::now();
                Kept {
                    connection,
                    taken: now,
                    last_used: now,
                }
            }
        };
        Ok((turn, kept))
    }

    /// Keeps the connection of a statement that succeeded (one that failed is dropped,
    /// which hands it back to the pool), unless it has been out of the pool for
    /// `keep_at_most`; then ends its turn.
    fn keep(&self, turn: SemaphorePermit<'_>, mut kept: Kept) {
        if kept.taken.elapsed() < self.keep_at_most {
            kept.last_used = Instant::now();
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < self.limit {
                idle.push(kept);
            }
        }
        drop(turn);
    }

    /// Runs one statement on a kept connection (taking a turn first), and keeps the
    /// connection if it succeeded.
    async fn on_kept<T>(
        &self,
        run: impl for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, DbErr>> + Send,
    ) -> Result<T, DbErr> {
        let (turn, mut kept) = self.take().await?;
        let result = run(&mut kept.connection).await?;
        self.keep(turn, kept);
        Ok(result)
    }

    /// How many connections are kept idle now.
    pub fn kept(&self) -> usize {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[async_trait]
impl ConnectionTrait for KeptConnections {
    fn get_database_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        if !self.keeps() {
            return self.db.execute_raw(stmt).await;
        }
        self.on_kept(move |c| {
            Box::pin(async move {
                super::bound(&stmt)
                    .execute(c)
                    .await
                    .map_err(super::exec_err)
            })
        })
        .await
        .map(Into::into)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        if !self.keeps() {
            return self.db.execute_unprepared(sql).await;
        }
        let sql = sql.to_owned();
        self.on_kept(move |c| {
            Box::pin(async move {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(c)
                    .await
                    .map_err(super::exec_err)
            })
        })
        .await
        .map(Into::into)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        if !self.keeps() {
            return self.db.query_one_raw(stmt).await;
        }
        self.on_kept(move |c| {
            Box::pin(async move {
                super::bound(&stmt)
                    .fetch_optional(c)
                    .await
                    .map_err(super::query_err)
            })
        })
        .await
        .map(|row| row.map(Into::into))
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        if !self.keeps() {
            return self.db.query_all_raw(stmt).await;
        }
        self.on_kept(move |c| {
            Box::pin(async move {
                super::bound(&stmt)
                    .fetch_all(c)
                    .await
                    .map_err(super::query_err)
            })
        })
        .await
        .map(|rows| rows.into_iter().map(Into::into).collect())
    }
}

/// Transactions are the pool's: a kept connection only ever runs single statements.
#[async_trait]
impl TransactionTrait for KeptConnections {
    type Transaction = DatabaseTransaction;

    async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.db.begin().await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.db
            .begin_with_config(isolation_level, access_mode)
            .await
    }

    async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.db.begin_with_options(options).await
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.db.transaction(callback).await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.db
            .transaction_with_config(callback, isolation_level, access_mode)
            .await
    }
}
