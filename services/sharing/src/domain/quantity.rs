//! Quantities of materials: exact thousandths, so that what is claimed and what remains
//! always add up to what was offered, and the units they are counted in.

use fabrique_types::Invalid;

fabrique_types::string_enum!(
    /// Stored as short symbols; the contract spells them out (`QUANTITY_UNIT_TONNE`).
    QuantityUnit {
        /// By weight, in metric tonnes.
        Tonne => "t" as "tonne",
        /// By volume, in cubic metres.
        CubicMetre => "m3" as "cubic_metre",
        /// By surface, in square metres.
        SquareMetre => "m2" as "square_metre",
        /// By the piece.
        Unit => "unit",
    }
);

/// A quantity in thousandths of its unit, so that sums and comparisons are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Milli(i64);

impl Milli {
    /// Above 0, at most three decimals, at most a billion.
    pub fn parse_positive(amount: f64) -> Result<Self, Invalid> {
        if !amount.is_finite() || amount <= 0.0 {
            return Err(Invalid::new(format!("must be above 0, got {amount}")));
        }
        if amount > 1e9 {
            return Err(Invalid::new("must be at most 1,000,000,000"));
        }
        let milli = (amount * 1000.0).round();
        if ((milli / 1000.0) - amount).abs() > 1e-9 * amount.max(1.0) {
            return Err(Invalid::new("must have at most three decimals"));
        }
        // A positive amount too small for the tolerance above would round to nothing
        // (found by the property tests).
        if milli < 1.0 {
            return Err(Invalid::new(format!(
                "must be at least 0.001, got {amount}"
            )));
        }
        Ok(Self(milli as i64))
    }

    /// As stored: the database holds thousandths, already checked when written.
    pub fn from_milli(milli: i64) -> Self {
        Self(milli)
    }

    /// The count of thousandths.
    pub fn milli(&self) -> i64 {
        self.0
    }

    /// In whole units, as the contract shows it.
    pub fn amount(&self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_exact_thousandths() {
        assert_eq!(Milli::parse_positive(25.0).unwrap().milli(), 25_000);
        assert_eq!(Milli::parse_positive(0.125).unwrap().milli(), 125);
        assert!(Milli::parse_positive(0.0001).is_err());
        assert!(Milli::parse_positive(-1.0).is_err());
        assert!(Milli::parse_positive(0.0).is_err());
        assert!(Milli::parse_positive(f64::NAN).is_err());
        // Positive, but rounds to no thousandth at all.
        assert!(Milli::parse_positive(1e-10).is_err());
        assert!(Milli::parse_positive(5.720064398855191e-247).is_err());
    }
}
