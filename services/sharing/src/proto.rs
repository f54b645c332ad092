//! Every conversion between the sharing service's domain and its contract
//! (`fabrique.sharing.v1`): enums mapped by name, resources, reservations, claims and
//! needs to messages, and requests parsed into domain types (drafts, patches, filters,
//! slots) with every invalid field reported by its path. Used by the gRPC handlers and
//! by the events.

use chrono::Duration;
use fabrique_api::sharing as proto;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::request::{self, optional};
use fabrique_platform::time::{from_timestamp, timestamp};
use fabrique_platform::{Error, Violations};
use uuid::Uuid;

use crate::domain::{
    BookingRules, Claim, ClaimState, Conditions, Invalid, Location, MAX_ECO_LABELS, MAX_RADIUS_KM,
    Match, Milli, Need, NeedDraft, NeedState, QuantityUnit, Reservation, ReservationState,
    Resource, ResourceDraft, ResourceKind, ResourcePatch, ResourceState, Slot, fold, member_name,
    parse_description, parse_eco_label, parse_member_name, parse_place_name, parse_resource_name,
    parse_title, place_name,
};
use crate::refusal::RefusalCode;
use crate::store::{ReservationFilter, ResourceFilter};

fabrique_platform::proto_mapped!(
    ResourceKind => proto::ResourceKind,
    ResourceState => proto::ResourceState,
    ReservationState => proto::ReservationState,
    ClaimState => proto::ClaimState,
    NeedState => proto::NeedState,
    QuantityUnit => proto::QuantityUnit,
    RefusalCode => proto::Refusal,
);

// ---------------------------------------------------------------------------
// Cost mode
// ---------------------------------------------------------------------------

// `CostMode` has no domain enum: a resource shares its costs when it has a price, so
// the mode is read from, and written as, the presence of `price_cents_per_day`.

/// The mode `conditions` show in a message.
pub fn cost_mode(conditions: &Conditions) -> proto::CostMode {
    if conditions.price_cents_per_day.is_some() {
        proto::CostMode::CostShared
    } else {
        proto::CostMode::Free
    }
}

/// Whether a request's mode asks for a price. Unset reads as free: conditions sent
/// without a mode are those of a free resource.
fn charges(mode: proto::CostMode) -> bool {
    match mode {
        proto::CostMode::CostShared => true,
        proto::CostMode::Free | proto::CostMode::Unspecified => false,
    }
}

// ---------------------------------------------------------------------------
// Messages out
// ---------------------------------------------------------------------------

pub fn quantity(amount: Milli, unit: QuantityUnit) -> proto::Quantity {
    proto::Quantity {
        amount: amount.amount(),
        unit: unit.to_proto_i32(),
    }
}

pub fn location_to_proto(location: &Location) -> proto::Location {
    proto::Location {
        latitude: location.latitude(),
        longitude: location.longitude(),
    }
}

impl From<&Conditions> for proto::Conditions {
    fn from(c: &Conditions) -> Self {
        proto::Conditions {
            mode: cost_mode(c).into(),
            price_cents_per_day: c.price_cents_per_day.unwrap_or_default(),
            deposit_cents: c.deposit_cents,
        }
    }
}

impl From<&BookingRules> for proto::BookingRules {
    fn from(rules: &BookingRules) -> Self {
        proto::BookingRules {
            turnaround_minutes: rules.turnaround.num_minutes() as i32,
            max_duration_hours: rules
                .max_duration
                .map(|d| d.num_hours() as i32)
                .unwrap_or_default(),
            max_advance_days: rules
                .max_advance
                .map(|d| d.num_days() as i32)
                .unwrap_or_default(),
        }
    }
}

impl From<&Slot> for proto::Interval {
    fn from(slot: &Slot) -> Self {
        proto::Interval {
            start_time: Some(timestamp(slot.start())),
            end_time: Some(timestamp(slot.end())),
        }
    }
}

