//! `KeptConnections`: single statements on connections kept out of sqlx's pool, never
//! more than half the pool, handed back when they fail or sit unused.

use std::sync::Arc;
use std::time::Duration;

use fabrique_platform::db::KeptConnections;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};

use crate::database;

async fn backend_pid<C: ConnectionTrait>(db: &C) -> Result<i32, sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_backend_pid() AS pid",
        ))
        .await?
        .expect("a row");
    Ok(row.try_get::<i32>("", "pid").expect("pid"))
}

/// Connections of the pool in use (kept ones included).
fn checked_out(db: &DatabaseConnection) -> usize {
    let pool = db.get_postgres_connection_pool();
    pool.size() as usize - pool.num_idle()
}

/// Waits for the pool to count `count` connections in use and to stay there a moment
/// (connections go back to sqlx's pool in a task of their own, the migrations' too).
async fn settles_at(db: &DatabaseConnection, count: usize, what: &str) {
    fabrique_testkit::eventually(what, Duration::from_secs(5), || {
        std::future::ready((checked_out(db) == count).then_some(()))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(checked_out(db), count, "{what}");
}

#[tokio::test]
async fn statements_reuse_a_connection_kept_out_of_the_pool() {
    let pg = fabrique_testkit::TestDatabase::create().await;
    let dir = fabrique_testkit::TempDir::new("kept");
    let db = database(Some(&pg), &dir).await;
    let kept = KeptConnections::new(db.clone());

    let first = backend_pid(&kept).await.expect("pid");
    for _ in 0..5 {
        assert_eq!(backend_pid(&kept).await.expect("pid"), first);
    }
    assert_eq!(kept.kept(), 1);
    settles_at(&db, 1, "the kept connection out of the pool").await;
}

#[tokio::test]
async fn at_most_half_the_pool_is_kept() {
    let pg = fabrique_testkit::TestDatabase::create().await;
    let dir = fabrique_testkit::TempDir::new("kept");
    // The test kit's pools have 8 connections.
    let db = database(Some(&pg), &dir).await;
    let kept = Arc::new(KeptConnections::new(db.clone()));

    let sleeps = (0..16).map(|_| {
        let kept = kept.clone();
        tokio::spawn(async move {
            kept.execute_unprepared("SELECT pg_sleep(0.05)")
                .await
                .map(|_| ())
        })
    });
    for sleep in futures::future::join_all(sleeps).await {
        sleep.expect("task").expect("statement");
    }
    assert_eq!(kept.kept(), 4);
    settles_at(&db, 4, "four kept out of the pool").await;
}

#[tokio::test]
async fn a_failed_statement_hands_its_connection_back() {
    let pg = fabrique_testkit::TestDatabase::create().await;
    let dir = fabrique_testkit::TempDir::new("kept");
    let db = database(Some(&pg), &dir).await;
    let kept = KeptConnections::new(db.clone());

    backend_pid(&kept).await.expect("pid");
    let error = kept
        .execute_unprepared("SELECT 1 / 0")
        .await
        .expect_err("division by zero");
    assert!(error.to_string().contains("division by zero"), "{error}");
    assert_eq!(kept.kept(), 0);
    settles_at(&db, 0, "the connection back in the pool").await;

    // A connection the server ended fails its next statement once, then a new one
    // is taken.
    let pid = backend_pid(&kept).await.expect("pid after the error");
    db.execute_unprepared(&format!("SELECT pg_terminate_backend({pid})"))
        .await
        .expect("terminate");
    let cut = backend_pid(&kept)
        .await
        .expect_err("its server process ended");
    assert!(fabrique_platform::db::is_unavailable(&cut), "{cut}");
    let again = backend_pid(&kept).await.expect("a new connection");
    assert_ne!(again, pid);
}

#[tokio::test]
async fn connections_unused_for_a_while_go_back_to_the_pool() {
    let pg = fabrique_testkit::TestDatabase::create().await;
    let dir = fabrique_testkit::TempDir::new("kept");
    let db = database(Some(&pg), &dir).await;
    let kept = Arc::new(KeptConnections::new(db.clone()).keep_idle(Duration::from_millis(200)));

    let two = (0..2).map(|_| {
        let kept = kept.clone();
        async move { kept.execute_unprepared("SELECT pg_sleep(0.05)").await }
    });
    for done in futures::future::join_all(two).await {
        done.expect("statement");
    }
    assert_eq!(kept.kept(), 2);

    tokio::time::sleep(Duration::from_millis(300)).await;
    kept.execute_unprepared("SELECT 1")
        .await
        .expect("statement");
    assert_eq!(
        kept.kept(),
        1,
        "the one used again is kept, the other handed back"
    );
}

#[tokio::test]
async fn on_sqlite_statements_go_to_the_pool() {
    let dir = fabrique_testkit::TempDir::new("kept");
    let db = database(None, &dir).await;
    let kept = KeptConnections::new(db.clone());

    kept.execute_unprepared("CREATE TABLE things (id INTEGER PRIMARY KEY)")
        .await
        .expect("table");
    kept.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "INSERT INTO things (id) VALUES (?)",
        [7.into()],
    ))
    .await
    .expect("insert");
    let row = kept
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT count(*) AS n FROM things",
        ))
        .await
        .expect("count")
        .expect("row");
    assert_eq!(row.try_get::<i64>("", "n").expect("n"), 1);
    assert_eq!(kept.kept(), 0);
}

#[tokio::test]
async fn a_pool_of_one_keeps_nothing_from_transactions() {
    let pg = fabrique_testkit::TestDatabase::create().await;
    let settings = fabrique_platform::config::DatabaseSettings {
        url: pg.url.clone(),
        max_connections: 1,
    };
    let db = fabrique_platform::db::connect(&settings, "tests")
        .await
        .expect("pool");
    let kept = KeptConnections::new(db.clone());

    backend_pid(&kept).await.expect("a statement");
    assert_eq!(kept.kept(), 0);
    // Held by `kept`, the pool's only connection would make this wait for good.
    let txn = tokio::time::timeout(Duration::from_secs(5), db.begin())
        .await
        .expect("a transaction without waiting")
        .expect("begin");
    txn.commit().await.expect("commit");
}

#[tokio::test]
async fn a_busy_kept_connection_still_meets_the_pools_lifetime() {
    let pg = fabrique_testkit::TestDatabase::create().await;
    let mut options = sea_orm::ConnectOptions::new(pg.url.clone());
    options
        .max_connections(4)
        .max_lifetime(Duration::from_millis(300))
        .sqlx_logging(false);
    let db = sea_orm::Database::connect(options).await.expect("pool");
    let kept = KeptConnections::new(db.clone()).keep_at_most(Duration::from_millis(100));

    // A statement every 20 ms: never idle long enough to go back for that reason.
    let mut pids = std::collections::HashSet::new();
    let began = std::time::Instant::now();
    while began.elapsed() < Duration::from_secs(2) {
        pids.insert(backend_pid(&kept).await.expect("pid"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        pids.len() > 1,
        "one server process for 2 s through a pool whose connections live 300 ms"
    );
}
