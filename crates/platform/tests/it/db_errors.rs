//! How database errors reach callers: a transaction PostgreSQL aborts to break a
//! deadlock is a concurrency conflict (ABORTED: run it again), not an internal error.

use fabrique_platform::error::Error;
use sea_orm::{ConnectionTrait, TransactionTrait};

#[tokio::test]
async fn a_deadlock_victim_is_a_concurrency_conflict() {
    let pg = fabrique_testkit::TestDatabase::create().await;
    let dir = fabrique_testkit::TempDir::new("db-errors");
    let db = crate::database(Some(&pg), &dir).await;
    db.execute_unprepared(
        "CREATE TABLE pair (id INT PRIMARY KEY, n INT NOT NULL); \
         INSERT INTO pair VALUES (1, 0), (2, 0)",
    )
    .await
    .expect("table");

    // Each holds one row and asks for the other's: PostgreSQL fails one of them.
    let a = db.begin().await.expect("begin a");
    let b = db.begin().await.expect("begin b");
    a.execute_unprepared("UPDATE pair SET n = n + 1 WHERE id = 1")
        .await
        .expect("a holds 1");
    b.execute_unprepared("UPDATE pair SET n = n + 1 WHERE id = 2")
        .await
        .expect("b holds 2");
    let (on_a, on_b) = tokio::join!(
        a.execute_unprepared("UPDATE pair SET n = n + 1 WHERE id = 2"),
        b.execute_unprepared("UPDATE pair SET n = n + 1 WHERE id = 1"),
    );
    let victim = match (on_a, on_b) {
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => error,
        other => panic!("exactly one deadlock victim expected: {other:?}"),
    };
    assert!(
        fabrique_platform::db::is_concurrency_conflict(&victim),
        "{victim}"
    );
    assert!(!fabrique_platform::db::is_unavailable(&victim));
    let status = tonic::Status::from(Error::from(victim));
    assert_eq!(status.code(), tonic::Code::Aborted, "{status:?}");
    let _ = a.rollback().await;
    let _ = b.rollback().await;

    // A plain constraint violation is not one.
    let duplicate = db
        .execute_unprepared("INSERT INTO pair VALUES (1, 0)")
        .await
        .expect_err("duplicate key");
    assert!(!fabrique_platform::db::is_concurrency_conflict(&duplicate));
}

/// Unique keys as services declare them: a plain one and a partial one of two columns.
const NAME_KEY: fabrique_platform::db::UniqueKey = fabrique_platform::db::UniqueKey {
    name: "keyed_name",
    table: "keyed",
    columns: &["name"],
};
const SOURCE_KEY: fabrique_platform::db::UniqueKey = fabrique_platform::db::UniqueKey {
    name: "keyed_source_key",
    table: "keyed",
    columns: &["source", "external_id"],
};

/// A duplicate is told apart by the key it breaks, on either backend (PostgreSQL names
/// the index, SQLite the table and columns).
async fn a_duplicate_names_the_key_it_breaks(postgres: bool) {
    let pg = fabrique_testkit::TestDatabase::create_if(postgres).await;
    let dir = fabrique_testkit::TempDir::new("db-errors-keys");
    let db = crate::database(pg.as_ref(), &dir).await;
    for statement in [
        "CREATE TABLE keyed (id INT PRIMARY KEY, name TEXT, source TEXT, external_id TEXT)",
        "CREATE UNIQUE INDEX keyed_name ON keyed (name)",
        "CREATE UNIQUE INDEX keyed_source_key ON keyed (source, external_id) \
         WHERE source IS NOT NULL",
        "INSERT INTO keyed VALUES (1, 'a', 'csv', 'x')",
    ] {
        db.execute_unprepared(statement).await.expect(statement);
    }

    let same_name = db
        .execute_unprepared("INSERT INTO keyed VALUES (2, 'a', 'csv', 'y')")
        .await
        .expect_err("the same name");
    assert!(
        fabrique_platform::db::violates(&same_name, &NAME_KEY),
        "{same_name}"
    );
    assert!(!fabrique_platform::db::violates(&same_name, &SOURCE_KEY));
    assert!(fabrique_platform::db::is_unique_violation(&same_name));

    let same_source = db
        .execute_unprepared("INSERT INTO keyed VALUES (3, 'b', 'csv', 'x')")
        .await
        .expect_err("the same source row");
    assert!(
        fabrique_platform::db::violates(&same_source, &SOURCE_KEY),
        "{same_source}"
    );
    assert!(!fabrique_platform::db::violates(&same_source, &NAME_KEY));

    // Another kind of error is no key's violation.
    let missing = db
        .execute_unprepared("INSERT INTO nowhere VALUES (1)")
        .await
        .expect_err("no such table");
    assert!(!fabrique_platform::db::violates(&missing, &NAME_KEY));
}

#[tokio::test]
async fn postgres_duplicates_name_the_key_they_break() {
    a_duplicate_names_the_key_it_breaks(true).await;
}

#[tokio::test]
async fn sqlite_duplicates_name_the_key_they_break() {
    a_duplicate_names_the_key_it_breaks(false).await;
}
