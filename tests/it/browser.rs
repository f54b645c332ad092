//! The site in a real browser: Debian's Chromium driven through ChromeDriver, over
//! `fabrique serve` as the README's quick start runs it, after `fabrique seed`. A
//! visitor finds the FabLabs with laser cutting near Thiers on the map and opens one,
//! with the mouse and with the keyboard; reads Solaire Dôme's gauge; and every page
//! passes axe-core's WCAG 2.1 A and AA rules with no serious or critical violation.

use std::process::Stdio;
use std::time::Duration;

use fabrique_api::projects as pp;
use fabrique_testkit::browser::Browser;
use fabrique_testkit::{TempDir, free_port};

const BIN: &str = env!("CARGO_BIN_EXE_fabrique");

/// `fabrique serve` on the seeded example alliance (SQLite, in-process bus), on free
/// ports; stops when dropped.
struct SeededSite {
    site: String,
    grpc: String,
    _server: tokio::process::Child,
    _data: TempDir,
}

impl SeededSite {
    async fn start() -> Self {
        let data = TempDir::new("browser");
        let data_dir = data.path().to_str().expect("a UTF-8 path").to_string();
        let (grpc, site) = (
            format!("127.0.0.1:{}", free_port()),
            format!("127.0.0.1:{}", free_port()),
        );
        let envs = [
            ("FABRIQUE_DATA_DIR", data_dir.as_str()),
            ("FABRIQUE_LISTEN", grpc.as_str()),
            ("FABRIQUE_WEB_LISTEN", site.as_str()),
        ];
        let seeded = tokio::process::Command::new(BIN)
            .arg("seed")
            .env_remove("FABRIQUE_DATABASE_URL")
            .env_remove("FABRIQUE_NATS_URL")
            .envs(envs)
            .output()
            .await
            .expect("fabrique seed runs");
        assert!(
            seeded.status.success(),
            "{}",
            String::from_utf8_lossy(&seeded.stderr)
        );
        let server = tokio::process::Command::new(BIN)
            .arg("serve")
            .env_remove("FABRIQUE_DATABASE_URL")
            .env_remove("FABRIQUE_NATS_URL")
            .envs(envs)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("fabrique serve starts");
        let address: std::net::SocketAddr = site.parse().expect("an address");
        fabrique_testkit::eventually("the site to answer", Duration::from_secs(60), || async {
            tokio::net::TcpStream::connect(address).await.ok()?;
            let health = fabrique_testkit::http::get(address, "/healthz").await;
            (health.status == 200).then_some(())
        })
        .await;
        let endpoint = format!("http://{grpc}");
        fabrique_testkit::eventually("the API to serve", Duration::from_secs(60), || async {
            let channel = tonic::transport::Channel::from_shared(endpoint.clone())
                .ok()?
                .connect()
                .await
                .ok()?;
            let health = tonic_health::pb::health_client::HealthClient::new(channel)
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await
                .ok()?;
            let serving = tonic_health::pb::health_check_response::ServingStatus::Serving;
            (health.get_ref().status == serving as i32).then_some(())
        })
        .await;
        SeededSite {
            site: format!("http://{site}"),
            grpc: format!("http://{grpc}"),
            _server: server,
            _data: data,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.site)
    }

    async fn programme(&self, title: &str) -> pp::Programme {
        let channel = tonic::transport::Channel::from_shared(self.grpc.clone())
            .expect("a URI")
            .connect()
            .await
            .expect("the gRPC API");
        pp::projects_service_client::ProjectsServiceClient::new(channel)
            .list_programmes(pp::ListProgrammesRequest::default())
            .await
            .expect("programmes")
            .into_inner()
            .programmes
            .into_iter()
            .find(|p| p.title == title)
            .unwrap_or_else(|| panic!("the seed opens {title}"))
    }
}

/// The first link whose text contains `text`.
async fn link_with_text(browser: &Browser, text: &str) -> fabrique_testkit::browser::Element {
    for link in browser.find_all("main a").await {
        if browser.text(&link).await.contains(text) {
            return link;
        }
    }
    panic!("no link says {text} on {}", browser.url().await);
}

/// The text of the first element matching `css` once it shows (a popup fades in: until
/// then it reads as empty).
async fn shown_text(browser: &Browser, css: &str) -> String {
    fabrique_testkit::eventually(css, Duration::from_secs(10), || async {
        let text = browser.text(&browser.find(css).await).await;
        (!text.is_empty()).then_some(text)
    })
    .await
}

