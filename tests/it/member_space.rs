//! A member's own pages through the site, in Chromium, over a seeded `fabrique serve`
//! on the embedded default and on PostgreSQL and NATS: "Notre fiche" refuses a bad
//! address naming the row, keeps what was typed, then saves a new contact person;
//! "Courriels reçus" lists that person's address once notify has learnt it, and a kind
//! of e-mail turned off stays off; a need is refused a negative radius next to the
//! field, then posted, shown with its matches, and closed; a workshop's team is
//! previewed with the roles it would miss, then saved. The member's person signs in
//! through the real OpenID provider. The pages pass axe-core.

use std::time::Duration;

use fabrique_api::members::{self as mp, members_service_client::MembersServiceClient};
use fabrique_api::projects::{self as pp, projects_service_client::ProjectsServiceClient};
use fabrique_api::sharing::{self as sp, sharing_service_client::SharingServiceClient};
use fabrique_testkit::browser::Browser;
use fabrique_testkit::{authed, eventually};

use crate::bookings::{active_members, landed, make_marie_a_contact_of, site_with_provider};
use crate::seeded_site::{SeededSite, for_the_guides, heading_with, shown_text};
use crate::sign_in::sign_in_as;

const WAIT: Duration = Duration::from_secs(30);

/// Sets fields by css (`(css, value)`) and clicks `button`.
async fn fill_and_send(browser: &Browser, values: &[(&str, &str)], button: &str) {
    let pairs: Vec<serde_json::Value> = values
        .iter()
        .map(|(css, value)| serde_json::json!([css, value]))
        .collect();
    browser
        .execute(
            "for (const [css, value] of arguments[0]) document.querySelector(css).value = value;",
            vec![serde_json::Value::Array(pairs)],
        )
        .await;
    browser.click(&browser.find(button).await).await;
}

fn assert_accessible(page: &str, violations: &[fabrique_testkit::browser::Violation]) {
    assert!(violations.is_empty(), "{page}: {violations:?}");
}

/// "Notre fiche": a second contact person with a bad address is refused naming the
/// row, then saved with a good one; returns the address.
async fn adds_a_contact_person(site: &SeededSite, browser: &Browser, member: &str) -> String {
    browser.goto(&site.url("/espace/fiche")).await;
    // The first empty row: the rows the member already has come first.
    let row = browser
        .execute(
            "return [...document.querySelectorAll(\"input[name='contact-nom']\")]
                 .findIndex(input => input.value === '') + 1;",
            Vec::new(),
        )
        .await
        .as_u64()
        .expect("an empty contact row");
    assert!(row >= 1, "the form offers an empty row");
    let (name, email) = (
        format!("#contact-nom-{row}"),
        format!("#contact-courriel-{row}"),
    );
    let function = format!("#contact-fonction-{row}");
    fill_and_send(
        browser,
        &[
            ("#territoire", "Livradois-Forez"),
            (&name, "Jean Roux"),
            (&email, "pas-une-adresse"),
            (&function, "Chargé de mission"),
        ],
        "form.booking button[type='submit']",
    )
    .await;
    let problem = shown_text(browser, "#refus").await;
    assert!(
        problem.contains(&format!(
            "Vérifiez ces contacts : contact {row} (Jean Roux)"
        )),
        "{problem}"
    );
    let kept = browser
        .execute(
            "return [...arguments].map(css => document.querySelector(css).value);",
            vec![
                "#territoire".into(),
                email.as_str().into(),
                function.as_str().into(),
            ],
        )
        .await;
    assert_eq!(
        kept,
        serde_json::json!(["Livradois-Forez", "pas-une-adresse", "Chargé de mission"])
    );
    assert_accessible(
        "a refused fiche",
        &browser.serious_accessibility_violations().await,
    );

    let address = format!("jean.roux.{}@alliance.test", &member[8..16]);
    fill_and_send(
        browser,
        &[(&email, &address)],
        "form.booking button[type='submit']",
    )
    .await;
    landed(browser, "/espace/fiche?fait=enregistree").await;
    assert_eq!(
        shown_text(browser, "main [role='status']").await,
        "La fiche est enregistrée."
    );
    for_the_guides(browser, "fiche", "main").await;
    address
}

