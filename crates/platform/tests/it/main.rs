//! The platform's building blocks against real servers: the bus contract on both
//! implementations (NATS JetStream and in-process), the outbox relay, and the
//! idempotent consumer runner with its dead-letter queue.

#![allow(clippy::unwrap_used)] // a test that unwraps fails loudly, which is the point

mod bus_contract;
mod consumer;
mod db_errors;
mod kept;
mod nats_security;
mod properties;
mod relay;

use std::sync::Arc;

use fabrique_platform::bus::Bus;
use fabrique_platform::bus::memory::MemoryBus;
use fabrique_platform::bus::nats::NatsBus;
use fabrique_platform::config::NatsSettings;
use sea_orm::DatabaseConnection;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// The two buses, behind the same tests.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Nats,
    Memory,
}

async fn bus(kind: Kind) -> Arc<dyn Bus> {
    match kind {
        Kind::Memory => Arc::new(MemoryBus::new()),
        Kind::Nats => {
            let settings = NatsSettings {
                url: fabrique_testkit::shared_nats_url(),
                ..Default::default()
            };
            let bus = NatsBus::connect(&settings, "platform-tests")
                .await
                .expect("connect");
            bus.ready(std::time::Duration::from_secs(10))
                .await
                .expect("NATS reachable");
            Arc::new(bus)
        }
    }
}

struct PlatformTables;

impl MigratorTrait for PlatformTables {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        fabrique_platform::db::platform_migrations()
    }
}

/// A database with the platform's tables: PostgreSQL (`Some(db)`) or SQLite in `dir`.
async fn database(
    postgres: Option<&fabrique_testkit::TestDatabase>,
    dir: &fabrique_testkit::TempDir,
) -> DatabaseConnection {
    let db = fabrique_testkit::service_database(postgres, dir, "tests").await;
    fabrique_platform::db::migrate::<PlatformTables>(&db, "tests")
        .await
        .expect("migrate");
    db
}