/// `distance`: how far the resource is from where the caller searched, when it did.
pub fn resource_to_proto(r: &Resource, distance: Option<f64>) -> proto::Resource {
    proto::Resource {
        name: r.name(),
        owner: member_name(r.owner),
        kind: r.kind.to_proto_i32(),
        title: r.title.clone(),
        description: r.description.clone().unwrap_or_default(),
        place: r.place.map(place_name).unwrap_or_default(),
        location: r.location.as_ref().map(location_to_proto),
        conditions: Some((&r.conditions).into()),
        eco_labels: r.eco_labels.clone(),
        state: r.state.to_proto_i32(),
        state_reason: r.state_reason.clone().unwrap_or_default(),
        booking_rules: Some((&r.rules).into()),
        quantity: r.stock.map(|(offered, _, unit)| quantity(offered, unit)),
        remaining: r
            .stock
            .map(|(_, remaining, unit)| quantity(remaining, unit)),
        create_time: Some(timestamp(r.created_at)),
        update_time: Some(timestamp(r.updated_at)),
        etag: r.etag(),
        distance_km: distance.unwrap_or_default(),
    }
}

impl From<&Reservation> for proto::Reservation {
    fn from(r: &Reservation) -> Self {
        proto::Reservation {
            name: r.name(),
            borrower: member_name(r.borrower),
            start_time: Some(timestamp(r.slot.start())),
            end_time: Some(timestamp(r.slot.end())),
            note: r.note.clone().unwrap_or_default(),
            state: r.state.to_proto_i32(),
            state_reason: r.state_reason.clone().unwrap_or_default(),
            create_time: Some(timestamp(r.created_at)),
            update_time: Some(timestamp(r.updated_at)),
            etag: r.etag(),
        }
    }
}

impl From<&Claim> for proto::Claim {
    fn from(c: &Claim) -> Self {
        proto::Claim {
            name: c.name(),
            claimant: member_name(c.claimant),
            quantity: Some(quantity(c.quantity, c.unit)),
            state: c.state.to_proto_i32(),
            create_time: Some(timestamp(c.created_at)),
            update_time: Some(timestamp(c.updated_at)),
        }
    }
}

impl From<&Need> for proto::Need {
    fn from(n: &Need) -> Self {
        proto::Need {
            name: n.name(),
            member: member_name(n.member),
            // Unset: the need takes any kind.
            kind: n.kind.map(ProtoMapped::to_proto_i32).unwrap_or_default(),
            description: n.description.clone(),
            place: n.place.map(place_name).unwrap_or_default(),
            location: n.location.as_ref().map(location_to_proto),
            radius_km: n.radius_km.unwrap_or_default(),
            start_time: n.slot.map(|s| timestamp(s.start())),
            end_time: n.slot.map(|s| timestamp(s.end())),
            quantity: n.quantity.map(|(q, u)| quantity(q, u)),
            state: n.state.to_proto_i32(),
            create_time: Some(timestamp(n.created_at)),
        }
    }
}

