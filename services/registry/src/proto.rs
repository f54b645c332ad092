//! Every conversion between the registry's domain and its contract
//! (`fabrique.registry.v1`): enums mapped by name, places to messages (with their
//! weekly opening spans), requests parsed into domain types with every invalid field
//! reported by its path. Used by the gRPC handlers and by the events.

use std::collections::BTreeSet;

use fabrique_api::registry as proto;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::request::optional;
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};

use crate::domain::map_grid::{MAX_ZOOM, View};
use crate::domain::opening_hours::Weekday;
use crate::domain::{
    Address, Capability, Department, Description, Email, InseeCode, Location, MAX_CAPABILITIES,
    MAX_ECO_LABELS, MAX_KINDS, MAX_RADIUS_KM, Near, OpeningHours, Patch, Phone, Place, PlaceId,
    PlaceKind, PlaceState, PostalCode, Siret, Website, capability, fold, member_name,
    opening_hours, parse_description, parse_display_name, parse_eco_label, parse_member_name,
};
use crate::import::{self, ImportReport, ImportRow, RowError};
use crate::refusal::RefusalCode;
use crate::store::ListFilter;
use crate::store::cells::Cluster;

fabrique_platform::proto_mapped!(
    PlaceKind => proto::PlaceKind,
    PlaceState => proto::PlaceState,
    Weekday => proto::DayOfWeek,
    RefusalCode => proto::Refusal,
);

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

/// The place as the contract shows it, with its weekly opening spans and, in a search
/// around a point, its distance in km. Absent optional values are empty strings, as
/// proto3 has them.
pub fn place_to_proto(place: &Place, distance_km: Option<f64>) -> proto::Place {
    let d = &place.description;
    let text = |value: Option<&str>| value.map(str::to_string).unwrap_or_default();
    let (source, external_id) = place.source.clone().unwrap_or_default();
    proto::Place {
        name: place.id.name(),
        display_name: d.display_name.clone(),
        kinds: d.kinds.iter().map(|k| k.to_proto_i32()).collect(),
        description: text(d.description.as_deref()),
        address: Some(proto::PostalAddress {
            street: text(d.address.street.as_deref()),
            postal_code: text(d.address.postal_code.as_ref().map(PostalCode::as_str)),
            locality: text(d.address.locality.as_deref()),
        }),
        insee_code: text(d.insee_code.as_ref().map(InseeCode::as_str)),
        location: Some(proto::Location {
            latitude: d.location.latitude(),
            longitude: d.location.longitude(),
        }),
        capabilities: d
            .capabilities
            .iter()
            .map(|c| c.code().to_string())
            .collect(),
        opening_hours: text(d.opening_hours.as_ref().map(OpeningHours::as_str)),
        opening_spans: opening_spans(d.opening_hours.as_ref()),
        website: text(d.website.as_ref().map(Website::as_str)),
        contact_email: text(d.contact_email.as_ref().map(Email::as_str)),
        phone: text(d.phone.as_ref().map(Phone::as_str)),
        operator: d.operator.map(member_name).unwrap_or_default(),
        eco_labels: d.eco_labels.clone(),
        siret: text(d.siret.as_ref().map(Siret::as_str)),
        state: place.state.to_proto_i32(),
        state_reason: text(place.state_reason.as_deref()),
        needs_review: place.needs_review,
        review_reason: text(place.review_reason.as_deref()),
        possible_duplicates: place
            .possible_duplicates
            .iter()
            .map(PlaceId::name)
            .collect(),
        source,
        external_id,
        create_time: Some(timestamp(place.created_at)),
        update_time: Some(timestamp(place.updated_at)),
        etag: place.etag(),
        distance_km: distance_km.unwrap_or_default(),
    }
}

/// Opening hours as the week's spans, each naming its day, so that clients need not
/// parse OpenStreetMap's syntax.
fn opening_spans(hours: Option<&OpeningHours>) -> Vec<proto::OpeningSpan> {
    hours
        .iter()
        .flat_map(|h| h.spans())
        .map(|span| proto::OpeningSpan {
            day: span.weekday().to_proto_i32(),
            opens: opening_hours::format_minutes(span.opens),
            closes: opening_hours::format_minutes(span.closes),
        })
        .collect()
}

