//! The map's data and the places list, each measured twice in the same run: the gRPC
//! call(s) behind it, straight to the registry (the baseline), and the site's own
//! request over HTTP/1.1, which makes those calls and writes their answer as JSON or
//! HTML. The site runs as one more `fabrique serve --services web` process pointed at
//! the four services, as the production overlay runs it, started for these scenarios
//! and stopped after them.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context, bail};
use fabrique_api::registry as rp;
use hdrhistogram::Histogram;
use tokio::time::Instant;

use super::{Fleet, SERVICES, ensure_places, inner_point, mix};
use crate::fleet::ServiceProcess;
use crate::http::HttpPool;
use crate::load::{self, Load, Outcome};
use crate::{Options, ScenarioReport};

/// The screen a map is drawn on, in pixels (a laptop's browser window).
const SCREEN: (f64, f64) = (1280.0, 800.0);
/// Places per page of the site's list (`PAGE_SIZE` in services/web/src/pages/places.rs).
const LIST_PAGE: i32 = 30;
/// The kinds the bench's places have, as the site's filter names them.
const KINDS: [(&str, rp::PlaceKind); 4] = [
    ("fablab", rp::PlaceKind::Fablab),
    ("tiers_lieu", rp::PlaceKind::TiersLieu),
    ("ressourcerie", rp::PlaceKind::Ressourcerie),
    ("incubator", rp::PlaceKind::Incubator),
];
const VIEW_CLASSES: &[&str] = &["national", "regional", "city"];
const LIST_CLASSES: &[&str] = &["first page", "kind filter"];

/// What the map of a screen shows: the view's bounds and zoom, as the map's script
/// sends them (rounded to the microdegree, so that the site and the gRPC baseline ask
/// for exactly the same view).
#[derive(Debug, Clone, Copy)]
struct MapView {
    south: f64,
    west: f64,
    north: f64,
    east: f64,
    zoom: i32,
    /// Index into [`VIEW_CLASSES`].
    class: usize,
}

impl MapView {
    /// A screen centred on `latitude`, `longitude` at `zoom` (Web Mercator, tiles of
    /// 256 pixels, as Leaflet draws it).
    fn screen(latitude: f64, longitude: f64, zoom: i32, class: usize) -> Self {
        use std::f64::consts::PI;
        let world = 256.0 * 2f64.powi(zoom);
        let x = (longitude + 180.0) / 360.0 * world;
        let y = (1.0 - latitude.to_radians().tan().asinh() / PI) / 2.0 * world;
        let longitude_at = |x: f64| x / world * 360.0 - 180.0;
        let latitude_at = |y: f64| (PI * (1.0 - 2.0 * y / world)).sinh().atan().to_degrees();
        let micro = |v: f64| (v * 1e6).round() / 1e6;
        let (half_width, half_height) = (SCREEN.0 / 2.0, SCREEN.1 / 2.0);
        MapView {
            south: micro(latitude_at(y + half_height)),
            west: micro(longitude_at(x - half_width)),
            north: micro(latitude_at(y - half_height)),
            east: micro(longitude_at(x + half_width)),
            zoom,
            class,
        }
    }

    /// The `i`-th view of the fixed mix: 2 in 10 national (the whole of mainland
    /// France, zoom 5 or 6: the page's first view), 4 in 10 regional (zoom 8 to 10
    /// around a random point), 4 in 10 a city (zoom 12 to 14).
    fn of(i: u64) -> Self {
        let pick = mix(i ^ 0x3A9) % 10;
        let zoom_step = (mix(i ^ 0x51) % 3) as i32;
        match pick {
            0 | 1 => Self::screen(46.6, 2.5, 5 + zoom_step % 2, 0),
            2..=5 => {
                let (latitude, longitude) = inner_point(i ^ 0x7E6);
                Self::screen(latitude, longitude, 8 + zoom_step, 1)
            }
            _ => {
                let (latitude, longitude) = inner_point(i ^ 0x7E7);
                Self::screen(latitude, longitude, 12 + zoom_step, 2)
            }
        }
    }

