//! What a service asks of the replicas before letting a member act or a place be used:
//! an active member, an open place, and otherwise why not, on PostgreSQL and on SQLite.

use fabrique_replicas::members::{self, Inactive, ReplicaMember};
use fabrique_replicas::places::{self, ReplicaPlace, Unavailable};
use sea_orm::DatabaseConnection;
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use uuid::Uuid;

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

fn member(id: u128, state: &str) -> ReplicaMember {
    ReplicaMember {
        id: Uuid::from_u128(id),
        display_name: format!("member {id}"),
        kind: "commune".into(),
        siren: None,
        siret: None,
        insee_code: None,
        epci_siren: None,
        state: state.into(),
        contact_roles: Vec::new(),
        version: 1,
    }
}

fn place(id: u128, state: &str) -> ReplicaPlace {
    ReplicaPlace {
        id: Uuid::from_u128(id),
        display_name: format!("place {id}"),
        insee_code: None,
        latitude: 45.77,
        longitude: 3.08,
        state: state.into(),
        operator: None,
        version: 1,
    }
}

async fn only_active_members_and_open_places_pass(postgres: bool) {
    let pg = fabrique_testkit::TestDatabase::create_if(postgres).await;
    let dir = fabrique_testkit::TempDir::new("replicas-require");
    let db = database(pg.as_ref(), &dir).await;

    let active = member(1, "active");
    let suspended = member(2, "suspended");
    for m in [&active, &suspended] {
        assert!(members::upsert(&db, m).await.expect("upsert"));
    }
    assert_eq!(
        members::require_active(&db, active.id).await.expect("read"),
        Ok(active)
    );
    assert_eq!(
        members::require_active(&db, suspended.id)
            .await
            .expect("read"),
        Err(Inactive {
            state: Some("suspended".into())
        })
    );
    assert_eq!(
        members::require_active(&db, Uuid::from_u128(3))
            .await
            .expect("read"),
        Err(Inactive { state: None })
    );

    let listed = place(11, "listed");
    let suspended = place(12, "suspended");
    let closed = place(13, "closed");
    for p in [&listed, &suspended, &closed] {
        assert!(places::upsert(&db, p).await.expect("upsert"));
    }
    assert_eq!(
        places::require_open(&db, listed.id).await.expect("read"),
        Ok(listed)
    );
    assert_eq!(
        places::require_open(&db, suspended.id).await.expect("read"),
        Ok(suspended),
        "only a closed place is refused"
    );
    assert_eq!(
        places::require_open(&db, closed.id).await.expect("read"),
        Err(Unavailable::Closed)
    );
    assert_eq!(
        places::require_open(&db, Uuid::from_u128(14))
            .await
            .expect("read"),
        Err(Unavailable::Unknown)
    );
}

#[tokio::test]
async fn postgres_replicas_require_active_members_and_open_places() {
    only_active_members_and_open_places_pass(true).await;
}

#[tokio::test]
async fn sqlite_replicas_require_active_members_and_open_places() {
    only_active_members_and_open_places_pass(false).await;
}