#[tokio::test]
async fn a_visitor_finds_the_fablabs_with_laser_cutting_near_thiers_and_opens_one() {
    let site = SeededSite::start().await;
    let browser = Browser::start().await;

    // With the mouse: the filters, then the FabLab's marker, then its bubble's link.
    browser.goto(&site.url("/lieux")).await;
    let search = browser.find("#q").await;
    browser.type_into(&search, "Thiers").await;
    browser
        .click(&browser.find("#type option[value='fablab']").await)
        .await;
    browser
        .click(
            &browser
                .find("#equipement option[value='laser_cutting']")
                .await,
        )
        .await;
    browser
        .click(&browser.find("form.filters button").await)
        .await;
    browser.find("#carte[data-state='ready']").await;
    let marker = browser
        .find(".carte-lieu[title='FabLab de Thiers (exemple)']")
        .await;
    assert_eq!(
        shown_text(&browser, "#carte-etat").await,
        "1 lieu sur la carte"
    );
    browser.click(&marker).await;
    assert_eq!(
        shown_text(&browser, ".leaflet-popup-content a").await,
        "Voir la fiche"
    );
    browser
        .click(&browser.find(".leaflet-popup-content a").await)
        .await;
    let title = browser.find("h1").await;
    assert_eq!(browser.text(&title).await, "FabLab de Thiers (exemple)");
    assert!(
        browser.url().await.contains("/lieux/"),
        "{}",
        browser.url().await
    );
    let page = browser.text(&browser.find("main").await).await;
    assert!(page.contains("Découpe laser"), "{page}");

    // With the keyboard, from the whole country: Enter on a cluster zooms in until the
    // FabLab is a marker of its own.
    browser.goto(&site.url("/lieux")).await;
    browser.find("#carte[data-state='ready']").await;
    let mut zooms = 0;
    loop {
        let fablab = browser
            .find_all(".carte-lieu[title='FabLab de Thiers (exemple)']")
            .await;
        if !fablab.is_empty() {
            break;
        }
        let clusters = browser.find_all(".carte-groupe").await;
        assert!(
            zooms < 6 && !clusters.is_empty(),
            "no cluster left to open after {zooms} zooms"
        );
        // The cluster nearest Thiers: the one holding the most places will do, the
        // seed's places are all around Clermont and Thiers but one.
        let mut biggest = (0, None);
        for cluster in clusters {
            let count: i32 = browser.text(&cluster).await.trim().parse().unwrap_or(0);
            if count > biggest.0 {
                biggest = (count, Some(cluster));
            }
        }
        let cluster = biggest.1.expect("a cluster");
        let label = browser
            .attribute(&cluster, "title")
            .await
            .unwrap_or_default();
        assert!(label.ends_with("lieux ici, zoomer"), "{label}");
        assert_eq!(
            browser.attribute(&cluster, "tabindex").await.as_deref(),
            Some("0")
        );
        browser.type_into(&cluster, "\u{E007}").await;
        zooms += 1;
        // The map moves (`moving` at once), asks again and redraws (`ready`).
        browser.find("#carte[data-state='ready']").await;
    }
    browser.quit().await;
}

#[tokio::test]
async fn a_visitor_reads_solaire_domes_gauge_after_seeding() {
    let site = SeededSite::start().await;
    let programme = site.programme("Solaire Dôme").await;
    let browser = Browser::start().await;
    browser.goto(&site.url("/programmes")).await;
    let link = link_with_text(&browser, "Solaire Dôme").await;
    browser.click(&link).await;
    let title = browser.find("h1").await;
    assert!(browser.text(&title).await.contains("Solaire Dôme"));
    let gauge = browser.find(".gauge svg").await;
    let label = browser
        .attribute(&gauge, "aria-label")
        .await
        .unwrap_or_default();
    // Spaces as a person reads them (WebDriver keeps some no-break spaces, not all).
    let plain = |text: &str| text.replace(['\u{202F}', '\u{A0}'], " ");
    let figures = plain(&browser.text(&browser.find(".gauge figcaption").await).await);
    for cents in [
        programme.committed_cents,
        programme.paid_cents,
        programme.remaining_cents,
        programme.envelope_cents,
    ] {
        let amount = plain(&fabrique_web::fr::euros(cents));
        assert!(figures.contains(&amount), "{amount} not in {figures}");
    }
    assert!(
        label.contains(&fabrique_web::fr::euros(programme.committed_cents)),
        "the gauge's label says the amounts: {label}"
    );
    assert!(
        programme.committed_cents > 0,
        "the seed awards Solaire Dôme's aid"
    );
    browser.quit().await;
}

/// Every kind of page, reached as a visitor reaches it, passes axe-core.
#[tokio::test]
async fn every_page_passes_axe_core() {
    let site = SeededSite::start().await;
    let browser = Browser::start().await;
    let mut pages = vec![
        "/".to_string(),
        "/lieux".to_string(),
        "/lieux?type=fablab&equipement=laser_cutting".to_string(),
        "/allies".to_string(),
        "/allies?q=Thiers".to_string(),
        "/programmes".to_string(),
        "/nulle-part".to_string(),
    ];
    // One page of each kind of item, by the lists' first links.
    for (list, prefix) in [
        ("/lieux", "/lieux/"),
        ("/allies", "/allies/"),
        ("/programmes", "/programmes/"),
    ] {
        browser.goto(&site.url(list)).await;
        let mut found = None;
        for link in browser.find_all("main a").await {
            let href = browser.attribute(&link, "href").await.unwrap_or_default();
            if href.starts_with(prefix) && href.len() > prefix.len() {
                found = Some(href);
                break;
            }
        }
        pages.push(found.unwrap_or_else(|| panic!("{list} links to no item")));
    }
    let mut failures = Vec::new();
    for page in &pages {
        browser.goto(&site.url(page)).await;
        browser.find("main").await;
        if page.starts_with("/lieux") && !page.starts_with("/lieux/") {
            // The map's markers are part of the page to check.
            browser
                .find("#carte[data-state='ready'] .leaflet-marker-icon")
                .await;
        }
        for violation in browser.serious_accessibility_violations().await {
            failures.push(format!(
                "{page}: {} ({}) — {} on {:?}",
                violation.id, violation.impact, violation.help, violation.targets
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The check can fail: an image without text and a button without a name are caught.
    browser
        .execute(
            "const main = document.querySelector('main');
             main.appendChild(document.createElement('button'));
             const image = document.createElement('img');
             image.src = '/static/leaflet/images/marker-icon.png';
             main.appendChild(image);",
            vec![],
        )
        .await;
    let caught: Vec<String> = browser
        .serious_accessibility_violations()
        .await
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert!(
        caught.contains(&"image-alt".to_string()) && caught.contains(&"button-name".to_string()),
        "{caught:?}"
    );
    browser.quit().await;
}
