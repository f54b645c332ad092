//! The members service's migrations, after the platform's own tables.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261129_000101_create_members;
mod m20261207_000102_member_contact_emails;
mod m20261207_000103_publish_contacts;
mod m20261207_000104_member_siret;
mod m20261207_000105_member_epci;

/// The platform's migrations (outbox, processed events), then the `members` table's,
/// and the contacts published once for the notify service.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = fabrique_platform::db::platform_migrations();
        migrations.push(Box::new(m20261129_000101_create_members::Migration));
        migrations.push(Box::new(m20261207_000102_member_contact_emails::Migration));
        migrations.push(Box::new(m20261207_000103_publish_contacts::Migration));
        migrations.push(Box::new(m20261207_000104_member_siret::Migration));
        migrations.push(Box::new(m20261207_000105_member_epci::Migration));
        migrations
    }
}
