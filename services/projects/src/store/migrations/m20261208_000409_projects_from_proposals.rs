//! Projects made from the citizens' proposals their organiser accepted:
//! `projects.origin_proposal`, unique, so that a proposal makes one project however often
//! its event arrives. Existing projects come from no proposal (NULL).

use sea_orm_migration::prelude::*;

/// Adds the column and its unique index.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000409_projects_from_proposals"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE projects ADD COLUMN origin_proposal TEXT")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX projects_origin_proposal ON projects (origin_proposal)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX projects_origin_proposal")
            .await?;
        db.execute_unprepared("ALTER TABLE projects DROP COLUMN origin_proposal")
            .await?;
        Ok(())
    }
}