impl From<&Match> for proto::Match {
    fn from(m: &Match) -> Self {
        proto::Match {
            resource: Some(resource_to_proto(&m.resource, m.distance_km)),
            score: m.score,
            // The contract's "unknown distance".
            distance_km: m.distance_km.unwrap_or(-1.0),
            available: m.available,
            matched_words: m.matched_words.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// Fields in
// ---------------------------------------------------------------------------

/// A resource name parsed by `parse`, its error reported on `field`.
pub fn parse_name<T>(
    field: &str,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, Invalid>,
) -> Result<T, Error> {
    parse(name).map_err(|invalid| Error::invalid(field, invalid.0))
}

/// `resources/{id}` or `resources/-` (all).
pub fn parse_parent(field: &str, parent: &str) -> Result<Option<Uuid>, Error> {
    if parent == "resources/-" || parent.is_empty() {
        Ok(None)
    } else {
        parse_name(field, parent, parse_resource_name).map(Some)
    }
}

fn parse_location(
    v: &mut Violations,
    field: &str,
    location: Option<&proto::Location>,
) -> Option<Option<Location>> {
    match location {
        None => Some(None),
        Some(l) => match Location::parse(l.latitude, l.longitude) {
            Ok(location) => Some(Some(location)),
            Err((coordinate, invalid)) => {
                v.add(format!("{field}.{coordinate}"), invalid.0);
                None
            }
        },
    }
}

fn parse_conditions(
    v: &mut Violations,
    field: &str,
    conditions: Option<&proto::Conditions>,
) -> Option<Conditions> {
    let Some(c) = conditions else {
        return Some(Conditions::free());
    };
    let mut ok = true;
    if !(0..=100_000_000).contains(&c.deposit_cents) {
        v.add(
            format!("{field}.deposit_cents"),
            "must be between 0 and 100,000,000 cents",
        );
        ok = false;
    }
    let price = match proto::CostMode::try_from(c.mode) {
        Ok(mode) if charges(mode) => {
            if (1..=10_000_000).contains(&c.price_cents_per_day) {
                Some(c.price_cents_per_day)
            } else {
                v.add(
                    format!("{field}.price_cents_per_day"),
                    "must be between 1 and 10,000,000 cents with COST_SHARED",
                );
                ok = false;
                None
            }
        }
        Ok(_) => {
            if c.price_cents_per_day != 0 {
                v.add(
                    format!("{field}.price_cents_per_day"),
                    "must be 0 unless the mode is COST_SHARED",
                );
                ok = false;
            }
            None
        }
        Err(_) => {
            v.add(
                format!("{field}.mode"),
                format!("unknown cost mode {}", c.mode),
            );
            ok = false;
            None
        }
    };
    ok.then_some(Conditions {
        price_cents_per_day: price,
        deposit_cents: c.deposit_cents,
    })
}

fn parse_rules(
    v: &mut Violations,
    field: &str,
    rules: Option<&proto::BookingRules>,
) -> Option<Option<BookingRules>> {
    let Some(r) = rules else {
        return Some(None);
    };
    let mut ok = true;
    let mut check = |name: &str, value: i32, max: i32| {
        if !(0..=max).contains(&value) {
            v.add(
                format!("{field}.{name}"),
                format!("must be between 0 and {max}"),
            );
            ok = false;
        }
    };
    check("turnaround_minutes", r.turnaround_minutes, 10_080);
    check("max_duration_hours", r.max_duration_hours, 8_784);
    check("max_advance_days", r.max_advance_days, 3_660);
    ok.then(|| {
        Some(BookingRules {
            turnaround: Duration::minutes(i64::from(r.turnaround_minutes)),
            max_duration: (r.max_duration_hours > 0)
                .then(|| Duration::hours(i64::from(r.max_duration_hours))),
            max_advance: (r.max_advance_days > 0)
                .then(|| Duration::days(i64::from(r.max_advance_days))),
        })
    })
}

fn parse_quantity(
    v: &mut Violations,
    field: &str,
    q: Option<&proto::Quantity>,
) -> Option<Option<(Milli, QuantityUnit)>> {
    let Some(q) = q else {
        return Some(None);
    };
    let amount = v.check(&format!("{field}.amount"), Milli::parse_positive(q.amount));
    let unit = v.check(&format!("{field}.unit"), QuantityUnit::from_proto(q.unit));
    amount.zip(unit).map(Some)
}

fn parse_eco_labels(v: &mut Violations, field: &str, labels: &[String]) -> Option<Vec<String>> {
    if labels.len() > MAX_ECO_LABELS {
        v.add(field, format!("at most {MAX_ECO_LABELS}"));
        return None;
    }
    let parsed: Vec<String> = labels
        .iter()
        .enumerate()
        .filter_map(|(i, label)| v.check(&format!("{field}[{i}]"), parse_eco_label(label)))
        .collect();
    (parsed.len() == labels.len()).then_some(parsed)
}

/// `prefix` is the path of the message holding `start_time` and `end_time`; without
/// `required`, neither of them is no slot.
fn parse_slot(
    v: &mut Violations,
    prefix: &str,
    start: Option<&prost_types::Timestamp>,
    end: Option<&prost_types::Timestamp>,
    required: bool,
) -> Option<Option<Slot>> {
    let time = |v: &mut Violations, name: &str, t: Option<&prost_types::Timestamp>| match t {
        None => None,
        Some(t) => {
            let parsed = from_timestamp(t);
            if parsed.is_none() {
                v.add(format!("{prefix}{name}"), "is not a valid time");
            }
            parsed
        }
    };
    match (start, end) {
        (None, None) if !required => Some(None),
        (None, _) => {
            v.add(format!("{prefix}start_time"), "is required");
            None
        }
        (_, None) => {
            v.add(format!("{prefix}end_time"), "is required");
            None
        }
        (Some(_), Some(_)) => {
            let start = time(v, "start_time", start)?;
            let end = time(v, "end_time", end)?;
            match Slot::new(start, end) {
                Ok(slot) => Some(Some(slot)),
                Err(invalid) => {
                    v.add(format!("{prefix}end_time"), invalid.0);
                    None
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Messages in
// ---------------------------------------------------------------------------

impl TryFrom<&proto::Resource> for ResourceDraft {
    type Error = Error;

    fn try_from(r: &proto::Resource) -> Result<Self, Error> {
        let mut v = Violations::new();
        let owner = v.check("resource.owner", optional(&r.owner, parse_member_name));
        let kind = v.check("resource.kind", ResourceKind::from_proto(r.kind));
        let title = v.check("resource.title", parse_title(&r.title));
        let description = v.check("resource.description", parse_description(&r.description));
        let place = v.check("resource.place", optional(&r.place, parse_place_name));
        let location = parse_location(&mut v, "resource.location", r.location.as_ref());
        let conditions = parse_conditions(&mut v, "resource.conditions", r.conditions.as_ref());
        let eco_labels = parse_eco_labels(&mut v, "resource.eco_labels", &r.eco_labels);
        let rules = parse_rules(&mut v, "resource.booking_rules", r.booking_rules.as_ref());
        let quantity = parse_quantity(&mut v, "resource.quantity", r.quantity.as_ref());
        v.into_result()?;
        match (
            owner,
            kind,
            title,
            description,
            place,
            location,
            conditions,
            eco_labels,
            rules,
            quantity,
        ) {
            (
                Some(owner),
                Some(kind),
                Some(title),
                Some(description),
                Some(place),
                Some(location),
                Some(conditions),
                Some(eco_labels),
                Some(rules),
                Some(quantity),
            ) => Ok(ResourceDraft {
                owner,
                kind,
                title,
                description,
                place,
                location,
                conditions,
                eco_labels,
                rules,
                quantity,
            }),
            _ => Err(Error::internal(
                "resource parsed without violations but incomplete",
            )),
        }
    }
}

/// The update mask paths that may be changed.
const UPDATABLE: &[&str] = &[
    "title",
    "description",
    "place",
    "location",
    "conditions",
    "eco_labels",
    "booking_rules",
];

/// The fields of `r` that `mask` names; `*` is every field that may change.
pub fn parse_resource_patch(
    r: &proto::Resource,
    mask: Option<&prost_types::FieldMask>,
) -> Result<ResourcePatch, Error> {
    let paths: Vec<&str> = match mask {
        Some(mask) if !mask.paths.is_empty() => mask.paths.iter().map(String::as_str).collect(),
        _ => {
            return Err(Error::invalid(
                "update_mask",
                format!(
                    "must list the fields to change, among {}",
                    UPDATABLE.join(", ")
                ),
            ));
        }
    };
    let paths = if paths == ["*"] {
        UPDATABLE.to_vec()
    } else {
        paths
    };
    let mut v = Violations::new();
    let mut patch = ResourcePatch::default();
    for path in paths {
        let field = format!("resource.{path}");
        match path {
            "title" => patch.title = v.check(&field, parse_title(&r.title)),
            "description" => patch.description = v.check(&field, parse_description(&r.description)),
            "place" => patch.place = v.check(&field, optional(&r.place, parse_place_name)),
            "location" => patch.location = parse_location(&mut v, &field, r.location.as_ref()),
            "conditions" => {
                patch.conditions = parse_conditions(&mut v, &field, r.conditions.as_ref())
            }
            "eco_labels" => patch.eco_labels = parse_eco_labels(&mut v, &field, &r.eco_labels),
            "booking_rules" => {
                patch.rules = parse_rules(&mut v, &field, r.booking_rules.as_ref())
                    .map(|r| r.unwrap_or_default())
            }
            "kind" | "owner" | "quantity" => v.add(
                "update_mask",
                format!("{path} cannot change: offer a new resource"),
            ),
            "name" | "state" | "state_reason" | "remaining" | "create_time" | "update_time"
            | "etag" | "distance_km" => v.add("update_mask", format!("{path} is output only")),
            other => v.add("update_mask", format!("unknown field {other:?}")),
        }
    }
    v.into_result()?;
    Ok(patch)
}

/// A list request's filter, and the circle (centre, radius in km) it searches within
/// when it gives one.
pub fn parse_resource_filter(
    r: &proto::ListResourcesRequest,
) -> Result<(ResourceFilter, Option<(Location, f64)>), Error> {
    let mut v = Violations::new();
    let mut filter = ResourceFilter::default();
    for (i, kind) in r.kinds.iter().enumerate() {
        if let Some(kind) = v.check(&format!("kinds[{i}]"), ResourceKind::from_proto(*kind)) {
            filter.kinds.push(kind);
        }
    }
    for (i, state) in r.states.iter().enumerate() {
        if let Some(state) = v.check(&format!("states[{i}]"), ResourceState::from_proto(*state)) {
            filter.states.push(state);
        }
    }
    filter.owner = v
        .check("owner", optional(&r.owner, parse_member_name))
        .flatten();
    filter.place = v
        .check("place", optional(&r.place, parse_place_name))
        .flatten();
    if r.query.chars().take(101).count() > 100 {
        v.add("query", "must be at most 100 characters");
    } else if !r.query.trim().is_empty() {
        filter.query = Some(fold(r.query.trim()));
    }
    let near = match &r.near {
        None => None,
        Some(near) => {
            let center = match parse_location(&mut v, "near.location", near.location.as_ref()) {
                Some(Some(center)) => Some(center),
                Some(None) => {
                    v.add("near.location", "is required");
                    None
                }
                None => None,
            };
            let radius = v.check(
                "near.radius_km",
                fabrique_types::geo::parse_radius_km(near.radius_km, MAX_RADIUS_KM),
            );
            center.zip(radius)
        }
    };
    v.into_result()?;
    Ok((filter, near))
}

/// The window whose free slots are asked for: at most 366 days.
pub fn parse_availability_window(r: &proto::GetAvailabilityRequest) -> Result<Slot, Error> {
    let mut v = Violations::new();
    let window = parse_slot(&mut v, "", r.start_time.as_ref(), r.end_time.as_ref(), true).flatten();
    if let Some(window) = &window
        && window.duration() > Duration::days(366)
    {
        v.add("end_time", "must be at most 366 days after start_time");
    }
    v.into_result()?;
    window.ok_or_else(|| Error::internal("window parsed without violations but missing"))
}

/// The slot and the note of a new reservation.
pub fn parse_reservation(
    reservation: &proto::Reservation,
) -> Result<(Slot, Option<String>), Error> {
    let mut v = Violations::new();
    let slot = parse_slot(
        &mut v,
        "reservation.",
        reservation.start_time.as_ref(),
        reservation.end_time.as_ref(),
        true,
    )
    .flatten();
    let note = v.check(
        "reservation.note",
        fabrique_types::text::optional_multiline(&reservation.note, 1000),
    );
    v.into_result()?;
    match (slot, note) {
        (Some(slot), Some(note)) => Ok((slot, note)),
        _ => Err(Error::internal(
            "reservation parsed without violations but incomplete",
        )),
    }
}

impl TryFrom<&proto::ListReservationsRequest> for ReservationFilter {
    type Error = Error;

    fn try_from(r: &proto::ListReservationsRequest) -> Result<Self, Error> {
        let mut v = Violations::new();
        let mut filter = ReservationFilter {
            resource: v
                .check(
                    "parent",
                    parse_parent("parent", &r.parent).map_err(|e| Invalid::new(e.to_string())),
                )
                .flatten(),
            borrower: v
                .check("borrower", optional(&r.borrower, parse_member_name))
                .flatten(),
            owner: v
                .check("owner", optional(&r.owner, parse_member_name))
                .flatten(),
            ..Default::default()
        };
        for (i, state) in r.states.iter().enumerate() {
            if let Some(state) = v.check(
                &format!("states[{i}]"),
                ReservationState::from_proto(*state),
            ) {
                filter.states.push(state);
            }
        }
        v.into_result()?;
        Ok(filter)
    }
}

/// The resource, the amount and the request id of a new claim, every invalid field
/// reported at once.
pub fn parse_claim_request(
    r: &proto::CreateClaimRequest,
) -> Result<(Uuid, Milli, Option<Uuid>), Error> {
    let mut v = Violations::new();
    let resource = v.check("parent", parse_resource_name(&r.parent));
    let amount = v.check("amount", Milli::parse_positive(r.amount));
    let request_id = v.check(
        "request_id",
        request::request_id("request_id", &r.request_id).map_err(|e| Invalid::new(e.to_string())),
    );
    v.into_result()?;
    match (resource, amount, request_id) {
        (Some(resource), Some(amount), Some(request_id)) => Ok((resource, amount, request_id)),
        _ => Err(Error::internal(
            "claim parsed without violations but incomplete",
        )),
    }
}

impl TryFrom<&proto::Need> for NeedDraft {
    type Error = Error;

    fn try_from(n: &proto::Need) -> Result<Self, Error> {
        let mut v = Violations::new();
        // Unset: the need takes any kind.
        let kind = if n.kind == 0 {
            Some(None)
        } else {
            v.check("need.kind", ResourceKind::from_proto(n.kind))
                .map(Some)
        };
        let description = v.check(
            "need.description",
            fabrique_types::bounded_text(&n.description, 1, 500),
        );
        let place = v.check("need.place", optional(&n.place, parse_place_name));
        let location = parse_location(&mut v, "need.location", n.location.as_ref());
        let radius = if n.radius_km == 0.0 {
            Some(None)
        } else {
            v.check(
                "need.radius_km",
                fabrique_types::geo::parse_radius_km(n.radius_km, MAX_RADIUS_KM),
            )
            .map(Some)
        };
        let slot = parse_slot(
            &mut v,
            "need.",
            n.start_time.as_ref(),
            n.end_time.as_ref(),
            false,
        );
        let quantity = parse_quantity(&mut v, "need.quantity", n.quantity.as_ref());
        v.into_result()?;
        match (kind, description, place, location, radius, slot, quantity) {
            (
                Some(kind),
                Some(description),
                Some(place),
                Some(location),
                Some(radius_km),
                Some(slot),
                Some(quantity),
            ) => Ok(NeedDraft {
                kind,
                description,
                place,
                location,
                radius_km,
                slot,
                quantity,
            }),
            _ => Err(Error::internal(
                "need parsed without violations but incomplete",
            )),
        }
    }
}

/// The member and the states a list of needs is limited to.
pub fn parse_needs_filter(
    r: &proto::ListNeedsRequest,
) -> Result<(Option<Uuid>, Vec<NeedState>), Error> {
    let mut v = Violations::new();
    let member = v
        .check("member", optional(&r.member, parse_member_name))
        .flatten();
    let mut states = Vec::new();
    for (i, state) in r.states.iter().enumerate() {
        if let Some(state) = v.check(&format!("states[{i}]"), NeedState::from_proto(*state)) {
            states.push(state);
        }
    }
    v.into_result()?;
    Ok((member, states))
}

#[cfg(test)]
mod tests {
    use fabrique_platform::proto_enum::{assert_round_trip, proto_values};

    use super::*;

    #[test]
    fn every_enum_maps_both_ways_by_name() {
        assert_round_trip::<ResourceKind>();
        assert_round_trip::<ResourceState>();
        assert_round_trip::<ReservationState>();
        assert_round_trip::<ClaimState>();
        assert_round_trip::<NeedState>();
        assert_round_trip::<QuantityUnit>();
        assert_round_trip::<RefusalCode>();
    }

    /// Each mode is read either with a price or without one, and written back as
    /// itself; unset reads as free. A mode added to the contract fails here.
    #[test]
    fn every_cost_mode_maps_both_ways() {
        for mode in proto_values::<proto::CostMode>() {
            let read: Vec<Conditions> = [0, 100]
                .into_iter()
                .filter_map(|price_cents_per_day| {
                    let message = proto::Conditions {
                        mode: mode.into(),
                        price_cents_per_day,
                        deposit_cents: 0,
                    };
                    parse_conditions(&mut Violations::new(), "conditions", Some(&message))
                })
                .collect();
            let [conditions] = read[..] else {
                panic!("{mode:?} is read {} ways, not one", read.len());
            };
            let expected = if mode == proto::CostMode::default() {
                proto::CostMode::Free
            } else {
                mode
            };
            assert_eq!(cost_mode(&conditions), expected, "{mode:?} comes back");
            assert_eq!(
                proto::Conditions::from(&conditions).mode,
                i32::from(expected)
            );
        }
    }
}
