//! "Lieux de la transition": the list of LISTED places with its filters (kind,
//! capability, département, text), and a place's page (kinds, capabilities, address,
//! opening hours as a week table with "ouvert en ce moment", contact, places nearby).
//! Both read the registry's public calls (`ListPlaces`, `GetPlace`,
//! `ListCapabilities`) without a token, as any visitor may.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{Datelike, Utc};
use fabrique_api::registry::{self as rp, DayOfWeek, PlaceKind};
use serde::Deserialize;

use super::common::Choice;
use super::history::{self, Owner};
use crate::pages::{enum_code, enum_of_code, enum_values};
use crate::texts::Texts;
use crate::{Web, fr};

/// Places per page of the list.
const PAGE_SIZE: i32 = 30;
/// How far "nearby" reaches, in km.
const NEARBY_KM: f64 = 20.0;
/// How many places nearby a place's page shows.
const NEARBY_COUNT: usize = 6;

/// The list's filters as the form sends them (French parameter names, shown in URLs).
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    /// Text searched in names, descriptions and localities.
    #[serde(default)]
    q: String,
    /// A kind, as [`kind_code`] writes it (`fablab`).
    #[serde(default, rename = "type")]
    kind: String,
    /// A capability code (`laser_cutting`).
    #[serde(default)]
    equipement: String,
    /// An INSEE département code.
    #[serde(default)]
    departement: String,
    /// The API's page token of the next page.
    #[serde(default)]
    page: String,
}

/// A place in a list.
struct PlaceCard {
    href: String,
    name: String,
    kinds: String,
    locality: String,
    distance: String,
}

#[derive(Template)]
#[template(path = "places.html")]
struct PlacesPage {
    t: &'static Texts,
    title: &'static str,
    query: String,
    department: String,
    kinds: Vec<Choice>,
    capabilities: Vec<Choice>,
    places: Vec<PlaceCard>,
    count: String,
    next: Option<String>,
    paged: bool,
    map: MapView,
}

/// What the map's script needs, as the `data-` attributes of its element.
struct MapView {
    /// The tiles' URL template.
    tiles: String,
    /// The tiles' attribution as HTML (a link), its parts escaped here.
    attribution: String,
    /// The filters to send with each request, `q=…&type=…`.
    query: String,
}

/// `GET /lieux`.
pub async fn list(State(web): State<Arc<Web>>, Query(filters): Query<Filters>) -> Response {
    let t = web.texts;
    let mut registry = web.api.registry();
    let labels = match capability_labels(&web).await {
        Ok(labels) => labels,
        Err(status) => return super::from_status(t, &status),
    };
    let kind = enum_of_code::<PlaceKind>(&filters.kind);
    let request = rp::ListPlacesRequest {
        page_size: PAGE_SIZE,
        page_token: filters.page.clone(),
        kinds: kind.map(|k| k as i32).into_iter().collect(),
        capabilities: Some(filters.equipement.clone())
            .filter(|c| labels.contains_key(c))
            .into_iter()
            .collect(),
        insee_department: filters.departement.trim().to_uppercase(),
        query: filters.q.trim().to_string(),
        ..Default::default()
    };
    let response = match registry.list_places(request).await {
        Ok(response) => response.into_inner(),
        Err(status) => return super::from_status(t, &status),
    };
    let places: Vec<PlaceCard> = response.places.iter().map(|p| card(t, p)).collect();
    let next = (!response.next_page_token.is_empty())
        .then(|| next_page_href(&filters, &response.next_page_token));
    let kinds = enum_values::<PlaceKind>()
        .map(|k| Choice {
            value: enum_code(k),
            label: t.place_kind(k).to_string(),
            selected: Some(k) == kind,
        })
        .collect();
    let capabilities = labels
        .iter()
        .map(|(code, label)| Choice {
            value: code.clone(),
            label: label.clone(),
            selected: *code == filters.equipement,
        })
        .collect();
    super::render(&PlacesPage {
        t,
        title: t.places_title,
        query: filters.q.clone(),
        department: filters.departement.clone(),
        kinds,
        capabilities,
        count: t.places_count(places.len()),
        places,
        next,
        paged: !filters.page.is_empty(),
        map: map_view(&web, &filters),
    })
}

