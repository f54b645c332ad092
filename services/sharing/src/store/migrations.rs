//! The sharing service's migrations, after the platform's tables and the replicas.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261129_000301_create_sharing;
mod m20261207_000302_answer_deadlines;

/// The sharing service's migrations, in the order they run.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = fabrique_platform::db::platform_migrations();
        migrations.push(Box::new(fabrique_replicas::members::Migration));
        migrations.push(Box::new(fabrique_replicas::members::SiretMigration));
        migrations.push(Box::new(fabrique_replicas::members::TerritoryMigration));
        migrations.push(Box::new(fabrique_replicas::places::Migration));
        migrations.push(Box::new(m20261129_000301_create_sharing::Migration));
        migrations.push(Box::new(m20261207_000302_answer_deadlines::Migration));
        migrations
    }
}
