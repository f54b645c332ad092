//! The replicas keep the newest version they heard of, whatever order events arrive in,
//! on PostgreSQL and on SQLite.

use fabrique_replicas::members::{self, ReplicaMember};
use fabrique_replicas::places::{self, ReplicaPlace};
use std::sync::atomic::{AtomicUsize, Ordering};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};
use sea_orm_migration::{MigrationTrait, MigratorTrait};

struct Replicas;

impl MigratorTrait for Replicas {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(members::Migration),
            Box::new(members::SiretMigration),
            Box::new(members::TerritoryMigration),
            Box::new(places::Migration),
        ]
    }
}

async fn database(
    postgres: Option<&fabrique_testkit::TestDatabase>,
    dir: &fabrique_testkit::TempDir,
) -> DatabaseConnection {
    let db = fabrique_testkit::service_database(postgres, dir, "replicas").await;
    fabrique_platform::db::migrate::<Replicas>(&db, "replicas")
        .await
        .expect("migrate");
    db
}

fn member(version: i64, name: &str) -> ReplicaMember {
    ReplicaMember {
        id: uuid::Uuid::from_u128(7),
        display_name: name.into(),
        kind: "commune".into(),
        siren: Some("216300631".into()),
        siret: None,
        insee_code: None,
        epci_siren: None,
        state: "active".into(),
        contact_roles: vec!["referent".into()],
        version,
    }
}

fn place(version: i64, name: &str) -> ReplicaPlace {
    ReplicaPlace {
        id: uuid::Uuid::from_u128(9),
        display_name: name.into(),
        insee_code: Some("63113".into()),
        latitude: 45.77,
        longitude: 3.08,
        state: "listed".into(),
        operator: None,
        version,
    }
}

async fn newest_version_wins(postgres: bool) {
    let pg = fabrique_testkit::TestDatabase::create_if(postgres).await;
    let dir = fabrique_testkit::TempDir::new("replicas");
    let db = database(pg.as_ref(), &dir).await;
    let id = member(1, "").id;

    assert!(members::upsert(&db, &member(2, "v2")).await.expect("first"));
    assert!(!members::upsert(&db, &member(1, "v1")).await.expect("older"));
    assert!(
        !members::upsert(&db, &member(2, "v2 again"))
            .await
            .expect("same")
    );
    assert_eq!(
        members::get(&db, id).await.expect("get"),
        Some(member(2, "v2"))
    );
    assert!(members::upsert(&db, &member(3, "v3")).await.expect("newer"));
    assert_eq!(
        members::get(&db, id).await.expect("get"),
        Some(member(3, "v3"))
    );

    let place_id = place(1, "").id;
    assert!(places::upsert(&db, &place(5, "v5")).await.expect("first"));
    assert!(!places::upsert(&db, &place(4, "v4")).await.expect("older"));
    assert!(places::upsert(&db, &place(6, "v6")).await.expect("newer"));
    assert_eq!(
        places::get(&db, place_id).await.expect("get"),
        Some(place(6, "v6"))
    );
}

#[tokio::test]
async fn postgres_replicas_keep_the_newest_version() {
    newest_version_wins(true).await;
}

#[tokio::test]
async fn sqlite_replicas_keep_the_newest_version() {
    newest_version_wins(false).await;
}

/// Counts the statements sent through it.
struct Counting<'a> {
    db: &'a DatabaseConnection,
    statements: AtomicUsize,
}

impl<'a> Counting<'a> {
    fn new(db: &'a DatabaseConnection) -> Self {
        Self {
            db,
            statements: AtomicUsize::new(0),
        }
    }

    fn statements(&self) -> usize {
        self.statements.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Counting<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.count();
        self.db.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.count();
        self.db.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.count();
        self.db.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.count();
        self.db.query_all_raw(stmt).await
    }
}

fn member_of(id: u128, version: i64) -> ReplicaMember {
    ReplicaMember {
        id: uuid::Uuid::from_u128(id),
        ..member(version, &format!("{id} v{version}"))
    }
}

/// A lane's batch is stored as one upsert per row in order would store it, in one
/// statement when its ids are all different and one more for each repeated id.
async fn a_batch_is_stored_as_one_upsert_per_row_would(postgres: bool) {
    let pg = fabrique_testkit::TestDatabase::create_if(postgres).await;
    let dir = fabrique_testkit::TempDir::new("replicas");
    let db = database(pg.as_ref(), &dir).await;
    assert!(members::upsert(&db, &member_of(1, 2)).await.expect("held"));

    let counting = Counting::new(&db);
    let stored = members::upsert_all(
        &counting,
        &[
            member_of(1, 1),
            member_of(2, 1),
            member_of(3, 1),
            member_of(2, 3),
            member_of(2, 2),
            member_of(1, 3),
        ],
    )
    .await
    .expect("batch");
    assert_eq!(stored, [false, true, true, true, false, true]);
    // [1 v1, 2 v1, 3 v1], [2 v3], [2 v2, 1 v3]
    assert_eq!(counting.statements(), 3);
    for (id, version) in [(1, 3), (2, 3), (3, 1)] {
        assert_eq!(
            members::get(&db, uuid::Uuid::from_u128(id))
                .await
                .expect("get"),
            Some(member_of(id, version))
        );
    }

    let counting = Counting::new(&db);
    let stored = members::upsert_all(&counting, &[member_of(3, 2), member_of(2, 3)])
        .await
        .expect("distinct ids");
    assert_eq!((stored, counting.statements()), (vec![true, false], 1));

    let other = ReplicaPlace {
        id: uuid::Uuid::from_u128(10),
        ..place(1, "other")
    };
    assert!(places::upsert(&db, &place(5, "v5")).await.expect("held"));
    let counting = Counting::new(&db);
    let stored = places::upsert_all(&counting, &[place(4, "v4"), other.clone(), place(6, "v6")])
        .await
        .expect("places");
    assert_eq!(
        (stored, counting.statements()),
        (vec![false, true, true], 2)
    );
    assert_eq!(places::get(&db, other.id).await.expect("get"), Some(other));
    assert_eq!(
        places::get(&db, place(1, "").id).await.expect("get"),
        Some(place(6, "v6"))
    );
}

#[tokio::test]
async fn postgres_batches_are_stored_as_one_upsert_per_row_would() {
    a_batch_is_stored_as_one_upsert_per_row_would(true).await;
}

#[tokio::test]
async fn sqlite_batches_are_stored_as_one_upsert_per_row_would() {
    a_batch_is_stored_as_one_upsert_per_row_would(false).await;
}
