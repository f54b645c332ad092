//! Weekly opening hours in the common subset of OpenStreetMap's `opening_hours` syntax:
//! `24/7`; or rules separated by `;`, each `<days> <times>` where days are `Mo`..`Su`,
//! ranges (`Mo-Fr`, wrapping `Fr-Mo`) and lists (`Mo,We`), optionally `PH` (public
//! holidays, kept in the text, not in the weekly spans), and times are `HH:MM-HH:MM`
//! spans separated by `,`, or `off`/`closed`. A later rule replaces earlier ones on its
//! days, as in OSM. Anything else (months, weeks, sunrise…) is refused by name.

use std::fmt;

use fabrique_types::Invalid;

/// OpenStreetMap's day abbreviations, Monday first: a day's index is its
/// [`Span::day`].
pub const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

fabrique_types::string_enum!(
    /// A day of the week, Monday first (ISO 8601, and OpenStreetMap's `Mo`..`Su`).
    Weekday {
        /// Lundi.
        Monday => "monday",
        /// Mardi.
        Tuesday => "tuesday",
        /// Mercredi.
        Wednesday => "wednesday",
        /// Jeudi.
        Thursday => "thursday",
        /// Vendredi.
        Friday => "friday",
        /// Samedi.
        Saturday => "saturday",
        /// Dimanche.
        Sunday => "sunday",
    }
);

impl Span {
    /// The day of [`Span::day`].
    pub fn weekday(&self) -> Weekday {
        Weekday::ALL[usize::from(self.day) % 7]
    }
}

/// One opening: `day` 0 = Monday; minutes from midnight, `closes` up to 1440.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    /// 0 (Monday) to 6 (Sunday).
    pub day: u8,
    /// Minutes from midnight, 0 to 1439.
    pub opens: u16,
    /// Minutes from midnight, after `opens`, up to 1440 (midnight at the end of the
    /// day): a span never crosses midnight.
    pub closes: u16,
}

/// Parsed opening hours: the text as given (normalized spacing) and the weekly spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours {
    text: String,
    spans: Vec<Span>,
}

impl OpeningHours {
    /// The longest text, in bytes.
    pub const MAX_LEN: usize = 500;

    /// Parses the syntax the module's doc describes; anything else is refused rather
    /// than guessed at.
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let text = value.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        if text.len() > Self::MAX_LEN {
            return Err(Invalid::new(format!(
                "must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        if text == "24/7" {
            let spans = (0..7)
                .map(|day| Span {
                    day,
                    opens: 0,
                    closes: 1440,
                })
                .collect();
            return Ok(Self { text, spans });
        }
        let mut week: [Option<Vec<(u16, u16)>>; 7] = Default::default();
        for rule in text.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            let (days, times) = split_rule(rule)?;
            let openings = parse_times(times, rule)?;
            for day in days {
                week[day as usize] = Some(openings.clone());
            }
        }
        let mut spans = Vec::new();
        for (day, openings) in week.iter().enumerate() {
            for (opens, closes) in openings.iter().flatten() {
                spans.push(Span {
                    day: day as u8,
                    opens: *opens,
                    closes: *closes,
                });
            }
        }
        spans.sort();
        Ok(Self { text, spans })
    }

    /// The text as given, spacing normalized: what is stored and shown.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Every opening of the week, by day then time; public holidays are not in them.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }
}

impl fmt::Display for OpeningHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn unsupported(rule: &str, near: &str) -> Invalid {
    Invalid::new(format!(
        "unsupported opening_hours syntax near {near:?} in {rule:?}: use e.g. \"Mo-Fr 09:00-12:00,14:00-18:00; Sa 10:00-12:00\""
    ))
}

/// The days a rule applies to (all of them when it names none), and its time part.
fn split_rule(rule: &str) -> Result<(Vec<u8>, &str), Invalid> {
    let (selector, times) = match rule.split_once(' ') {
        Some((first, rest))
            if first
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && !matches!(first, "off" | "closed") =>
        {
            (Some(first), rest.trim())
        }
        _ => (None, rule),
    };
    let Some(selector) = selector else {
        return Ok(((0..7).collect(), times));
    };
    let mut days = Vec::new();
    for item in selector.split(',') {
        if item == "PH" {
            continue;
        }
        match item.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day_index(from, rule)?, day_index(to, rule)?);
                let mut day = from;
                loop {
                    days.push(day);
                    if day == to {
                        break;
                    }
                    day = (day + 1) % 7;
                }
            }
            None => days.push(day_index(item, rule)?),
        }
    }
    Ok((days, times))
}

