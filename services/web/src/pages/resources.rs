//! "Ressources partagées": what allies lend and give, with a search (text, kind, near a
//! listed place or a commune), and a resource's page — who offers it, where, on what conditions and
//! booking rules, and for a bookable one its free slots of the coming weeks as a
//! calendar. Reads the sharing service's public calls (`ListResources`, `GetResource`,
//! `GetAvailability`: AVAILABLE resources, free time only), the registry's places and
//! the public directory's names, all without a token.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::Utc;
use fabrique_api::sharing::{self as sp, CostMode, QuantityUnit, ResourceKind};
use serde::Deserialize;

use super::booking::{self, Booking, BookingFields, Proposal};
use super::calendar::{self, Week};
use super::claims::{self, ClaimFields, Claiming};
use super::common::{self, Link, id_of, item_status, member_link, member_names, paragraphs};
use super::forms::Problems;
use super::history::{self, Owner};
use super::nearby::{self, Around, NearbyPlace, RADII_KM};
use crate::pages::{enum_code, enum_of_code, enum_values};
use crate::texts::Texts;
use crate::{Web, fr};
use axum::http::StatusCode;

/// Resources per page of the list.
const PAGE_SIZE: i32 = 30;
/// How many days of free slots a resource's page shows.
const CALENDAR_DAYS: u32 = 28;

/// The list's filters as the form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    /// Text searched in titles and descriptions.
    #[serde(default)]
    q: String,
    /// A resource kind, as [`enum_code`] writes it (`equipment`).
    #[serde(default, rename = "type")]
    kind: String,
    /// The id of a listed place to search around.
    #[serde(default)]
    lieu: String,
    /// Or a commune to search around, by name or INSEE code.
    #[serde(default)]
    commune: String,
    /// The radius around it, in km.
    #[serde(default)]
    rayon: String,
    /// The API's page token of the next page.
    #[serde(default)]
    page: String,
}

/// One option of a filter's `<select>`.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// A resource in a list.
pub struct ResourceCard {
    href: String,
    title: String,
    kind: &'static str,
    owner: String,
    terms: String,
    distance: String,
}

#[derive(Template)]
#[template(path = "resources.html")]
struct ResourcesPage {
    t: &'static Texts,
    title: &'static str,
    query: String,
    kinds: Vec<Choice>,
    places: Vec<Choice>,
    commune: String,
    /// The communes of the listed places, offered as the field's suggestions.
    communes: Vec<String>,
    /// What the "near" filter did: the commune and radius searched around, or why a
    /// commune could not be.
    near_note: String,
    radii: Vec<Choice>,
    resources: Vec<ResourceCard>,
    count: String,
    next: Option<String>,
    paged: bool,
}

/// What a resource costs, in one line: free, or the price per day.
fn terms(t: &Texts, resource: &sp::Resource) -> String {
    let conditions = resource.conditions.unwrap_or_default();
    match CostMode::try_from(conditions.mode) {
        Ok(CostMode::CostShared) => t.sharing.price_per_day(conditions.price_cents_per_day),
        _ => t.sharing.free_of_charge.to_string(),
    }
}

/// A resource as a card of a list, its owner named from `names`.
pub fn card(t: &Texts, resource: &sp::Resource, names: &BTreeMap<String, String>) -> ResourceCard {
    ResourceCard {
        href: format!("/ressources/{}", id_of(&resource.name, "resources")),
        title: resource.title.clone(),
        kind: t
            .sharing
            .resource_kind(ResourceKind::try_from(resource.kind).unwrap_or_default()),
        owner: names.get(&resource.owner).cloned().unwrap_or_default(),
        terms: terms(t, resource),
        distance: if resource.distance_km > 0.0 {
            fr::distance_km(resource.distance_km)
        } else {
            String::new()
        },
    }
}

/// What the list's filters ask the API for.
struct Search {
    kind: Option<ResourceKind>,
    around: Around,
}

/// `GET /ressources`.
pub async fn list(State(web): State<Arc<Web>>, Query(filters): Query<Filters>) -> Response {
    let t = web.texts;
    let places = match nearby::listed_places(&web).await {
        Ok(places) => places,
        Err(status) => return super::from_status(t, &status),
    };
    let around = nearby::around(
        &web,
        (&filters.lieu, &filters.commune, &filters.rayon),
        &places,
    );
    let search = match around.await {
        Ok(around) => Search {
            kind: enum_of_code::<ResourceKind>(&filters.kind),
            around,
        },
        Err(status) => return super::from_status(t, &status),
    };
    let request = sp::ListResourcesRequest {
        page_size: PAGE_SIZE,
        page_token: filters.page.clone(),
        kinds: search.kind.map(|k| k as i32).into_iter().collect(),
        query: filters.q.trim().to_string(),
        near: search.around.near,
        ..Default::default()
    };
    let response = match web.api.sharing().list_resources(request).await {
        Ok(response) => response.into_inner(),
        Err(status) => return super::from_status(t, &status),
    };
    let owners: Vec<String> = response.resources.iter().map(|r| r.owner.clone()).collect();
    let names = match member_names(&web, owners).await {
        Ok(names) => names,
        Err(status) => return super::from_status(t, &status),
    };
    let resources = response
        .resources
        .iter()
        .map(|r| card(t, r, &names))
        .collect();
    let rayon = search.around.radius.to_string();
    let next = (!response.next_page_token.is_empty()).then(|| {
        super::href(
            "/ressources",
            &[
                ("q", filters.q.as_str()),
                ("type", filters.kind.as_str()),
                ("lieu", filters.lieu.as_str()),
                ("commune", filters.commune.as_str()),
                ("rayon", rayon.as_str()),
                ("page", response.next_page_token.as_str()),
            ],
        )
    });
    super::render(&resources_page(
        t, &filters, &search, places, resources, next,
    ))
}

