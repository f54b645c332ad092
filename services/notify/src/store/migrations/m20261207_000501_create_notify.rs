//! Notify's tables: what it knows of members' contacts, resources and programmes (from
//! their events), each address's settings, and the e-mails written (`deliveries`), one
//! per event and address. Times are microseconds since the epoch, so both databases
//! compare numbers when the sender looks for what is due.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// Creates notify's tables.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000501_create_notify"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let uuid = match db.get_database_backend() {
            DbBackend::Postgres => "UUID",
            _ => "BLOB",
        };
        for statement in [
            // One row per member: its name and its contact people's addresses, one per
            // line (from the private stream of the members service).
            format!(
                "CREATE TABLE contacts (
                    member_id {uuid} PRIMARY KEY,
                    display_name TEXT NOT NULL,
                    emails TEXT NOT NULL,
                    version BIGINT NOT NULL
                )"
            ),
            format!(
                "CREATE TABLE resources (
                    id {uuid} PRIMARY KEY,
                    owner_id {uuid} NOT NULL,
                    title TEXT NOT NULL,
                    version BIGINT NOT NULL
                )"
            ),
            format!(
                "CREATE TABLE programmes (
                    id {uuid} PRIMARY KEY,
                    title TEXT NOT NULL,
                    occurred_us BIGINT NOT NULL
                )"
            ),
            "CREATE TABLE settings (
                email TEXT PRIMARY KEY,
                disabled TEXT NOT NULL,
                version BIGINT NOT NULL,
                updated_us BIGINT NOT NULL
            )"
            .to_string(),
            format!(
                "CREATE TABLE deliveries (
                    id {uuid} PRIMARY KEY,
                    event_id {uuid} NOT NULL,
                    recipient TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    text_body TEXT NOT NULL,
                    html_body TEXT NOT NULL,
                    link TEXT NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    last_error TEXT,
                    created_us BIGINT NOT NULL,
                    sent_us BIGINT,
                    next_attempt_us BIGINT NOT NULL,
                    leased_until_us BIGINT NOT NULL
                )"
            ),
            // The event id decides: one e-mail per event and address, however many
            // times the event is delivered or replayed.
            "CREATE UNIQUE INDEX deliveries_once ON deliveries (event_id, recipient)".to_string(),
            "CREATE INDEX deliveries_due ON deliveries (state, next_attempt_us)".to_string(),
            "CREATE INDEX deliveries_recipient ON deliveries (recipient, id)".to_string(),
        ] {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
