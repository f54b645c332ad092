//! The gRPC edge of the registry: `fabrique.registry.v1.RegistryService`. Converts
//! protobuf to domain types (every invalid field reported with its path), calls the use
//! case, converts back.

use std::collections::BTreeSet;

use fabrique_api::registry as proto;
use fabrique_api::registry::registry_service_server::RegistryService;
use fabrique_platform::auth::{self, Caller};
use fabrique_platform::page;
use fabrique_platform::request::{self, optional};
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};
use tonic::{Request, Response, Status};

use crate::app::{self, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_RADIUS_KM, Near, Patch, Registry};
use crate::domain::{
    Address, Capability, Department, Description, Email, InseeCode, Invalid, Location,
    MAX_CAPABILITIES, MAX_ECO_LABELS, MAX_KINDS, OpeningHours, Phone, Place, PlaceId, PlaceKind,
    PlaceState, PostalCode, Siret, Transition, Website, capability, fold, member_name,
    opening_hours, parse_description, parse_display_name, parse_eco_label, parse_member_name,
};
use crate::import;

pub struct RegistryGrpc {
    registry: Registry,
}

impl RegistryGrpc {
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }
}

// ---------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------

pub fn kind_to_proto(kind: PlaceKind) -> proto::PlaceKind {
    use proto::PlaceKind as P;
    match kind {
        PlaceKind::Incubator => P::Incubator,
        PlaceKind::Fablab => P::Fablab,
        PlaceKind::Makerspace => P::Makerspace,
        PlaceKind::Ressourcerie => P::Ressourcerie,
        PlaceKind::RepairWorkshop => P::RepairWorkshop,
        PlaceKind::RecyclingWorkshop => P::RecyclingWorkshop,
        PlaceKind::TiersLieu => P::TiersLieu,
        PlaceKind::SharedSpace => P::SharedSpace,
        PlaceKind::TrainingCentre => P::TrainingCentre,
        PlaceKind::ResearchCentre => P::ResearchCentre,
        PlaceKind::ParticipatoryHousing => P::ParticipatoryHousing,
        PlaceKind::EssPremises => P::EssPremises,
    }
}

fn kind_from_proto(value: i32) -> Result<PlaceKind, Invalid> {
    match proto::PlaceKind::try_from(value) {
        Ok(proto::PlaceKind::Unspecified) => {
            Err(Invalid::new("must not be PLACE_KIND_UNSPECIFIED"))
        }
        Ok(kind) => PlaceKind::ALL
            .iter()
            .copied()
            .find(|k| kind_to_proto(*k) == kind)
            .ok_or_else(|| Invalid::new(format!("unknown place kind {value}"))),
        Err(_) => Err(Invalid::new(format!("unknown place kind {value}"))),
    }
}

pub fn state_to_proto(state: PlaceState) -> proto::PlaceState {
    match state {
        PlaceState::Proposed => proto::PlaceState::Proposed,
        PlaceState::Listed => proto::PlaceState::Listed,
        PlaceState::Suspended => proto::PlaceState::Suspended,
        PlaceState::Closed => proto::PlaceState::Closed,
    }
}

