//! The replicas keep the newest version they heard of, whatever order events arrive in,
//! on PostgreSQL and on SQLite.

use fabrique_replicas::members::{self, ReplicaMember};
use fabrique_replicas::places::{self, ReplicaPlace};
use sea_orm::DatabaseConnection;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

struct Replicas;

impl MigratorTrait for Replicas {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(members::Migration), Box::new(places::Migration)]
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
