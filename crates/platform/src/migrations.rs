//! Migrations of the tables the platform keeps in every service's database: the
//! transactional outbox (with who made each change), the audit of changes, and the
//! processed-event ids of idempotent consumers.

use sea_orm_migration::MigrationTrait;

mod m20261129_000001_platform_outbox;
mod m20261129_000002_platform_processed_events;
mod m20261129_000003_outbox_rows_leave_when_published;
mod m20261207_000004_outbox_auth_context;
mod m20261207_000005_platform_changes;

/// The platform's migrations, oldest first: each service runs them with its own.
pub fn all() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261129_000001_platform_outbox::Migration),
        Box::new(m20261129_000002_platform_processed_events::Migration),
        Box::new(m20261129_000003_outbox_rows_leave_when_published::Migration),
        Box::new(m20261207_000004_outbox_auth_context::Migration),
        Box::new(m20261207_000005_platform_changes::Migration),
    ]
}
