//! The sharing domain: resources (bookable by time slot, claimable by quantity, or just
//! shared), reservations with their slots and lifecycle, claims, needs, and how well a
//! resource fits a need. No protobuf and no SQL here.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
pub use fabrique_types::{Invalid, Location, bounded_text, fold};
use uuid::Uuid;

use crate::refusal::{Refusal, RefusalCode};

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

pub fn resource_name(id: Uuid) -> String {
    fabrique_types::resource::format_name("resources", id)
}

pub fn reservation_name(resource: Uuid, id: Uuid) -> String {
    format!("{}/reservations/{id}", resource_name(resource))
}

pub fn claim_name(resource: Uuid, id: Uuid) -> String {
    format!("{}/claims/{id}", resource_name(resource))
}

pub fn need_name(id: Uuid) -> String {
    fabrique_types::resource::format_name("needs", id)
}

pub fn parse_resource_name(name: &str) -> Result<Uuid, Invalid> {
    fabrique_types::resource::parse_name("resources", name)
}

pub fn parse_need_name(name: &str) -> Result<Uuid, Invalid> {
    fabrique_types::resource::parse_name("needs", name)
}

/// `resources/{r}/<collection>/{id}` → (r, id).
pub fn parse_child_name(name: &str, collection: &str) -> Result<(Uuid, Uuid), Invalid> {
    let invalid = || {
        Invalid::new(format!(
            "must be resources/{{id}}/{collection}/{{id}} with UUID ids"
        ))
    };
    let rest = name.strip_prefix("resources/").ok_or_else(invalid)?;
    let (resource, rest) = rest.split_once('/').ok_or_else(invalid)?;
    let id = rest
        .strip_prefix(collection)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(invalid)?;
    Ok((
        Uuid::parse_str(resource).map_err(|_| invalid())?,
        Uuid::parse_str(id).map_err(|_| invalid())?,
    ))
}

pub fn parse_member_name(name: &str) -> Result<Uuid, Invalid> {
    fabrique_types::resource::parse_name("members", name)
}

pub fn member_name(id: Uuid) -> String {
    fabrique_types::resource::format_name("members", id)
}

pub fn parse_place_name(name: &str) -> Result<Uuid, Invalid> {
    fabrique_types::resource::parse_name("places", name)
}

pub fn place_name(id: Uuid) -> String {
    fabrique_types::resource::format_name("places", id)
}

// ---------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------

fabrique_types::string_enum!(
    /// What is shared.
    ResourceKind {
        Equipment => "equipment",
        Space => "space",
        Vehicle => "vehicle",
        Expertise => "expertise",
        Material => "material",
        Method => "method",
    }
);

/// How a resource is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// By time slot.
    Booked,
    /// By quantity.
    Claimed,
    /// As is.
    Shared,
}

impl ResourceKind {
    pub fn usage(&self) -> Usage {
        match self {
            Self::Equipment | Self::Space | Self::Vehicle | Self::Expertise => Usage::Booked,
            Self::Material => Usage::Claimed,
            Self::Method => Usage::Shared,
        }
    }
}

fabrique_types::string_enum!(
    ResourceState {
        Available => "available",
        Withdrawn => "withdrawn",
        Unavailable => "unavailable",
    }
);

fabrique_types::string_enum!(
    ReservationState {
        Requested => "requested",
        Confirmed => "confirmed",
        Declined => "declined",
        Cancelled => "cancelled",
        Completed => "completed",
    }
);

impl ReservationState {
    /// Whether a reservation in this state keeps its slot from others.
    pub fn holds(&self) -> bool {
        matches!(self, Self::Requested | Self::Confirmed)
    }
}

fabrique_types::string_enum!(
    ClaimState {
        Held => "held",
        Collected => "collected",
        Cancelled => "cancelled",
    }
);

fabrique_types::string_enum!(
    NeedState {
        Open => "open",
        Closed => "closed",
    }
);

