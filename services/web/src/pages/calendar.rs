//! A bookable resource's free slots as a calendar: a table per week, a row per day in
//! Paris, each day's free time written the French way (`9 h – 12 h`, `toute la
//! journée`). Built from `GetAvailability`'s free intervals only: what is not free is
//! simply not written, and nothing says who holds it.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Timelike, Utc, Weekday};

use crate::fr;
use crate::texts::sharing::SharingTexts;

/// A week of the calendar.
pub struct Week {
    /// `Semaine du 7 décembre 2026`.
    pub caption: String,
    /// Its days, from the first shown.
    pub days: Vec<Day>,
}

/// A day of the calendar.
pub struct Day {
    /// `lundi 7 décembre 2026`.
    pub date: String,
    /// `9 h – 12 h, 14 h – 24 h`, or that nothing is free.
    pub slots: String,
    /// Whether any of it is free.
    pub free: bool,
}

/// The window to ask `GetAvailability` for: from the next full hour to the end of the
/// `days`-th day in Paris, today counted.
pub fn window(now: DateTime<Utc>, days: u32) -> (NaiveDate, DateTime<Utc>, DateTime<Utc>) {
    let today = fr::in_paris(now).date_naive();
    let hour = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    let end = fr::paris_midnight(today + Duration::days(i64::from(days)));
    (today, hour + Duration::hours(1), end)
}

/// The `days` days from `first`, a week per table (a week starts on Monday), each day
/// with the parts of `free` that fall in it, in Paris time.
pub fn weeks(
    t: &SharingTexts,
    free: &[(DateTime<Utc>, DateTime<Utc>)],
    first: NaiveDate,
    days: u32,
) -> Vec<Week> {
    let local: Vec<_> = free
        .iter()
        .map(|(start, end)| (fr::in_paris(*start), fr::in_paris(*end)))
        .collect();
    let mut weeks: Vec<Week> = Vec::new();
    for offset in 0..days {
        let day = first + Duration::days(i64::from(offset));
        if weeks.is_empty() || day.weekday() == Weekday::Mon {
            weeks.push(Week {
                caption: format!("{} {}", t.week_of, fr::date(day)),
                days: Vec::new(),
            });
        }
        let slots = slots_of(day, &local);
        let row = Day {
            date: fr::weekday_date(day),
            free: !slots.is_empty(),
            slots: match slots.as_slice() {
                [] => t.no_free_slot.to_string(),
                [((0, 0), (24, 0))] => t.whole_day.to_string(),
                slots => slots
                    .iter()
                    .map(|((fh, fm), (th, tm))| t.slot(&fr::clock(*fh, *fm), &fr::clock(*th, *tm)))
                    .collect::<Vec<_>>()
                    .join(", "),
            },
        };
        if let Some(week) = weeks.last_mut() {
            week.days.push(row);
        }
    }
    weeks
}

/// The free parts of `day`, as (hour, minute) pairs from and to; a day's end is 24:00.
fn slots_of(
    day: NaiveDate,
    free: &[(DateTime<FixedOffset>, DateTime<FixedOffset>)],
) -> Vec<((u32, u32), (u32, u32))> {
    let mut slots = Vec::new();
    for (start, end) in free {
        let ends_before = end.date_naive() < day
            || (end.date_naive() == day && end.hour() == 0 && end.minute() == 0);
        if start.date_naive() > day || ends_before {
            continue;
        }
        let from = if start.date_naive() < day {
            (0, 0)
        } else {
            (start.hour(), start.minute())
        };
        let to = if end.date_naive() > day {
            (24, 0)
        } else {
            (end.hour(), end.minute())
        };
        if from < to {
            slots.push((from, to));
        }
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::texts::sharing::FR;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("an RFC 3339 time")
            .with_timezone(&Utc)
    }

    fn plain(text: &str) -> String {
        text.replace('\u{A0}', " ")
    }

    #[test]
    fn free_intervals_become_days_of_paris_weeks() {
        // Saturday 5 December 2026, Paris (UTC+1): free until Monday 9:00, then from
        // Monday 12:30 to Tuesday 10:00, then from Tuesday 18:00 onwards.
        let free = [
            (utc("2026-12-05T14:00:00Z"), utc("2026-12-07T08:00:00Z")),
            (utc("2026-12-07T11:30:00Z"), utc("2026-12-08T09:00:00Z")),
            (utc("2026-12-08T17:00:00Z"), utc("2026-12-11T23:00:00Z")),
        ];
        let first = NaiveDate::from_ymd_opt(2026, 12, 5).expect("a date");
        let weeks = weeks(&FR, &free, first, 8);
        assert_eq!(weeks.len(), 2);
        assert_eq!(weeks[0].caption, "Semaine du 5 décembre 2026");
        assert_eq!(weeks[1].caption, "Semaine du 7 décembre 2026");
        let days: Vec<(String, String)> = weeks
            .iter()
            .flat_map(|w| w.days.iter())
            .map(|d| (d.date.clone(), plain(&d.slots)))
            .collect();
        assert_eq!(
            days[0],
            ("samedi 5 décembre 2026".into(), "15 h – 24 h".into())
        );
        assert_eq!(
            days[1],
            ("dimanche 6 décembre 2026".into(), "toute la journée".into())
        );
        assert_eq!(
            days[2],
            (
                "lundi 7 décembre 2026".into(),
                "0 h – 9 h, 12 h 30 – 24 h".into()
            )
        );
        assert_eq!(days[3].1, "0 h – 10 h, 18 h – 24 h");
        // An interval ending at Paris midnight does not spill into the next day.
        assert_eq!(days[6].1, "toute la journée");
        assert_eq!(days[7].1, "aucun créneau libre");
        assert!(!weeks[1].days[5].free);
    }

    #[test]
    fn the_window_starts_at_the_next_hour_and_ends_at_a_paris_midnight() {
        let (today, start, end) = window(utc("2026-07-14T09:41:12Z"), 28);
        assert_eq!(today, NaiveDate::from_ymd_opt(2026, 7, 14).expect("a date"));
        assert_eq!(start, utc("2026-07-14T10:00:00Z"));
        assert_eq!(end, utc("2026-08-10T22:00:00Z"));
    }
}
