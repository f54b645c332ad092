//! French conventions for what people read: dates (`6 décembre 2026`, `1er mai`,
//! `lundi 7 décembre 2026`), times (`9 h 30`), amounts (`5 000,00 €`), numbers and
//! distances (`12,5 km`), and the time in Europe/Paris, where every ally is.
//!
//! Thousands are grouped with a narrow no-break space (U+202F) and the euro sign follows
//! a no-break space (U+00A0), as the Imprimerie nationale's rules ask: a line never
//! breaks inside an amount.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Timelike, Utc, Weekday,
};

/// The narrow no-break space between groups of thousands.
pub const THOUSANDS: char = '\u{202F}';
/// The no-break space before a unit or the euro sign.
pub const BEFORE_UNIT: char = '\u{00A0}';

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// Monday first, in lower case as inside a sentence.
const WEEKDAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];

/// `6 décembre 2026`; the first of a month is `1er`.
pub fn date(day: NaiveDate) -> String {
    let number = match day.day() {
        1 => "1er".to_string(),
        n => n.to_string(),
    };
    format!("{number} {} {}", MONTHS[day.month0() as usize], day.year())
}

/// `lundi 7 décembre 2026`: a day with its name, as a calendar says it.
pub fn weekday_date(day: NaiveDate) -> String {
    format!(
        "{} {}",
        WEEKDAYS[day.weekday().num_days_from_monday() as usize],
        date(day)
    )
}

/// A time of day as the French write it: `9 h`, `9 h 30`, `24 h` for the midnight that
/// ends a day. No-break spaces keep it on one line.
pub fn clock(hour: u32, minute: u32) -> String {
    if minute == 0 {
        format!("{hour}{BEFORE_UNIT}h")
    } else {
        format!("{hour}{BEFORE_UNIT}h{BEFORE_UNIT}{minute:02}")
    }
}

/// `6 décembre 2026 à 18 h`: an instant as a Paris date and time.
pub fn date_time(instant: DateTime<Utc>) -> String {
    let paris = in_paris(instant);
    format!(
        "{} à {}",
        date(paris.date_naive()),
        clock(paris.hour(), paris.minute())
    )
}

/// An integer with its thousands grouped: `12 345`, `-1 000`.
pub fn integer(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(THOUSANDS);
        }
        grouped.push(digit);
    }
    if value < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// An amount in cents as euros: `5 000,00 €`.
pub fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let whole = i64::try_from(cents / 100).unwrap_or(i64::MAX);
    format!("{sign}{},{:02}{BEFORE_UNIT}€", integer(whole), cents % 100)
}

/// A decimal with `digits` digits after the comma: `3,5`, `12 345,0`.
pub fn decimal(value: f64, digits: usize) -> String {
    let text = format!("{:.*}", digits, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let whole: i64 = whole.parse().unwrap_or(0);
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if fraction.is_empty() {
        format!("{sign}{}", integer(whole))
    } else {
        format!("{sign}{},{fraction}", integer(whole))
    }
}

/// A quantity with at most `digits` decimals, the zeros at the end dropped: `1 250,5`,
/// `40`, `0,125`.
pub fn number(value: f64, digits: usize) -> String {
    let written = decimal(value, digits);
    if written.contains(',') {
        written
            .trim_end_matches('0')
            .trim_end_matches(',')
            .to_string()
    } else {
        written
    }
}

/// A number as people type it in France: `12,5`, `1 250,75`, or `12.5`; `None` when
/// it is not one.
pub fn parse_decimal(text: &str) -> Option<f64> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{A0}' | '\u{202F}'))
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let value: f64 = cleaned.parse().ok()?;
    value.is_finite().then_some(value)
}

/// An amount in euros as people type it (`5 000,50`, `19.5`, `12 €`) in cents: `None`
/// when it is not an amount, is negative, or is beyond a trillion euros.
pub fn parse_cents(text: &str) -> Option<i64> {
    let euros = parse_decimal(text.trim().trim_end_matches('€'))?;
    let cents = (euros * 100.0).round();
    (0.0..1e14).contains(&cents).then_some(cents as i64)
}

/// A distance: `850 m` under a kilometre, `12,5 km` above.
pub fn distance_km(km: f64) -> String {
    if km < 1.0 {
        format!("{}{BEFORE_UNIT}m", (km * 1000.0).round() as i64)
    } else {
        format!("{}{BEFORE_UNIT}km", decimal(km, 1))
    }
}

/// A duration in minutes as the French write it: `30 min`, `2 h`, `1 h 30`.
pub fn duration_minutes(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}{BEFORE_UNIT}min"),
        (h, 0) => format!("{h}{BEFORE_UNIT}h"),
        (h, m) => format!("{h}{BEFORE_UNIT}h{BEFORE_UNIT}{m:02}"),
    }
}

