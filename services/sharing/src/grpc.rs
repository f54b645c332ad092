//! The gRPC edge of the sharing service: `fabrique.sharing.v1.SharingService`.
//! Converts protobuf to domain types (every invalid field reported with its path), calls
//! the use case, converts back.

use chrono::Duration;
use fabrique_api::sharing as proto;
use fabrique_api::sharing::sharing_service_server::SharingService;
use fabrique_platform::auth::{self, Caller};
use fabrique_platform::page;
use fabrique_platform::request::{self, optional};
use fabrique_platform::time::{from_timestamp, timestamp};
use fabrique_platform::{Error, Violations};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::app::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_RADIUS_KM, NeedDraft, ResourceDraft, ResourcePatch,
    Sharing,
};
use crate::domain::{
    BookingRules, Claim, ClaimState, Conditions, Invalid, Location, MAX_ECO_LABELS, Milli, Need,
    NeedState, QuantityUnit, Reservation, ReservationState, ReservationTransition, Resource,
    ResourceKind, ResourceState, Slot, fold, member_name, parse_child_name, parse_description,
    parse_eco_label, parse_member_name, parse_need_name, parse_place_name, parse_resource_name,
    parse_title, place_name,
};
use crate::store::{ReservationFilter, ResourceFilter};

pub struct SharingGrpc {
    sharing: Sharing,
}

impl SharingGrpc {
    pub fn new(sharing: Sharing) -> Self {
        Self { sharing }
    }
}

// ---------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------

pub fn kind_to_proto(kind: ResourceKind) -> proto::ResourceKind {
    use proto::ResourceKind as P;
    match kind {
        ResourceKind::Equipment => P::Equipment,
        ResourceKind::Space => P::Space,
        ResourceKind::Vehicle => P::Vehicle,
        ResourceKind::Expertise => P::Expertise,
        ResourceKind::Material => P::Material,
        ResourceKind::Method => P::Method,
    }
}

fn kind_from_proto(value: i32) -> Result<ResourceKind, Invalid> {
    match proto::ResourceKind::try_from(value) {
        Ok(proto::ResourceKind::Unspecified) => Err(Invalid::new("must be set")),
        Ok(kind) => ResourceKind::ALL
            .iter()
            .copied()
            .find(|k| kind_to_proto(*k) == kind)
            .ok_or_else(|| Invalid::new(format!("unknown resource kind {value}"))),
        Err(_) => Err(Invalid::new(format!("unknown resource kind {value}"))),
    }
}

pub fn state_to_proto(state: ResourceState) -> proto::ResourceState {
    match state {
        ResourceState::Available => proto::ResourceState::Available,
        ResourceState::Withdrawn => proto::ResourceState::Withdrawn,
        ResourceState::Unavailable => proto::ResourceState::Unavailable,
    }
}

fn state_from_proto(value: i32) -> Result<ResourceState, Invalid> {
    match proto::ResourceState::try_from(value) {
        Ok(proto::ResourceState::Available) => Ok(ResourceState::Available),
        Ok(proto::ResourceState::Withdrawn) => Ok(ResourceState::Withdrawn),
        Ok(proto::ResourceState::Unavailable) => Ok(ResourceState::Unavailable),
        _ => Err(Invalid::new(format!("unknown resource state {value}"))),
    }
}

pub fn reservation_state_to_proto(state: ReservationState) -> proto::ReservationState {
    use proto::ReservationState as P;
    match state {
        ReservationState::Requested => P::Requested,
        ReservationState::Confirmed => P::Confirmed,
        ReservationState::Declined => P::Declined,
        ReservationState::Cancelled => P::Cancelled,
        ReservationState::Completed => P::Completed,
    }
}

fn reservation_state_from_proto(value: i32) -> Result<ReservationState, Invalid> {
    ReservationState::ALL
        .iter()
        .copied()
        .find(|s| reservation_state_to_proto(*s) as i32 == value)
        .ok_or_else(|| Invalid::new(format!("unknown reservation state {value}")))
}

