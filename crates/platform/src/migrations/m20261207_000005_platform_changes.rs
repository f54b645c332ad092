//! `fabrique_changes`: every event a service writes, with who caused it, kept for the
//! audit (`audit::list`). A trigger on the outbox fills it, so no way of writing events
//! can forget it; the outbox's rows leave once published, these stay.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000005_platform_changes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements: &[&str] = match db.get_database_backend() {
            DbBackend::Postgres => &[
                "CREATE TABLE fabrique_changes (
                    id BIGSERIAL PRIMARY KEY,
                    event_id UUID NOT NULL,
                    resource TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    ce_type TEXT NOT NULL,
                    auth_type TEXT,
                    auth_id TEXT,
                    occurred_at TIMESTAMPTZ NOT NULL
                )",
                // Into the outbox's own schema (each service has one), whatever the
                // writer's search_path: a bench or an operator may name the table.
                "CREATE FUNCTION fabrique_record_change() RETURNS trigger AS $$
                 BEGIN
                     EXECUTE format('INSERT INTO %I.fabrique_changes
                         (event_id, resource, subject, ce_type, auth_type, auth_id, occurred_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)', TG_TABLE_SCHEMA)
                     USING NEW.event_id, NEW.ce_subject, NEW.subject, NEW.ce_type,
                           NEW.auth_type, NEW.auth_id, NEW.occurred_at;
                     RETURN NEW;
                 END
                 $$ LANGUAGE plpgsql",
                "CREATE TRIGGER fabrique_outbox_change AFTER INSERT ON fabrique_outbox
                 FOR EACH ROW EXECUTE FUNCTION fabrique_record_change()",
                "CREATE INDEX fabrique_changes_resource ON fabrique_changes (resource, id)",
            ],
            _ => &[
                "CREATE TABLE fabrique_changes (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    event_id BLOB NOT NULL,
                    resource TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    ce_type TEXT NOT NULL,
                    auth_type TEXT,
                    auth_id TEXT,
                    occurred_at TEXT NOT NULL
                )",
                "CREATE TRIGGER fabrique_outbox_change AFTER INSERT ON fabrique_outbox
                 BEGIN
                     INSERT INTO fabrique_changes
                         (event_id, resource, subject, ce_type, auth_type, auth_id, occurred_at)
                     VALUES (NEW.event_id, NEW.ce_subject, NEW.subject, NEW.ce_type, NEW.auth_type,
                             NEW.auth_id, NEW.occurred_at);
                 END",
                "CREATE INDEX fabrique_changes_resource ON fabrique_changes (resource, id)",
            ],
        };
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements: &[&str] = match db.get_database_backend() {
            DbBackend::Postgres => &[
                "DROP TRIGGER fabrique_outbox_change ON fabrique_outbox",
                "DROP FUNCTION fabrique_record_change()",
                "DROP TABLE fabrique_changes",
            ],
            _ => &[
                "DROP TRIGGER fabrique_outbox_change",
                "DROP TABLE fabrique_changes",
            ],
        };
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
