//! Databases: one per service, PostgreSQL in production and SQLite for the embedded
//! default, chosen by URL; running a service's migrations (with the platform's own
//! tables) exactly once even when several replicas start together.

use std::time::Duration;

use sea_orm::sqlx;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::{MigrationTrait, MigratorTrait};

use crate::config::DatabaseSettings;

mod kept;
pub use kept::{KEEP_AT_MOST, KEEP_IDLE, KeptConnections};

/// Opens the pool of one service's database without touching the server yet (the gRPC
/// server starts before the database is reachable and reports NOT_SERVING meanwhile).
///
/// PostgreSQL: unless the URL names a per-service database with `{service}`, every
/// service lives in its own schema named after it. SQLite: the file and its directory
/// are created; one connection per pool, so that writers queue instead of failing with
/// SQLITE_BUSY on a lock upgrade.
pub async fn connect(
    settings: &DatabaseSettings,
    service: &str,
) -> Result<DatabaseConnection, DbErr> {
    let url = settings.url_for(service);
    let mut options = ConnectOptions::new(url.clone());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        // A checkout test costs a round trip per query; idle connections are still
        // checked, which catches a restarted server.
        .test_before_acquire(false)
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .connect_lazy(true);
    if settings.is_sqlite() {
        let path = sqlite_path(&url);
        if let Some(parent) = std::path::Path::new(&path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", parent.display())))?;
        }
        options
            .max_connections(1)
            .min_connections(1)
            .connect_lazy(false)
            .map_sqlx_sqlite_opts(|opts| {
                opts.create_if_missing(true)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
    } else {
        options
            .max_connections(settings.max_connections)
            .set_application_name(format!("fabrique-{service}"));
        if !settings.url.contains("{service}") {
            options.set_schema_search_path(service.to_string());
        }
    }
    Database::connect(options).await
}

/// `postgres://u@h:5432/postgres?x=y` with its database replaced by `name` (the same
/// server and credentials): for tools and tests that create databases of their own.
pub fn with_database(url: &str, name: &str) -> String {
    let authority_start = url.find("://").map(|i| i + 3).unwrap_or(0);
    let (base, tail) = match url[authority_start..].find('/') {
        Some(slash) => url.split_at(authority_start + slash),
        None => (url, ""),
    };
    let query = tail.find('?').map(|q| &tail[q..]).unwrap_or("");
    format!("{base}/{name}{query}")
}

fn sqlite_path(url: &str) -> String {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    rest.split('?').next().unwrap_or(rest).to_string()
}

/// Creates the service's schema (PostgreSQL, schema per service) and applies every
/// pending migration. Replicas starting together serialize on an advisory lock.
pub async fn migrate<M: MigratorTrait>(
    db: &DatabaseConnection,
    service: &str,
) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            let mut lock = pool.acquire().await.map_err(sqlx_err)?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(lock_key("migrate", service))
                .execute(&mut *lock)
                .await
                .map_err(sqlx_err)?;
            let result = async {
                db.execute_unprepared(&format!(
                    "CREATE SCHEMA IF NOT EXISTS \"{}\"",
                    service.replace('"', "")
                ))
                .await?;
                M::up(db, None).await
            }
            .await;
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(lock_key("migrate", service))
                .execute(&mut *lock)
                .await;
            if let Err(error) = unlocked {
                // Dropping the connection ends the session and with it the lock.
                tracing::warn!(%error, "could not release the migration lock");
                lock.detach();
            }
            result
        }
        _ => M::up(db, None).await,
    }
}

pub(crate) fn sqlx_err(error: sqlx::Error) -> DbErr {
    DbErr::Conn(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(error)))
}

/// A PostgreSQL array literal (`{a,b,c}`) of `items`, to bind as one text parameter cast
/// to an array type (`$1::uuid[]`): one prepared statement whatever the number of
/// items, where an `IN` list of `n` placeholders is a statement of its own for every
/// `n`. Only for items whose text needs no quoting (numbers, UUIDs).
pub fn pg_array_literal<T: std::fmt::Display>(items: &[T]) -> String {
    use std::fmt::Write;
    let mut array = String::with_capacity(items.len() * 16 + 2);
    array.push('{');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            array.push(',');
        }
        let _ = write!(array, "{item}");
    }
    array.push('}');
    array
}

/// A stable 64-bit key for PostgreSQL advisory locks, distinct per purpose and service.
pub fn lock_key(purpose: &str, service: &str) -> i64 {
    crate::hash::fnv1a64(format!("fabrique:{purpose}:{service}").as_bytes()) as i64
}

/// The migrations of the platform's own tables (outbox, processed events), which every
/// service's migrator lists first.
pub fn platform_migrations() -> Vec<Box<dyn MigrationTrait>> {
    crate::migrations::all()
}

/// Whether an error means the database cannot be reached right now (retry later) rather
/// than a bug: connection refused or reset, pool exhausted, server shutting down.
pub fn is_unavailable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(_) | DbErr::Query(_) => sqlx_error_of(error).is_some_and(sqlx_unavailable),
        _ => false,
    }
}

/// The sqlx error a statement failed with, if it was one.
fn sqlx_error_of(error: &DbErr) -> Option<&sqlx::Error> {
    match error {
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e)) => Some(e),
        _ => None,
    }
}