fabrique_types::string_enum!(
    /// Stored as short symbols; the contract spells them out (`QUANTITY_UNIT_TONNE`).
    QuantityUnit {
        Tonne => "t" as "tonne",
        CubicMetre => "m3" as "cubic_metre",
        SquareMetre => "m2" as "square_metre",
        Unit => "unit",
    }
);

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// A quantity in thousandths of its unit, so that sums and comparisons are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Milli(i64);

impl Milli {
    /// Above 0, at most three decimals, at most a billion.
    pub fn parse_positive(amount: f64) -> Result<Self, Invalid> {
        if !amount.is_finite() || amount <= 0.0 {
            return Err(Invalid::new(format!("must be above 0, got {amount}")));
        }
        if amount > 1e9 {
            return Err(Invalid::new("must be at most 1,000,000,000"));
        }
        let milli = (amount * 1000.0).round();
        if ((milli / 1000.0) - amount).abs() > 1e-9 * amount.max(1.0) {
            return Err(Invalid::new("must have at most three decimals"));
        }
        // A positive amount too small for the tolerance above would round to nothing
        // (found by the property tests).
        if milli < 1.0 {
            return Err(Invalid::new(format!(
                "must be at least 0.001, got {amount}"
            )));
        }
        Ok(Self(milli as i64))
    }

    pub fn from_milli(milli: i64) -> Self {
        Self(milli)
    }

    pub fn milli(&self) -> i64 {
        self.0
    }

    pub fn amount(&self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

/// What using a resource costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conditions {
    /// `None`: free.
    pub price_cents_per_day: Option<i64>,
    pub deposit_cents: i64,
}

impl Conditions {
    pub fn free() -> Self {
        Self {
            price_cents_per_day: None,
            deposit_cents: 0,
        }
    }
}

/// The rules of a bookable resource; `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BookingRules {
    pub turnaround: Duration,
    pub max_duration: Option<Duration>,
    pub max_advance: Option<Duration>,
}

/// A half-open interval of time `[start, end)`, not empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Slot {
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

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

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

pub const MAX_ECO_LABELS: usize = 20;

/// The widest radius a search or a need may ask for, in km.
pub const MAX_RADIUS_KM: f64 = 1000.0;

pub fn parse_title(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 1, 200)
}

pub fn parse_description(value: &str) -> Result<Option<String>, Invalid> {
    fabrique_types::text::optional_multiline(value, 5000)
}

pub fn parse_eco_label(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 1, 100)
}