    fn request(&self) -> rp::ListPlaceClustersRequest {
        rp::ListPlaceClustersRequest {
            bounds: Some(rp::Bounds {
                south: self.south,
                west: self.west,
                north: self.north,
                east: self.east,
            }),
            zoom: self.zoom,
            ..Default::default()
        }
    }

    /// The site's URL for it, as the map's script writes it.
    fn path(&self) -> String {
        format!(
            "/lieux/carte.json?sud={}&ouest={}&nord={}&est={}&zoom={}",
            self.south, self.west, self.north, self.east, self.zoom
        )
    }
}

/// The `i`-th request of the list: every other one the first page, the others the
/// first page of one kind. Index into [`LIST_CLASSES`], and the kind.
fn list_page(i: u64) -> (usize, Option<(&'static str, rp::PlaceKind)>) {
    if i.is_multiple_of(2) {
        (0, None)
    } else {
        (
            1,
            Some(KINDS[(mix(i ^ 0x1157) % KINDS.len() as u64) as usize]),
        )
    }
}

/// Latencies by class of request (which view, which page): where a mix's time goes.
/// Counted from when each call was sent (the open loop's own histogram counts from
/// when it was due), for the calls sent after the warm-up.
struct ByClass {
    names: &'static [&'static str],
    from: OnceLock<Instant>,
    histograms: Vec<Mutex<Histogram<u64>>>,
}