fn day_index(day: &str, rule: &str) -> Result<u8, Invalid> {
    DAYS.iter()
        .position(|d| *d == day)
        .map(|i| i as u8)
        .ok_or_else(|| unsupported(rule, day))
}

fn parse_times(times: &str, rule: &str) -> Result<Vec<(u16, u16)>, Invalid> {
    if matches!(times, "off" | "closed") {
        return Ok(Vec::new());
    }
    let mut openings = Vec::new();
    for span in times.split(',').map(str::trim) {
        let (opens, closes) = span
            .split_once('-')
            .ok_or_else(|| unsupported(rule, span))?;
        let (opens, closes) = (minutes(opens, rule)?, minutes(closes, rule)?);
        if opens >= closes || opens >= 1440 {
            return Err(Invalid::new(format!(
                "in {rule:?}, {span:?} must open before it closes (spans past midnight: split them)"
            )));
        }
        openings.push((opens, closes));
    }
    openings.sort();
    if openings.windows(2).any(|w| w[0].1 > w[1].0) {
        return Err(Invalid::new(format!("in {rule:?}, time spans overlap")));
    }
    Ok(openings)
}

fn minutes(time: &str, rule: &str) -> Result<u16, Invalid> {
    let (h, m) = time
        .split_once(':')
        .ok_or_else(|| unsupported(rule, time))?;
    let valid =
        h.len() == 2 && m.len() == 2 && h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit());
    if !valid {
        return Err(unsupported(rule, time));
    }
    let (h, m): (u16, u16) = (
        h.parse().map_err(|_| unsupported(rule, time))?,
        m.parse().map_err(|_| unsupported(rule, time))?,
    );
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(Invalid::new(format!(
            "in {rule:?}, {time} is not a time of day"
        )));
    }
    Ok(h * 60 + m)
}

/// `540` → `"09:00"`.
pub fn format_minutes(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<(u8, String, String)> {
        OpeningHours::parse(text)
            .unwrap()
            .spans()
            .iter()
            .map(|s| (s.day, format_minutes(s.opens), format_minutes(s.closes)))
            .collect()
    }

    #[test]
    fn weekday_ranges_and_several_spans() {
        let week = spans("Mo-Fr 09:00-12:00,14:00-18:00; Sa 10:00-12:00");
        assert_eq!(week.len(), 11);
        assert_eq!(week[0], (0, "09:00".into(), "12:00".into()));
        assert_eq!(week[10], (5, "10:00".into(), "12:00".into()));
    }

    #[test]
    fn later_rules_override_and_off_closes() {
        let week = spans("Mo-Su 10:00-18:00; We off; PH off");
        assert_eq!(week.len(), 6);
        assert!(week.iter().all(|(day, _, _)| *day != 2));
        assert_eq!(spans("24/7").len(), 7);
        assert_eq!(
            spans("Fr-Mo 08:00-24:00")
                .iter()
                .map(|s| s.0)
                .collect::<Vec<_>>(),
            [0, 4, 5, 6]
        );
        assert_eq!(spans("10:00-16:00").len(), 7, "no days: every day");
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        for bad in [
            "Jan-Mar Mo 10:00-12:00",
            "Mo 9:00-12:00",
            "Mo 12:00-09:00",
            "Mo 10:00-12:00,11:00-13:00",
            "Mo 25:00-26:00",
            "Mo sunrise-sunset",
            "Xy 10:00-12:00",
            "",
        ] {
            assert!(
                OpeningHours::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn spacing_is_normalized() {
        assert_eq!(
            OpeningHours::parse("  Mo-Fr   09:00-18:00 ")
                .unwrap()
                .as_str(),
            "Mo-Fr 09:00-18:00"
        );
    }
}
