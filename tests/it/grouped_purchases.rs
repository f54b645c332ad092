//! Taking part in a grouped purchase through the site, in Chromium, over a seeded
//! `fabrique serve` on the embedded default and on PostgreSQL and NATS: a member gives
//! two sites in two lots and the totals per lot count them; a row without a volume is
//! told next to it; another member joins; the first leaves; the coordinator sees every
//! member's sites, closes the purchase and awards it to a supplier; the coordinator's
//! person signs in through the real OpenID provider. The pages pass axe-core.

use fabrique_api::projects::{self as pp, projects_service_client::ProjectsServiceClient};
use fabrique_testkit::authed;
use fabrique_testkit::browser::Browser;

use crate::bookings::{
    active_members, landed, make_marie_a_contact_of, signed_in_for, site_with_provider,
};
use crate::seeded_site::shown_text;
use crate::sign_in::sign_in_as;

/// Fills the site rows (`(name, lot code, volume)`, from the first) and presses the
/// button whose value is `action`.
async fn send_sites(browser: &Browser, rows: &[(&str, &str, &str)], action: &str) {
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|(name, lot, volume)| serde_json::json!([name, lot, volume]))
        .collect();
    browser
        .execute(
            "const [rows, action] = arguments;
             rows.forEach(([name, lot, volume], i) => {
               document.querySelector(`#nom-${i}`).value = name;
               document.querySelector(`#lot-${i}`).value = lot;
               document.querySelector(`#volume-${i}`).value = volume;
             });
             document.querySelector(`#participation button[value='${action}']`).click();",
            vec![serde_json::Value::Array(rows), action.into()],
        )
        .await;
}

/// The lots' table as it reads: `Gaz naturel 120,5 MWh …`.
async fn lots(browser: &Browser) -> String {
    shown_text(browser, "section[aria-labelledby='lots'] table")
        .await
        .replace(['\u{a0}', '\u{202f}'], " ")
}

