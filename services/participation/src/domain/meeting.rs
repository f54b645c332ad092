//! Meetings and citizen conferences of a process: when, where (a listed place or
//! online), how many seats; registrations that never exceed the seats, a waiting list
//! served in the order people came; the minutes once the meeting has ended.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::process_name;
use crate::refusal::Refusal;

fabrique_types::string_enum!(
    /// What kind of meeting.
    MeetingKind {
        /// A public meeting or workshop.
        Meeting => "meeting",
        /// A panel of inhabitants deliberating on the process's question.
        CitizenConference => "citizen_conference",
    }
);

fabrique_types::string_enum!(
    /// Where a participant stands for a meeting.
    AttendanceState {
        /// Has a seat.
        Registered => "registered",
        /// On the waiting list.
        Waiting => "waiting",
        /// Gave up (only as CancelRegistration answers; never stored).
        Cancelled => "cancelled",
    }
);

/// A meeting lasts at most this long.
pub const MAX_LENGTH: Duration = Duration::days(3);
/// And has at most this many seats.
pub const MAX_SEATS: u32 = 10_000;

/// Where a meeting happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Venue {
    /// A place of the registry.
    Place(Uuid),
    /// An https address.
    Online(String),
}

/// What CreateMeeting asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMeeting {
    /// Its kind.
    pub kind: MeetingKind,
    /// 3 to 150 characters.
    pub title: String,
    /// At most 10,000 characters.
    pub description: String,
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends.
    pub end: DateTime<Utc>,
    /// Where.
    pub venue: Venue,
    /// Seats.
    pub seats: u32,
}

/// A meeting.
#[derive(Debug, Clone, PartialEq)]
pub struct Meeting {
    /// Its id.
    pub id: Uuid,
    /// Its process.
    pub process: Uuid,
    /// What was asked for.
    pub details: NewMeeting,
    /// The place's name, from the place replica.
    pub place_display_name: Option<String>,
    /// Seats taken.
    pub registered: u32,
    /// People waiting.
    pub waiting: u32,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Its minutes and when they were published.
    pub minutes: Option<(String, DateTime<Utc>)>,
    /// The subject that created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed (registrations aside).
    pub updated_at: DateTime<Utc>,
    /// +1 with every change but registrations.
    pub version: i64,
}

/// `processes/{p}/meetings/{id}`.
pub fn meeting_name(process: Uuid, id: Uuid) -> String {
    format!("{}/meetings/{id}", process_name(process))
}

/// Parses `processes/{p}/meetings/{id}`.
pub fn parse_meeting_name(name: &str) -> Result<(Uuid, Uuid), fabrique_types::Invalid> {
    super::parse_process_child(name, "meetings")
}

impl Meeting {
    /// Its resource name.
    pub fn name(&self) -> String {
        meeting_name(self.process, self.id)
    }

    /// Whether people may still register or give up: not cancelled, not begun.
    pub fn require_open(&self, now: DateTime<Utc>) -> Result<(), Refusal> {
        if self.cancelled_at.is_some() {
            return Err(Refusal::MeetingCancelled {
                meeting: self.name(),
            });
        }
        if now >= self.details.start {
            return Err(Refusal::MeetingStarted {
                meeting: self.name(),
            });
        }
        Ok(())
    }

    /// The organiser cancels it, before it begins.
    pub fn cancel(&self, now: DateTime<Utc>) -> Result<Meeting, Refusal> {
        self.require_open(now)?;
        let mut next = self.clone();
        next.cancelled_at = Some(now);
        next.version += 1;
        next.updated_at = now;
        Ok(next)
    }

    /// The organiser publishes (or corrects) its minutes, once it has ended.
    pub fn publish_minutes(&self, text: String, now: DateTime<Utc>) -> Result<Meeting, Refusal> {
        if self.cancelled_at.is_some() {
            return Err(Refusal::MeetingCancelled {
                meeting: self.name(),
            });
        }
        if now < self.details.end {
            return Err(Refusal::MeetingNotEnded {
                meeting: self.name(),
                end: self.details.end,
            });
        }
        let mut next = self.clone();
        next.minutes = Some((text, now));
        next.version += 1;
        next.updated_at = now;
        Ok(next)
    }
}

/// A participant's registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    /// Registered or waiting.
    pub state: AttendanceState,
    /// On the waiting list, 1 for the next.
    pub waiting_position: u32,
}
