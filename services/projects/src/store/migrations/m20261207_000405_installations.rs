//! What awards finance: each application's installation (peak watts, area, building)
//! and each programme's yield, for the power and production a programme reports.

use sea_orm_migration::prelude::*;

/// Adds the columns; nothing stored before had them.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000405_installations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in [
            "ALTER TABLE applications ADD COLUMN peak_watts BIGINT CHECK (peak_watts > 0)",
            "ALTER TABLE applications ADD COLUMN area_dm2 BIGINT",
            "ALTER TABLE applications ADD COLUMN building TEXT",
            "ALTER TABLE programmes ADD COLUMN yield_kwh_per_kwp BIGINT",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in [
            "ALTER TABLE programmes DROP COLUMN yield_kwh_per_kwp",
            "ALTER TABLE applications DROP COLUMN building",
            "ALTER TABLE applications DROP COLUMN area_dm2",
            "ALTER TABLE applications DROP COLUMN peak_watts",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