pub fn claim_state_to_proto(state: ClaimState) -> proto::ClaimState {
    match state {
        ClaimState::Held => proto::ClaimState::Held,
        ClaimState::Collected => proto::ClaimState::Collected,
        ClaimState::Cancelled => proto::ClaimState::Cancelled,
    }
}

pub fn need_state_to_proto(state: NeedState) -> proto::NeedState {
    match state {
        NeedState::Open => proto::NeedState::Open,
        NeedState::Closed => proto::NeedState::Closed,
    }
}

fn need_state_from_proto(value: i32) -> Result<NeedState, Invalid> {
    NeedState::ALL
        .iter()
        .copied()
        .find(|s| need_state_to_proto(*s) as i32 == value)
        .ok_or_else(|| Invalid::new(format!("unknown need state {value}")))
}

fn unit_to_proto(unit: QuantityUnit) -> proto::QuantityUnit {
    match unit {
        QuantityUnit::Tonne => proto::QuantityUnit::Tonne,
        QuantityUnit::CubicMetre => proto::QuantityUnit::CubicMetre,
        QuantityUnit::SquareMetre => proto::QuantityUnit::SquareMetre,
        QuantityUnit::Unit => proto::QuantityUnit::Unit,
    }
}

fn unit_from_proto(value: i32) -> Result<QuantityUnit, Invalid> {
    match proto::QuantityUnit::try_from(value) {
        Ok(proto::QuantityUnit::Unspecified) => Err(Invalid::new("must be set")),
        _ => QuantityUnit::ALL
            .iter()
            .copied()
            .find(|u| unit_to_proto(*u) as i32 == value)
            .ok_or_else(|| Invalid::new(format!("unknown unit {value}"))),
    }
}

pub fn quantity(amount: Milli, unit: QuantityUnit) -> proto::Quantity {
    proto::Quantity {
        amount: amount.amount(),
        unit: unit_to_proto(unit) as i32,
    }
}

// ---------------------------------------------------------------------------
// Messages out
// ---------------------------------------------------------------------------

fn location_to_proto(location: &Location) -> proto::Location {
    proto::Location {
        latitude: location.latitude(),
        longitude: location.longitude(),
    }
}

