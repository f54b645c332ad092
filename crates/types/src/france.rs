//! French public identifiers: SIREN and SIRET (INSEE's business register), INSEE
//! commune and department codes, postal codes.

use crate::text::{Invalid, invalid};

fn digits_only(value: &str) -> String {
    value.chars().filter(|c| !c.is_whitespace()).collect()
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A SIREN number: 9 digits whose Luhn checksum is valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Siren(String);

impl Siren {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let digits = digits_only(value);
        if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return invalid("must be 9 digits");
        }
        if !luhn(&digits) {
            return invalid(format!("{digits} is not a valid SIREN (checksum fails)"));
        }
        Ok(Self(digits))
    }

    /// The SIREN whose first eight digits are `number` (below 10⁸, zero-padded) and whose
    /// ninth is the Luhn check digit: examples and test fixtures that must be valid and
    /// distinct.
    pub fn completing(number: u32) -> Self {
        Self(with_check_digit(&format!("{:08}", number % 100_000_000)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `digits` and the one digit that makes the whole Luhn-valid.
fn with_check_digit(digits: &str) -> String {
    (0..10)
        .map(|d| format!("{digits}{d}"))
        .find(|candidate| luhn(candidate))
        .expect("one of ten check digits satisfies Luhn")
}

/// A SIRET number: a SIREN and a 5-digit establishment number, 14 digits, Luhn-valid.
/// (La Poste's establishments follow another rule and are refused; none is expected.)
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Siret(String);

impl Siret {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let digits = digits_only(value);
        if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return invalid("must be 14 digits");
        }
        if !luhn(&digits) {
            return invalid(format!("{digits} is not a valid SIRET (checksum fails)"));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn siren(&self) -> &str {
        &self.0[..9]
    }

    /// The SIRET of `siren`'s establishment `nic` (its first four digits; the fifth is
    /// the Luhn check digit): examples and test fixtures.
    pub fn completing(siren: &Siren, nic: u16) -> Self {
        Self(with_check_digit(&format!(
            "{}{:04}",
            siren.as_str(),
            nic % 10_000
        )))
    }
}

/// An INSEE commune code: 5 digits, or `2A`/`2B` then 3 digits for Corsica.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InseeCode(String);

impl InseeCode {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let code = value.trim().to_ascii_uppercase();
        let bytes = code.as_bytes();
        let valid = bytes.len() == 5
            && (bytes.iter().all(u8::is_ascii_digit)
                || (bytes[0] == b'2'
                    && (bytes[1] == b'A' || bytes[1] == b'B')
                    && bytes[2..].iter().all(u8::is_ascii_digit)));
        if !valid {
            return invalid(
                "must be an INSEE commune code: 5 digits, or 2A/2B and 3 digits in Corsica",
            );
        }
        if code.starts_with("00") || code.starts_with("20") {
            return invalid(format!(
                "{code} is not an INSEE commune code (no department 00 or 20)"
            ));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The department: 2 characters, 3 for overseas (97x, 98x).
    pub fn department(&self) -> Department {
        let len = if self.0.starts_with("97") || self.0.starts_with("98") {
            3
        } else {
            2
        };
        Department(self.0[..len].to_string())
    }
}

/// An INSEE department code: `63`, `2A`, `974`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Department(String);

impl Department {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let code = value.trim().to_ascii_uppercase();
        let b = code.as_bytes();
        let valid = match b.len() {
            2 => {
                (b.iter().all(u8::is_ascii_digit) && code != "00" && code != "20")
                    || code == "2A"
                    || code == "2B"
            }
            3 => (code.starts_with("97") || code.starts_with("98")) && b[2].is_ascii_digit(),
            _ => false,
        };
        if valid {
            Ok(Self(code))
        } else {
            invalid("must be a department code: 2 digits, 2A, 2B, or 3 digits overseas (971…)")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A French postal code: 5 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostalCode(String);

impl PostalCode {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let code = digits_only(value);
        if code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()) && !code.starts_with("00") {
            Ok(Self(code))
        } else {
            invalid("must be a French postal code: 5 digits")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siren_checks_the_luhn_sum() {
        // Real SIRENs from the Puy-de-Dôme open data.
        assert!(Siren::parse("200067627").is_ok());
        assert!(Siren::parse("200 070 407").is_ok());
        assert!(Siren::parse("200067628").is_err());
        assert!(Siren::parse("12345678").is_err());
        assert!(Siren::parse("20006762a").is_err());
    }

    #[test]
    fn siret_checks_the_luhn_sum() {
        // A Luhn-valid establishment number on Thiers' SIREN.
        let siret = Siret::parse("216 304 303 00011").unwrap();
        assert_eq!(siret.siren(), "216304303");
        assert!(Siret::parse("21630430300012").is_err());
        assert!(Siret::parse("2163043030001").is_err());
    }

    #[test]
    fn completed_numbers_pass_their_own_checks() {
        assert_eq!(Siren::completing(20006762).as_str(), "200067627");
        for n in [0, 1, 99_999_999, 123_456_789] {
            let siren = Siren::completing(n);
            assert_eq!(Siren::parse(siren.as_str()), Ok(siren.clone()));
            let siret = Siret::completing(&siren, 1);
            assert_eq!(Siret::parse(siret.as_str()), Ok(siret.clone()));
            assert_eq!(siret.siren(), siren.as_str());
        }
        assert_eq!(
            Siret::completing(&Siren::parse("216304303").unwrap(), 1).as_str(),
            "21630430300011"
        );
    }

    #[test]
    fn insee_codes_allow_corsica_and_give_departments() {
        assert_eq!(
            InseeCode::parse("63113").unwrap().department().as_str(),
            "63"
        );
        assert_eq!(InseeCode::parse("2a004").unwrap().as_str(), "2A004");
        assert_eq!(
            InseeCode::parse("97411").unwrap().department().as_str(),
            "974"
        );
        for bad in ["6311", "631130", "2C004", "ABCDE", "20004", "00123", ""] {
            assert!(InseeCode::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn departments_parse() {
        for good in ["63", "2A", "2b", "974", "01"] {
            assert!(Department::parse(good).is_ok(), "{good}");
        }
        for bad in ["6", "20", "00", "631", "A3", ""] {
            assert!(Department::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn postal_codes() {
        assert_eq!(PostalCode::parse("63 000").unwrap().as_str(), "63000");
        assert!(PostalCode::parse("6300").is_err());
        assert!(PostalCode::parse("00123").is_err());
    }
}
