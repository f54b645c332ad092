//! The EPCI each commune belongs to (`members.epci_siren`): co-funders may limit their
//! part to some EPCIs' communes; none for the members already stored.

use sea_orm_migration::prelude::*;

/// Adds `members.epci_siren`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000105_member_epci"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE members ADD COLUMN epci_siren TEXT")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE members DROP COLUMN epci_siren")
            .await?;
        Ok(())
    }
}
