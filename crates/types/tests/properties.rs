//! Property tests of the shared value types: no input makes a parser panic, every valid
//! identifier is accepted, and any single-digit change to a SIREN or SIRET is caught.
//! Cases per property: `PROPTEST_CASES` (scripts/test sets 1,000). A failure proptest
//! finds is saved in `properties.proptest-regressions` and replayed first: commit it.

#![allow(clippy::unwrap_used)]

use fabrique_types::change::{etag_of, parse_etag};
use fabrique_types::france::{Department, InseeCode, PostalCode, Siren, Siret};
use fabrique_types::geo::{Location, parse_radius_km};
use fabrique_types::resource::{format_name, parse_name};
use fabrique_types::text::{bounded_text, fold};
use fabrique_types::web::{Email, Phone, Website};
use proptest::prelude::*;

/// `digits` followed by its Luhn check digit.
fn with_luhn(digits: &[u8]) -> String {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            // Positions counted from the check digit, which will be at index 0.
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    let check = (10 - sum % 10) % 10;
    digits
        .iter()
        .map(|d| char::from(b'0' + d))
        .chain(std::iter::once(char::from(b'0' + check as u8)))
        .collect()
}

/// `number` with the digit at `position` moved by `delta` (1 to 9).
fn change_digit(number: &str, position: usize, delta: u8) -> String {
    number
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = b - b'0';
            char::from(b'0' + if i == position { (d + delta) % 10 } else { d })
        })
        .collect()
}

/// Text that looks like what the parsers receive: digits, letters, separators, and
/// any character at all.
fn near_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9 ]{0,20}",
        "[0-9A-Za-z.:/@+ -]{0,40}",
        "\\PC{0,60}",
        ".{0,60}",
    ]
}

proptest! {
    #[test]
    fn no_text_makes_a_parser_panic(text in near_text()) {
        let _ = Siren::parse(&text);
        let _ = Siret::parse(&text);
        let _ = InseeCode::parse(&text);
        let _ = Department::parse(&text);
        let _ = PostalCode::parse(&text);
        let _ = Website::parse(&text);
        let _ = Email::parse(&text);
        let _ = Phone::parse(&text);
        let _ = parse_etag(&text);
        let _ = parse_name("members", &text);
        let _ = bounded_text(&text, 1, 20);
        let _ = fold(&text);
    }

    #[test]
    fn no_number_makes_coordinates_panic(latitude in any::<f64>(), longitude in any::<f64>(), radius in any::<f64>()) {
        if let Ok(location) = Location::parse(latitude, longitude) {
            prop_assert!((-90.0..=90.0).contains(&location.latitude()));
            prop_assert!((-180.0..=180.0).contains(&location.longitude()));
            let other = Location::parse(0.0, 0.0).unwrap();
            let distance = location.distance_km(&other);
            prop_assert!(distance.is_finite() && distance >= 0.0);
        }
        if let Ok(radius) = parse_radius_km(radius, 1_000.0) {
            prop_assert!(radius > 0.0 && radius <= 1_000.0);
        }
    }

    #[test]
    fn every_valid_siren_is_accepted_and_any_one_digit_change_refused(
        digits in prop::collection::vec(0u8..10, 8),
        position in 0usize..9,
        delta in 1u8..10,
    ) {
        let siren = with_luhn(&digits);
        let parsed = Siren::parse(&siren).unwrap();
        prop_assert_eq!(parsed.as_str(), siren.as_str());
        // Spaces as people write them are fine.
        let spaced = format!("{} {} {}", &siren[0..3], &siren[3..6], &siren[6..9]);
        prop_assert!(Siren::parse(&spaced).is_ok());
        let changed = change_digit(&siren, position, delta);
        prop_assert!(Siren::parse(&changed).is_err(), "{} accepted", changed);
    }

    #[test]
    fn every_valid_siret_is_accepted_with_its_siren(
        digits in prop::collection::vec(0u8..10, 13),
        position in 0usize..14,
        delta in 1u8..10,
    ) {
        let siret = with_luhn(&digits);
        let parsed = Siret::parse(&siret).unwrap();
        prop_assert_eq!(parsed.siren(), &siret[..9]);
        let changed = change_digit(&siret, position, delta);
        prop_assert!(Siret::parse(&changed).is_err());
    }

    #[test]
    fn every_commune_code_of_a_real_department_is_accepted(
        department in prop_oneof![
            (1u32..=19).prop_map(|d| format!("{d:02}")),
            Just("2A".to_string()),
            Just("2B".to_string()),
            (21u32..=95).prop_map(|d| format!("{d:02}")),
        ],
        commune in 1u32..=999,
    ) {
        let code = format!("{department}{commune:03}");
        let parsed = InseeCode::parse(&code).unwrap();
        let parsed_department = parsed.department();
        prop_assert_eq!(parsed_department.as_str(), department.as_str());
    }

    #[test]
    fn etags_and_names_round_trip(version in 0i64..i64::MAX, id in any::<u128>()) {
        prop_assert_eq!(parse_etag(&etag_of(version)).unwrap(), version);
        let id = uuid::Uuid::from_u128(id);
        prop_assert_eq!(parse_name("places", &format_name("places", id)).unwrap(), id);
        prop_assert!(parse_name("members", &format_name("places", id)).is_err());
    }
}
