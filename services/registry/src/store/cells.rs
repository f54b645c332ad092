//! The map's clusters. `place_cells` keeps, for each [`COUNTED_LEVEL`] cell and kind
//! (and `''` for every kind), how many LISTED places it holds, the sums of their
//! coordinates in microdegrees (integers, so that taking a place away is exact) and the
//! XOR of their ids: when one place is left, that XOR is its id. `place_areas` and
//! `place_regions` keep the same for the coarser [`AREA_LEVEL`] and [`REGION_LEVEL`]
//! cells. The counts change in the transaction that changes a place, so they are as
//! current as the places.
//!
//! A view at zoom 10 or less filtered by one kind at most adds up the counts of the
//! coarsest level at least as fine as its clusters: 16 rows per cluster at most (a
//! screen of clusters is about 250), about 150 for the whole of France at zoom 6 or
//! less, however many places. Any other view groups the
//! LISTED places in it by the finest cell each stores (`grid_x`, `grid_y`), which the
//! spatial index narrows to the view (GiST on PostgreSQL, the latitude/longitude b-tree
//! on SQLite: `store::inside`).

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Statement,
};
use uuid::Uuid;

use super::entity::place::{Column, Entity};
use super::{ListFilter, Visibility, filtered, inside};
use crate::domain::map_grid::{AREA_LEVEL, COUNTED_LEVEL, Cell, FINEST_LEVEL, REGION_LEVEL, View};
use crate::domain::{Location, Place, PlaceKind, PlaceState};

/// A table of kept counts, and the level of its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// `place_cells`, `place_regions`.
    pub table: &'static str,
    /// The level of its cells.
    pub level: u8,
}

/// The counts of [`COUNTED_LEVEL`] cells.
pub const CELLS: Counts = Counts {
    table: "place_cells",
    level: COUNTED_LEVEL,
};

/// The counts of [`AREA_LEVEL`] cells.
pub const AREAS: Counts = Counts {
    table: "place_areas",
    level: AREA_LEVEL,
};

/// The counts of [`REGION_LEVEL`] cells.
pub const REGIONS: Counts = Counts {
    table: "place_regions",
    level: REGION_LEVEL,
};

/// Every table of counts, coarsest first: the order a change touches them (the same
/// for every transaction, so that none waits on another in a cycle) and the order a
/// view picks from.
pub const KEPT: [Counts; 3] = [REGIONS, AREAS, CELLS];

/// The cell of each kind, and of every kind, a LISTED place is counted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The place.
    pub id: Uuid,
    /// Its [`FINEST_LEVEL`] cell: each table counts it in the cell holding this one.
    pub cell: Cell,
    /// Microdegrees.
    pub latitude: i64,
    /// Microdegrees.
    pub longitude: i64,
    /// `''` (every kind) then each kind's code.
    pub kinds: Vec<String>,
}

impl Counted {
    /// What `place` counts for; nothing unless it is LISTED.
    pub fn of(place: &Place) -> Option<Self> {
        (place.state == PlaceState::Listed).then(|| {
            Counted::new(
                place.id.uuid(),
                &place.description.location,
                place.description.kinds.iter().map(|k| k.as_str()),
            )
        })
    }

    /// A LISTED place at `location` with these kinds' codes.
    pub fn new<'a>(id: Uuid, location: &Location, kinds: impl Iterator<Item = &'a str>) -> Self {
        Counted {
            id,
            cell: Cell::of(location),
            latitude: (location.latitude() * 1e6).round() as i64,
            longitude: (location.longitude() * 1e6).round() as i64,
            kinds: std::iter::once("")
                .chain(kinds)
                .map(str::to_string)
                .collect(),
        }
    }
}

/// Moves a place's counts from what it was (`before`) to what it is (`after`), in the
/// caller's transaction, in every table of [`KEPT`].
pub async fn recount<C: ConnectionTrait>(
    db: &C,
    before: Option<Counted>,
    after: Option<Counted>,
) -> Result<(), DbErr> {
    recount_in(db, &KEPT, before, after).await
}

