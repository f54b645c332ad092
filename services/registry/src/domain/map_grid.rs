//! The map's grid: square cells of the Web Mercator projection every web map uses, so
//! that a cluster covers the same number of pixels wherever it is. At level `n` the
//! world is `2^n` cells wide; a map at zoom `z` (tiles of 256 pixels) clusters in cells
//! of 64 pixels, level `z + 2`.
//!
//! Each place stores its cell at [`FINEST_LEVEL`]; a coarser cell is a right shift of
//! it, in SQL as in Rust. The counts of [`COUNTED_LEVEL`], [`AREA_LEVEL`] and
//! [`REGION_LEVEL`] cells are kept up to date as places change (`store::cells`), so
//! that a view at zoom 10 or less adds up at most about a thousand counts instead of
//! reading every place: each view reads the coarsest level at least as fine as its
//! clusters.

use fabrique_types::{Invalid, Location};

/// The level each place's cell is stored at: cells of about 27 m in France, finer than
/// any map zoom clusters.
pub const FINEST_LEVEL: u8 = 20;

/// The level whose cells' counts are kept: about 7 km wide in France. A view at zoom 10
/// or less is added up from them.
pub const COUNTED_LEVEL: u8 = 12;

/// A coarser level whose cells' counts are kept too, for a département's views: about
/// 27 km wide in France. A view at zoom 7 or 8 is added up from them.
pub const AREA_LEVEL: u8 = 10;

/// The coarsest level whose cells' counts are kept, for the country's views: about
/// 110 km wide in France, some 150 cells for the whole of it. A view at zoom 6 or less
/// is added up from them.
pub const REGION_LEVEL: u8 = 8;

/// The highest zoom a view may ask for (web maps stop at 19 to 22).
pub const MAX_ZOOM: i32 = 22;

/// At most this many cells in one view: a screen of 64-pixel cells is a few hundred.
pub const MAX_CELLS_PER_VIEW: u64 = 4096;

/// Web Mercator stops short of the poles.
const MAX_LATITUDE: f64 = 85.051_128_78;

/// A cell at [`FINEST_LEVEL`]: `x` grows eastwards from the antimeridian, `y`
/// southwards from the north edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cell {
    /// Column, 0 to 2^20 - 1.
    pub x: i32,
    /// Row, 0 to 2^20 - 1.
    pub y: i32,
}

impl Cell {
    /// The finest cell holding `location`.
    pub fn of(location: &Location) -> Self {
        let side = f64::from(1u32 << FINEST_LEVEL);
        let x = (location.longitude() + 180.0) / 360.0 * side;
        let latitude = location
            .latitude()
            .clamp(-MAX_LATITUDE, MAX_LATITUDE)
            .to_radians();
        let y = (1.0 - latitude.tan().asinh() / std::f64::consts::PI) / 2.0 * side;
        let clamp = |v: f64| (v.floor() as i64).clamp(0, (1 << FINEST_LEVEL) - 1) as i32;
        Cell {
            x: clamp(x),
            y: clamp(y),
        }
    }

    /// The cell holding this finest cell at `level` (at most [`FINEST_LEVEL`]).
    pub fn at(self, level: u8) -> Cell {
        let shift = FINEST_LEVEL - level.min(FINEST_LEVEL);
        Cell {
            x: self.x >> shift,
            y: self.y >> shift,
        }
    }
}

/// A map's view: the cells it spans at the level its zoom clusters at.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// South-west corner.
    pub south_west: Location,
    /// North-east corner.
    pub north_east: Location,
    /// The level of the clusters, `zoom + 2` capped at [`FINEST_LEVEL`].
    pub level: u8,
    /// The top-left cell at `level` (north-west corner).
    pub min: Cell,
    /// The bottom-right cell at `level` (south-east corner).
    pub max: Cell,
}