async fn members_join_leave_and_the_coordinator_awards(backend: &[(&str, &str)]) {
    let (site, _provider) = site_with_provider(backend).await;
    let admin = site.admin_token().await;
    let channel = site.channel().await;
    let members = active_members(channel.clone(), &admin, 3).await;
    let [
        (coordinator, _, coordinating),
        (first, _, _),
        (second, second_name, _),
    ] = <[_; 3]>::try_from(members).unwrap_or_else(|_| unreachable!("three were asked"));
    // The coordinator's person signs in through the OpenID provider.
    make_marie_a_contact_of(channel.clone(), &admin, coordinating).await;
    let deadline = chrono::Utc::now() + chrono::Duration::days(30);
    let purchase = ProjectsServiceClient::new(channel)
        .create_group_purchase(authed(
            pp::CreateGroupPurchaseRequest {
                group_purchase: Some(pp::GroupPurchase {
                    title: "Énergie 2027".into(),
                    coordinator: coordinator.clone(),
                    category: pp::GroupPurchaseCategory::Gas as i32,
                    unit: "MWh".into(),
                    lots: vec![
                        pp::Lot {
                            code: "gaz".into(),
                            title: "Gaz naturel".into(),
                            ..Default::default()
                        },
                        pp::Lot {
                            code: "elec".into(),
                            title: "Électricité".into(),
                            ..Default::default()
                        },
                    ],
                    deadline: Some(prost_types::Timestamp {
                        seconds: deadline.timestamp(),
                        nanos: 0,
                    }),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("a grouped purchase")
        .into_inner();
    let page = site.url(&format!(
        "/achats-groupes/{}",
        purchase.name.trim_start_matches("groupPurchases/")
    ));

    let one = signed_in_for(&site, &first).await;
    one.goto(&page).await;
    let part = shown_text(&one, "main").await;
    assert!(part.contains("Participer avec ces sites"), "{page}: {part}");
    send_sites(
        &one,
        &[
            ("École Jules-Ferry", "gaz", "120,5"),
            ("Mairie", "elec", "40"),
        ],
        "participer",
    )
    .await;
    landed(&one, "?fait=inscrit").await;
    let done = shown_text(&one, ".done").await;
    assert!(done.contains("Vos sites sont enregistrés"), "{done}");
    let table = lots(&one).await;
    assert!(
        table.contains("Gaz naturel 120,5 MWh") && table.contains("Électricité 40 MWh"),
        "{table}"
    );
    let violations = one.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "a purchase's form: {violations:?}");
    crate::seeded_site::for_the_guides(&one, "achat-groupe", "#participation").await;
    // A site without a volume is told on its row, and nothing changes.
    send_sites(
        &one,
        &[
            ("École Jules-Ferry", "gaz", "120,5"),
            ("Mairie", "elec", ""),
        ],
        "participer",
    )
    .await;
    let problem = shown_text(&one, "#site-1-erreur").await;
    assert_eq!(problem, "Nommez le site et indiquez un volume positif.");
    one.goto(&page).await;
    assert!(lots(&one).await.contains("Électricité 40 MWh"));

    let two = signed_in_for(&site, &second).await;
    two.goto(&page).await;
    send_sites(&two, &[("Salle des fêtes", "gaz", "10")], "participer").await;
    landed(&two, "?fait=inscrit").await;
    assert!(lots(&two).await.contains("Gaz naturel 130,5 MWh"));
    // Its space lists the purchase it takes part in.
    two.goto(&site.url("/espace")).await;
    let space = shown_text(&two, "section[aria-labelledby='membre']").await;
    assert!(
        space.contains("Nos achats groupés") && space.contains("Énergie 2027 — participante"),
        "{space}"
    );
    one.goto(&page).await;
    one.click(&one.find("#participation button[value='quitter']").await)
        .await;
    landed(&one, "?fait=quitte").await;
    let table = lots(&one).await;
    assert!(
        table.contains("Gaz naturel 10 MWh") && table.contains("Électricité 0 MWh"),
        "{table}"
    );

    let lead = sign_in_as(&site, "marie").await;
    lead.goto(&page).await;
    let coordination = shown_text(&lead, "#participation")
        .await
        .replace('\u{a0}', " ");
    assert!(
        coordination.contains(&format!(
            "{second_name} Salle des fêtes (Gaz naturel) : 10 MWh"
        )),
        "{coordination}"
    );
    let violations = lead.serious_accessibility_violations().await;
    assert!(
        violations.is_empty(),
        "the coordinator's part: {violations:?}"
    );
    crate::seeded_site::for_the_guides(&lead, "coordination", "#participation").await;
    lead.click(&lead.find("button[value='clore']").await).await;
    landed(&lead, "?fait=clos").await;
    lead.type_into(
        &lead.find("#fournisseur").await,
        "Énergies citoyennes du Livradois",
    )
    .await;
    // Without its prices, the award is refused in French; with them, each lot's
    // saving against the reference price is shown.
    lead.click(&lead.find("button[value='attribuer']").await)
        .await;
    let refused = shown_text(&lead, "#refus").await;
    assert!(
        refused.contains("le prix attribué et le prix de référence"),
        "{refused}"
    );
    lead.execute(
        "document.querySelector('#fournisseur').value = 'Énergies citoyennes du Livradois';
         for (const input of document.querySelectorAll(\"input[name^='prix-']\")) input.value = '41,50';
         for (const input of document.querySelectorAll(\"input[name^='reference-']\")) input.value = '50';
         document.querySelector(\"button[value='attribuer']\").click();",
        Vec::new(),
    )
    .await;
    landed(&lead, "?fait=attribue").await;
    let awarded = shown_text(&lead, "main dl").await;
    assert!(
        awarded.contains("Énergies citoyennes du Livradois"),
        "{awarded}"
    );
    let saving = lots(&lead).await.replace(['\u{a0}', '\u{202f}'], " ");
    assert!(
        saving.contains("Gaz naturel 10 MWh 41,50 € (50,00 €) 85,00 €"),
        "10 MWh × 8,50 €: {saving}"
    );
    let violations = lead.serious_accessibility_violations().await;
    assert!(
        violations.is_empty(),
        "the awarded purchase: {violations:?}"
    );
    two.goto(&page).await;
    assert!(
        shown_text(&two, "#participation")
            .await
            .contains("Les inscriptions sont closes.")
    );
    for browser in [one, two, lead] {
        browser.quit().await;
    }
}

#[tokio::test]
async fn members_join_leave_and_the_coordinator_awards_on_the_embedded_default() {
    members_join_leave_and_the_coordinator_awards(&[]).await;
}

#[tokio::test]
async fn members_join_leave_and_the_coordinator_awards_on_postgres_and_nats() {
    let postgres = crate::seeded_site::OnPostgres::new().await;
    members_join_leave_and_the_coordinator_awards(&postgres.settings()).await;
}