fn sqlx_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        sqlx::Error::Database(db) => match db.code() {
            // PostgreSQL: connection exceptions, shutdown, too many connections, and
            // SQLite's BUSY / LOCKED.
            Some(code) => {
                code.starts_with("08")
                    || matches!(
                        code.as_ref(),
                        "57P01" | "57P02" | "57P03" | "53300" | "5" | "6"
                    )
            }
            None => false,
        },
        _ => false,
    }
}

/// Whether PostgreSQL gave up on the transaction because of concurrent ones (deadlock
/// detected, serialization failure): the same transaction, run again, may well succeed.
/// Two inserts racing on an exclusion constraint can deadlock: each inserts its row,
/// then waits for the other's to commit before checking it.
pub fn is_concurrency_conflict(error: &DbErr) -> bool {
    match sqlx_error_of(error) {
        Some(sqlx::Error::Database(db)) => {
            matches!(db.code().as_deref(), Some("40P01") | Some("40001"))
        }
        _ => false,
    }
}

/// Whether an error is a unique-constraint violation (e.g. a concurrent duplicate).
/// To tell which key was hit, see [`violates`].
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// A unique key of a table, as its migration creates it, so that an insert that breaks
/// it can be told from one that breaks another key of the same table ([`violates`]).
/// The two backends report a violation differently: PostgreSQL names the index or
/// constraint, SQLite only the table and the columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniqueKey {
    /// The unique index's (or constraint's) name on PostgreSQL.
    pub name: &'static str,
    /// The table it belongs to.
    pub table: &'static str,
    /// Its columns, in the index's order (SQLite lists them so).
    pub columns: &'static [&'static str],
}

/// Whether `error` is a violation of the unique key `key` (not of another key of the
/// table, nor another kind of error): a retried request finding its first copy's row
/// by one key must not be mistaken for a duplicate of another.
pub fn violates(error: &DbErr, key: &UniqueKey) -> bool {
    let Some(sqlx::Error::Database(db)) = sqlx_error_of(error) else {
        return false;
    };
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return pg.code() == "23505" && pg.constraint() == Some(key.name);
    }
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return db.kind() == sqlx::error::ErrorKind::UniqueViolation
            && sqlite_names_key(db.message(), key);
    }
    false
}

/// Whether SQLite's `UNIQUE constraint failed: t.a, t.b` names exactly `key`'s columns.
fn sqlite_names_key(message: &str, key: &UniqueKey) -> bool {
    let Some(columns) = message.strip_prefix("UNIQUE constraint failed: ") else {
        return false;
    };
    let mut named = columns.split(", ");
    key.columns.iter().all(|column| {
        named.next().is_some_and(|qualified| {
            qualified
                .strip_prefix(key.table)
                .and_then(|rest| rest.strip_prefix('.'))
                == Some(*column)
        })
    }) && named.next().is_none()
}

pub(crate) fn exec_err(error: sqlx::Error) -> DbErr {
    DbErr::Exec(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(error)))
}

pub(crate) fn query_err(error: sqlx::Error) -> DbErr {
    DbErr::Query(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(error)))
}

/// A sea-orm statement as an sqlx query, its values bound (and prepared, as sea-orm's).
pub(crate) fn bound(
    stmt: &sea_orm::Statement,
) -> sqlx::query::Query<'_, sqlx::Postgres, sea_query_sqlx::SqlxValues> {
    let values = stmt
        .values
        .clone()
        .unwrap_or_else(|| sea_orm::Values(Vec::new()));
    sqlx::query_with(
        sqlx::AssertSqlSafe(stmt.sql.as_str()),
        sea_query_sqlx::SqlxValues(values),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_come_out_of_urls() {
        assert_eq!(sqlite_path("sqlite://data/members.db"), "data/members.db");
        assert_eq!(sqlite_path("sqlite:///tmp/x.db?mode=rwc"), "/tmp/x.db");
    }

    #[test]
    fn database_names_replace_the_path() {
        assert_eq!(
            with_database("postgres://p@h:5432/postgres", "x"),
            "postgres://p@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://p@h/postgres?sslmode=disable", "x"),
            "postgres://p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://p@h", "x"), "postgres://p@h/x");
    }

    #[test]
    fn array_literals_list_their_items() {
        assert_eq!(pg_array_literal::<i64>(&[]), "{}");
        assert_eq!(pg_array_literal(&[1i64, 22, 333]), "{1,22,333}");
    }

    #[test]
    fn lock_keys_differ_per_service() {
        assert_ne!(lock_key("relay", "members"), lock_key("relay", "registry"));
        assert_eq!(lock_key("relay", "members"), lock_key("relay", "members"));
    }

    #[test]
    fn sqlite_messages_name_a_key_by_its_table_and_columns() {
        let key = UniqueKey {
            name: "places_source_key",
            table: "places",
            columns: &["source", "external_id"],
        };
        let failed = |columns: &str| format!("UNIQUE constraint failed: {columns}");
        assert!(sqlite_names_key(
            &failed("places.source, places.external_id"),
            &key
        ));
        assert!(!sqlite_names_key(&failed("places.source"), &key));
        assert!(!sqlite_names_key(
            &failed("places.source, places.external_id, places.id"),
            &key
        ));
        assert!(!sqlite_names_key(
            &failed("places.external_id, places.source"),
            &key
        ));
        assert!(!sqlite_names_key(
            &failed("other_places.source, other_places.external_id"),
            &key
        ));
        assert!(!sqlite_names_key(
            "NOT NULL constraint failed: places.source",
            &key
        ));
    }
}