/// [`recount`] in `tables` only (a migration counts in the tables of its time). Rows
/// are touched in one order (table, kind, x, y) so that two transactions never wait on
/// each other in a cycle.
pub async fn recount_in<C: ConnectionTrait>(
    db: &C,
    tables: &[Counts],
    before: Option<Counted>,
    after: Option<Counted>,
) -> Result<(), DbErr> {
    if before == after {
        return Ok(());
    }
    let mut changes = Vec::new();
    for (n, counts) in tables.iter().enumerate() {
        for (counted, sign) in [(&before, -1i64), (&after, 1)] {
            if let Some(counted) = counted {
                for kind in &counted.kinds {
                    let cell = counted.cell.at(counts.level);
                    changes.push((n, kind.clone(), cell, sign, counted.clone()));
                }
            }
        }
    }
    changes.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
    let backend = db.get_database_backend();
    for (n, kind, cell, sign, counted) in changes {
        let table = tables[n].table;
        let (high, low) = counted.id.as_u64_pair();
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                &format!(
                    "INSERT INTO {table} (kind, cell_x, cell_y, place_count, latitude_sum, \
                     longitude_sum, id_xor_high, id_xor_low) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                     ON CONFLICT (kind, cell_x, cell_y) DO UPDATE SET \
                     place_count = {table}.place_count + excluded.place_count, \
                     latitude_sum = {table}.latitude_sum + excluded.latitude_sum, \
                     longitude_sum = {table}.longitude_sum + excluded.longitude_sum, \
                     id_xor_high = ({table}.id_xor_high | excluded.id_xor_high) \
                                 - ({table}.id_xor_high & excluded.id_xor_high), \
                     id_xor_low = ({table}.id_xor_low | excluded.id_xor_low) \
                                - ({table}.id_xor_low & excluded.id_xor_low)"
                ),
            ),
            [
                kind.into(),
                cell.x.into(),
                cell.y.into(),
                sign.into(),
                (sign * counted.latitude).into(),
                (sign * counted.longitude).into(),
                // XOR is its own inverse: the same value adds and takes away.
                (high as i64).into(),
                (low as i64).into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// `sql` with its `?` placeholders written as `backend` numbers them.
fn placeholders(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_string();
    }
    let mut numbered = String::with_capacity(sql.len() + 16);
    for (i, part) in sql.split('?').enumerate() {
        if i > 0 {
            numbered.push_str(&format!("${i}"));
        }
        numbered.push_str(part);
    }
    numbered
}

/// One cluster as read: its cell at the view's level, how many places, where their
/// mean is, and the place when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// At the view's level.
    pub cell: Cell,
    /// At least 1.
    pub count: i64,
    /// Mean latitude.
    pub latitude: f64,
    /// Mean longitude.
    pub longitude: f64,
    /// When `count` is 1: the place's id, name and kinds' codes.
    pub single: Option<(Uuid, String, String)>,
}

/// Whether [`counted`] can answer this view with these filters.
pub fn countable(view: &View, filter: &ListFilter) -> bool {
    view.level <= COUNTED_LEVEL
        && filter.kinds.len() <= 1
        && filter.capabilities.is_empty()
        && filter.query.is_none()
        && filter.department.is_none()
}

/// The view's clusters added up from the counts ([`countable`] views only), of the
/// coarsest table whose cells are no larger than the view's. Counted cells on the
/// view's edges count whole.
pub async fn counted<C: ConnectionTrait>(
    db: &C,
    view: &View,
    kind: Option<PlaceKind>,
) -> Result<Vec<Cluster>, DbErr> {
    let counts = KEPT
        .into_iter()
        .find(|counts| counts.level >= view.level)
        .unwrap_or(CELLS);
    let (table, shift) = (counts.table, counts.level - view.level);
    let backend = db.get_database_backend();
    // The view's cells at the counted level: from the first sub-cell of its first cell
    // to the last sub-cell of its last.
    let first = |c: i32| c << shift;
    let last = |c: i32| ((c + 1) << shift) - 1;
    let sql = format!(
        "SELECT cell_x >> {shift}, cell_y >> {shift}, CAST(SUM(place_count) AS BIGINT), \
         CAST(SUM(latitude_sum) AS BIGINT), CAST(SUM(longitude_sum) AS BIGINT), \
         MAX(id_xor_high), MAX(id_xor_low) FROM {table} \
         WHERE kind = ? AND cell_x BETWEEN ? AND ? AND cell_y BETWEEN ? AND ? \
         AND place_count > 0 GROUP BY 1, 2"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            placeholders(backend, &sql),
            [
                kind.map(|k| k.as_str()).unwrap_or("").into(),
                first(view.min.x).into(),
                last(view.max.x).into(),
                first(view.min.y).into(),
                last(view.max.y).into(),
            ],
        ))
        .await?;
    let mut clusters = Vec::with_capacity(rows.len());
    for row in rows {
        let (x, y, count, latitude, longitude, high, low): (i32, i32, i64, i64, i64, i64, i64) =
            row.try_get_many_by_index()?;
        clusters.push(Cluster {
            cell: Cell { x, y },
            count,
            latitude: latitude as f64 / count as f64 / 1e6,
            longitude: longitude as f64 / count as f64 / 1e6,
            single: (count == 1).then(|| {
                (
                    Uuid::from_u64_pair(high as u64, low as u64),
                    String::new(),
                    String::new(),
                )
            }),
        });
    }
    name_singles(db, clusters).await
}

