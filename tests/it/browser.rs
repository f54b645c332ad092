//! The site in a real browser: Debian's Chromium driven through ChromeDriver, over
//! `fabrique serve` as the README's quick start runs it, after `fabrique seed`. A
//! visitor finds the FabLabs with laser cutting near Thiers on the map and opens one,
//! with the mouse and with the keyboard; reads Solaire Dôme's gauge; and every page
//! passes axe-core's WCAG 2.1 A and AA rules with no serious or critical violation.

use fabrique_testkit::browser::Browser;

use crate::seeded_site::{
    SeededSite, arrived, heading_with, link_or_button, link_with_text, shown_text,
};

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
    browser
        .find(".carte-lieu[title='FabLab de Thiers (exemple)']")
        .await;
    assert_eq!(
        shown_text(&browser, "#carte-etat").await,
        "1 lieu sur la carte"
    );
    browser
        .click_on(".carte-lieu[title='FabLab de Thiers (exemple)']")
        .await;
    assert_eq!(
        shown_text(&browser, ".leaflet-popup-content a").await,
        "Voir la fiche"
    );
    browser.click_on(".leaflet-popup-content a").await;
    let title = heading_with(&browser, "FabLab de Thiers").await;
    assert_eq!(title, "FabLab de Thiers (exemple)");
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
    heading_with(&browser, "Solaire Dôme").await;
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

/// The admin's link `serve` prints signs in once, then never; `fabrique login-link
/// --member` gives one acting for a member, whose space shows the member as it sees
/// itself.
#[tokio::test]
async fn a_one_time_link_works_once_then_never() {
    let site = SeededSite::start().await;
    let browser = Browser::start().await;
    let link = site.admin_link().await;
    assert!(link.starts_with(&site.site), "{link}");

    browser.goto(&link).await;
    browser.click(&browser.find("main form button").await).await;
    arrived(&browser, "/espace").await;
    let space = shown_text(&browser, "main").await;
    assert!(space.contains("administrateur de l'alliance"), "{space}");
    assert!(browser.url().await.ends_with("/espace"));

    browser.goto(&link).await;
    let refused = shown_text(&browser, "main").await;
    assert!(refused.contains("Ce lien a déjà servi"), "{refused}");

    // Signed out, then in for a member.
    browser.goto(&site.url("/espace")).await;
    let sign_out = link_or_button(&browser, "Se déconnecter").await;
    browser.click(&sign_out).await;
    arrived(&browser, "/").await;
    browser.goto(&site.url("/espace")).await;
    assert!(browser.url().await.ends_with("/connexion"), "signed out");
    let programme = site.programme("Solaire Dôme").await;
    let member = site.login_link(&["--member", &programme.funder]).await;
    browser.goto(&member).await;
    browser.click(&browser.find("main form button").await).await;
    arrived(&browser, "/espace").await;
    let space = shown_text(&browser, "main").await;
    assert!(space.contains("Vous agissez au nom de"), "{space}");
    // The member's space, and a link's page, pass axe-core too.
    let violations = browser.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "/espace: {violations:?}");
    browser.goto(&site.login_link(&[]).await).await;
    browser.find("main form button").await;
    let violations = browser.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "a link's page: {violations:?}");
    browser.quit().await;
}

/// The pages of a member's and an admin's work pass axe-core too: "Notre fiche",
/// "Courriels reçus", posting a need, a workshop's page with the team form, and the
/// administration page.
#[tokio::test]
async fn the_member_s_and_the_admin_s_pages_pass_axe_core() {
    let site = SeededSite::start().await;
    let browser = Browser::start().await;
    let programme = site.programme("Solaire Dôme").await;
    let member = site.login_link(&["--member", &programme.funder]).await;
    browser.goto(&member).await;
    browser.click(&browser.find("main form button").await).await;
    arrived(&browser, "/espace").await;
    browser.goto(&site.url("/ateliers")).await;
    let mut workshop = None;
    for link in browser.find_all("main a").await {
        let href = browser.attribute(&link, "href").await.unwrap_or_default();
        if href.starts_with("/ateliers/") {
            workshop = Some(href);
            break;
        }
    }
    let workshop = workshop.expect("the seed has a workshop");
    let mut failures = Vec::new();
    for page in [
        "/espace/fiche",
        "/espace/courriels",
        "/espace/besoins/nouveau",
        workshop.as_str(),
    ] {
        browser.goto(&site.url(page)).await;
        browser.find("main h1").await;
        if page.starts_with("/ateliers/") {
            browser.find("#equipe-formee").await;
        }
        for violation in browser.serious_accessibility_violations().await {
            failures.push(format!("{page}: {} — {}", violation.id, violation.help));
        }
    }
    browser.goto(&site.admin_link().await).await;
    browser.click(&browser.find("main form button").await).await;
    arrived(&browser, "/espace").await;
    browser.goto(&site.url("/espace/administration")).await;
    browser.find("#adhesions").await;
    for violation in browser.serious_accessibility_violations().await {
        failures.push(format!(
            "/espace/administration: {} — {}",
            violation.id, violation.help
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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
        "/ressources".to_string(),
        "/ressources?type=equipment&rayon=50".to_string(),
        "/besoins".to_string(),
        "/projets".to_string(),
        "/projets?theme=energy".to_string(),
        "/achats-groupes".to_string(),
        "/ateliers".to_string(),
        "/nulle-part".to_string(),
        "/connexion".to_string(),
    ];
    // One page of each kind of item, by the lists' first links. `fabrique seed` offers
    // no resource, need or project yet: those lists may be empty, and are then skipped.
    let mut skipped = Vec::new();
    for (list, prefix, seeded) in [
        ("/lieux", "/lieux/", true),
        ("/allies", "/allies/", true),
        ("/programmes", "/programmes/", true),
        ("/ressources", "/ressources/", false),
        ("/besoins", "/besoins/", false),
        ("/projets", "/projets/", false),
        ("/achats-groupes", "/achats-groupes/", true),
        ("/ateliers", "/ateliers/", true),
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
        match found {
            Some(href) => pages.push(href),
            None if !seeded => skipped.push(list),
            None => panic!("{list} links to no item"),
        }
    }
    if !skipped.is_empty() {
        eprintln!("no item to check on {skipped:?}: the seed has none");
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