fn state_from_proto(value: i32) -> Result<PlaceState, Invalid> {
    match proto::PlaceState::try_from(value) {
        Ok(proto::PlaceState::Proposed) => Ok(PlaceState::Proposed),
        Ok(proto::PlaceState::Listed) => Ok(PlaceState::Listed),
        Ok(proto::PlaceState::Suspended) => Ok(PlaceState::Suspended),
        Ok(proto::PlaceState::Closed) => Ok(PlaceState::Closed),
        Ok(proto::PlaceState::Unspecified) => {
            Err(Invalid::new("must not be PLACE_STATE_UNSPECIFIED"))
        }
        Err(_) => Err(Invalid::new(format!("unknown place state {value}"))),
    }
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

fn place_to_proto(place: &Place, distance_km: Option<f64>) -> proto::Place {
    let d = &place.description;
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    proto::Place {
        name: place.id.name(),
        display_name: d.display_name.clone(),
        kinds: d.kinds.iter().map(|k| kind_to_proto(*k) as i32).collect(),
        description: text(&d.description),
        address: Some(proto::PostalAddress {
            street: text(&d.address.street),
            postal_code: d
                .address
                .postal_code
                .as_ref()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            locality: text(&d.address.locality),
        }),
        insee_code: d
            .insee_code
            .as_ref()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        location: Some(proto::Location {
            latitude: d.location.latitude(),
            longitude: d.location.longitude(),
        }),
        capabilities: d
            .capabilities
            .iter()
            .map(|c| c.code().to_string())
            .collect(),
        opening_hours: d
            .opening_hours
            .as_ref()
            .map(|h| h.as_str().to_string())
            .unwrap_or_default(),
        opening_spans: d
            .opening_hours
            .iter()
            .flat_map(|h| h.spans())
            .map(|span| proto::OpeningSpan {
                day: i32::from(span.day) + 1,
                opens: opening_hours::format_minutes(span.opens),
                closes: opening_hours::format_minutes(span.closes),
            })
            .collect(),
        website: d
            .website
            .as_ref()
            .map(|w| w.as_str().to_string())
            .unwrap_or_default(),
        contact_email: d
            .contact_email
            .as_ref()
            .map(|e| e.as_str().to_string())
            .unwrap_or_default(),
        phone: d
            .phone
            .as_ref()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        operator: d.operator.map(member_name).unwrap_or_default(),
        eco_labels: d.eco_labels.clone(),
        siret: d
            .siret
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        state: state_to_proto(place.state) as i32,
        state_reason: text(&place.state_reason),
        needs_review: place.needs_review,
        review_reason: text(&place.review_reason),
        possible_duplicates: place
            .possible_duplicates
            .iter()
            .map(PlaceId::name)
            .collect(),
        source: place
            .source
            .as_ref()
            .map(|(s, _)| s.clone())
            .unwrap_or_default(),
        external_id: place
            .source
            .as_ref()
            .map(|(_, e)| e.clone())
            .unwrap_or_default(),
        create_time: Some(timestamp(place.created_at)),
        update_time: Some(timestamp(place.updated_at)),
        etag: place.etag(),
        distance_km: distance_km.unwrap_or_default(),
    }
}

/// Parses each field named in `fields` (all when `None`) into `patch`; returns whether
/// all parsed.
fn parse_fields(place: &proto::Place, fields: &[&str], v: &mut Violations) -> Patch {
    let mut patch = Patch::default();
    for &field in fields {
        let path = format!("place.{field}");
        match field {
            "display_name" => {
                patch.display_name = v.check(&path, parse_display_name(&place.display_name))
            }
            "kinds" => {
                if place.kinds.is_empty() {
                    v.add(&path, "must name at least one kind");
                } else if place.kinds.len() > MAX_KINDS {
                    v.add(&path, format!("at most {MAX_KINDS}"));
                } else {
                    let mut kinds = BTreeSet::new();
                    for (i, kind) in place.kinds.iter().enumerate() {
                        if let Some(kind) = v.check(&format!("{path}[{i}]"), kind_from_proto(*kind))
                        {
                            kinds.insert(kind);
                        }
                    }
                    patch.kinds = Some(kinds);
                }
            }
            "description" => {
                patch.description = v.check(&path, parse_description(&place.description))
            }
            "address" => {
                let address = place.address.clone().unwrap_or_default();
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
                if let (Some(street), Some(postal_code), Some(locality)) =
                    (street, postal_code, locality)
                {
                    patch.address = Some(Address {
                        street,
                        postal_code,
                        locality,
                    });
                }
            }
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
                if place.capabilities.len() > MAX_CAPABILITIES {
                    v.add(&path, format!("at most {MAX_CAPABILITIES}"));
                } else {
                    let mut capabilities = BTreeSet::new();
                    for (i, code) in place.capabilities.iter().enumerate() {
                        if let Some(capability) =
                            v.check(&format!("{path}[{i}]"), Capability::parse(code))
                        {
                            capabilities.insert(capability);
                        }
                    }
                    patch.capabilities = Some(capabilities);
                }
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
            "eco_labels" => {
                if place.eco_labels.len() > MAX_ECO_LABELS {
                    v.add(&path, format!("at most {MAX_ECO_LABELS}"));
                } else {
                    let labels: Vec<_> = place
                        .eco_labels
                        .iter()
                        .enumerate()
                        .filter_map(|(i, label)| {
                            v.check(&format!("{path}[{i}]"), parse_eco_label(label))
                        })
                        .collect();
                    patch.eco_labels = Some(labels);
                }
            }
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

fn parse_new_place(place: &proto::Place) -> Result<Description, Error> {
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

fn parse_patch(
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

fn parse_list(
    request: &proto::ListPlacesRequest,
) -> Result<(crate::store::ListFilter, Option<Near>), Error> {
    let mut v = Violations::new();
    let mut filter = crate::store::ListFilter::default();
    for (i, kind) in request.kinds.iter().enumerate() {
        if let Some(kind) = v.check(&format!("kinds[{i}]"), kind_from_proto(*kind)) {
            filter.kinds.push(kind);
        }
    }
    for (i, code) in request.capabilities.iter().enumerate() {
        if let Some(capability) = v.check(&format!("capabilities[{i}]"), Capability::parse(code)) {
            filter.capabilities.push(capability);
        }
    }
    for (i, state) in request.states.iter().enumerate() {
        if let Some(state) = v.check(&format!("states[{i}]"), state_from_proto(*state)) {
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
    let query = request.query.trim();
    if query.chars().take(101).count() > 100 {
        v.add("query", "must be at most 100 characters");
    } else if !query.is_empty() {
        filter.query = Some(fold(query));
    }
    let near = match &request.near {
        None => None,
        Some(near) => {
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
    };
    v.into_result()?;
    Ok((filter, near))
}

fn parse_name(field: &str, name: &str) -> Result<PlaceId, Error> {
    PlaceId::parse_name(name).map_err(|invalid| Error::invalid(field, invalid.0))
}

// ---------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------

impl RegistryGrpc {
    async fn moderate(
        &self,
        caller: &Caller,
        name: &str,
        transition: Transition,
        reason: Option<String>,
        etag: &str,
    ) -> Result<Response<proto::Place>, Status> {
        let id = parse_name("name", name)?;
        let etag = request::etag("etag", etag)?;
        let place = self
            .registry
            .transition(caller, id, transition, reason, etag)
            .await?;
        Ok(Response::new(place_to_proto(&place, None)))
    }
}

#[tonic::async_trait]
impl RegistryService for RegistryGrpc {
    async fn get_place(
        &self,
        request: Request<proto::GetPlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let visibility = app::visibility(auth::maybe_caller(&request).as_ref());
        let id = parse_name("name", &request.get_ref().name)?;
        let place = self.registry.get(&visibility, id).await?;
        Ok(Response::new(place_to_proto(&place, None)))
    }

    async fn list_places(
        &self,
        request: Request<proto::ListPlacesRequest>,
    ) -> Result<Response<proto::ListPlacesResponse>, Status> {
        let visibility = app::visibility(auth::maybe_caller(&request).as_ref());
        let request = request.get_ref();
        let page_size = page::page_size(request.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let (filter, near) = parse_list(request)?;
        let page = self
            .registry
            .list(&visibility, filter, near, page_size, &request.page_token)
            .await?;
        Ok(Response::new(proto::ListPlacesResponse {
            places: page
                .places
                .iter()
                .map(|(distance, place)| place_to_proto(place, *distance))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn create_place(
        &self,
        request: Request<proto::CreatePlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.get_ref();
        let place = request
            .place
            .as_ref()
            .ok_or_else(|| Error::invalid("place", "is required"))?;
        let request_id = request::request_id("request_id", &request.request_id)?;
        let description = parse_new_place(place)?;
        let created = self
            .registry
            .create(&caller, description, request_id)
            .await?;
        Ok(Response::new(place_to_proto(&created, None)))
    }

    async fn update_place(
        &self,
        request: Request<proto::UpdatePlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.get_ref();
        let place = request
            .place
            .as_ref()
            .ok_or_else(|| Error::invalid("place", "is required"))?;
        let id = parse_name("place.name", &place.name)?;
        let etag = request::etag("place.etag", &place.etag)?.ok_or_else(|| {
            Error::invalid(
                "place.etag",
                "is required: send the etag of the place you read",
            )
        })?;
        let patch = parse_patch(place, request.update_mask.as_ref())?;
        let updated = self.registry.update(&caller, id, etag, patch).await?;
        Ok(Response::new(place_to_proto(&updated, None)))
    }

    async fn approve_place(
        &self,
        request: Request<proto::ApprovePlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        self.moderate(&caller, &r.name, Transition::Approve, None, &r.etag)
            .await
    }

    async fn suspend_place(
        &self,
        request: Request<proto::SuspendPlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let reason = request::reason("reason", &r.reason, true)?;
        self.moderate(&caller, &r.name, Transition::Suspend, reason, &r.etag)
            .await
    }

    async fn reinstate_place(
        &self,
        request: Request<proto::ReinstatePlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        self.moderate(&caller, &r.name, Transition::Reinstate, None, &r.etag)
            .await
    }

    async fn close_place(
        &self,
        request: Request<proto::ClosePlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let reason = request::reason("reason", &r.reason, false)?;
        self.moderate(&caller, &r.name, Transition::Close, reason, &r.etag)
            .await
    }

    async fn mark_place_reviewed(
        &self,
        request: Request<proto::MarkPlaceReviewedRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name)?;
        let etag = request::etag("etag", &r.etag)?;
        let place = self.registry.mark_reviewed(&caller, id, etag).await?;
        Ok(Response::new(place_to_proto(&place, None)))
    }

    async fn import_places(
        &self,
        request: Request<proto::ImportPlacesRequest>,
    ) -> Result<Response<proto::ImportPlacesResponse>, Status> {
        let caller = auth::caller(&request)?;
        caller.require_admin("import places")?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let source = v.check("source", fabrique_types::bounded_text(&r.source, 1, 100));
        let operator = v.check("operator", optional(&r.operator, parse_member_name));
        let rows = v.check("csv", import::parse_csv(&r.csv));
        v.into_result()?;
        let (Some(source), Some(operator), Some(rows)) = (source, operator, rows) else {
            return Err(
                Error::internal("import request parsed without violations but incomplete").into(),
            );
        };
        let report = self
            .registry
            .import(&caller, &source, rows, operator, |_, _| {})
            .await?;
        Ok(Response::new(proto::ImportPlacesResponse {
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
        }))
    }

    async fn list_capabilities(
        &self,
        _request: Request<proto::ListCapabilitiesRequest>,
    ) -> Result<Response<proto::ListCapabilitiesResponse>, Status> {
        Ok(Response::new(proto::ListCapabilitiesResponse {
            capabilities: capability::VOCABULARY
                .iter()
                .map(|(code, label)| proto::Capability {
                    code: code.to_string(),
                    label: label.to_string(),
                })
                .collect(),
        }))
    }
}
