//! The counts of LISTED places per cell and kind at two coarser levels than
//! `place_cells`'s: `place_areas` ([`AREA_LEVEL`](crate::domain::map_grid::AREA_LEVEL))
//! and `place_regions` ([`REGION_LEVEL`](crate::domain::map_grid::REGION_LEVEL)),
//! shaped as `place_cells` and filled in for the places already there: a view of the
//! country or of a département adds up hundreds of them instead of thousands of cells
//! (docs/performance.md). See `store::cells`.

use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::prelude::*;
use uuid::Uuid;

use crate::domain::{Location, PlaceState};
use crate::store::cells::{self, Counted};

/// Adds the areas' and the regions' counts.
pub struct Migration;

/// The tables this migration adds, in [`cells::KEPT`]'s order.
const TABLES: [cells::Counts; 2] = [cells::REGIONS, cells::AREAS];

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000204_coarser_counts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in TABLES {
            db.execute_unprepared(&format!(
                "CREATE TABLE {} (
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
                table.table
            ))
            .await?;
        }
        let listed = db
            .query_all_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                match db.get_database_backend() {
                    sea_orm::DbBackend::Postgres => {
                        "SELECT id, latitude, longitude, kind_tags FROM places WHERE state = $1"
                    }
                    _ => "SELECT id, latitude, longitude, kind_tags FROM places WHERE state = ?",
                },
                [PlaceState::Listed.as_str().into()],
            ))
            .await?;
        for row in listed {
            let (id, latitude, longitude, kinds): (Uuid, f64, f64, String) =
                row.try_get_many_by_index()?;
            let Ok(location) = Location::parse(latitude, longitude) else {
                continue;
            };
            let kinds = kinds.split('|').filter(|k| !k.is_empty());
            let counted = Counted::new(id, &location, kinds);
            cells::recount_in(db, &TABLES, None, Some(counted)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in TABLES {
            db.execute_unprepared(&format!("DROP TABLE {}", table.table))
                .await?;
        }
        Ok(())
    }
}