fn resource_to_proto(r: &Resource, distance: Option<f64>) -> proto::Resource {
    proto::Resource {
        name: r.name(),
        owner: member_name(r.owner),
        kind: kind_to_proto(r.kind) as i32,
        title: r.title.clone(),
        description: r.description.clone().unwrap_or_default(),
        place: r.place.map(place_name).unwrap_or_default(),
        location: r.location.as_ref().map(location_to_proto),
        conditions: Some(proto::Conditions {
            mode: if r.conditions.price_cents_per_day.is_some() {
                proto::CostMode::CostShared
            } else {
                proto::CostMode::Free
            } as i32,
            price_cents_per_day: r.conditions.price_cents_per_day.unwrap_or_default(),
            deposit_cents: r.conditions.deposit_cents,
        }),
        eco_labels: r.eco_labels.clone(),
        state: state_to_proto(r.state) as i32,
        state_reason: r.state_reason.clone().unwrap_or_default(),
        booking_rules: Some(proto::BookingRules {
            turnaround_minutes: r.rules.turnaround.num_minutes() as i32,
            max_duration_hours: r
                .rules
                .max_duration
                .map(|d| d.num_hours() as i32)
                .unwrap_or_default(),
            max_advance_days: r
                .rules
                .max_advance
                .map(|d| d.num_days() as i32)
                .unwrap_or_default(),
        }),
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

fn reservation_to_proto(r: &Reservation) -> proto::Reservation {
    proto::Reservation {
        name: r.name(),
        borrower: member_name(r.borrower),
        start_time: Some(timestamp(r.slot.start())),
        end_time: Some(timestamp(r.slot.end())),
        note: r.note.clone().unwrap_or_default(),
        state: reservation_state_to_proto(r.state) as i32,
        state_reason: r.state_reason.clone().unwrap_or_default(),
        create_time: Some(timestamp(r.created_at)),
        update_time: Some(timestamp(r.updated_at)),
        etag: r.etag(),
    }
}

fn claim_to_proto(c: &Claim) -> proto::Claim {
    proto::Claim {
        name: c.name(),
        claimant: member_name(c.claimant),
        quantity: Some(quantity(c.quantity, c.unit)),
        state: claim_state_to_proto(c.state) as i32,
        create_time: Some(timestamp(c.created_at)),
        update_time: Some(timestamp(c.updated_at)),
    }
}

fn need_to_proto(n: &Need) -> proto::Need {
    proto::Need {
        name: n.name(),
        member: member_name(n.member),
        kind: n.kind.map(|k| kind_to_proto(k) as i32).unwrap_or_default(),
        description: n.description.clone(),
        place: n.place.map(place_name).unwrap_or_default(),
        location: n.location.as_ref().map(location_to_proto),
        radius_km: n.radius_km.unwrap_or_default(),
        start_time: n.slot.map(|s| timestamp(s.start())),
        end_time: n.slot.map(|s| timestamp(s.end())),
        quantity: n.quantity.map(|(q, u)| quantity(q, u)),
        state: need_state_to_proto(n.state) as i32,
        create_time: Some(timestamp(n.created_at)),
    }
}

// ---------------------------------------------------------------------------
// Messages in
// ---------------------------------------------------------------------------

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
        Ok(proto::CostMode::CostShared) => {
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
        Ok(proto::CostMode::Free | proto::CostMode::Unspecified) => {
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
    let unit = v.check(&format!("{field}.unit"), unit_from_proto(q.unit));
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

fn parse_name<T>(
    field: &str,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, Invalid>,
) -> Result<T, Error> {
    parse(name).map_err(|invalid| Error::invalid(field, invalid.0))
}

/// `resources/{id}` or `resources/-` (all).
fn parse_parent(field: &str, parent: &str) -> Result<Option<Uuid>, Error> {
    if parent == "resources/-" || parent.is_empty() {
        Ok(None)
    } else {
        parse_name(field, parent, parse_resource_name).map(Some)
    }
}

fn parse_resource_draft(r: &proto::Resource) -> Result<ResourceDraft, Error> {
    let mut v = Violations::new();
    let owner = v.check("resource.owner", optional(&r.owner, parse_member_name));
    let kind = v.check("resource.kind", kind_from_proto(r.kind));
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

const UPDATABLE: &[&str] = &[
    "title",
    "description",
    "place",
    "location",
    "conditions",
    "eco_labels",
    "booking_rules",
];

fn parse_resource_patch(
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

fn parse_need(n: &proto::Need) -> Result<NeedDraft, Error> {
    let mut v = Violations::new();
    let kind = if n.kind == 0 {
        Some(None)
    } else {
        v.check("need.kind", kind_from_proto(n.kind)).map(Some)
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

// ---------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------

impl SharingGrpc {
    async fn reservation_step(
        &self,
        caller: &Caller,
        name: &str,
        transition: ReservationTransition,
        reason: Option<String>,
        etag: &str,
    ) -> Result<Response<proto::Reservation>, Status> {
        let (resource, id) = parse_name("name", name, |n| parse_child_name(n, "reservations"))?;
        let etag = request::etag("etag", etag)?;
        let reservation = self
            .sharing
            .transition_reservation(caller, resource, id, transition, reason, etag)
            .await?;
        Ok(Response::new(reservation_to_proto(&reservation)))
    }
}

#[tonic::async_trait]
impl SharingService for SharingGrpc {
    async fn get_resource(
        &self,
        request: Request<proto::GetResourceRequest>,
    ) -> Result<Response<proto::Resource>, Status> {
        auth::caller(&request)?;
        let id = parse_name("name", &request.get_ref().name, parse_resource_name)?;
        Ok(Response::new(resource_to_proto(
            &self.sharing.get_resource(id).await?,
            None,
        )))
    }

    async fn list_resources(
        &self,
        request: Request<proto::ListResourcesRequest>,
    ) -> Result<Response<proto::ListResourcesResponse>, Status> {
        auth::caller(&request)?;
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let mut v = Violations::new();
        let mut filter = ResourceFilter::default();
        for (i, kind) in r.kinds.iter().enumerate() {
            if let Some(kind) = v.check(&format!("kinds[{i}]"), kind_from_proto(*kind)) {
                filter.kinds.push(kind);
            }
        }
        for (i, state) in r.states.iter().enumerate() {
            if let Some(state) = v.check(&format!("states[{i}]"), state_from_proto(*state)) {
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
        let page = self
            .sharing
            .list_resources(filter, near, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListResourcesResponse {
            resources: page
                .items
                .iter()
                .map(|(d, r)| resource_to_proto(r, *d))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn create_resource(
        &self,
        request: Request<proto::CreateResourceRequest>,
    ) -> Result<Response<proto::Resource>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let resource = r
            .resource
            .as_ref()
            .ok_or_else(|| Error::invalid("resource", "is required"))?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let draft = parse_resource_draft(resource)?;
        let created = self
            .sharing
            .create_resource(&caller, draft, request_id)
            .await?;
        Ok(Response::new(resource_to_proto(&created, None)))
    }

    async fn update_resource(
        &self,
        request: Request<proto::UpdateResourceRequest>,
    ) -> Result<Response<proto::Resource>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let resource = r
            .resource
            .as_ref()
            .ok_or_else(|| Error::invalid("resource", "is required"))?;
        let id = parse_name("resource.name", &resource.name, parse_resource_name)?;
        let etag = request::etag("resource.etag", &resource.etag)?.ok_or_else(|| {
            Error::invalid(
                "resource.etag",
                "is required: send the etag of the resource you read",
            )
        })?;
        let patch = parse_resource_patch(resource, r.update_mask.as_ref())?;
        let updated = self
            .sharing
            .update_resource(&caller, id, etag, patch)
            .await?;
        Ok(Response::new(resource_to_proto(&updated, None)))
    }

    async fn withdraw_resource(
        &self,
        request: Request<proto::WithdrawResourceRequest>,
    ) -> Result<Response<proto::Resource>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name, parse_resource_name)?;
        let reason = request::reason("reason", &r.reason, false)?;
        let etag = request::etag("etag", &r.etag)?;
        let resource = self
            .sharing
            .set_resource_state(&caller, id, ResourceState::Withdrawn, reason, etag)
            .await?;
        Ok(Response::new(resource_to_proto(&resource, None)))
    }

    async fn restore_resource(
        &self,
        request: Request<proto::RestoreResourceRequest>,
    ) -> Result<Response<proto::Resource>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name, parse_resource_name)?;
        let etag = request::etag("etag", &r.etag)?;
        let resource = self
            .sharing
            .set_resource_state(&caller, id, ResourceState::Available, None, etag)
            .await?;
        Ok(Response::new(resource_to_proto(&resource, None)))
    }

    async fn get_availability(
        &self,
        request: Request<proto::GetAvailabilityRequest>,
    ) -> Result<Response<proto::GetAvailabilityResponse>, Status> {
        auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name, parse_resource_name)?;
        let mut v = Violations::new();
        let window =
            parse_slot(&mut v, "", r.start_time.as_ref(), r.end_time.as_ref(), true).flatten();
        if let Some(window) = &window
            && window.duration() > Duration::days(366)
        {
            v.add("end_time", "must be at most 366 days after start_time");
        }
        v.into_result()?;
        let window = window
            .ok_or_else(|| Error::internal("window parsed without violations but missing"))?;
        let free = self.sharing.availability(id, window).await?;
        Ok(Response::new(proto::GetAvailabilityResponse {
            free: free
                .iter()
                .map(|s| proto::Interval {
                    start_time: Some(timestamp(s.start())),
                    end_time: Some(timestamp(s.end())),
                })
                .collect(),
        }))
    }

    async fn create_reservation(
        &self,
        request: Request<proto::CreateReservationRequest>,
    ) -> Result<Response<proto::Reservation>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let resource = parse_name("parent", &r.parent, parse_resource_name)?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let reservation = r
            .reservation
            .as_ref()
            .ok_or_else(|| Error::invalid("reservation", "is required"))?;
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
        let (Some(slot), Some(note)) = (slot, note) else {
            return Err(
                Error::internal("reservation parsed without violations but incomplete").into(),
            );
        };
        let created = self
            .sharing
            .create_reservation(&caller, resource, slot, note, request_id)
            .await?;
        Ok(Response::new(reservation_to_proto(&created)))
    }

    async fn get_reservation(
        &self,
        request: Request<proto::GetReservationRequest>,
    ) -> Result<Response<proto::Reservation>, Status> {
        let caller = auth::caller(&request)?;
        let (resource, id) = parse_name("name", &request.get_ref().name, |n| {
            parse_child_name(n, "reservations")
        })?;
        let reservation = self.sharing.get_reservation(&caller, resource, id).await?;
        Ok(Response::new(reservation_to_proto(&reservation)))
    }

    async fn list_reservations(
        &self,
        request: Request<proto::ListReservationsRequest>,
    ) -> Result<Response<proto::ListReservationsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
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
                reservation_state_from_proto(*state),
            ) {
                filter.states.push(state);
            }
        }
        v.into_result()?;
        let page = self
            .sharing
            .list_reservations(&caller, filter, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListReservationsResponse {
            reservations: page.items.iter().map(reservation_to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn confirm_reservation(
        &self,
        request: Request<proto::ConfirmReservationRequest>,
    ) -> Result<Response<proto::Reservation>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        self.reservation_step(
            &caller,
            &r.name,
            ReservationTransition::Confirm,
            None,
            &r.etag,
        )
        .await
    }

    async fn decline_reservation(
        &self,
        request: Request<proto::DeclineReservationRequest>,
    ) -> Result<Response<proto::Reservation>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let reason = request::reason("reason", &r.reason, false)?;
        self.reservation_step(
            &caller,
            &r.name,
            ReservationTransition::Decline,
            reason,
            &r.etag,
        )
        .await
    }

    async fn cancel_reservation(
        &self,
        request: Request<proto::CancelReservationRequest>,
    ) -> Result<Response<proto::Reservation>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let reason = request::reason("reason", &r.reason, false)?;
        self.reservation_step(
            &caller,
            &r.name,
            ReservationTransition::Cancel,
            reason,
            &r.etag,
        )
        .await
    }

    async fn complete_reservation(
        &self,
        request: Request<proto::CompleteReservationRequest>,
    ) -> Result<Response<proto::Reservation>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        self.reservation_step(
            &caller,
            &r.name,
            ReservationTransition::Complete,
            None,
            &r.etag,
        )
        .await
    }

    async fn create_claim(
        &self,
        request: Request<proto::CreateClaimRequest>,
    ) -> Result<Response<proto::Claim>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let resource = v.check("parent", parse_resource_name(&r.parent));
        let amount = v.check("amount", Milli::parse_positive(r.amount));
        let request_id = v.check(
            "request_id",
            request::request_id("request_id", &r.request_id)
                .map_err(|e| Invalid::new(e.to_string())),
        );
        v.into_result()?;
        let (Some(resource), Some(amount), Some(request_id)) = (resource, amount, request_id)
        else {
            return Err(Error::internal("claim parsed without violations but incomplete").into());
        };
        let claim = self
            .sharing
            .create_claim(&caller, resource, amount, r.accept_less, request_id)
            .await?;
        Ok(Response::new(claim_to_proto(&claim)))
    }

    async fn list_claims(
        &self,
        request: Request<proto::ListClaimsRequest>,
    ) -> Result<Response<proto::ListClaimsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let resource = parse_parent("parent", &r.parent)?;
        let claimant = parse_name("claimant", &r.claimant, |c| optional(c, parse_member_name))?;
        let page = self
            .sharing
            .list_claims(&caller, resource, claimant, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListClaimsResponse {
            claims: page.items.iter().map(claim_to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn collect_claim(
        &self,
        request: Request<proto::CollectClaimRequest>,
    ) -> Result<Response<proto::Claim>, Status> {
        let caller = auth::caller(&request)?;
        let (resource, id) = parse_name("name", &request.get_ref().name, |n| {
            parse_child_name(n, "claims")
        })?;
        let claim = self
            .sharing
            .finish_claim(&caller, resource, id, ClaimState::Collected)
            .await?;
        Ok(Response::new(claim_to_proto(&claim)))
    }

    async fn cancel_claim(
        &self,
        request: Request<proto::CancelClaimRequest>,
    ) -> Result<Response<proto::Claim>, Status> {
        let caller = auth::caller(&request)?;
        let (resource, id) = parse_name("name", &request.get_ref().name, |n| {
            parse_child_name(n, "claims")
        })?;
        let claim = self
            .sharing
            .finish_claim(&caller, resource, id, ClaimState::Cancelled)
            .await?;
        Ok(Response::new(claim_to_proto(&claim)))
    }

    async fn create_need(
        &self,
        request: Request<proto::CreateNeedRequest>,
    ) -> Result<Response<proto::Need>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let need = r
            .need
            .as_ref()
            .ok_or_else(|| Error::invalid("need", "is required"))?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let draft = parse_need(need)?;
        let created = self.sharing.create_need(&caller, draft, request_id).await?;
        Ok(Response::new(need_to_proto(&created)))
    }

    async fn get_need(
        &self,
        request: Request<proto::GetNeedRequest>,
    ) -> Result<Response<proto::Need>, Status> {
        auth::caller(&request)?;
        let id = parse_name("name", &request.get_ref().name, parse_need_name)?;
        Ok(Response::new(need_to_proto(
            &self.sharing.get_need(id).await?,
        )))
    }

    async fn list_needs(
        &self,
        request: Request<proto::ListNeedsRequest>,
    ) -> Result<Response<proto::ListNeedsResponse>, Status> {
        auth::caller(&request)?;
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let mut v = Violations::new();
        let member = v
            .check("member", optional(&r.member, parse_member_name))
            .flatten();
        let mut states = Vec::new();
        for (i, state) in r.states.iter().enumerate() {
            if let Some(state) = v.check(&format!("states[{i}]"), need_state_from_proto(*state)) {
                states.push(state);
            }
        }
        v.into_result()?;
        let page = self
            .sharing
            .list_needs(member, states, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListNeedsResponse {
            needs: page.items.iter().map(need_to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn close_need(
        &self,
        request: Request<proto::CloseNeedRequest>,
    ) -> Result<Response<proto::Need>, Status> {
        let caller = auth::caller(&request)?;
        let id = parse_name("name", &request.get_ref().name, parse_need_name)?;
        Ok(Response::new(need_to_proto(
            &self.sharing.close_need(&caller, id).await?,
        )))
    }

    async fn list_matches(
        &self,
        request: Request<proto::ListMatchesRequest>,
    ) -> Result<Response<proto::ListMatchesResponse>, Status> {
        auth::caller(&request)?;
        let r = request.get_ref();
        let need = parse_name("need", &r.need, parse_need_name)?;
        let limit = page::page_size(r.page_size, 20, 100)? as usize;
        let matches = self.sharing.matches(need, limit).await?;
        Ok(Response::new(proto::ListMatchesResponse {
            matches: matches
                .iter()
                .map(|m| proto::Match {
                    resource: Some(resource_to_proto(&m.resource, m.distance_km)),
                    score: m.score,
                    distance_km: m.distance_km.unwrap_or(-1.0),
                    available: m.available,
                    matched_words: m.matched_words.clone(),
                })
                .collect(),
        }))
    }
}