// ---------------------------------------------------------------------------
// Aggregates
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub id: Uuid,
    pub owner: Uuid,
    pub kind: ResourceKind,
    pub title: String,
    pub description: Option<String>,
    pub place: Option<Uuid>,
    pub location: Option<Location>,
    pub conditions: Conditions,
    pub eco_labels: Vec<String>,
    pub state: ResourceState,
    pub state_reason: Option<String>,
    pub rules: BookingRules,
    /// Materials: (offered, remaining, unit).
    pub stock: Option<(Milli, Milli, QuantityUnit)>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Resource {
    pub fn name(&self) -> String {
        resource_name(self.id)
    }

    pub fn etag(&self) -> String {
        fabrique_types::change::etag_of(self.version)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    pub id: Uuid,
    pub resource: Uuid,
    pub owner: Uuid,
    pub borrower: Uuid,
    pub slot: Slot,
    /// End of the slot plus the resource's turnaround when booked: what it keeps from others.
    pub held_end: DateTime<Utc>,
    pub note: Option<String>,
    pub state: ReservationState,
    pub state_reason: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Reservation {
    pub fn name(&self) -> String {
        reservation_name(self.resource, self.id)
    }

    pub fn etag(&self) -> String {
        fabrique_types::change::etag_of(self.version)
    }
}

/// A reservation lifecycle call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationTransition {
    Confirm,
    Decline,
    Cancel,
    Complete,
}

impl ReservationTransition {
    /// The next state of `reservation` at `now`, or why not.
    pub fn apply(
        &self,
        reservation: &Reservation,
        now: DateTime<Utc>,
    ) -> Result<ReservationState, Refusal> {
        use ReservationState::*;
        let illegal = |code, rule| Refusal::IllegalTransition {
            code,
            reservation: reservation.name(),
            state: reservation.state.as_str(),
            rule,
        };
        match (self, reservation.state) {
            (Self::Confirm, Requested) => Ok(Confirmed),
            (Self::Decline, Requested) => Ok(Declined),
            (Self::Cancel, Requested | Confirmed) if reservation.slot.end() > now => Ok(Cancelled),
            (Self::Cancel, Requested | Confirmed) => Err(Refusal::ReservationOver {
                reservation: reservation.name(),
            }),
            (Self::Complete, Confirmed) if reservation.slot.start() <= now => Ok(Completed),
            (Self::Complete, Confirmed) => Err(Refusal::ReservationNotStarted {
                reservation: reservation.name(),
            }),
            (Self::Confirm | Self::Decline, _) => Err(illegal(
                RefusalCode::ReservationNotRequested,
                "only a requested reservation can be confirmed or declined",
            )),
            (Self::Cancel, _) => Err(illegal(
                RefusalCode::ReservationClosed,
                "it cannot be cancelled",
            )),
            (Self::Complete, _) => Err(illegal(
                RefusalCode::ReservationNotConfirmed,
                "only a confirmed reservation can be completed",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub id: Uuid,
    pub resource: Uuid,
    pub owner: Uuid,
    pub claimant: Uuid,
    pub quantity: Milli,
    pub unit: QuantityUnit,
    pub state: ClaimState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Claim {
    pub fn name(&self) -> String {
        claim_name(self.resource, self.id)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub id: Uuid,
    pub member: Uuid,
    pub kind: Option<ResourceKind>,
    pub description: String,
    pub place: Option<Uuid>,
    pub location: Option<Location>,
    pub radius_km: Option<f64>,
    pub slot: Option<Slot>,
    pub quantity: Option<(Milli, QuantityUnit)>,
    pub state: NeedState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Need {
    pub fn name(&self) -> String {
        need_name(self.id)
    }
}

// ---------------------------------------------------------------------------
// Drafts and patches
// ---------------------------------------------------------------------------

/// What a new resource is made of (from the request).
#[derive(Debug, Clone)]
pub struct ResourceDraft {
    /// Set by an admin offering for a member; else the caller's member.
    pub owner: Option<Uuid>,
    pub kind: ResourceKind,
    pub title: String,
    pub description: Option<String>,
    pub place: Option<Uuid>,
    pub location: Option<Location>,
    pub conditions: Conditions,
    pub eco_labels: Vec<String>,
    pub rules: Option<BookingRules>,
    pub quantity: Option<(Milli, QuantityUnit)>,
}

/// The fields an update changes.
#[derive(Debug, Clone, Default)]
pub struct ResourcePatch {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub place: Option<Option<Uuid>>,
    pub location: Option<Option<Location>>,
    pub conditions: Option<Conditions>,
    pub eco_labels: Option<Vec<String>>,
    pub rules: Option<BookingRules>,
}

/// What a new need is made of.
#[derive(Debug, Clone)]
pub struct NeedDraft {
    pub kind: Option<ResourceKind>,
    pub description: String,
    pub place: Option<Uuid>,
    pub location: Option<Location>,
    pub radius_km: Option<f64>,
    pub slot: Option<Slot>,
    pub quantity: Option<(Milli, QuantityUnit)>,
}

// ---------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------

/// A resource that fits a need.
#[derive(Debug, Clone)]
pub struct Match {
    pub resource: Resource,
    pub score: f64,
    pub distance_km: Option<f64>,
    pub available: bool,
    pub matched_words: Vec<String>,
}

const STOP_WORDS: &[&str] = &[
    "de", "du", "des", "la", "le", "les", "un", "une", "et", "a", "au", "aux", "en", "pour", "the",
    "of", "for", "an", "near", "pres",
];

/// The words of a need worth looking for: folded, two letters or more, no little words.
pub fn search_words(text: &str) -> BTreeSet<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2 && !STOP_WORDS.contains(w))
        .map(str::to_string)
        .collect()
}

/// How a resource fits a need: lower is better. Being free when needed weighs most,
/// then distance (one point per km), then each matching word takes 10 off.
pub fn match_score(available: bool, distance_km: Option<f64>, matched_words: usize) -> f64 {
    let availability = if available { 0.0 } else { 1000.0 };
    let distance = distance_km.unwrap_or(500.0);
    availability + distance - 10.0 * matched_words as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
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
    fn reservation_transitions_follow_the_state_and_the_clock() {
        use ReservationState::*;
        use ReservationTransition::*;
        use fabrique_platform::refusal::Refusal as _;
        let (now, resource) = (at(8), Uuid::now_v7());
        let reservation = |state, start, end| Reservation {
            id: Uuid::now_v7(),
            resource,
            owner: Uuid::now_v7(),
            borrower: Uuid::now_v7(),
            slot: Slot::new(at(start), at(end)).unwrap(),
            held_end: at(end),
            note: None,
            state,
            state_reason: None,
            created_by: "test".into(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let code = |transition: ReservationTransition, state, start, end| {
            transition
                .apply(&reservation(state, start, end), now)
                .map_err(|refusal| refusal.code())
        };
        assert_eq!(code(Confirm, Requested, 9, 10), Ok(Confirmed));
        assert_eq!(code(Decline, Requested, 9, 10), Ok(Declined));
        assert_eq!(code(Cancel, Confirmed, 9, 10), Ok(Cancelled));
        assert_eq!(code(Cancel, Confirmed, 6, 7), Err("RESERVATION_OVER"));
        assert_eq!(code(Complete, Confirmed, 7, 9), Ok(Completed));
        assert_eq!(
            code(Complete, Confirmed, 9, 10),
            Err("RESERVATION_NOT_STARTED")
        );
        assert_eq!(
            code(Confirm, Confirmed, 9, 10),
            Err("RESERVATION_NOT_REQUESTED")
        );
        assert_eq!(code(Cancel, Declined, 9, 10), Err("RESERVATION_CLOSED"));
        assert_eq!(
            code(Complete, Requested, 7, 9),
            Err("RESERVATION_NOT_CONFIRMED")
        );
        let refused = Confirm
            .apply(&reservation(Cancelled, 9, 10), now)
            .unwrap_err()
            .message();
        assert!(refused.contains("/reservations/"), "{refused}");
        assert!(refused.contains(" is CANCELLED: "), "{refused}");
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

    #[test]
    fn quantities_are_exact_thousandths() {
        assert_eq!(Milli::parse_positive(25.0).unwrap().milli(), 25_000);
        assert_eq!(Milli::parse_positive(0.125).unwrap().milli(), 125);
        assert!(Milli::parse_positive(0.0001).is_err());
        assert!(Milli::parse_positive(-1.0).is_err());
        assert!(Milli::parse_positive(0.0).is_err());
        assert!(Milli::parse_positive(f64::NAN).is_err());
        // Positive, but rounds to no thousandth at all.
        assert!(Milli::parse_positive(1e-10).is_err());
        assert!(Milli::parse_positive(5.720064398855191e-247).is_err());
    }

    #[test]
    fn a_free_near_resource_beats_a_booked_or_far_one() {
        let free_near = match_score(true, Some(10.0), 2);
        let booked_near = match_score(false, Some(5.0), 2);
        let free_far = match_score(true, Some(200.0), 2);
        assert!(free_near < booked_near);
        assert!(free_near < free_far);
        assert_eq!(
            search_words("Une imprimante 3D près de Thiers"),
            ["3d", "imprimante", "thiers"].map(String::from).into()
        );
    }

    #[test]
    fn child_names() {
        let (r, id) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(
            parse_child_name(&reservation_name(r, id), "reservations").unwrap(),
            (r, id)
        );
        assert!(parse_child_name(&claim_name(r, id), "reservations").is_err());
        assert!(parse_child_name("resources/x/reservations/y", "reservations").is_err());
    }
}
