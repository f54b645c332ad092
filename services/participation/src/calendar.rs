//! A process's meetings as an iCalendar object (RFC 5545) to subscribe to: one VEVENT
//! per meeting, times in UTC, text escaped (§3.3.11) and lines folded at 75 octets
//! (§3.1) with CRLF endings, each event linking back to its meeting's page on the site.

use chrono::{DateTime, Utc};

use crate::domain::Process;
use crate::domain::meeting::{Meeting, Venue};

/// The media type of what [`render`] writes.
pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";

/// `20270312T180000Z`.
fn utc(time: DateTime<Utc>) -> String {
    time.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value: backslashes, semicolons, commas and newlines escaped.
fn text(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\n' => escaped.push_str("\\n"),
            '\r' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// Appends `line`, folded: at most 75 octets per line, never inside a character, each
/// continuation starting with a space.
fn push_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// The meeting's page on the site at `site_url`.
pub fn meeting_url(site_url: &str, meeting: &Meeting) -> String {
    format!(
        "{}/participation/{}/rencontres/{}",
        site_url.trim_end_matches('/'),
        meeting.process,
        meeting.id
    )
}

/// The calendar of `process`'s meetings; `site_url` (when given) makes each event link
/// to its page. `now` stamps the file.
pub fn render(
    process: &Process,
    meetings: &[Meeting],
    site_url: Option<&str>,
    now: DateTime<Utc>,
) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Fabrique//Participation//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        push_line(&mut out, line);
    }
    push_line(&mut out, &format!("X-WR-CALNAME:{}", text(&process.title)));
    for meeting in meetings {
        let d = &meeting.details;
        push_line(&mut out, "BEGIN:VEVENT");
        push_line(
            &mut out,
            &format!("UID:{}@participation.fabrique", meeting.id),
        );
        push_line(&mut out, &format!("DTSTAMP:{}", utc(now)));
        push_line(&mut out, &format!("DTSTART:{}", utc(d.start)));
        push_line(&mut out, &format!("DTEND:{}", utc(d.end)));
        push_line(&mut out, &format!("SUMMARY:{}", text(&d.title)));
        if !d.description.is_empty() {
            push_line(&mut out, &format!("DESCRIPTION:{}", text(&d.description)));
        }
        let location = match &d.venue {
            Venue::Place(_) => meeting.place_display_name.clone().unwrap_or_default(),
            Venue::Online(url) => format!("En ligne : {url}"),
        };
        if !location.is_empty() {
            push_line(&mut out, &format!("LOCATION:{}", text(&location)));
        }
        if let Some(site) = site_url {
            push_line(&mut out, &format!("URL:{}", meeting_url(site, meeting)));
        }
        let status = if meeting.cancelled_at.is_some() {
            "CANCELLED"
        } else {
            "CONFIRMED"
        };
        push_line(&mut out, &format!("STATUS:{status}"));
        push_line(&mut out, &format!("SEQUENCE:{}", meeting.version - 1));
        push_line(
            &mut out,
            &format!("LAST-MODIFIED:{}", utc(meeting.updated_at)),
        );
        push_line(&mut out, "END:VEVENT");
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_long_lines_folded() {
        assert_eq!(
            text("Salle 1, étage 2; entrée\\nord\nici"),
            "Salle 1\\, étage 2\\; entrée\\\\nord\\nici"
        );
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "é".repeat(60));
        push_line(&mut out, &long);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded.trim_end(), long);
    }
}