/// "Courriels reçus": once notify has the new address, its "as borrower" e-mails are
/// turned off, and stay off; the label of each box belongs to its own address.
async fn turns_an_e_mail_off(site: &SeededSite, browser: &Browser, address: &str) {
    let section = eventually("notify to know the new address", WAIT, || async {
        browser.goto(&site.url("/espace/courriels")).await;
        for section in browser.find_all("main section").await {
            let text = browser.text(&section).await;
            if text.contains(address) && !browser.find_all("main section form").await.is_empty() {
                let id = browser.attribute(&section, "aria-labelledby").await?;
                return Some(id.trim_start_matches("adresse-").to_string());
            }
        }
        None
    })
    .await;
    let first = shown_text(browser, "main section h2").await;
    assert!(
        first.contains("marie.martin@thiers.example.fr"),
        "the person's own address comes first: {first}"
    );
    let borrower_box = format!("#recoit-{section}-as_borrower");
    assert_eq!(
        browser
            .execute(
                "return document.querySelector(arguments[0]).checked;",
                vec![borrower_box.as_str().into()]
            )
            .await,
        true,
        "every kind is on at first"
    );
    // Clicking the label toggles this address's box, not another address's.
    browser
        .click(
            &browser
                .find(&format!("label[for='recoit-{section}-as_borrower']"))
                .await,
        )
        .await;
    let button = format!("section[aria-labelledby='adresse-{section}'] button[type='submit']");
    browser.click(&browser.find(&button).await).await;
    landed(browser, "/espace/courriels?fait=enregistre").await;
    assert_eq!(
        shown_text(browser, "main [role='status']").await,
        "Vos choix sont enregistrés."
    );
    let boxes = browser
        .execute(
            "return [...document.querySelectorAll(`section[aria-labelledby='adresse-${arguments[0]}'] input[type='checkbox']`)]
                 .map(box => [box.value, box.checked]);",
            vec![section.as_str().into()],
        )
        .await;
    assert_eq!(
        boxes,
        serde_json::json!([
            ["as_owner", true],
            ["as_borrower", false],
            ["applications", true],
            ["places", true],
            ["workshops", true]
        ]),
        "memberships are the admins' e-mails"
    );
    assert_accessible(
        "/espace/courriels",
        &browser.serious_accessibility_violations().await,
    );
    for_the_guides(browser, "courriels", "main").await;
}

