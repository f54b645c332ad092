//! The projects service's migrations, after the platform's tables and the replicas.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261129_000401_create_projects;
mod m20261207_000402_budget_life;
mod m20261207_000403_instruction;
mod m20261207_000404_groupings;
mod m20261207_000405_installations;
mod m20261207_000406_co_funding;
mod m20261207_000407_purchase_outcome;
mod m20261207_000408_workshop_sessions;
mod m20261208_000409_projects_from_proposals;

/// The migrations `fabrique migrate` runs for this service's database, in order.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = fabrique_platform::db::platform_migrations();
        migrations.push(Box::new(fabrique_replicas::members::Migration));
        migrations.push(Box::new(fabrique_replicas::members::SiretMigration));
        migrations.push(Box::new(fabrique_replicas::members::TerritoryMigration));
        migrations.push(Box::new(fabrique_replicas::places::Migration));
        migrations.push(Box::new(m20261129_000401_create_projects::Migration));
        migrations.push(Box::new(m20261207_000402_budget_life::Migration));
        migrations.push(Box::new(m20261207_000403_instruction::Migration));
        migrations.push(Box::new(m20261207_000404_groupings::Migration));
        migrations.push(Box::new(m20261207_000405_installations::Migration));
        migrations.push(Box::new(m20261207_000406_co_funding::Migration));
        migrations.push(Box::new(m20261207_000407_purchase_outcome::Migration));
        migrations.push(Box::new(m20261207_000408_workshop_sessions::Migration));
        migrations.push(Box::new(
            m20261208_000409_projects_from_proposals::Migration,
        ));
        migrations
    }
}
