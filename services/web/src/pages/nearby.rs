//! The "near" filter of the shared resources: the listed places it offers, and a
//! place or a commune (by name or INSEE code, located at the centre of its listed
//! places: the platform keeps no map of the communes) turned into the point and radius
//! the sharing service searches around.

use fabrique_api::registry as rp;
use fabrique_api::sharing as sp;

use super::common::id_of;
use crate::Web;

/// Places offered by the "near" filter: the first listed ones, by name.
const PLACES_READ: i32 = 500;
/// The radii the "near" filter offers, in km; the first is the default.
pub(super) const RADII_KM: [u32; 4] = [20, 5, 10, 50];

/// A listed place the "near" filter offers.
pub(super) struct NearbyPlace {
    pub(super) id: String,
    /// `name (locality)`.
    pub(super) label: String,
    pub(super) locality: String,
    pub(super) location: rp::Location,
}

/// The listed places, by name, for the "near" filter.
pub(super) async fn listed_places(web: &Web) -> Result<Vec<NearbyPlace>, tonic::Status> {
    let places = web
        .api
        .registry()
        .list_places(rp::ListPlacesRequest {
            page_size: PLACES_READ,
            ..Default::default()
        })
        .await?
        .into_inner()
        .places;
    let mut found: Vec<_> = places
        .into_iter()
        .filter_map(|p| {
            let location = p.location?;
            let locality = p.address.map(|a| a.locality).unwrap_or_default();
            let label = if locality.is_empty() {
                p.display_name
            } else {
                format!("{} ({locality})", p.display_name)
            };
            Some(NearbyPlace {
                id: id_of(&p.name, "places").to_string(),
                label,
                locality,
                location,
            })
        })
        .collect();
    found.sort_by_key(|p| p.label.to_lowercase());
    Ok(found)
}

/// What the "near" filter asks the API for.
pub(super) struct Around {
    /// The radius chosen (or the default one), in km.
    pub(super) radius: u32,
    /// Around the chosen place, when it is one of the listed places, or else around the
    /// chosen commune, when it has listed places.
    pub(super) near: Option<sp::Near>,
    /// What the page says of the filter.
    pub(super) note: String,
}

/// Where a commune is, for the "near" filter: the centre of the listed places in it
/// (the platform keeps no map of the communes; an ally searching around its commune
/// has places there), and its name as they spell it. `None` when the commune has no
/// listed place. A commune is given by its INSEE code or its name, case and accents
/// aside.
async fn commune_centre(
    web: &Web,
    commune: &str,
) -> Result<Option<(String, rp::Location)>, tonic::Status> {
    let code = fabrique_types::InseeCode::parse(commune).ok();
    let wanted = fabrique_types::fold(commune.trim());
    let request = match &code {
        Some(code) => rp::ListPlacesRequest {
            insee_code: code.as_str().to_string(),
            page_size: PLACES_READ,
            ..Default::default()
        },
        None => rp::ListPlacesRequest {
            query: commune.trim().to_string(),
            page_size: PLACES_READ,
            ..Default::default()
        },
    };
    let places = web
        .api
        .registry()
        .list_places(request)
        .await?
        .into_inner()
        .places;
    let mut name = None;
    let (mut latitude, mut longitude, mut count) = (0.0, 0.0, 0.0);
    for place in places {
        let locality = place.address.map(|a| a.locality).unwrap_or_default();
        // The text search also finds the name or description: only the commune counts.
        let inside = code.is_some() || fabrique_types::fold(&locality) == wanted;
        if let (true, Some(location)) = (inside, place.location) {
            latitude += location.latitude;
            longitude += location.longitude;
            count += 1.0;
            if name.is_none() && !locality.is_empty() {
                name = Some(locality);
            }
        }
    }
    Ok((count > 0.0).then(|| {
        (
            name.unwrap_or_else(|| commune.trim().to_string()),
            rp::Location {
                latitude: latitude / count,
                longitude: longitude / count,
            },
        )
    }))
}

/// The "near" filter as the form sent it — a listed place's id, or else a commune,
/// and a radius in km — read against the listed `places`.
pub(super) async fn around(
    web: &Web,
    (place, commune, radius): (&str, &str, &str),
    places: &[NearbyPlace],
) -> Result<Around, tonic::Status> {
    let t = web.texts;
    let radius = RADII_KM
        .into_iter()
        .find(|km| km.to_string() == radius)
        .unwrap_or(RADII_KM[0]);
    let near = |location: &rp::Location| sp::Near {
        location: Some(sp::Location {
            latitude: location.latitude,
            longitude: location.longitude,
        }),
        radius_km: f64::from(radius),
    };
    let mut around = Around {
        radius,
        near: places
            .iter()
            .find(|p| p.id == place)
            .map(|p| near(&p.location)),
        note: String::new(),
    };
    let commune = commune.trim();
    if around.near.is_none() && !commune.is_empty() {
        match commune_centre(web, commune).await? {
            Some((name, centre)) => {
                around.near = Some(near(&centre));
                around.note = t.sharing.around_commune(&name, f64::from(radius));
            }
            None => around.note = t.sharing.unknown_commune(commune),
        }
    }
    Ok(around)
}

/// The communes of `places`, once each, sorted.
pub(super) fn communes(places: &[NearbyPlace]) -> Vec<String> {
    let mut communes: Vec<String> = places
        .iter()
        .filter(|p| !p.locality.is_empty())
        .map(|p| p.locality.clone())
        .collect();
    communes.sort_by_key(|c| fabrique_types::fold(c));
    communes.dedup();
    communes
}
