//! Time slots and the rules of a bookable resource: what a reservation may ask for, and
//! which parts of a window are still free once held reservations (and the turnaround
//! after each) are taken out.

use chrono::{DateTime, Duration, Utc};
use fabrique_types::Invalid;

use crate::refusal::Refusal;

/// The rules of a bookable resource; `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BookingRules {
    /// Kept free after each reservation (cleaning, charging, bringing it back), so it
    /// counts against the next one, not against the borrower's slot.
    pub turnaround: Duration,
    /// The longest slot one reservation may take.
    pub max_duration: Option<Duration>,
    /// How far ahead of now a slot may start.
    pub max_advance: Option<Duration>,
    /// How long the owner has to answer a request (a reservation to confirm, a claim to
    /// hand over) before it expires; `None`: [`DEFAULT_ANSWER_WITHIN`].
    pub answer_within: Option<Duration>,
}

/// How long an owner has to answer a request when its resource does not say.
pub const DEFAULT_ANSWER_WITHIN: Duration = Duration::hours(72);

impl BookingRules {
    /// How long the owner has to answer a request.
    pub fn answer_window(&self) -> Duration {
        self.answer_within.unwrap_or(DEFAULT_ANSWER_WITHIN)
    }
}

/// A half-open interval of time `[start, end)`, not empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Slot {
    /// A slot ending after it starts; an empty one says so, since that is the usual
    /// mistake (the same time sent twice).
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, Invalid> {
        if end <= start {
            return Err(Invalid::new(if end == start {
                "must end after it starts (the slot is empty)".to_string()
            } else {
                "must end after it starts".to_string()
            }));
        }
        Ok(Self { start, end })
    }

    /// Its first instant.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The instant after its last: the next slot may start here.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// How long it lasts, never zero.
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    /// Whether the two share an instant; touching ends do not.
    pub fn overlaps(&self, other: &Slot) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Whether `slot` may be booked under `rules` at `now`; the refusal says which rule.
pub fn check_rules(slot: &Slot, rules: &BookingRules, now: DateTime<Utc>) -> Result<(), Refusal> {
    if slot.start() < now {
        return Err(Refusal::SlotInThePast);
    }
    if let Some(max) = rules.max_duration
        && slot.duration() > max
    {
        return Err(Refusal::SlotTooLong { max });
    }
    if let Some(max) = rules.max_advance
        && slot.start() > now + max
    {
        return Err(Refusal::SlotTooFarAhead { max });
    }
    Ok(())
}

/// The free parts of `window` once each holding `[start, held_end)` is taken out,
/// widened by `turnaround` before it (a reservation ending there needs its own
/// turnaround before the next one starts).
pub fn free_intervals(
    window: Slot,
    held: &[(DateTime<Utc>, DateTime<Utc>)],
    turnaround: Duration,
) -> Vec<Slot> {
    let mut busy: Vec<(DateTime<Utc>, DateTime<Utc>)> = held
        .iter()
        .map(|(start, end)| (*start - turnaround, *end))
        .collect();
    busy.sort();
    let mut free = Vec::new();
    let mut cursor = window.start();
    for (start, end) in busy {
        if start > cursor
            && let Ok(slot) = Slot::new(cursor, start.min(window.end()))
        {
            free.push(slot);
        }
        cursor = cursor.max(end);
        if cursor >= window.end() {
            return free;
        }
    }
    if let Ok(slot) = Slot::new(cursor, window.end()) {
        free.push(slot);
    }
    free
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An hour of 1 January 2030.
    pub(crate) fn at(hour: u32) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(2030, 1, 1)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .map(|t| t.and_utc())
            .unwrap()
    }

    #[test]
    fn slots_must_not_be_empty_or_reversed() {
        assert!(Slot::new(at(10), at(12)).is_ok());
        assert!(Slot::new(at(10), at(10)).unwrap_err().0.contains("empty"));
        assert!(Slot::new(at(12), at(10)).is_err());
        assert!(
            Slot::new(at(10), at(12))
                .unwrap()
                .overlaps(&Slot::new(at(11), at(13)).unwrap())
        );
        assert!(
            !Slot::new(at(10), at(12))
                .unwrap()
                .overlaps(&Slot::new(at(12), at(13)).unwrap())
        );
    }

    #[test]
    fn rules_bound_duration_and_horizon() {
        let now = at(8);
        let rules = BookingRules {
            turnaround: Duration::zero(),
            max_duration: Some(Duration::hours(2)),
            max_advance: Some(Duration::days(1)),
            answer_within: None,
        };
        assert!(check_rules(&Slot::new(at(9), at(11)).unwrap(), &rules, now).is_ok());
        assert_eq!(
            check_rules(&Slot::new(at(9), at(12)).unwrap(), &rules, now),
            Err(Refusal::SlotTooLong {
                max: Duration::hours(2)
            })
        );
        assert_eq!(
            check_rules(&Slot::new(at(7), at(9)).unwrap(), &rules, now),
            Err(Refusal::SlotInThePast)
        );
        let far = Slot::new(at(9) + Duration::days(2), at(10) + Duration::days(2)).unwrap();
        assert_eq!(
            check_rules(&far, &rules, now),
            Err(Refusal::SlotTooFarAhead {
                max: Duration::days(1)
            })
        );
    }

    #[test]
    fn free_intervals_leave_room_for_turnaround() {
        let window = Slot::new(at(8), at(20)).unwrap();
        let held = [
            (at(10), at(12) + Duration::hours(1)),
            (at(15), at(16) + Duration::hours(1)),
        ];
        let free = free_intervals(window, &held, Duration::hours(1));
        let free: Vec<_> = free.iter().map(|s| (s.start(), s.end())).collect();
        assert_eq!(free, [(at(8), at(9)), (at(13), at(14)), (at(17), at(20))]);
        assert_eq!(free_intervals(window, &[], Duration::zero()).len(), 1);
        assert!(free_intervals(window, &[(at(7), at(21))], Duration::zero()).is_empty());
    }
}