/// The view's clusters grouped from the LISTED places in it that match `filter`.
pub async fn grouped<C: ConnectionTrait>(
    db: &C,
    view: &View,
    filter: &ListFilter,
) -> Result<Vec<Cluster>, DbErr> {
    let shift = FINEST_LEVEL - view.level;
    let first_id = match db.get_database_backend() {
        DbBackend::Postgres => "MIN(CAST(id AS TEXT))",
        _ => "MIN(hex(id))",
    };
    let filter = ListFilter {
        states: vec![PlaceState::Listed],
        ..filter.clone()
    };
    let rows: Vec<(i32, i32, i64, f64, f64, String)> = filtered(&filter, &Visibility::Public)
        .filter(inside(
            db.get_database_backend(),
            (view.south_west.latitude(), view.south_west.longitude()),
            (view.north_east.latitude(), view.north_east.longitude()),
        ))
        .select_only()
        .column_as(Expr::cust(format!("grid_x >> {shift}")), "x")
        .column_as(Expr::cust(format!("grid_y >> {shift}")), "y")
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(Expr::cust("SUM(latitude)"), "latitude_sum")
        .column_as(Expr::cust("SUM(longitude)"), "longitude_sum")
        .column_as(Expr::cust(first_id), "first_id")
        .group_by(Expr::cust(format!("grid_x >> {shift}")))
        .group_by(Expr::cust(format!("grid_y >> {shift}")))
        .into_tuple()
        .all(db)
        .await?;
    let clusters = rows
        .into_iter()
        .map(|(x, y, count, latitude, longitude, first_id)| Cluster {
            cell: Cell { x, y },
            count,
            latitude: latitude / count as f64,
            longitude: longitude / count as f64,
            single: (count == 1)
                .then(|| Uuid::try_parse(&first_id).ok())
                .flatten()
                .map(|id| (id, String::new(), String::new())),
        })
        .collect();
    name_singles(db, clusters).await
}

/// Fills in the name and kinds of each cluster of one place. A place that stopped being
/// LISTED since its cell was read stays a count without a name.
async fn name_singles<C: ConnectionTrait>(
    db: &C,
    mut clusters: Vec<Cluster>,
) -> Result<Vec<Cluster>, DbErr> {
    let ids: Vec<Uuid> = clusters
        .iter()
        .filter_map(|c| c.single.as_ref().map(|(id, _, _)| *id))
        .collect();
    if ids.is_empty() {
        return Ok(clusters);
    }
    let names: HashMap<Uuid, (String, String)> = Entity::find()
        .filter(Column::Id.is_in(ids))
        .filter(Column::State.eq(PlaceState::Listed.as_str()))
        .select_only()
        .column(Column::Id)
        .column(Column::DisplayName)
        .column(Column::KindTags)
        .into_tuple::<(Uuid, String, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, name, kinds)| (id, (name, kinds)))
        .collect();
    for cluster in &mut clusters {
        cluster.single = cluster
            .single
            .take()
            .and_then(|(id, _, _)| names.get(&id).map(|(n, k)| (id, n.clone(), k.clone())));
    }
    Ok(clusters)
}