/// The instant of the Paris wall clock `day` at `time`: `None` for a time the spring
/// change skips (02:00–03:00 on the last Sunday of March); in the hour the autumn change
/// repeats, the first of the two.
pub fn paris_local(day: NaiveDate, time: chrono::NaiveTime) -> Option<DateTime<Utc>> {
    let local = day.and_time(time);
    [7200, 3600].into_iter().find_map(|offset| {
        let instant = (local - Duration::seconds(offset)).and_utc();
        (i64::from(paris_offset(instant).local_minus_utc()) == offset).then_some(instant)
    })
}

/// The last Sunday of `month` in `year`, at 01:00 UTC: when summer time starts (March)
/// or ends (October) in the European Union.
fn last_sunday_at_one_utc(year: i32, month: u32) -> DateTime<Utc> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .expect("called for March and October of a representable year");
    let mut day = first_of_next - Duration::days(1);
    while day.weekday() != Weekday::Sun {
        day -= Duration::days(1);
    }
    Utc.from_utc_datetime(&(day.and_time(chrono::NaiveTime::MIN) + Duration::hours(1)))
}

/// Europe/Paris's offset at `instant`: +02:00 in summer time (from the last Sunday of
/// March to the last Sunday of October, at 01:00 UTC), +01:00 otherwise. The rule of
/// EU directive 2000/84/EC, written here rather than loading the tz database for one
/// zone.
pub fn paris_offset(instant: DateTime<Utc>) -> FixedOffset {
    let year = instant.year();
    let summer =
        instant >= last_sunday_at_one_utc(year, 3) && instant < last_sunday_at_one_utc(year, 10);
    FixedOffset::east_opt(if summer { 7200 } else { 3600 })
        .expect("one or two hours east is a valid offset")
}

/// The instant the day `day` begins in Paris (its midnight).
pub fn paris_midnight(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    // Paris's midnight is 22:00 or 23:00 UTC the day before; summer time changes at
    // 01:00 UTC, so the offset two hours before the naive UTC midnight is the one.
    let offset = paris_offset(midnight.and_utc() - Duration::hours(2));
    (midnight - Duration::seconds(i64::from(offset.local_minus_utc()))).and_utc()
}

