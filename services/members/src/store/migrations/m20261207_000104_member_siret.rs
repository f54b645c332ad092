//! The head office's SIRET of each member (`members.siret`), which public funders'
//! open data names beneficiaries by; none for the members already stored.

use sea_orm_migration::prelude::*;

/// Adds `members.siret`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000104_member_siret"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE members ADD COLUMN siret TEXT")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE members DROP COLUMN siret")
            .await?;
        Ok(())
    }
}