/// The map's settings for the page: the tiles, their credit, the filters.
fn map_view(web: &Web, filters: &Filters) -> MapView {
    MapView {
        tiles: web.tiles.url.clone(),
        attribution: format!(
            "<a href=\"{}\">{}</a>",
            escape_html(&web.tiles.attribution_url),
            escape_html(&web.tiles.attribution)
        ),
        query: super::href("", &filter_pairs(filters))
            .trim_start_matches('?')
            .to_string(),
    }
}

/// `text` safe inside HTML text and quoted attributes.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The list's filters as URL pairs (without the page).
fn filter_pairs(filters: &Filters) -> [(&'static str, &str); 4] {
    [
        ("q", filters.q.as_str()),
        ("type", filters.kind.as_str()),
        ("equipement", filters.equipement.as_str()),
        ("departement", filters.departement.as_str()),
    ]
}

/// The capability vocabulary: code → French label, in the labels' order.
async fn capability_labels(web: &Web) -> Result<BTreeMap<String, String>, tonic::Status> {
    let capabilities = web
        .api
        .registry()
        .list_capabilities(rp::ListCapabilitiesRequest {})
        .await?
        .into_inner()
        .capabilities;
    Ok(capabilities
        .into_iter()
        .map(|c| (c.code, c.label))
        .collect())
}

/// The same filters, from the page after `token`.
fn next_page_href(filters: &Filters, token: &str) -> String {
    let mut pairs = filter_pairs(filters).to_vec();
    pairs.push(("page", token));
    super::href("/lieux", &pairs)
}

/// The id part of `places/{id}`.
fn place_id(name: &str) -> &str {
    name.strip_prefix("places/").unwrap_or(name)
}

/// A place's kinds in French, `FabLab, Ressourcerie`.
pub fn kinds_text(t: &Texts, kinds: &[i32]) -> String {
    kinds
        .iter()
        .filter_map(|k| PlaceKind::try_from(*k).ok())
        .map(|k| t.place_kind(k))
        .collect::<Vec<_>>()
        .join(", ")
}

fn card(t: &Texts, place: &rp::Place) -> PlaceCard {
    let address = place.address.clone().unwrap_or_default();
    PlaceCard {
        href: format!("/lieux/{}", place_id(&place.name)),
        name: place.display_name.clone(),
        kinds: kinds_text(t, &place.kinds),
        locality: [address.postal_code, address.locality]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        distance: if place.distance_km > 0.0 {
            fr::distance_km(place.distance_km)
        } else {
            String::new()
        },
    }
}

/// A day of the hours table.
struct HoursRow {
    day: &'static str,
    hours: String,
    today: bool,
}

/// A link shown on a place's page.
struct Link {
    href: String,
    text: String,
}

#[derive(Template)]
#[template(path = "place.html")]
struct PlacePage {
    t: &'static Texts,
    title: String,
    kinds: String,
    description: Vec<String>,
    address: Vec<String>,
    capabilities: Vec<String>,
    hours: Vec<HoursRow>,
    open_now: Option<bool>,
    website: Option<Link>,
    email: Option<Link>,
    phone: Option<Link>,
    eco_labels: Vec<String>,
    nearby: Vec<PlaceCard>,
    resources: Vec<ResourceLink>,
    /// Its audit, for an admin.
    history: Option<Vec<super::history::Row>>,
}

/// A resource offered at the place.
struct ResourceLink {
    href: String,
    title: String,
}

/// `GET /lieux/{id}`: the place, then the capabilities' labels and the places nearby
/// at once.
pub async fn show(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let t = web.texts;
    let place = match web
        .api
        .registry()
        .get_place(rp::GetPlaceRequest {
            name: format!("places/{id}"),
        })
        .await
    {
        Ok(place) => place.into_inner(),
        // A malformed id is a page that does not exist, not a bad request.
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            return super::from_status(t, &tonic::Status::not_found(status.message()));
        }
        Err(status) => return super::from_status(t, &status),
    };
    match tokio::try_join!(
        capability_labels(&web),
        nearby(&web, &place),
        resources_here(&web, &place.name)
    ) {
        Ok((labels, nearby, resources)) => {
            let name = place.name.clone();
            let mut page = place_page(t, place, &labels, nearby);
            page.resources = resources;
            page.history = history::for_admin(&web, &headers, Owner::Registry, &name).await;
            history::private_if(page.history.is_some(), super::render(&page))
        }
        Err(status) => super::from_status(t, &status),
    }
}

