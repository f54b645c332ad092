//! The participation service's migrations, after the platform's own tables and the
//! member and place replicas'.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261208_000601_create_participation;
mod m20261208_000602_meetings;
mod m20261208_000603_comments;
mod m20261208_000604_budgets;

/// The platform's migrations (outbox, processed events), the member and place
/// replicas, then participation's tables, meetings, comments, budgets.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = fabrique_platform::db::platform_migrations();
        migrations.push(Box::new(fabrique_replicas::members::Migration));
        migrations.push(Box::new(fabrique_replicas::members::SiretMigration));
        migrations.push(Box::new(fabrique_replicas::members::TerritoryMigration));
        migrations.push(Box::new(fabrique_replicas::places::Migration));
        migrations.push(Box::new(m20261208_000601_create_participation::Migration));
        migrations.push(Box::new(m20261208_000602_meetings::Migration));
        migrations.push(Box::new(m20261208_000603_comments::Migration));
        migrations.push(Box::new(m20261208_000604_budgets::Migration));
        migrations
    }
}