/// Parses each field named in `fields` into a patch, every bad one reported as
/// `place.{field}` in `v`: the patch is whole only when `v` stayed empty.
///
/// Over 60 lines: as long as the message is wide, one arm per field, the longer ones in
/// helpers below.
pub fn parse_fields(place: &proto::Place, fields: &[&str], v: &mut Violations) -> Patch {
    let mut patch = Patch::default();
    for &field in fields {
        let path = format!("place.{field}");
        match field {
            "display_name" => {
                patch.display_name = v.check(&path, parse_display_name(&place.display_name))
            }
            "kinds" => patch.kinds = parse_kinds(&place.kinds, &path, v),
            "description" => {
                patch.description = v.check(&path, parse_description(&place.description))
            }
            "address" => patch.address = parse_address(place.address.as_ref(), v),
            "insee_code" => {
                patch.insee_code = v.check(&path, optional(&place.insee_code, InseeCode::parse))
            }
            "location" => match &place.location {
                None => v.add(&path, "is required"),
                Some(location) => match Location::parse(location.latitude, location.longitude) {
                    Ok(location) => patch.location = Some(location),
                    Err((coordinate, invalid)) => v.add(format!("{path}.{coordinate}"), invalid.0),
                },
            },
            "capabilities" => {
                patch.capabilities = parse_capabilities(&place.capabilities, &path, v)
            }
            "opening_hours" => {
                patch.opening_hours =
                    v.check(&path, optional(&place.opening_hours, OpeningHours::parse))
            }
            "website" => patch.website = v.check(&path, optional(&place.website, Website::parse)),
            "contact_email" => {
                patch.contact_email = v.check(&path, optional(&place.contact_email, Email::parse))
            }
            "phone" => patch.phone = v.check(&path, optional(&place.phone, Phone::parse)),
            "operator" => {
                patch.operator = v.check(&path, optional(&place.operator, parse_member_name))
            }
            "eco_labels" => patch.eco_labels = parse_eco_labels(&place.eco_labels, &path, v),
            "siret" => patch.siret = v.check(&path, optional(&place.siret, Siret::parse)),
            "name"
            | "opening_spans"
            | "state"
            | "state_reason"
            | "needs_review"
            | "review_reason"
            | "possible_duplicates"
            | "source"
            | "external_id"
            | "create_time"
            | "update_time"
            | "etag"
            | "distance_km" => v.add(
                "update_mask",
                format!("{field} is output only; the moderation methods change the state"),
            ),
            other => v.add("update_mask", format!("unknown field {other:?}")),
        }
    }
    patch
}

/// At least one kind, at most [`MAX_KINDS`]; each bad one reported as `{path}[i]`.
fn parse_kinds(kinds: &[i32], path: &str, v: &mut Violations) -> Option<BTreeSet<PlaceKind>> {
    if kinds.is_empty() {
        v.add(path, "must name at least one kind");
        return None;
    }
    if kinds.len() > MAX_KINDS {
        v.add(path, format!("at most {MAX_KINDS}"));
        return None;
    }
    let mut parsed = BTreeSet::new();
    for (i, kind) in kinds.iter().enumerate() {
        if let Some(kind) = v.check(&format!("{path}[{i}]"), PlaceKind::from_proto(*kind)) {
            parsed.insert(kind);
        }
    }
    Some(parsed)
}

/// Every part of the address (an absent address is an empty one), each reported by
/// its own path.
fn parse_address(address: Option<&proto::PostalAddress>, v: &mut Violations) -> Option<Address> {
    let address = address.cloned().unwrap_or_default();
    let street = v.check(
        "place.address.street",
        fabrique_types::optional_text(&address.street, 300),
    );
    let postal_code = v.check(
        "place.address.postal_code",
        optional(&address.postal_code, PostalCode::parse),
    );
    let locality = v.check(
        "place.address.locality",
        fabrique_types::optional_text(&address.locality, 200),
    );
    Some(Address {
        street: street?,
        postal_code: postal_code?,
        locality: locality?,
    })
}

