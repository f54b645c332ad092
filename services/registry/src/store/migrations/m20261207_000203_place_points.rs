//! PostgreSQL: a GiST index on each place's point, which the bounding boxes of searches
//! around a point and of the map's views are asked through (`store::inside`), instead
//! of the b-tree on (latitude, longitude), which read the whole latitude band of a box
//! (docs/performance.md). SQLite keeps its b-tree.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// Indexes places by their point on PostgreSQL.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000203_place_points"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        // The expression is the one `store::inside` writes: the index serves it only
        // as written. It carries what the searches around a point and the map's
        // grouped views read and filter by (the visibility's columns), so that they
        // read the index alone, not one table page per place in the box. Nothing else
        // reads the b-tree on PostgreSQL.
        for statement in [
            "CREATE INDEX places_point ON places USING gist (point(longitude, latitude)) \
             INCLUDE (id, latitude, longitude, grid_x, grid_y, state, created_by, operator_id)",
            "DROP INDEX places_latitude",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for statement in [
            "CREATE INDEX places_latitude ON places (latitude, longitude)",
            "DROP INDEX places_point",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