/// The list's page: the form as the visitor filled it, and the resources found.
fn resources_page(
    t: &'static Texts,
    filters: &Filters,
    search: &Search,
    places: Vec<NearbyPlace>,
    resources: Vec<ResourceCard>,
    next: Option<String>,
) -> ResourcesPage {
    ResourcesPage {
        t,
        title: t.sharing.resources_title,
        query: filters.q.clone(),
        kinds: enum_values::<ResourceKind>()
            .map(|k| Choice {
                value: enum_code(k),
                label: t.sharing.resource_kind(k).to_string(),
                selected: Some(k) == search.kind,
            })
            .collect(),
        communes: nearby::communes(&places),
        commune: filters.commune.trim().to_string(),
        near_note: search.around.note.clone(),
        places: places
            .into_iter()
            .map(|p| Choice {
                selected: p.id == filters.lieu,
                value: p.id,
                label: p.label,
            })
            .collect(),
        radii: RADII_KM
            .into_iter()
            .map(|km| Choice {
                value: km.to_string(),
                label: t.sharing.within_km(f64::from(km)),
                selected: km == search.around.radius,
            })
            .collect(),
        count: t.sharing.resources_count(resources.len()),
        resources,
        next,
        paged: !filters.page.is_empty(),
    }
}

#[derive(Template)]
#[template(path = "resource.html")]
struct ResourcePage {
    t: &'static Texts,
    title: String,
    kind: &'static str,
    description: Vec<String>,
    owner: Option<Link>,
    place: Option<Link>,
    terms: String,
    deposit: String,
    stock: String,
    eco_labels: Vec<String>,
    /// `Some` for a bookable resource: its rules (empty when it sets none).
    rules: Option<Vec<String>>,
    calendar: Vec<Week>,
    /// How to book it, when it is booked by time slot.
    booking: Option<Booking>,
    /// How to claim it, when it is a material.
    claiming: Option<Claiming>,
    /// Its audit, for an admin.
    history: Option<Vec<super::history::Row>>,
}

/// Whether a resource of `kind` is booked by time slot.
pub(super) fn bookable(kind: ResourceKind) -> bool {
    matches!(
        kind,
        ResourceKind::Equipment
            | ResourceKind::Space
            | ResourceKind::Vehicle
            | ResourceKind::Expertise
    )
}

/// `GET /ressources/{id}`: the resource, then its owner's name, its place and its free
/// slots at once; for a signed-in person, the booking or claim form (the booking one
/// filled from the query when a proposed slot's link led here).
pub async fn show(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    Query(fields): Query<BookingFields>,
) -> Response {
    // Only the slot comes from a link; the request id and the secret come from a form.
    let booking = BookingFields {
        csrf: String::new(),
        demande: String::new(),
        ..fields
    };
    let typed = Typed {
        booking,
        ..Default::default()
    };
    page(&web, &id, &headers, typed).await
}

/// What a person typed in a resource's page's forms, what the API refused of it, and
/// after a slot was refused the nearest free ones.
#[derive(Default)]
pub(super) struct Typed {
    pub(super) booking: BookingFields,
    pub(super) claim: ClaimFields,
    pub(super) problems: Problems,
    pub(super) proposals: Option<Vec<Proposal>>,
}

/// A resource's page, its booking or claim form filled as `typed` says: 409 or 422
/// when a submission was refused, never cached when it shows a form of a session.
pub(super) async fn page(
    web: &Arc<Web>,
    id: &str,
    headers: &axum::http::HeaderMap,
    typed: Typed,
) -> Response {
    let t = web.texts;
    let resource = match web
        .api
        .sharing()
        .get_resource(sp::GetResourceRequest {
            name: format!("resources/{id}"),
        })
        .await
    {
        Ok(resource) => resource.into_inner(),
        Err(status) => return super::from_status(t, &item_status(status)),
    };
    let kind = ResourceKind::try_from(resource.kind).unwrap_or_default();
    let days = match resource.booking_rules.map(|r| r.max_advance_days) {
        Some(advance) if advance > 0 => CALENDAR_DAYS.min(advance as u32 + 1),
        _ => CALENDAR_DAYS,
    };
    let looked_up = tokio::try_join!(
        member_names(web, vec![resource.owner.clone()]),
        common::place_link(web, &resource.place),
        free_weeks(web, &resource.name, bookable(kind), days),
    );
    let (names, place, calendar) = match looked_up {
        Ok(found) => found,
        Err(status) => return super::from_status(t, &status),
    };
    let status = typed.problems.status();
    let (booking, claiming) = forms_of(web, headers, &resource, typed);
    let name = resource.name.clone();
    let mut page = resource_page(t, resource, &names, place, calendar);
    let of_a_session = matches!(booking, Some(Booking::Form(_) | Booking::Own))
        || matches!(claiming, Some(Claiming::Form(_) | Claiming::Own));
    page.booking = booking;
    page.claiming = claiming;
    page.history = history::for_admin(web, headers, Owner::Sharing, &name).await;
    if of_a_session || page.history.is_some() || status != StatusCode::OK {
        super::forms::private(status, &page)
    } else {
        super::render(&page)
    }
}

