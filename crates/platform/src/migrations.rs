//! Migrations of the tables the platform keeps in every service's database: the
//! transactional outbox and the processed-event ids of idempotent consumers.

use sea_orm_migration::MigrationTrait;

mod m20261129_000001_platform_outbox;
mod m20261129_000002_platform_processed_events;
mod m20261129_000003_outbox_rows_leave_when_published;

/// The platform's migrations, oldest first: each service runs them with its own.
pub fn all() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261129_000001_platform_outbox::Migration),
        Box::new(m20261129_000002_platform_processed_events::Migration),
        Box::new(m20261129_000003_outbox_rows_leave_when_published::Migration),
    ]
}
