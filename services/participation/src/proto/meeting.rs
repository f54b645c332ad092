//! Meetings in and out of the contract.

use fabrique_api::participation as proto;
use fabrique_platform::Error;
use fabrique_platform::error::Violations;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::{from_timestamp, timestamp};
use fabrique_types::Invalid;

use crate::domain::meeting::{
    AttendanceState, MAX_LENGTH, MAX_SEATS, Meeting, MeetingKind, NewMeeting, Registration, Venue,
};
use crate::domain::text_between;

fabrique_platform::proto_mapped!(
    MeetingKind => proto::MeetingKind,
    AttendanceState => proto::AttendanceState,
);

/// Over 60 lines: one check per field of a meeting, each violation named by its path.
pub fn parse_new_meeting(meeting: Option<&proto::Meeting>) -> Result<NewMeeting, Error> {
    let Some(m) = meeting else {
        return Err(Error::invalid("meeting", "is required"));
    };
    let mut v = Violations::new();
    let kind = v.check("meeting.kind", MeetingKind::from_proto(m.kind));
    let title = v.check("meeting.title", text_between(&m.title, 3, 150));
    let description = v.check(
        "meeting.description",
        fabrique_types::text::optional_multiline(&m.description, 10_000),
    );
    let time = |t: &Option<prost_types::Timestamp>| {
        t.as_ref()
            .and_then(from_timestamp)
            .ok_or_else(|| Invalid::new("must be set"))
    };
    let start = v.check("meeting.start_time", time(&m.start_time));
    let end = v.check("meeting.end_time", time(&m.end_time));
    if let (Some(start), Some(end)) = (start, end) {
        if end <= start {
            v.add("meeting.end_time", "must be after start_time");
        } else if end - start > MAX_LENGTH {
            v.add("meeting.end_time", "a meeting lasts at most 3 days");
        }
    }
    let venue = match (m.place.trim(), m.online_url.trim()) {
        ("", "") => {
            v.add(
                "meeting.place",
                "give a place of the registry or an online_url",
            );
            None
        }
        (place, "") => v
            .check(
                "meeting.place",
                fabrique_types::resource::parse_name("places", place),
            )
            .map(Venue::Place),
        ("", url) => v
            .check("meeting.online_url", fabrique_types::Website::parse(url))
            .and_then(|url| {
                if url.as_str().starts_with("https://") {
                    Some(Venue::Online(url.as_str().to_string()))
                } else {
                    v.add("meeting.online_url", "must be an https address");
                    None
                }
            }),
        _ => {
            v.add(
                "meeting.online_url",
                "give a place or an online_url, not both",
            );
            None
        }
    };
    let seats = match u32::try_from(m.seats) {
        Ok(seats) if (1..=MAX_SEATS).contains(&seats) => Some(seats),
        _ => {
            v.add("meeting.seats", format!("must be 1 to {MAX_SEATS}"));
            None
        }
    };
    v.into_result()?;
    match (kind, title, description, start, end, venue, seats) {
        (
            Some(kind),
            Some(title),
            Some(description),
            Some(start),
            Some(end),
            Some(venue),
            Some(seats),
        ) => Ok(NewMeeting {
            kind,
            title,
            description: description.unwrap_or_default(),
            start,
            end,
            venue,
            seats,
        }),
        _ => Err(Error::invalid("meeting", "is invalid")),
    }
}

/// A registration as the contract gives it.
pub fn registration_to_proto(meeting: &str, registration: &Registration) -> proto::Registration {
    proto::Registration {
        meeting: meeting.to_string(),
        state: registration.state.to_proto_i32(),
        waiting_position: registration.waiting_position as i32,
    }
}

/// The meeting as a caller reads it, with their registration if any.
pub fn meeting_to_proto(m: &Meeting, caller: Option<&Registration>) -> proto::Meeting {
    let d = &m.details;
    let name = m.name();
    let (place, online_url) = match &d.venue {
        Venue::Place(place) => (
            fabrique_types::resource::format_name("places", *place),
            String::new(),
        ),
        Venue::Online(url) => (String::new(), url.clone()),
    };
    proto::Meeting {
        kind: d.kind.to_proto_i32(),
        title: d.title.clone(),
        description: d.description.clone(),
        start_time: Some(timestamp(d.start)),
        end_time: Some(timestamp(d.end)),
        place,
        place_display_name: m.place_display_name.clone().unwrap_or_default(),
        online_url,
        seats: d.seats as i32,
        registered_count: m.registered as i32,
        waiting_count: m.waiting as i32,
        cancelled: m.cancelled_at.is_some(),
        minutes: m
            .minutes
            .as_ref()
            .map(|(t, _)| t.clone())
            .unwrap_or_default(),
        minutes_time: m.minutes.as_ref().map(|(_, at)| timestamp(*at)),
        caller_registration: caller.map(|r| registration_to_proto(&name, r)),
        create_time: Some(timestamp(m.created_at)),
        update_time: Some(timestamp(m.updated_at)),
        etag: fabrique_types::change::etag_of(m.version),
        name,
    }
}

#[cfg(test)]
mod tests {
    use fabrique_platform::proto_enum::assert_round_trip;

    use super::*;

    #[test]
    fn meeting_enums_map_both_ways_by_name() {
        assert_round_trip::<MeetingKind>();
        assert_round_trip::<AttendanceState>();
    }
}
