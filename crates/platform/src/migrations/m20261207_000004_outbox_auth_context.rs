//! Who made each change (`auth::Actor`), kept with its event in the outbox until the
//! relay publishes it as the CloudEvents authcontext headers.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000004_outbox_auth_context"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE fabrique_outbox ADD COLUMN auth_type TEXT")
            .await?;
        db.execute_unprepared("ALTER TABLE fabrique_outbox ADD COLUMN auth_id TEXT")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE fabrique_outbox DROP COLUMN auth_id")
            .await?;
        db.execute_unprepared("ALTER TABLE fabrique_outbox DROP COLUMN auth_type")
            .await?;
        Ok(())
    }
}