/// The resources offered at `place` (`places/{id}`), as the public sees them. The
/// place's page is the registry's: without the sharing service it shows no resources
/// rather than no page.
async fn resources_here(web: &Web, place: &str) -> Result<Vec<ResourceLink>, tonic::Status> {
    let request = fabrique_api::sharing::ListResourcesRequest {
        page_size: 50,
        place: place.to_string(),
        ..Default::default()
    };
    let resources = match web.api.sharing().list_resources(request).await {
        Ok(found) => found.into_inner().resources,
        Err(status) => {
            tracing::warn!(code = ?status.code(), message = status.message(), "a place's resources could not be read");
            Vec::new()
        }
    };
    Ok(resources
        .into_iter()
        .map(|r| ResourceLink {
            href: format!("/ressources/{}", r.name.trim_start_matches("resources/")),
            title: r.title,
        })
        .collect())
}

/// What a place's page shows, in French.
fn place_page(
    t: &'static Texts,
    place: rp::Place,
    labels: &BTreeMap<String, String>,
    nearby: Vec<PlaceCard>,
) -> PlacePage {
    let address = place.address.clone().unwrap_or_default();
    let (hours, open_now) = hours(t, &place.opening_spans, place.opening_hours.is_empty());
    let locality = [address.postal_code, address.locality]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    PlacePage {
        t,
        kinds: kinds_text(t, &place.kinds),
        description: place
            .description
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        address: [address.street, locality]
            .into_iter()
            .filter(|line| !line.is_empty())
            .collect(),
        capabilities: place
            .capabilities
            .iter()
            .map(|code| labels.get(code).cloned().unwrap_or_else(|| code.clone()))
            .collect(),
        hours,
        open_now,
        website: web_link(&place.website),
        email: (!place.contact_email.is_empty()).then(|| Link {
            href: format!("mailto:{}", place.contact_email),
            text: place.contact_email.clone(),
        }),
        phone: (!place.phone.is_empty()).then(|| Link {
            href: format!("tel:{}", place.phone.replace(' ', "")),
            text: place.phone.clone(),
        }),
        eco_labels: place.eco_labels,
        nearby,
        resources: Vec::new(),
        history: None,
        title: place.display_name,
    }
}

/// Only http(s) links become links: the API checks it, the site does not rely on it.
fn web_link(url: &str) -> Option<Link> {
    (url.starts_with("https://") || url.starts_with("http://")).then(|| Link {
        href: url.to_string(),
        text: url
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string(),
    })
}