impl View {
    /// The view of `south_west`–`north_east` at `zoom`. Refused when the corners are
    /// swapped (a view crossing the antimeridian is two requests), the zoom is out of
    /// 0–[`MAX_ZOOM`], or the view spans more than [`MAX_CELLS_PER_VIEW`] cells.
    pub fn new(south_west: Location, north_east: Location, zoom: i32) -> Result<Self, Invalid> {
        if south_west.latitude() > north_east.latitude() {
            return Err(Invalid::new("south must be at most north"));
        }
        if south_west.longitude() > north_east.longitude() {
            return Err(Invalid::new(
                "west must be at most east (split a view across the antimeridian in two)",
            ));
        }
        if !(0..=MAX_ZOOM).contains(&zoom) {
            return Err(Invalid::new(format!(
                "zoom must be 0 to {MAX_ZOOM}, got {zoom}"
            )));
        }
        let level = (zoom + 2).min(i32::from(FINEST_LEVEL)) as u8;
        let corner = |latitude: f64, longitude: f64| {
            Location::parse(latitude, longitude)
                .map(|l| Cell::of(&l).at(level))
                .map_err(|(_, invalid)| invalid)
        };
        let min = corner(north_east.latitude(), south_west.longitude())?;
        let max = corner(south_west.latitude(), north_east.longitude())?;
        let cells = (i64::from(max.x - min.x) + 1) * (i64::from(max.y - min.y) + 1);
        if cells as u64 > MAX_CELLS_PER_VIEW {
            return Err(Invalid::new(format!(
                "the view spans {cells} cells at zoom {zoom}, more than \
                 {MAX_CELLS_PER_VIEW}: zoom in or ask for a smaller view"
            )));
        }
        Ok(View {
            south_west,
            north_east,
            level,
            min,
            max,
        })
    }

    /// The view's cells at `level` (coarser or equal to the view's own, so that whole
    /// cells cover it).
    pub fn cells_at(&self, level: u8) -> (Cell, Cell) {
        let shift = self.level.saturating_sub(level);
        let down = |c: Cell| Cell {
            x: c.x >> shift,
            y: c.y >> shift,
        };
        (down(self.min), down(self.max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(latitude: f64, longitude: f64) -> Location {
        Location::parse(latitude, longitude).unwrap()
    }

    #[test]
    fn cells_follow_the_web_mercator_tiles() {
        // Zoom 0 is one tile; at zoom 1 Paris is in the top-right tile (x 1, y 0).
        let paris = Cell::of(&at(48.8566, 2.3522));
        assert_eq!(paris.at(0), Cell { x: 0, y: 0 });
        assert_eq!(paris.at(1), Cell { x: 1, y: 0 });
        // Tile z=12 of Thiers (45.8558 N, 3.5475 E), as OpenStreetMap numbers it.
        assert_eq!(
            Cell::of(&at(45.8558, 3.5475)).at(12),
            Cell { x: 2088, y: 1459 }
        );
        // The poles and the antimeridian stay on the grid.
        assert_eq!(Cell::of(&at(90.0, 180.0)).at(1), Cell { x: 1, y: 0 });
        assert_eq!(Cell::of(&at(-90.0, -180.0)).at(1), Cell { x: 0, y: 1 });
    }

    #[test]
    fn a_view_spans_the_cells_of_its_zoom() {
        let view = View::new(at(45.0, 2.0), at(46.0, 4.0), 8).unwrap();
        assert_eq!(view.level, 10);
        let (north_west, south_east) = (Cell::of(&at(46.0, 2.0)), Cell::of(&at(45.0, 4.0)));
        assert_eq!((view.min, view.max), (north_west.at(10), south_east.at(10)));
        assert_eq!(view.cells_at(8), (north_west.at(8), south_east.at(8)));
    }

    #[test]
    fn a_view_is_refused_when_it_cannot_be_drawn() {
        for (south_west, north_east, zoom, says) in [
            (
                at(46.0, 2.0),
                at(45.0, 4.0),
                8,
                "south must be at most north",
            ),
            (at(45.0, 4.0), at(46.0, 2.0), 8, "antimeridian"),
            (at(45.0, 2.0), at(46.0, 4.0), 23, "zoom must be 0 to 22"),
            (at(45.0, 2.0), at(46.0, 4.0), -1, "zoom must be 0 to 22"),
            (at(-80.0, -170.0), at(80.0, 170.0), 12, "more than 4096"),
        ] {
            let error = View::new(south_west, north_east, zoom).unwrap_err();
            assert!(error.to_string().contains(says), "{error}");
        }
    }
}