/// A need: a negative radius refused next to its field with the rest kept, then
/// posted, seen with the resource `other` offers that answers it, and closed.
async fn posts_and_closes_a_need(site: &SeededSite, browser: &Browser, other: &str) {
    let admin = site.admin_token().await;
    let sharing = SharingServiceClient::new(site.channel().await);
    eventually("the sharing service to know the owner", WAIT, || {
        let (mut sharing, admin) = (sharing.clone(), admin.clone());
        async move {
            let request = sp::CreateResourceRequest {
                resource: Some(sp::Resource {
                    owner: other.to_string(),
                    kind: sp::ResourceKind::Equipment as i32,
                    title: "Broyeur de végétaux thermique".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            };
            sharing.create_resource(authed(request, &admin)).await.ok()
        }
    })
    .await;
    browser.goto(&site.url("/espace/besoins/nouveau")).await;
    let description = "Broyeur de végétaux pour une journée de chantier participatif.";
    fill_and_send(
        browser,
        &[
            ("#description", description),
            ("#type", "equipment"),
            ("#rayon", "-3"),
        ],
        "form.booking button[type='submit']",
    )
    .await;
    assert_eq!(
        shown_text(browser, "#rayon-erreur").await,
        "Indiquez une distance positive en kilomètres."
    );
    let kept = browser
        .execute(
            "return [document.querySelector('#description').value,
                     document.querySelector('#type').value,
                     document.querySelector('#rayon').getAttribute('aria-invalid')];",
            Vec::new(),
        )
        .await;
    assert_eq!(kept, serde_json::json!([description, "equipment", "true"]));
    assert_accessible(
        "a refused need",
        &browser.serious_accessibility_violations().await,
    );
    fill_and_send(
        browser,
        &[("#rayon", "25")],
        "form.booking button[type='submit']",
    )
    .await;
    heading_with(browser, "Broyeur de végétaux").await;
    let yours = shown_text(browser, "section[aria-labelledby='votre-besoin']").await;
    assert!(yours.contains("Ressources qui y répondent"), "{yours}");
    assert!(yours.contains("Broyeur de végétaux thermique"), "{yours}");
    for_the_guides(browser, "besoin", "main").await;
    let page = browser.url().await;
    browser.goto(&site.url("/espace")).await;
    let space = shown_text(browser, "section[aria-labelledby='membre']").await;
    assert!(
        space.contains("Nos besoins\nBroyeur de végétaux"),
        "the member's space lists its need: {space}"
    );
    browser.goto(&page).await;
    browser
        .click(
            &browser
                .find("section[aria-labelledby='votre-besoin'] button")
                .await,
        )
        .await;
    landed(browser, "/besoins?fait=clos").await;
    assert_eq!(
        shown_text(browser, "main [role='status']").await,
        "Votre besoin est clos : il n'apparaît plus dans la liste."
    );
    let list = shown_text(browser, "main").await;
    assert!(!list.contains("Broyeur de végétaux"), "{list}");
    browser.goto(&page).await;
    assert!(
        browser
            .find_all("section[aria-labelledby='votre-besoin']")
            .await
            .is_empty(),
        "a closed need has nothing left to do"
    );
}

/// A workshop's team: two members checked, previewed (the roles they would leave
/// uncovered, or none), then saved and read back from the API.
async fn forms_a_workshop_team(site: &SeededSite, browser: &Browser, member: &str) {
    let admin = site.admin_token().await;
    let mut projects = ProjectsServiceClient::new(site.channel().await);
    let workshop = projects
        .list_workshops(authed(pp::ListWorkshopsRequest::default(), &admin))
        .await
        .expect("workshops")
        .into_inner()
        .workshops
        .into_iter()
        .next()
        .expect("the seed has a workshop");
    let href = format!(
        "/ateliers/{}",
        workshop.name.trim_start_matches("workshops/")
    );
    browser.goto(&site.url(&href)).await;
    let chosen = browser
        .execute(
            "const boxes = [...document.querySelectorAll(\".team-form input[name='membre']\")];
             // The seed may have formed a team already: this one is two members.
             boxes.forEach((box, i) => box.checked = i < 2);
             return boxes.slice(0, 2).map(box => box.value);",
            Vec::new(),
        )
        .await;
    let chosen: Vec<String> = serde_json::from_value(chosen).expect("member names");
    assert_eq!(chosen.len(), 2, "the seed has other active members");
    browser
        .click(&browser.find(".team-form button[value='apercu']").await)
        .await;
    let preview = shown_text(browser, ".team-form [role='status']").await;
    assert!(preview.starts_with("Avec ces structures"), "{preview}");
    let still_checked = browser
        .execute(
            "return [...document.querySelectorAll(\".team-form input[name='membre']:checked\")].map(box => box.value);",
            Vec::new(),
        )
        .await;
    assert_eq!(still_checked, serde_json::json!(chosen));
    assert_accessible(
        "a team's preview",
        &browser.serious_accessibility_violations().await,
    );
    for_the_guides(browser, "equipe", ".team-form").await;
    browser
        .click(&browser.find(".team-form button[value='enregistrer']").await)
        .await;
    landed(browser, &format!("{href}#equipe-formee")).await;
    let saved = projects
        .get_workshop(pp::GetWorkshopRequest {
            name: workshop.name.clone(),
        })
        .await
        .expect("workshop")
        .into_inner();
    let team = saved
        .teams
        .iter()
        .find(|team| team.lead == member)
        .expect("the member's team");
    // The lead belongs to its team too.
    let mut members: Vec<String> = team
        .members
        .iter()
        .filter(|m| *m != member)
        .cloned()
        .collect();
    members.sort();
    let mut expected = chosen;
    expected.sort();
    assert_eq!(members, expected);
    let teams = shown_text(browser, "section[aria-labelledby='equipes']").await;
    let display_name = MembersServiceClient::new(site.channel().await)
        .get_member(authed(
            mp::GetMemberRequest {
                name: member.to_string(),
            },
            &admin,
        ))
        .await
        .expect("member")
        .into_inner()
        .display_name;
    assert!(
        teams.contains(&format!("Équipe de {display_name}")),
        "{teams}"
    );
    browser.goto(&site.url("/espace")).await;
    let space = shown_text(browser, "section[aria-labelledby='membre']").await;
    assert!(
        space.contains(&format!("Nos ateliers\n{}", workshop.theme)),
        "the member's space lists its workshop: {space}"
    );
}

async fn a_member_keeps_its_pages(backend: &[(&str, &str)]) {
    let (site, _provider) = site_with_provider(backend).await;
    let admin = site.admin_token().await;
    let members = active_members(site.channel().await, &admin, 2).await;
    let (member, other) = (&members[0].0, &members[1].0);
    // Marie signs in through the OpenID provider, as a contact person of the member.
    make_marie_a_contact_of(site.channel().await, &admin, members[0].2.clone()).await;
    let browser = sign_in_as(&site, "marie").await;
    landed(&browser, "/espace").await;
    let space = shown_text(&browser, "section[aria-labelledby='membre']").await;
    assert!(
        space.contains(&members[0].1),
        "Marie acts for the member: {space}"
    );
    for_the_guides(&browser, "espace", "main").await;
    let address = adds_a_contact_person(&site, &browser, member).await;
    turns_an_e_mail_off(&site, &browser, &address).await;
    posts_and_closes_a_need(&site, &browser, other).await;
    forms_a_workshop_team(&site, &browser, member).await;
    browser.quit().await;
}

#[tokio::test]
async fn a_member_keeps_its_record_e_mails_needs_and_team_on_the_embedded_default() {
    a_member_keeps_its_pages(&[]).await;
}

#[tokio::test]
async fn a_member_keeps_its_record_e_mails_needs_and_team_on_postgres_and_nats() {
    let postgres = crate::seeded_site::OnPostgres::new().await;
    a_member_keeps_its_pages(&postgres.settings()).await;
}