/// At most [`MAX_CAPABILITIES`] codes of the vocabulary; each bad one reported as
/// `{path}[i]`.
fn parse_capabilities(
    codes: &[String],
    path: &str,
    v: &mut Violations,
) -> Option<BTreeSet<Capability>> {
    if codes.len() > MAX_CAPABILITIES {
        v.add(path, format!("at most {MAX_CAPABILITIES}"));
        return None;
    }
    let mut capabilities = BTreeSet::new();
    for (i, code) in codes.iter().enumerate() {
        if let Some(capability) = v.check(&format!("{path}[{i}]"), Capability::parse(code)) {
            capabilities.insert(capability);
        }
    }
    Some(capabilities)
}

/// At most [`MAX_ECO_LABELS`]; each bad one reported as `{path}[i]`.
fn parse_eco_labels(labels: &[String], path: &str, v: &mut Violations) -> Option<Vec<String>> {
    if labels.len() > MAX_ECO_LABELS {
        v.add(path, format!("at most {MAX_ECO_LABELS}"));
        return None;
    }
    Some(
        labels
            .iter()
            .enumerate()
            .filter_map(|(i, label)| v.check(&format!("{path}[{i}]"), parse_eco_label(label)))
            .collect(),
    )
}

/// The fields a new place is made of, and the update mask paths that may be changed
/// (`*` stands for all of them).
const UPDATABLE: &[&str] = &[
    "display_name",
    "kinds",
    "description",
    "address",
    "insee_code",
    "location",
    "capabilities",
    "opening_hours",
    "website",
    "contact_email",
    "phone",
    "operator",
    "eco_labels",
    "siret",
];

/// A CreatePlace's place, every bad field reported as `place.{field}`; output-only
/// fields are ignored.
pub fn parse_new_place(place: &proto::Place) -> Result<Description, Error> {
    let mut v = Violations::new();
    let patch = parse_fields(place, UPDATABLE, &mut v);
    v.into_result()?;
    let missing = || Error::internal("place parsed without violations but incomplete");
    Ok(Description {
        display_name: patch.display_name.ok_or_else(missing)?,
        kinds: patch.kinds.ok_or_else(missing)?,
        description: patch.description.ok_or_else(missing)?,
        address: patch.address.ok_or_else(missing)?,
        insee_code: patch.insee_code.ok_or_else(missing)?,
        location: patch.location.ok_or_else(missing)?,
        capabilities: patch.capabilities.ok_or_else(missing)?,
        opening_hours: patch.opening_hours.ok_or_else(missing)?,
        website: patch.website.ok_or_else(missing)?,
        contact_email: patch.contact_email.ok_or_else(missing)?,
        phone: patch.phone.ok_or_else(missing)?,
        operator: patch.operator.ok_or_else(missing)?,
        eco_labels: patch.eco_labels.ok_or_else(missing)?,
        siret: patch.siret.ok_or_else(missing)?,
    })
}

/// An UpdatePlace's changes: the fields its mask names, parsed. An empty mask, an
/// unknown path or an output-only one (the state is the moderation calls') is refused.
pub fn parse_patch(
    place: &proto::Place,
    mask: Option<&prost_types::FieldMask>,
) -> Result<Patch, Error> {
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
    let patch = parse_fields(place, &paths, &mut v);
    v.into_result()?;
    Ok(patch)
}

