//! [`ByteSize`]: the sizes operators write in flags (`512MiB`, `1GiB`), parsed and
//! printed in binary units so that what the stream limits receive is exact.

use std::fmt;

/// A size in bytes, written `65536`, `64KiB`, `512MiB`, `1GiB` or `2TiB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Below this a stream holds a handful of events: a typo more likely than a choice.
    pub const MIN: u64 = 16 * 1024;
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
        match units
            .iter()
            .find(|(shift, _)| self.0 >= 1 << shift && self.0.is_multiple_of(1 << shift))
        {
            Some((shift, unit)) => write!(f, "{}{unit}", self.0 >> shift),
            None => write!(f, "{}", self.0),
        }
    }
}

impl std::str::FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let digits = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(digits);
        let shift = match unit.trim() {
            "" | "B" => 0,
            "KiB" => 10,
            "MiB" => 20,
            "GiB" => 30,
            "TiB" => 40,
            other => {
                return Err(format!(
                    "unknown unit {other:?}: write bytes, or KiB, MiB, GiB, TiB"
                ));
            }
        };
        let number: u64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a size such as 512MiB or 1GiB"))?;
        let bytes = number
            .checked_mul(1 << shift)
            .filter(|bytes| i64::try_from(*bytes).is_ok())
            .ok_or_else(|| format!("{text:?} is too large"))?;
        if bytes < Self::MIN {
            return Err(format!("{text:?} is below the smallest stream size, 16KiB"));
        }
        Ok(Self(bytes))
    }
}
