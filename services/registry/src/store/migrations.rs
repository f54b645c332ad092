//! The registry service's migrations, after the platform's own tables.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261129_000201_create_places;
mod m20261207_000202_map_cells;
mod m20261207_000203_place_points;
mod m20261207_000204_coarser_counts;

/// The platform's migrations (outbox, processed events), then the member replica's
/// table, then the `places` table's, the map's cells, (PostgreSQL) the places' spatial
/// index, and the map's coarser counts.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = fabrique_platform::db::platform_migrations();
        migrations.push(Box::new(fabrique_replicas::members::Migration));
        migrations.push(Box::new(fabrique_replicas::members::SiretMigration));
        migrations.push(Box::new(fabrique_replicas::members::TerritoryMigration));
        migrations.push(Box::new(m20261129_000201_create_places::Migration));
        migrations.push(Box::new(m20261207_000202_map_cells::Migration));
        migrations.push(Box::new(m20261207_000203_place_points::Migration));
        migrations.push(Box::new(m20261207_000204_coarser_counts::Migration));
        migrations
    }
}