/// A ListPlaces' filters, and the circle to search when it gives one; its text query
/// (at most 100 characters) is folded like the stored text it is compared with.
pub fn parse_list(request: &proto::ListPlacesRequest) -> Result<(ListFilter, Option<Near>), Error> {
    let mut v = Violations::new();
    let mut filter = search_filter(
        &request.kinds,
        &request.capabilities,
        &request.query,
        &mut v,
    );
    for (i, state) in request.states.iter().enumerate() {
        if let Some(state) = v.check(&format!("states[{i}]"), PlaceState::from_proto(*state)) {
            filter.states.push(state);
        }
    }
    filter.department = v
        .check(
            "insee_department",
            optional(&request.insee_department, Department::parse),
        )
        .flatten();
    filter.insee_code = v
        .check(
            "insee_code",
            optional(&request.insee_code, InseeCode::parse),
        )
        .flatten();
    filter.operator = v
        .check("operator", optional(&request.operator, parse_member_name))
        .flatten();
    filter.needs_review_only = request.needs_review;
    let near = request
        .near
        .as_ref()
        .and_then(|near| parse_near(near, &mut v));
    v.into_result()?;
    Ok((filter, near))
}

/// The filters a list and a map share: kinds (any of), capabilities (all of), text.
fn search_filter(
    kinds: &[i32],
    capabilities: &[String],
    query: &str,
    v: &mut Violations,
) -> ListFilter {
    let mut filter = ListFilter::default();
    for (i, kind) in kinds.iter().enumerate() {
        if let Some(kind) = v.check(&format!("kinds[{i}]"), PlaceKind::from_proto(*kind)) {
            filter.kinds.push(kind);
        }
    }
    for (i, code) in capabilities.iter().enumerate() {
        if let Some(capability) = v.check(&format!("capabilities[{i}]"), Capability::parse(code)) {
            filter.capabilities.push(capability);
        }
    }
    let query = query.trim();
    if query.chars().take(101).count() > 100 {
        v.add("query", "must be at most 100 characters");
    } else if !query.is_empty() {
        filter.query = Some(fold(query));
    }
    filter
}

/// A map's request: its filters and its view.
pub fn parse_clusters(
    request: &proto::ListPlaceClustersRequest,
) -> Result<(ListFilter, View), Error> {
    let mut v = Violations::new();
    let mut filter = search_filter(
        &request.kinds,
        &request.capabilities,
        &request.query,
        &mut v,
    );
    filter.department = v
        .check(
            "insee_department",
            optional(&request.insee_department, Department::parse),
        )
        .flatten();
    let zoom_ok = (0..=MAX_ZOOM).contains(&request.zoom);
    if !zoom_ok {
        v.add(
            "zoom",
            format!("must be 0 to {MAX_ZOOM}, got {}", request.zoom),
        );
    }
    let mut corner = |latitude: f64, longitude: f64, names: [&str; 2]| {
        Location::parse(latitude, longitude)
            .map_err(|(coordinate, invalid)| {
                let name = if coordinate == "latitude" {
                    names[0]
                } else {
                    names[1]
                };
                v.add(format!("bounds.{name}"), invalid.0);
            })
            .ok()
    };
    let view = match &request.bounds {
        None => None,
        Some(b) => corner(b.south, b.west, ["south", "west"]).zip(corner(
            b.north,
            b.east,
            ["north", "east"],
        )),
    };
    if request.bounds.is_none() {
        v.add("bounds", "is required");
    }
    let view = view
        .filter(|_| zoom_ok)
        .and_then(|(south_west, north_east)| {
            v.check("bounds", View::new(south_west, north_east, request.zoom))
        });
    v.into_result()?;
    view.map(|view| (filter, view))
        .ok_or_else(|| Error::invalid("bounds", "is required"))
}

/// A cluster as the API shows it.
pub fn cluster_to_proto(cluster: &Cluster) -> proto::PlaceCluster {
    let (place, display_name, kinds) = match &cluster.single {
        Some((id, name, kinds)) => (
            PlaceId::from_uuid(*id).name(),
            name.clone(),
            kinds
                .split('|')
                .filter_map(|k| k.parse::<PlaceKind>().ok())
                .map(|k| k.to_proto_i32())
                .collect(),
        ),
        None => Default::default(),
    };
    proto::PlaceCluster {
        location: Some(proto::Location {
            latitude: cluster.latitude,
            longitude: cluster.longitude,
        }),
        place_count: i32::try_from(cluster.count).unwrap_or(i32::MAX),
        place,
        display_name,
        kinds,
    }
}

