//! The places' map: the data the map's script asks for as it moves (`GET
//! /lieux/carte.json`), the clusters of LISTED places in view from the registry's
//! `ListPlaceClusters`, with the list's filters. The map itself is drawn in the
//! browser by Leaflet (`assets/carte.js`); the list under it is the same places without
//! JavaScript.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fabrique_api::registry::{self as rp, PlaceKind};
use serde::{Deserialize, Serialize};

use crate::Web;
use crate::pages::enum_of_code;
use crate::texts::Texts;

/// The map's view and the list's filters (French names, as in the list's URLs).
#[derive(Debug, Deserialize)]
pub struct ViewQuery {
    sud: f64,
    ouest: f64,
    nord: f64,
    est: f64,
    zoom: i32,
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    equipement: String,
    #[serde(default)]
    departement: String,
}

/// What the script draws.
#[derive(Debug, Serialize)]
struct MapData {
    /// Places in view, all clusters together.
    count: i32,
    clusters: Vec<MapCluster>,
}

/// A marker: a place (`href`, `name`, `kinds`) or a count of places to zoom into.
#[derive(Debug, Serialize)]
struct MapCluster {
    latitude: f64,
    longitude: f64,
    count: i32,
    /// The place's page when the cluster is one place.
    #[serde(skip_serializing_if = "String::is_empty")]
    href: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    kinds: String,
    /// What a screen reader says of the marker.
    label: String,
}

/// `GET /lieux/carte.json`: the clusters in view. A view the registry refuses answers
/// 400 with the API's message (the script only ever sends valid views).
pub async fn data(State(web): State<Arc<Web>>, Query(view): Query<ViewQuery>) -> Response {
    match web.api.registry().list_place_clusters(request(&view)).await {
        Ok(response) => {
            let response = response.into_inner();
            Json(MapData {
                count: response.place_count,
                clusters: response
                    .clusters
                    .iter()
                    .map(|cluster| marker(web.texts, cluster))
                    .collect(),
            })
            .into_response()
        }
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            (StatusCode::BAD_REQUEST, status.message().to_string()).into_response()
        }
        Err(status) => {
            tracing::warn!(code = ?status.code(), message = status.message(), "the map's clusters failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The registry's request for `view`. Leaflet's bounds run past ±180° when the world
/// repeats: the registry wants one world.
fn request(view: &ViewQuery) -> rp::ListPlaceClustersRequest {
    rp::ListPlaceClustersRequest {
        bounds: Some(rp::Bounds {
            south: view.sud.clamp(-90.0, 90.0),
            west: view.ouest.clamp(-180.0, 180.0),
            north: view.nord.clamp(-90.0, 90.0),
            east: view.est.clamp(-180.0, 180.0),
        }),
        zoom: view.zoom,
        kinds: enum_of_code::<PlaceKind>(&view.kind)
            .map(|k| k as i32)
            .into_iter()
            .collect(),
        capabilities: Some(view.equipement.trim().to_string())
            .filter(|c| !c.is_empty())
            .into_iter()
            .collect(),
        query: view.q.trim().to_string(),
        insee_department: view.departement.trim().to_uppercase(),
    }
}

/// A cluster as the script draws it.
fn marker(t: &Texts, cluster: &rp::PlaceCluster) -> MapCluster {
    let at = cluster.location.unwrap_or_default();
    let name = cluster.display_name.clone();
    MapCluster {
        latitude: at.latitude,
        longitude: at.longitude,
        count: cluster.place_count,
        href: cluster
            .place
            .strip_prefix("places/")
            .map(|id| format!("/lieux/{id}"))
            .unwrap_or_default(),
        kinds: super::places::kinds_text(t, &cluster.kinds),
        label: if name.is_empty() {
            t.map_cluster_label(cluster.place_count)
        } else {
            name.clone()
        },
        name,
    }
}
