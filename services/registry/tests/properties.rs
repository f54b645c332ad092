//! Property tests of the registry's parsers: opening hours and open-data CSV imports.
//! No input makes them panic; hours that parse give well-formed spans and parse again
//! to the same; every CSV row is accepted or refused with its line. Cases:
//! `PROPTEST_CASES` (scripts/test sets 1,000).

#![allow(clippy::unwrap_used)]

use fabrique_registry::domain::opening_hours::{OpeningHours, format_minutes};
use fabrique_registry::import::parse_csv;
use proptest::prelude::*;

const DAYS: &[&str] = &["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

/// Opening hours as people write them: day ranges and lists, one or two time spans.
fn hours() -> impl Strategy<Value = String> {
    let day = prop::sample::select(DAYS);
    let days = prop_oneof![
        day.clone().prop_map(str::to_string),
        (day.clone(), day.clone()).prop_map(|(a, b)| format!("{a}-{b}")),
        (day.clone(), day).prop_map(|(a, b)| format!("{a},{b}")),
    ];
    // One or two spans of a day, the second after the first (overlaps are refused).
    let spans = (
        0u16..20,
        prop::sample::select(vec![0u16, 15, 30, 45]),
        1u16..=8,
        1u16..=8,
        any::<bool>(),
    )
        .prop_map(|(h, m, first, second, two)| {
            let opens = h * 60 + m;
            let closes = opens + first * 30;
            let mut spans = vec![format!(
                "{}-{}",
                format_minutes(opens),
                format_minutes(closes)
            )];
            let (again, until) = (closes + 30, closes + 30 + second * 30);
            if two && until <= 24 * 60 {
                spans.push(format!(
                    "{}-{}",
                    format_minutes(again),
                    format_minutes(until)
                ));
            }
            spans.join(",")
        });
    let rule = (days, spans).prop_map(|(d, s)| format!("{d} {s}"));
    prop::collection::vec(rule, 1..4).prop_map(|rules| rules.join("; "))
}

fn near_hours() -> impl Strategy<Value = String> {
    prop_oneof![
        hours(),
        "[MoTuWeThFrSaSu0-9:;, -]{0,60}",
        "\\PC{0,80}",
        Just("24/7".into())
    ]
}

proptest! {
    #[test]
    fn no_text_makes_opening_hours_panic_and_what_parses_is_well_formed(text in near_hours()) {
        if let Ok(hours) = OpeningHours::parse(&text) {
            for span in hours.spans() {
                prop_assert!(span.day < 7);
                prop_assert!(span.opens < span.closes && span.closes <= 24 * 60, "{:?}", span);
            }
            let again = OpeningHours::parse(hours.as_str()).unwrap();
            prop_assert_eq!(again.spans(), hours.spans());
        }
    }

    #[test]
    fn hours_as_people_write_them_parse(text in hours()) {
        let parsed = OpeningHours::parse(&text);
        prop_assert!(parsed.is_ok(), "{:?}: {:?}", text, parsed.err());
    }

    #[test]
    fn no_bytes_make_the_csv_import_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_csv(&bytes);
    }

    #[test]
    fn every_csv_row_is_accepted_or_refused_with_its_line(
        rows in prop::collection::vec(
            (
                "[a-z0-9-]{0,8}",
                "\\PC{0,30}",
                prop_oneof![(-100.0f64..100.0).prop_map(|v| format!("{v:.4}")), "\\PC{0,8}"],
                prop_oneof![(-200.0f64..200.0).prop_map(|v| format!("{v:.4}")), "\\PC{0,8}"],
                prop::sample::select(vec!["FabLab", "Ressourcerie", "Tiers-lieu", "Garage", ""]),
            ),
            1..20,
        ),
    ) {
        let mut csv = String::from("id,nom,latitude,longitude,typologie\n");
        for (id, name, latitude, longitude, kind) in &rows {
            let quote = |v: &str| format!("\"{}\"", v.replace('"', "\"\""));
            csv.push_str(&format!(
                "{},{},{},{},{}\n",
                quote(id), quote(name), quote(latitude), quote(longitude), quote(kind)
            ));
        }
        // A row gives one result, or one error per bad field, each with its line.
        let parsed = parse_csv(csv.as_bytes()).unwrap();
        let mut lines = Vec::new();
        for row in &parsed {
            lines.push(match row {
                Ok(row) => row.line,
                Err(error) => {
                    prop_assert!(!error.description.is_empty());
                    error.line
                }
            });
        }
        prop_assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{:?}", lines);
        let expected: Vec<usize> = (2..rows.len() + 2).collect();
        lines.dedup();
        prop_assert_eq!(lines, expected);
    }
}
