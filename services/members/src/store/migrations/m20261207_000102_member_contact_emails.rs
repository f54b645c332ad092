//! The contacts' e-mails as a column of their own (`contact_emails`, `|a@x.fr|`), so
//! that the site finds whom a signed-in person may act for; filled in for the members
//! already stored.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;
use uuid::Uuid;

/// Adds `members.contact_emails`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000102_member_contact_emails"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        db.execute_unprepared(
            "ALTER TABLE members ADD COLUMN contact_emails TEXT NOT NULL DEFAULT '|'",
        )
        .await?;
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, CAST(contacts AS TEXT) FROM members",
            ))
            .await?;
        let update = match backend {
            DbBackend::Postgres => "UPDATE members SET contact_emails = $1 WHERE id = $2",
            _ => "UPDATE members SET contact_emails = ? WHERE id = ?",
        };
        for row in rows {
            let (id, contacts): (Uuid, String) = row.try_get_many_by_index()?;
            let contacts: Vec<serde_json::Value> =
                serde_json::from_str(&contacts).unwrap_or_default();
            let mut tags = String::from("|");
            for email in contacts.iter().filter_map(|c| c["email"].as_str()) {
                tags.push_str(&email.to_lowercase());
                tags.push('|');
            }
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                update,
                [tags.into(), id.into()],
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE members DROP COLUMN contact_emails")
            .await?;
        Ok(())
    }
}