/// The listed places within [`NEARBY_KM`] of `place`, nearest first, itself left out.
async fn nearby(web: &Web, place: &rp::Place) -> Result<Vec<PlaceCard>, tonic::Status> {
    let Some(location) = place.location else {
        return Ok(Vec::new());
    };
    let response = web
        .api
        .registry()
        .list_places(rp::ListPlacesRequest {
            page_size: (NEARBY_COUNT + 1) as i32,
            near: Some(rp::Near {
                location: Some(location),
                radius_km: NEARBY_KM,
            }),
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(response
        .places
        .iter()
        .filter(|p| p.name != place.name)
        .take(NEARBY_COUNT)
        .map(|p| card(web.texts, p))
        .collect())
}

/// The week's table (Monday first) and whether the place is open at this minute in
/// Paris; `None` when its hours are unknown.
fn hours(t: &Texts, spans: &[rp::OpeningSpan], unknown: bool) -> (Vec<HoursRow>, Option<bool>) {
    hours_at(t, spans, unknown, fr::in_paris(Utc::now()))
}

fn hours_at(
    t: &Texts,
    spans: &[rp::OpeningSpan],
    unknown: bool,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> (Vec<HoursRow>, Option<bool>) {
    if unknown {
        return (Vec::new(), None);
    }
    let today = now.weekday().number_from_monday() as i32;
    let clock = now.format("%H:%M").to_string();
    let rows = (1..=7)
        .map(|day| {
            let opened: Vec<String> = spans
                .iter()
                .filter(|s| s.day == day)
                .map(|s| {
                    format!(
                        "{} – {}",
                        s.opens.replace(':', " h "),
                        s.closes.replace(':', " h ")
                    )
                })
                .collect();
            HoursRow {
                day: t.day_name(DayOfWeek::try_from(day).unwrap_or(DayOfWeek::Unspecified)),
                hours: if opened.is_empty() {
                    t.closed_day.to_string()
                } else {
                    opened.join(", ")
                },
                today: day == today,
            }
        })
        .collect();
    // "HH:MM" strings compare as times; a span may close at "24:00".
    let open = spans.iter().any(|s| {
        s.day == today && s.opens.as_str() <= clock.as_str() && clock.as_str() < s.closes.as_str()
    });
    (rows, Some(open))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::texts::FR;

    fn span(day: DayOfWeek, opens: &str, closes: &str) -> rp::OpeningSpan {
        rp::OpeningSpan {
            day: day as i32,
            opens: opens.into(),
            closes: closes.into(),
        }
    }

    #[test]
    fn the_week_table_says_when_and_whether_it_is_open_now() {
        let spans = [
            span(DayOfWeek::Monday, "09:00", "12:00"),
            span(DayOfWeek::Monday, "14:00", "18:00"),
            span(DayOfWeek::Saturday, "10:00", "24:00"),
        ];
        // Monday 7 December 2026, 11:30 in Paris.
        let monday = chrono::DateTime::parse_from_rfc3339("2026-12-07T11:30:00+01:00").unwrap();
        let (rows, open) = hours_at(&FR, &spans, false, monday);
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[0].day, "Lundi");
        assert_eq!(rows[0].hours, "09 h 00 – 12 h 00, 14 h 00 – 18 h 00");
        assert!(rows[0].today);
        assert_eq!(rows[1].hours, "fermé");
        assert_eq!(rows[5].hours, "10 h 00 – 24 h 00");
        assert_eq!(open, Some(true));
        let lunch = chrono::DateTime::parse_from_rfc3339("2026-12-07T12:00:00+01:00").unwrap();
        assert_eq!(hours_at(&FR, &spans, false, lunch).1, Some(false));
        let saturday_night =
            chrono::DateTime::parse_from_rfc3339("2026-12-12T23:59:00+01:00").unwrap();
        assert_eq!(hours_at(&FR, &spans, false, saturday_night).1, Some(true));
        assert_eq!(hours_at(&FR, &[], true, monday).1, None);
    }

    #[test]
    fn kinds_travel_in_urls_by_a_short_name() {
        for kind in enum_values::<PlaceKind>() {
            assert_eq!(enum_of_code::<PlaceKind>(&enum_code(kind)), Some(kind));
        }
        assert_eq!(enum_code(PlaceKind::RepairWorkshop), "repair_workshop");
        assert_eq!(enum_of_code::<PlaceKind>("unspecified"), None);
        assert_eq!(enum_of_code::<PlaceKind>("<script>"), None);
    }

    #[test]
    fn the_next_page_keeps_the_filters() {
        let filters = Filters {
            q: "découpe laser".into(),
            kind: "fablab".into(),
            ..Default::default()
        };
        assert_eq!(
            next_page_href(&filters, "abc+/="),
            "/lieux?q=d%C3%A9coupe%20laser&type=fablab&page=abc%2B%2F%3D"
        );
    }
}