/// `instant` as a Paris wall clock.
pub fn in_paris(instant: DateTime<Utc>) -> DateTime<FixedOffset> {
    instant.with_timezone(&paris_offset(instant))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("an RFC 3339 time")
            .with_timezone(&Utc)
    }

    #[test]
    fn numbers_are_read_as_typed_in_france() {
        assert_eq!(parse_decimal("12,5"), Some(12.5));
        assert_eq!(parse_decimal(" 1 250,75 "), Some(1250.75));
        assert_eq!(parse_decimal("12.5"), Some(12.5));
        assert_eq!(parse_decimal("douze"), None);
        assert_eq!(parse_decimal("inf"), None);
        assert_eq!(parse_decimal(""), None);
        assert_eq!(parse_cents("5 000,50"), Some(500_050));
        assert_eq!(parse_cents("19.5 €"), Some(1_950));
        assert_eq!(parse_cents("0"), Some(0));
        assert_eq!(parse_cents("-1"), None);
        assert_eq!(parse_cents("1e13"), None, "beyond a trillion euros");
    }

    #[test]
    fn paris_wall_clocks_are_read_across_the_time_changes() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        let at = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).expect("a time");
        assert_eq!(
            paris_local(day(2026, 12, 8), at(10, 0)),
            Some(utc("2026-12-08T09:00:00Z"))
        );
        assert_eq!(
            paris_local(day(2026, 7, 14), at(10, 0)),
            Some(utc("2026-07-14T08:00:00Z"))
        );
        // 29 March 2026: 02:30 does not exist in Paris; 03:30 is summer time.
        assert_eq!(paris_local(day(2026, 3, 29), at(2, 30)), None);
        assert_eq!(
            paris_local(day(2026, 3, 29), at(3, 30)),
            Some(utc("2026-03-29T01:30:00Z"))
        );
        // 25 October 2026: 02:30 happens twice; the first is summer time's.
        assert_eq!(
            paris_local(day(2026, 10, 25), at(2, 30)),
            Some(utc("2026-10-25T00:30:00Z"))
        );
        for instant in ["2026-12-08T09:15:00Z", "2026-06-01T22:45:00Z"] {
            let local = in_paris(utc(instant));
            assert_eq!(
                paris_local(local.date_naive(), local.time()),
                Some(utc(instant))
            );
        }
        assert_eq!(duration_minutes(30), "30\u{a0}min");
        assert_eq!(duration_minutes(120), "2\u{a0}h");
        assert_eq!(duration_minutes(90), "1\u{a0}h\u{a0}30");
    }

    #[test]
    fn dates_are_written_as_the_french_write_them() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        assert_eq!(date(day(2026, 12, 6)), "6 décembre 2026");
        assert_eq!(date(day(2027, 5, 1)), "1er mai 2027");
        assert_eq!(date(day(2026, 8, 15)), "15 août 2026");
        assert_eq!(date(day(2027, 2, 28)), "28 février 2027");
    }

    #[test]
    fn days_and_times_read_as_a_french_calendar() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        assert_eq!(weekday_date(day(2026, 12, 7)), "lundi 7 décembre 2026");
        assert_eq!(weekday_date(day(2027, 8, 1)), "dimanche 1er août 2027");
        let plain = |text: String| text.replace('\u{A0}', " ");
        assert_eq!(plain(clock(9, 0)), "9 h");
        assert_eq!(plain(clock(9, 30)), "9 h 30");
        assert_eq!(plain(clock(24, 0)), "24 h");
        assert_eq!(
            plain(date_time(utc("2026-12-06T17:00:00Z"))),
            "6 décembre 2026 à 18 h"
        );
        // Midnight in Paris: 23:00 UTC in winter, 22:00 UTC in summer, and on the days
        // the clocks change.
        assert_eq!(
            paris_midnight(day(2026, 12, 7)),
            utc("2026-12-06T23:00:00Z")
        );
        assert_eq!(
            paris_midnight(day(2026, 7, 14)),
            utc("2026-07-13T22:00:00Z")
        );
        assert_eq!(
            paris_midnight(day(2026, 3, 29)),
            utc("2026-03-28T23:00:00Z")
        );
        assert_eq!(
            paris_midnight(day(2026, 3, 30)),
            utc("2026-03-29T22:00:00Z")
        );
        assert_eq!(
            paris_midnight(day(2026, 10, 25)),
            utc("2026-10-24T22:00:00Z")
        );
        assert_eq!(
            paris_midnight(day(2026, 10, 26)),
            utc("2026-10-25T23:00:00Z")
        );
    }

    #[test]
    fn quantities_drop_their_trailing_zeros() {
        assert_eq!(number(1250.5, 3), "1\u{202F}250,5");
        assert_eq!(number(40.0, 3), "40");
        assert_eq!(number(0.125, 3), "0,125");
        assert_eq!(number(12.0004, 3), "12");
    }

    #[test]
    fn amounts_group_thousands_and_end_with_the_euro_sign() {
        assert_eq!(euros(500_000), "5\u{202F}000,00\u{A0}€");
        assert_eq!(euros(125_050), "1\u{202F}250,50\u{A0}€");
        assert_eq!(euros(7), "0,07\u{A0}€");
        assert_eq!(euros(0), "0,00\u{A0}€");
        assert_eq!(euros(-250_000), "-2\u{202F}500,00\u{A0}€");
        assert_eq!(
            euros(100_000_000_000),
            "1\u{202F}000\u{202F}000\u{202F}000,00\u{A0}€"
        );
        // Read aloud the same once the spaces are plain: what the issue writes.
        assert_eq!(
            euros(500_000).replace(['\u{202F}', '\u{A0}'], " "),
            "5 000,00 €"
        );
    }

    #[test]
    fn numbers_and_distances_use_a_comma() {
        assert_eq!(integer(0), "0");
        assert_eq!(integer(999), "999");
        assert_eq!(integer(1000), "1\u{202F}000");
        assert_eq!(integer(-1_234_567), "-1\u{202F}234\u{202F}567");
        assert_eq!(decimal(3.5, 1), "3,5");
        assert_eq!(decimal(12_345.04, 1), "12\u{202F}345,0");
        assert_eq!(decimal(-0.04, 1), "0,0");
        assert_eq!(decimal(-2.25, 2), "-2,25");
        assert_eq!(decimal(7.0, 0), "7");
        assert_eq!(distance_km(0.85), "850\u{A0}m");
        assert_eq!(distance_km(12.46), "12,5\u{A0}km");
    }

    #[test]
    fn paris_changes_to_summer_time_and_back_on_the_eu_dates() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(
            paris_offset(utc("2026-03-29T00:59:59Z")).local_minus_utc(),
            3600
        );
        assert_eq!(
            paris_offset(utc("2026-03-29T01:00:00Z")).local_minus_utc(),
            7200
        );
        assert_eq!(
            paris_offset(utc("2026-10-25T00:59:59Z")).local_minus_utc(),
            7200
        );
        assert_eq!(
            paris_offset(utc("2026-10-25T01:00:00Z")).local_minus_utc(),
            3600
        );
        // 2027: 28 March and 31 October.
        assert_eq!(
            paris_offset(utc("2027-03-28T01:00:00Z")).local_minus_utc(),
            7200
        );
        assert_eq!(
            paris_offset(utc("2027-10-31T00:30:00Z")).local_minus_utc(),
            7200
        );
        assert_eq!(
            paris_offset(utc("2027-10-31T01:30:00Z")).local_minus_utc(),
            3600
        );
        let noon = in_paris(utc("2026-12-06T11:00:00Z"));
        assert_eq!(noon.format("%H:%M").to_string(), "12:00");
        let summer = in_paris(utc("2026-07-14T10:00:00Z"));
        assert_eq!(summer.format("%H:%M").to_string(), "12:00");
    }
}
