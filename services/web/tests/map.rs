//! The places' map over real HTTP: the clusters the map's script draws, read from a
//! real registry (`/lieux/carte.json`), the page's map element with its tiles and
//! filters, the policy that lets the tiles in and nothing else, and Leaflet served as
//! vendored from npm, byte for byte.

mod common;

use common::{alliance, platform, site, site_with};
use fabrique_testkit::Backend;
use fabrique_testkit::http::get;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A view of 1280 × 800 pixels around Thiers at `zoom`, as the script asks.
fn around_thiers(zoom: i32, filters: &str) -> String {
    let degrees_per_pixel = 360.0 / 256.0 / 2f64.powi(zoom);
    let (half_width, half_height) = (640.0 * degrees_per_pixel, 400.0 * degrees_per_pixel * 0.7);
    let (latitude, longitude) = (45.8563, 3.5477);
    format!(
        "/lieux/carte.json?sud={}&ouest={}&nord={}&est={}&zoom={zoom}{filters}",
        latitude - half_height,
        longitude - half_width,
        latitude + half_height,
        longitude + half_width,
    )
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

async fn the_map_draws_the_listed_places_in_view(backend: Backend) {
    let platform = platform(backend).await;
    let places = alliance(&platform).await;
    let site = site(&format!("http://{}", platform.addr)).await;

    // Close to Thiers, each listed place is a marker of its own with its page; the
    // proposed one is nowhere.
    let close = get(site, &around_thiers(15, "")).await;
    assert_eq!(close.status, 200, "{}", close.body);
    assert_eq!(close.header("content-type"), Some("application/json"));
    let close = json(&close.body);
    assert_eq!(close["count"], 2, "{close}");
    let fablab = close["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .find(|c| c["name"] == "FabLab de Thiers")
        .expect("the FabLab is on the map");
    assert_eq!(fablab["count"], 1);
    assert_eq!(fablab["href"], format!("/lieux/{}", places.fablab));
    assert_eq!(fablab["kinds"], "FabLab");
    assert_eq!(fablab["label"], "FabLab de Thiers");
    assert!((fablab["latitude"].as_f64().expect("a latitude") - 45.8563).abs() < 1e-9);
    assert!(!close.to_string().contains(&places.proposed));

    // The whole country: one cluster of the three listed places, labelled for screen
    // readers, no page of its own.
    let france = get(
        site,
        "/lieux/carte.json?sud=41.3&ouest=-5.2&nord=51.1&est=9.6&zoom=5",
    )
    .await;
    let france = json(&france.body);
    assert_eq!(france["count"], 3, "{france}");
    let clusters = france["clusters"].as_array().expect("clusters");
    assert_eq!(clusters.len(), 1, "{france}");
    assert_eq!(clusters[0]["label"], "3 lieux ici, zoomer");
    assert!(clusters[0].get("href").is_none());

    // The list's filters apply: FabLabs with laser cutting.
    let filtered = get(
        site,
        &around_thiers(
            12,
            "&type=fablab&equipement=laser_cutting&q=thiers&departement=",
        ),
    )
    .await;
    let filtered = json(&filtered.body);
    assert_eq!(filtered["count"], 1, "{filtered}");
    assert_eq!(filtered["clusters"][0]["name"], "FabLab de Thiers");
    let none = json(
        &get(site, &around_thiers(12, "&type=ressourcerie"))
            .await
            .body,
    );
    assert_eq!(none["count"], 0, "Ambert is out of view");

    // A view the registry refuses is a 400; a world repeated past ±180° is clamped.
    let swapped = get(
        site,
        "/lieux/carte.json?sud=46&ouest=3&nord=45&est=4&zoom=8",
    )
    .await;
    assert_eq!(swapped.status, 400);
    assert!(swapped.body.contains("bounds"), "{}", swapped.body);
    let wrapped = get(
        site,
        "/lieux/carte.json?sud=-85&ouest=-400&nord=85&est=400&zoom=1",
    )
    .await;
    assert_eq!(json(&wrapped.body)["count"], 3);
    let missing = get(site, "/lieux/carte.json?zoom=8").await;
    assert_eq!(missing.status, 400);
}

#[tokio::test]
async fn the_map_draws_the_listed_places_in_view_on_postgres() {
    the_map_draws_the_listed_places_in_view(Backend::Postgres).await;
}

#[tokio::test]
async fn the_map_draws_the_listed_places_in_view_on_sqlite() {
    the_map_draws_the_listed_places_in_view(Backend::Sqlite).await;
}

/// The places' page holds the map: Leaflet and the script from the site itself, the
/// tiles and their attribution as configured (escaped), the filters the script sends,
/// and the policy lets images in from the tiles' host only.
#[tokio::test]
async fn the_places_page_holds_the_map_with_its_tiles_and_filters() {
    let platform = platform(Backend::Sqlite).await;
    let api = format!("http://{}", platform.addr);

    let default = site(&api).await;
    let page = get(default, "/lieux?type=fablab&q=Thiers").await;
    assert_eq!(page.status, 200);
    for expected in [
        r#"<script src="/static/leaflet/leaflet.js" defer></script>"#,
        r#"<script src="/static/carte.js" defer></script>"#,
        r#"data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png""#,
        "openstreetmap.org/copyright",
        "© les contributeurs d’OpenStreetMap",
        r#"data-filters="q=Thiers&#38;type=fablab""#,
        "La carte a besoin de JavaScript",
        r#"role="status""#,
    ] {
        assert!(
            page.body.contains(expected),
            "{expected} not in {}",
            page.body
        );
    }
    let policy = page.header("content-security-policy").expect("policy");
    assert!(
        policy.contains("img-src 'self' data: https://tile.openstreetmap.org;"),
        "{policy}"
    );
    assert!(!policy.contains("script-src 'self' https"), "{policy}");

    let own = site_with(
        fabrique_web::Web::new(&api)
            .expect("a valid API URL")
            .with_tiles(fabrique_web::Tiles {
                url: "https://{s}.tuiles.example/{z}/{x}/{y}.png".into(),
                attribution: "<b>Tuiles</b> & \"données\"".into(),
                attribution_url: "https://tuiles.example/licence".into(),
            }),
    )
    .await;
    let page = get(own, "/lieux").await;
    let policy = page.header("content-security-policy").expect("policy");
    assert!(
        policy.contains("img-src 'self' data: https://*.tuiles.example;"),
        "{policy}"
    );
    assert!(
        page.body
            .contains("https://{s}.tuiles.example/{z}/{x}/{y}.png")
    );
    assert!(
        !page.body.contains("<b>Tuiles</b>"),
        "escaped twice: as HTML in the attribute"
    );
    assert!(page.body.contains("data-filters=\"\""), "no filters");
}

/// Leaflet is served as the npm package held it (SHA256SUMS, written by
/// scripts/vendor-leaflet), with its licence, and each file with its type.
#[tokio::test]
async fn leaflet_is_served_as_vendored() {
    let platform = platform(Backend::Sqlite).await;
    let site = site(&format!("http://{}", platform.addr)).await;
    let vendored = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/vendor/leaflet");
    let sums = std::fs::read_to_string(vendored.join("SHA256SUMS")).expect("SHA256SUMS");
    let mut checked = 0;
    for line in sums.lines() {
        let (sum, file) = line.split_once("  ./").expect("sha256sum's format");
        let bytes = std::fs::read(vendored.join(file)).expect("a vendored file");
        let actual: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(actual, sum, "{file} differs from the package");
        let served = get(site, &format!("/static/leaflet/{file}")).await;
        assert_eq!(served.status, 200, "{file}");
        assert!(served.bytes == bytes, "{file}: served as stored");
        let kind = served
            .header("content-type")
            .unwrap_or_default()
            .to_string();
        match file.rsplit_once('.').map(|(_, ext)| ext) {
            Some("js") => assert!(kind.starts_with("text/javascript"), "{file}: {kind}"),
            Some("css") => assert!(kind.starts_with("text/css"), "{file}: {kind}"),
            Some("png") => assert_eq!(kind, "image/png", "{file}"),
            _ => assert!(served.body.contains("BSD 2-Clause"), "{file}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 8, "every vendored file listed");
    let script = get(site, "/static/carte.js").await;
    assert_eq!(script.status, 200);
    assert!(script.body.contains("/lieux/carte.json"));
    assert!(!script.body.contains("innerHTML"), "texts are set as text");
    assert_eq!(get(site, "/static/nulle-part.js").await.status, 404);
}
