//! The notify service's migrations, after the platform's own tables.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261207_000501_create_notify;

/// The platform's migrations (outbox, processed events, changes), then notify's tables.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = fabrique_platform::db::platform_migrations();
        migrations.push(Box::new(m20261207_000501_create_notify::Migration));
        migrations
    }
}