/// The form a resource's page offers the person behind `headers`, as `typed` fills it:
/// a booking one for what is booked by slot, a claim one for a material.
fn forms_of(
    web: &Web,
    headers: &axum::http::HeaderMap,
    resource: &sp::Resource,
    typed: Typed,
) -> (Option<Booking>, Option<Claiming>) {
    let kind = ResourceKind::try_from(resource.kind).unwrap_or_default();
    if bookable(kind) {
        let booking = booking::booking(
            web,
            headers,
            resource,
            typed.booking,
            typed.problems,
            typed.proposals,
        );
        (Some(booking), None)
    } else if kind == ResourceKind::Material && resource.quantity.is_some() {
        let claiming = claims::claiming(web, headers, resource, typed.claim, typed.problems);
        (None, Some(claiming))
    } else {
        (None, None)
    }
}

/// The free slots of the coming `days` as weeks, when `bookable`.
async fn free_weeks(
    web: &Web,
    name: &str,
    bookable: bool,
    days: u32,
) -> Result<Vec<Week>, tonic::Status> {
    if !bookable {
        return Ok(Vec::new());
    }
    let (today, start, end) = calendar::window(Utc::now(), days);
    let timestamp = |at: chrono::DateTime<Utc>| prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    };
    let free = web
        .api
        .sharing()
        .get_availability(sp::GetAvailabilityRequest {
            name: name.to_string(),
            start_time: Some(timestamp(start)),
            end_time: Some(timestamp(end)),
        })
        .await?
        .into_inner()
        .free;
    let free: Vec<_> = free
        .iter()
        .filter_map(|i| {
            Some((
                common::instant(&i.start_time)?,
                common::instant(&i.end_time)?,
            ))
        })
        .collect();
    Ok(calendar::weeks(web.texts.sharing, &free, today, days))
}

fn resource_page(
    t: &'static Texts,
    resource: sp::Resource,
    names: &BTreeMap<String, String>,
    place: Option<Link>,
    calendar: Vec<Week>,
) -> ResourcePage {
    let kind = ResourceKind::try_from(resource.kind).unwrap_or_default();
    let deposit = resource.conditions.map(|c| c.deposit_cents).unwrap_or(0);
    let stock = match (resource.remaining, resource.quantity) {
        (Some(remaining), Some(offered)) if kind == ResourceKind::Material => {
            let unit = |q: &sp::Quantity| QuantityUnit::try_from(q.unit).unwrap_or_default();
            t.sharing.remaining(
                &t.sharing.quantity_of(remaining.amount, unit(&remaining)),
                &t.sharing.quantity_of(offered.amount, unit(&offered)),
            )
        }
        _ => String::new(),
    };
    let rules = bookable(kind).then(|| {
        let r = resource.booking_rules.unwrap_or_default();
        let mut rules = Vec::new();
        if r.turnaround_minutes > 0 {
            rules.push(t.sharing.turnaround(r.turnaround_minutes));
        }
        if r.max_duration_hours > 0 {
            rules.push(t.sharing.max_duration(r.max_duration_hours));
        }
        if r.max_advance_days > 0 {
            rules.push(t.sharing.max_advance(r.max_advance_days));
        }
        rules
    });
    ResourcePage {
        t,
        kind: t.sharing.resource_kind(kind),
        description: paragraphs(&resource.description),
        owner: member_link(names, &resource.owner),
        place,
        terms: terms(t, &resource),
        deposit: if deposit > 0 {
            fr::euros(deposit)
        } else {
            String::new()
        },
        stock,
        eco_labels: resource.eco_labels,
        rules,
        calendar,
        title: resource.title,
        booking: None,
        claiming: None,
        history: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_kinds_travel_in_urls_by_a_short_name() {
        for kind in enum_values::<ResourceKind>() {
            assert_eq!(enum_of_code::<ResourceKind>(&enum_code(kind)), Some(kind));
        }
        assert_eq!(enum_code(ResourceKind::Equipment), "equipment");
        assert!(bookable(ResourceKind::Vehicle) && !bookable(ResourceKind::Material));
    }
}
