//! WGS84 coordinates and great-circle distances (haversine on the mean Earth radius):
//! the same arithmetic on PostgreSQL and SQLite, since it runs here, after a bounding
//! box narrowed the candidates in SQL.

use crate::text::{Invalid, invalid};

/// Mean Earth radius (IUGG), km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;
/// Length of one degree of latitude, km.
const KM_PER_DEGREE: f64 = EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;

/// A point on Earth, in degrees; latitude in [-90, 90], longitude in [-180, 180].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    latitude: f64,
    longitude: f64,
}

impl Location {
    /// Checks each coordinate; the error names which one (`"latitude"` or `"longitude"`).
    pub fn parse(latitude: f64, longitude: f64) -> Result<Self, (&'static str, Invalid)> {
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            return Err((
                "latitude",
                Invalid::new(format!(
                    "must be between -90 and 90 degrees, got {latitude}"
                )),
            ));
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            return Err((
                "longitude",
                Invalid::new(format!(
                    "must be between -180 and 180 degrees, got {longitude}"
                )),
            ));
        }
        Ok(Self {
            latitude,
            longitude,
        })
    }

    pub fn latitude(&self) -> f64 {
        self.latitude
    }

    pub fn longitude(&self) -> f64 {
        self.longitude
    }

    /// Great-circle distance in km.
    pub fn distance_km(&self, other: &Location) -> f64 {
        let (lat1, lat2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.longitude - self.longitude).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }

    /// A box holding every point within `radius_km`, for an indexable SQL prefilter.
    pub fn bounding_box(&self, radius_km: f64) -> BoundingBox {
        let dlat = radius_km / KM_PER_DEGREE;
        let min_latitude = (self.latitude - dlat).max(-90.0);
        let max_latitude = (self.latitude + dlat).min(90.0);
        // Near a pole, or when the box would wrap around the antimeridian, any
        // longitude may be within reach: no longitude bound.
        let widest = self.latitude.abs() + dlat;
        let longitudes = if widest >= 89.0 {
            None
        } else {
            let dlon = radius_km / (KM_PER_DEGREE * widest.to_radians().cos());
            let (min, max) = (self.longitude - dlon, self.longitude + dlon);
            (min >= -180.0 && max <= 180.0).then_some((min, max))
        };
        BoundingBox {
            min_latitude,
            max_latitude,
            longitudes,
        }
    }
}

/// Latitude bounds, and longitude bounds unless the box spans every longitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub min_latitude: f64,
    pub max_latitude: f64,
    pub longitudes: Option<(f64, f64)>,
}

/// A search radius: above 0 and at most `max` km.
pub fn parse_radius_km(radius: f64, max: f64) -> Result<f64, Invalid> {
    if radius.is_finite() && radius > 0.0 && radius <= max {
        Ok(radius)
    } else {
        invalid(format!(
            "must be above 0 and at most {max} km, got {radius}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(latitude: f64, longitude: f64) -> Location {
        Location::parse(latitude, longitude).unwrap()
    }

    #[test]
    fn ranges_are_checked() {
        assert_eq!(Location::parse(91.0, 3.0).unwrap_err().0, "latitude");
        assert_eq!(Location::parse(45.0, -180.5).unwrap_err().0, "longitude");
        assert_eq!(Location::parse(f64::NAN, 3.0).unwrap_err().0, "latitude");
        assert!(Location::parse(-90.0, 180.0).is_ok());
    }

    #[test]
    fn distances_match_known_values() {
        // Paris (Notre-Dame) to Clermont-Ferrand (place de Jaude): about 347 km.
        let paris = at(48.8530, 2.3499);
        let clermont = at(45.7772, 3.0870);
        let d = paris.distance_km(&clermont);
        assert!((d - 345.6).abs() < 2.0, "{d}");
        assert!(clermont.distance_km(&clermont).abs() < 1e-9);
        // A quarter of the equator.
        let quarter = at(0.0, 0.0).distance_km(&at(0.0, 90.0));
        assert!((quarter - EARTH_RADIUS_KM * std::f64::consts::FRAC_PI_2).abs() < 1e-6);
    }

    #[test]
    fn the_box_holds_the_circle() {
        let clermont = at(45.7772, 3.0870);
        let bbox = clermont.bounding_box(30.0);
        for bearing in 0..360 {
            // Walk 29.9 km in every direction; every point is inside the box.
            let b = f64::from(bearing).to_radians();
            let dlat = 29.9 * b.cos() / KM_PER_DEGREE;
            let dlon =
                29.9 * b.sin() / (KM_PER_DEGREE * (clermont.latitude() + dlat).to_radians().cos());
            let p = at(clermont.latitude() + dlat, clermont.longitude() + dlon);
            assert!(p.latitude() >= bbox.min_latitude && p.latitude() <= bbox.max_latitude);
            let (min, max) = bbox.longitudes.unwrap();
            assert!(
                p.longitude() >= min && p.longitude() <= max,
                "bearing {bearing}"
            );
        }
        assert!(at(89.9, 0.0).bounding_box(50.0).longitudes.is_none());
        assert!(
            at(0.0, 179.9).bounding_box(50.0).longitudes.is_none(),
            "wraps"
        );
    }
}
