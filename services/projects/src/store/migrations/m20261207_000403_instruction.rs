//! Instruction: a programme's operator (`programmes.operator_id`), and on each
//! application what the instructor asked to complete, the answer, and the
//! instructors' private opinion and notes (`applications.instruction`).

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// Adds the columns; existing programmes have no operator, applications no instruction.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000403_instruction"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (uuid, json) = match db.get_database_backend() {
            DbBackend::Postgres => ("UUID", "JSONB"),
            _ => ("BLOB", "TEXT"),
        };
        for statement in [
            format!("ALTER TABLE programmes ADD COLUMN operator_id {uuid}"),
            "ALTER TABLE applications ADD COLUMN completion_request TEXT".to_string(),
            "ALTER TABLE applications ADD COLUMN completion_answer TEXT".to_string(),
            format!(
                "ALTER TABLE applications ADD COLUMN instruction {json} NOT NULL DEFAULT '{{}}'"
            ),
        ] {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in [
            "ALTER TABLE applications DROP COLUMN instruction",
            "ALTER TABLE applications DROP COLUMN completion_answer",
            "ALTER TABLE applications DROP COLUMN completion_request",
            "ALTER TABLE programmes DROP COLUMN operator_id",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
