//! What an awarded grouped purchase obtained: the supplier's SIRET and each lot's price
//! and reference price (`group_purchases.supplier_siret`, `lot_prices`); none for the
//! purchases awarded before.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

/// Adds the columns.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000407_purchase_outcome"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let json = match db.get_database_backend() {
            DbBackend::Postgres => "JSONB",
            _ => "TEXT",
        };
        for statement in [
            "ALTER TABLE group_purchases ADD COLUMN supplier_siret TEXT".to_string(),
            format!("ALTER TABLE group_purchases ADD COLUMN lot_prices {json}"),
        ] {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in [
            "ALTER TABLE group_purchases DROP COLUMN lot_prices",
            "ALTER TABLE group_purchases DROP COLUMN supplier_siret",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