impl ByClass {
    fn new(names: &'static [&'static str]) -> Self {
        Self {
            names,
            from: OnceLock::new(),
            histograms: names
                .iter()
                .map(|_| Mutex::new(load::histogram()))
                .collect(),
        }
    }

    /// Calls sent from `warmup` from now on are recorded.
    fn start(&self, warmup: Duration) {
        let _ = self.from.set(Instant::now() + warmup);
    }

    fn record(&self, class: usize, began: Instant) {
        if self.from.get().is_none_or(|from| began < *from) {
            return;
        }
        let micros = (began.elapsed().as_micros() as u64).clamp(1, 60_000_000);
        if let Some(Ok(mut histogram)) = self.histograms.get(class).map(|h| h.lock()) {
            histogram.saturating_record(micros);
        }
    }

    /// `national 3,120 calls p50 1.20 / p99 4.10 ms; …`
    fn summary(&self) -> String {
        self.names
            .iter()
            .zip(&self.histograms)
            .filter_map(|(name, histogram)| {
                let h = histogram.lock().ok()?;
                (!h.is_empty()).then(|| {
                    format!(
                        "{name} {} calls p50 {:.2} / p99 {:.2} ms",
                        h.len(),
                        h.value_at_quantile(0.5) as f64 / 1000.0,
                        h.value_at_quantile(0.99) as f64 / 1000.0
                    )
                })
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// One scenario of calls that each say their class: measured under `load`, with the
/// latency of each class in the note.
async fn measure<F, Fut>(
    fleet: &Fleet,
    name: &str,
    label: String,
    load: Load,
    classes: &'static [&'static str],
    call: Arc<F>,
) -> anyhow::Result<ScenarioReport>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (usize, Outcome)> + Send + 'static,
{
    let by_class = Arc::new(ByClass::new(classes));
    let by = by_class.clone();
    let mut report = fleet
        .sampled(name, label, || async move {
            by.start(load.warmup);
            Ok(load::run(load, move |i| {
                let call = call(i);
                let by = by.clone();
                async move {
                    let began = Instant::now();
                    let (class, outcome) = call.await;
                    if outcome == Outcome::Ok {
                        by.record(class, began);
                    }
                    outcome
                }
            })
            .await)
        })
        .await?;
    report.note = Some(format!("by request: {}", by_class.summary()));
    Ok(report)
}

/// The scenario in the closed loop, then at half of the throughput it reached (as
/// `list-places-near-half`): latency away from saturation.
async fn closed_and_half<F, Fut>(
    options: &Options,
    fleet: &Fleet,
    name: &str,
    classes: &'static [&'static str],
    call: Arc<F>,
    half: bool,
) -> anyhow::Result<Vec<ScenarioReport>>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (usize, Outcome)> + Send + 'static,
{
    let closed = options.load();
    let report = measure(
        fleet,
        name,
        format!("c={}", options.concurrency),
        closed,
        classes,
        call.clone(),
    )
    .await?;
    let rate = (report.stats.throughput / 2.0).max(1.0);
    let mut reports = vec![report];
    if half {
        let open = Load {
            rate: Some(rate),
            concurrency: options.concurrency * 4,
            ..closed
        };
        // Other requests than the closed loop's: the same mix, other points.
        let shifted = move |i: u64| call(i ^ 0x00A5_A5A5);
        reports.push(
            measure(
                fleet,
                &format!("{name}-half"),
                format!("{rate:.0}/s"),
                open,
                classes,
                Arc::new(shifted),
            )
            .await?,
        );
    }
    Ok(reports)
}

/// An HTTP answer judged: 200 is a success, anything else an error by its status.
fn judged(answer: Result<crate::http::Answer, String>) -> Outcome {
    match answer {
        Ok(answer) if answer.status == 200 && !answer.body.is_empty() => Outcome::Ok,
        Ok(answer) => Outcome::Error(format!("HTTP {}", answer.status)),
        Err(error) => Outcome::Error(format!(
            "HTTP client: {}",
            error.split(':').next().unwrap_or_default()
        )),
    }
}

/// Starts the site alone, pointed at each service's process; its HTTP address.
pub(super) async fn start_site(fleet: &mut Fleet) -> anyhow::Result<SocketAddr> {
    let mut env = fleet.env.clone();
    for service in SERVICES {
        if let Some(process) = fleet.processes.get(service) {
            env.insert(
                format!("FABRIQUE_WEB_{}_URL", service.to_uppercase()),
                process.endpoint(),
            );
        }
    }
    // The notify and participation services are not in the bench's fleet (no page
    // measured here reads them; their consumers would load the machine beside the
    // measured services): the site connects lazily, so an address where nothing listens
    // only fails the e-mail and participation pages.
    for absent in ["FABRIQUE_WEB_NOTIFY_URL", "FABRIQUE_WEB_PARTICIPATION_URL"] {
        env.insert(absent.to_string(), "http://127.0.0.1:9".to_string());
    }
    let mut site = ServiceProcess::spawn(&fleet.bin, "web", &env, fleet.scratch.path())?;
    site.wait_serving(Duration::from_secs(60)).await?;
    let address = SocketAddr::from(([127, 0, 0, 1], site.port));
    fleet.processes.insert("web", site);
    Ok(address)
}

/// Total CPU µs per call over every process measured.
fn cpu_total(report: &ScenarioReport) -> f64 {
    report.cpu_us_per_call.values().sum()
}

/// Adds to a page's note what a call cost the machine against its gRPC calls alone.
pub(super) fn compare_cpu(page: &mut ScenarioReport, baseline: Option<&ScenarioReport>) {
    let Some(baseline) = baseline else {
        return;
    };
    let (mine, theirs) = (cpu_total(page), cpu_total(baseline));
    if theirs > 0.0 {
        let note = page.note.get_or_insert_default();
        note.push_str(&format!(
            "; CPU per call, every process: {mine:.0} µs against {theirs:.0} µs for {} ({:.2}×)",
            baseline.name,
            mine / theirs
        ));
    }
}

/// The map's scenarios and the list's, in the order: gRPC baseline, then the site.
pub(super) async fn run(
    options: &Options,
    fleet: &mut Fleet,
    reports: &mut Vec<ScenarioReport>,
) -> anyhow::Result<()> {
    let map = options.runs("map-clusters") || options.runs("web-map-data");
    let list = options.runs("list-places-page") || options.runs("web-places-list");
    if !map && !list {
        return Ok(());
    }
    ensure_places(fleet, options.places).await?;
    let site_wanted = options.runs("web-map-data") || options.runs("web-places-list");
    let site = if site_wanted {
        let address = start_site(fleet).await?;
        Some(Arc::new(HttpPool::new(address)))
    } else {
        None
    };
    let result = measure_all(options, fleet, reports, site).await;
    if let Some(site) = fleet.processes.remove("web") {
        site.stop().await?;
    }
    result
}

async fn measure_all(
    options: &Options,
    fleet: &Fleet,
    reports: &mut Vec<ScenarioReport>,
    site: Option<Arc<HttpPool>>,
) -> anyhow::Result<()> {
    let clients = Arc::new(fleet.registry());
    let views = describe_views(&clients, options.places).await?;

    if options.runs("map-clusters") {
        let clients = clients.clone();
        let call = move |i: u64| {
            let view = MapView::of(i);
            let mut client = clients[i as usize % clients.len()].clone();
            async move {
                (
                    view.class,
                    Outcome::of(client.list_place_clusters(view.request()).await),
                )
            }
        };
        let measured = closed_and_half(
            options,
            fleet,
            "map-clusters",
            VIEW_CLASSES,
            Arc::new(call),
            true,
        )
        .await?;
        for mut report in measured {
            let note = report.note.take().unwrap_or_default();
            report.note = Some(format!(
                "ListPlaceClusters, anonymous, over {} places; views of {}×{} pixels: {views}; {note}",
                options.places, SCREEN.0, SCREEN.1
            ));
            reports.push(report);
        }
    }

    if let (Some(site), true) = (&site, options.runs("web-map-data")) {
        let national = site
            .get(&MapView::of_class(0).path())
            .await
            .map_err(anyhow::Error::msg)
            .context("the site's map data")?;
        let text = String::from_utf8_lossy(&national.body);
        let data: serde_json::Value = serde_json::from_str(&text).with_context(|| {
            format!("the national view's map data ({}): {text}", national.status)
        })?;
        if data["count"].as_u64() != Some(options.places as u64) {
            bail!(
                "the site's national view counts {} places, not {}",
                data["count"],
                options.places
            );
        }
        let site = site.clone();
        let call = move |i: u64| {
            let view = MapView::of(i);
            let site = site.clone();
            async move { (view.class, judged(site.get(&view.path()).await)) }
        };
        let measured = closed_and_half(
            options,
            fleet,
            "web-map-data",
            VIEW_CLASSES,
            Arc::new(call),
            true,
        )
        .await?;
        for (n, mut report) in measured.into_iter().enumerate() {
            let note = report.note.take().unwrap_or_default();
            report.note = Some(format!(
                "GET /lieux/carte.json over HTTP/1.1 keep-alive, the same views as map-clusters; {note}"
            ));
            if n == 0 {
                report.baseline = Some("map-clusters".into());
                compare_cpu(
                    &mut report,
                    reports.iter().find(|r| r.name == "map-clusters"),
                );
            }
            reports.push(report);
        }
    }

    if options.runs("list-places-page") {
        let clients = clients.clone();
        let call = move |i: u64| {
            let (class, kind) = list_page(i);
            let mut client = clients[i as usize % clients.len()].clone();
            async move {
                if let Err(status) = client
                    .list_capabilities(rp::ListCapabilitiesRequest {})
                    .await
                {
                    return (class, Outcome::Error(format!("{:?}", status.code())));
                }
                let request = rp::ListPlacesRequest {
                    page_size: LIST_PAGE,
                    kinds: kind.map(|(_, k)| k as i32).into_iter().collect(),
                    ..Default::default()
                };
                (class, Outcome::of(client.list_places(request).await))
            }
        };
        let mut measured = closed_and_half(
            options,
            fleet,
            "list-places-page",
            LIST_CLASSES,
            Arc::new(call),
            false,
        )
        .await?;
        for report in &mut measured {
            let note = report.note.take().unwrap_or_default();
            report.note = Some(format!(
                "what GET /lieux calls, anonymous: ListCapabilities then ListPlaces (a page of {LIST_PAGE}), half of them filtered by one kind; {note}"
            ));
        }
        reports.extend(measured);
    }

    if let (Some(site), true) = (&site, options.runs("web-places-list")) {
        let page = site
            .get("/lieux")
            .await
            .map_err(anyhow::Error::msg)
            .context("the places page")?;
        let html = String::from_utf8_lossy(&page.body);
        if page.status != 200 || html.matches("href=\"/lieux/").count() < LIST_PAGE as usize {
            bail!(
                "GET /lieux answered {} without {LIST_PAGE} places: {}",
                page.status,
                &html[..html.len().min(2_000)]
            );
        }
        let site = site.clone();
        let call = move |i: u64| {
            let (class, kind) = list_page(i);
            let site = site.clone();
            let path = match kind {
                Some((code, _)) => format!("/lieux?type={code}"),
                None => "/lieux".to_string(),
            };
            async move { (class, judged(site.get(&path).await)) }
        };
        let measured = closed_and_half(
            options,
            fleet,
            "web-places-list",
            LIST_CLASSES,
            Arc::new(call),
            true,
        )
        .await?;
        for (n, mut report) in measured.into_iter().enumerate() {
            let note = report.note.take().unwrap_or_default();
            report.note = Some(format!(
                "GET /lieux (HTML, {} bytes), half of them ?type=<kind>, over HTTP/1.1 keep-alive; {note}",
                page.body.len()
            ));
            if n == 0 {
                report.baseline = Some("list-places-page".into());
                compare_cpu(
                    &mut report,
                    reports.iter().find(|r| r.name == "list-places-page"),
                );
            }
            reports.push(report);
        }
    }
    Ok(())
}

impl MapView {
    /// The first view of the mix of `class`.
    fn of_class(class: usize) -> Self {
        (0..)
            .map(Self::of)
            .find(|view| view.class == class)
            .unwrap_or_else(|| Self::of(0))
    }
}

/// What the views of each class hold, from a sample of each (places in view and
/// clusters drawn, on average); fails when the national view does not count every
/// place, which would mean the map answers something else than what is measured.
async fn describe_views(
    clients: &[rp::registry_service_client::RegistryServiceClient<tonic::transport::Channel>],
    places: usize,
) -> anyhow::Result<String> {
    let mut client = clients[0].clone();
    let mut sums = vec![(0u64, 0u64, 0u64); VIEW_CLASSES.len()];
    for i in 0..300u64 {
        let view = MapView::of(i);
        let answer = client
            .list_place_clusters(view.request())
            .await
            .with_context(|| format!("ListPlaceClusters of {view:?}"))?
            .into_inner();
        if view.class == 0 && answer.place_count as usize != places {
            bail!(
                "the national view {view:?} counts {} places, not {places}",
                answer.place_count
            );
        }
        let sum = &mut sums[view.class];
        sum.0 += 1;
        sum.1 += answer.place_count as u64;
        sum.2 += answer.clusters.len() as u64;
    }
    let zooms = ["zoom 5–6", "zoom 8–10", "zoom 12–14"];
    let shares = ["2", "4", "4"];
    Ok(VIEW_CLASSES
        .iter()
        .zip(sums)
        .enumerate()
        .map(|(n, (name, (views, in_view, clusters)))| {
            let views = views.max(1);
            format!(
                "{} in 10 {name} ({}, {} places in view and {} clusters on average)",
                shares[n],
                zooms[n],
                in_view / views,
                clusters / views
            )
        })
        .collect::<Vec<_>>()
        .join(", "))
}
