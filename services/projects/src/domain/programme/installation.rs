//! What an award finances, beyond its label: the installation's peak power (kWc), its
//! roof area and building; and what a programme reports of them — the power its awards
//! installed and the yearly production that power is estimated to give, from the yield
//! the programme states (kWh per kWc per year).

use super::Invalid;

/// A solar (or other) installation an application is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// Peak power in watts (9 kWc: 9,000).
    pub peak_watts: u32,
    /// Roof (or ground) area in square decimetres (60 m²: 6,000); `None` when not given.
    pub area_dm2: Option<u32>,
    /// The building, e.g. "École Jules-Ferry"; `None` when not given.
    pub building: Option<String>,
}

/// `kw` kilowatts peak as whole watts: above 0, at most 100,000 kWc, three decimals.
pub fn parse_peak_kw(kw: f64) -> Result<u32, Invalid> {
    scaled(kw, 1_000.0, 100_000.0, "three")
}

/// `m2` square metres as square decimetres: above 0, at most 1,000,000 m², two decimals.
pub fn parse_area_m2(m2: f64) -> Result<u32, Invalid> {
    scaled(m2, 100.0, 1_000_000.0, "two")
}

fn scaled(value: f64, scale: f64, max: f64, decimals: &str) -> Result<u32, Invalid> {
    if !value.is_finite() || value <= 0.0 {
        return Err(Invalid::new(format!("must be above 0, got {value}")));
    }
    if value > max {
        return Err(Invalid::new(format!("must be at most {max}")));
    }
    let units = (value * scale).round();
    if ((units / scale) - value).abs() > 1e-9 * value.max(1.0) {
        return Err(Invalid::new(format!(
            "must have at most {decimals} decimals"
        )));
    }
    Ok(units as u32)
}

/// The yearly production `watts` of peak power give at `yield_kwh_per_kwp`, in kWh.
pub fn yearly_kwh(watts: i64, yield_kwh_per_kwp: u32) -> i64 {
    watts.saturating_mul(i64::from(yield_kwh_per_kwp)) / 1_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installations_are_exact_and_production_follows_the_yield() {
        assert_eq!(parse_peak_kw(9.0), Ok(9_000));
        assert_eq!(parse_peak_kw(8.925), Ok(8_925));
        assert!(parse_peak_kw(8.9251).is_err());
        assert!(parse_peak_kw(0.0).is_err());
        assert_eq!(parse_area_m2(60.0), Ok(6_000));
        assert!(parse_area_m2(60.001).is_err());
        // Four 9 kWc roofs at 1,200 kWh/kWc: 43,200 kWh a year.
        assert_eq!(yearly_kwh(4 * 9_000, 1_200), 43_200);
    }
}