/// A search's circle: a valid center and a radius up to [`MAX_RADIUS_KM`].
fn parse_near(near: &proto::Near, v: &mut Violations) -> Option<Near> {
    let center = match &near.location {
        None => {
            v.add("near.location", "is required");
            None
        }
        Some(location) => match Location::parse(location.latitude, location.longitude) {
            Ok(center) => Some(center),
            Err((coordinate, invalid)) => {
                v.add(format!("near.location.{coordinate}"), invalid.0);
                None
            }
        },
    };
    let radius = v.check(
        "near.radius_km",
        fabrique_types::geo::parse_radius_km(near.radius_km, MAX_RADIUS_KM),
    );
    center
        .zip(radius)
        .map(|(center, radius_km)| Near { center, radius_km })
}

/// The place a resource name `places/{id}` in request field `field` names.
pub fn parse_name(field: &str, name: &str) -> Result<PlaceId, Error> {
    PlaceId::parse_name(name).map_err(|invalid| Error::invalid(field, invalid.0))
}

/// The vocabulary of capabilities, with their French labels.
pub fn capabilities() -> proto::ListCapabilitiesResponse {
    proto::ListCapabilitiesResponse {
        capabilities: capability::VOCABULARY
            .iter()
            .map(|(code, label)| proto::Capability {
                code: code.to_string(),
                label: label.to_string(),
            })
            .collect(),
    }
}

/// An `ImportPlaces` request, parsed: each row parsed or refused with its line.
pub struct ImportRequest {
    /// Where the file comes from (« cartographie-tiers-lieux-2025 »): with each row's
    /// `id`, it tells which place a row made in an earlier import.
    pub source: String,
    /// Given to every imported place.
    pub operator: Option<uuid::Uuid>,
    /// The file's rows, each parsed or refused with its line.
    pub rows: Vec<Result<ImportRow, RowError>>,
}

impl TryFrom<&proto::ImportPlacesRequest> for ImportRequest {
    type Error = Error;

    fn try_from(request: &proto::ImportPlacesRequest) -> Result<Self, Error> {
        let mut v = Violations::new();
        let source = v.check(
            "source",
            fabrique_types::bounded_text(&request.source, 1, 100),
        );
        let operator = v.check("operator", optional(&request.operator, parse_member_name));
        let rows = v.check("csv", import::parse_csv(&request.csv));
        v.into_result()?;
        match (source, operator, rows) {
            (Some(source), Some(operator), Some(rows)) => Ok(Self {
                source,
                operator,
                rows,
            }),
            _ => Err(Error::internal(
                "import request parsed without violations but incomplete",
            )),
        }
    }
}

impl From<ImportReport> for proto::ImportPlacesResponse {
    fn from(report: ImportReport) -> Self {
        Self {
            created: report.created as i32,
            updated: report.updated as i32,
            unchanged: report.unchanged as i32,
            errors: report
                .errors
                .into_iter()
                .map(|e| proto::ImportRowError {
                    line: e.line as i32,
                    field: e.field,
                    description: e.description,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use fabrique_platform::proto_enum::assert_round_trip;

    use super::*;

    #[test]
    fn every_enum_maps_both_ways_by_name() {
        assert_round_trip::<PlaceKind>();
        assert_round_trip::<PlaceState>();
        assert_round_trip::<Weekday>();
        assert_round_trip::<RefusalCode>();
    }

    #[test]
    fn opening_spans_name_their_day() {
        let hours = OpeningHours::parse("Mo 09:00-12:00; Su 10:00-11:00").unwrap();
        let days: Vec<i32> = hours
            .spans()
            .iter()
            .map(|s| s.weekday().to_proto_i32())
            .collect();
        assert_eq!(
            days,
            [
                proto::DayOfWeek::Monday as i32,
                proto::DayOfWeek::Sunday as i32
            ]
        );
    }
}
