//! The map's cells: each place's finest cell (`grid_x`, `grid_y`) and the counts of
//! LISTED places per counted cell and kind (`place_cells`), filled in for the places
//! already there. See `store::cells`.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;
use uuid::Uuid;

use crate::domain::map_grid::Cell;
use crate::domain::{Location, PlaceState};
use crate::store::cells::{self, Counted};

/// Adds the map's cells.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000202_map_cells"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        for statement in [
            "ALTER TABLE places ADD COLUMN grid_x INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE places ADD COLUMN grid_y INTEGER NOT NULL DEFAULT 0",
            "CREATE TABLE place_cells (
                kind TEXT NOT NULL,
                cell_x INTEGER NOT NULL,
                cell_y INTEGER NOT NULL,
                place_count BIGINT NOT NULL,
                latitude_sum BIGINT NOT NULL,
                longitude_sum BIGINT NOT NULL,
                id_xor_high BIGINT NOT NULL,
                id_xor_low BIGINT NOT NULL,
                PRIMARY KEY (kind, cell_x, cell_y)
            )",
        ] {
            db.execute_unprepared(statement).await?;
        }
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, latitude, longitude, state, kind_tags FROM places",
            ))
            .await?;
        for row in rows {
            let (id, latitude, longitude, state, kinds): (Uuid, f64, f64, String, String) =
                row.try_get_many_by_index()?;
            let Ok(location) = Location::parse(latitude, longitude) else {
                continue;
            };
            let cell = Cell::of(&location);
            let update = match backend {
                DbBackend::Postgres => "UPDATE places SET grid_x = $1, grid_y = $2 WHERE id = $3",
                _ => "UPDATE places SET grid_x = ?, grid_y = ? WHERE id = ?",
            };
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                update,
                [cell.x.into(), cell.y.into(), id.into()],
            ))
            .await?;
            if state == PlaceState::Listed.as_str() {
                let kinds = kinds.split('|').filter(|k| !k.is_empty());
                // The cells' counts only: the coarser ones come later
                // (m20261207_000204_coarser_counts), and counts what is there then.
                let counted = Counted::new(id, &location, kinds);
                cells::recount_in(db, &[cells::CELLS], None, Some(counted)).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP TABLE place_cells").await?;
        Ok(())
    }
}
