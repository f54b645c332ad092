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
