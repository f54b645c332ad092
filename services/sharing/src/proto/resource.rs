//! Resources to messages (with their conditions and booking rules), and the requests
//! about them parsed: a new resource, an update mask, a list filter, an availability
//! window.

use chrono::Duration;
use fabrique_api::sharing as proto;
use fabrique_platform::auth::Caller;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::request::optional;
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};

use super::{location_to_proto, parse_location, parse_quantity, parse_slot, quantity};
use crate::domain::{
    BookingRules, Conditions, Location, MAX_ECO_LABELS, MAX_RADIUS_KM, Resource, ResourceDraft,
    ResourceFilter, ResourceKind, ResourcePatch, ResourceState, Slot, fold, member_name,
    parse_description, parse_eco_label, parse_member_name, parse_place_name, parse_title,
    place_name,
};

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
            answer_within_hours: rules
                .answer_within
                .map(|d| d.num_hours() as i32)
                .unwrap_or_default(),
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

/// The resource for `caller`, or as the public (no token) reads it: without why its
/// state changed (an owner's note) nor its etag (nothing changes without a token).
pub fn resource_for(
    r: &Resource,
    distance: Option<f64>,
    caller: Option<&Caller>,
) -> proto::Resource {
    let message = resource_to_proto(r, distance);
    match caller {
        Some(_) => message,
        None => proto::Resource {
            state_reason: String::new(),
            etag: String::new(),
            ..message
        },
    }
}

// ---------------------------------------------------------------------------
// Messages in
// ---------------------------------------------------------------------------

/// `None`: invalid (the violations are recorded); no conditions are free ones.
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

/// `Some(None)`: no rules given; `None`: invalid (the violations are recorded). Zero
/// for a limit is no limit.
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
    check("answer_within_hours", r.answer_within_hours, 720);
    ok.then(|| {
        Some(BookingRules {
            turnaround: Duration::minutes(i64::from(r.turnaround_minutes)),
            max_duration: (r.max_duration_hours > 0)
                .then(|| Duration::hours(i64::from(r.max_duration_hours))),
            max_advance: (r.max_advance_days > 0)
                .then(|| Duration::days(i64::from(r.max_advance_days))),
            answer_within: (r.answer_within_hours > 0)
                .then(|| Duration::hours(i64::from(r.answer_within_hours))),
        })
    })
}

/// `None`: too many, or one invalid (the violations are recorded).
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

#[cfg(test)]
mod tests {
    use fabrique_platform::proto_enum::proto_values;

    use super::*;

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
