//! Applying to a programme and instructing the applications through the site, in
//! Chromium, over a seeded `fabrique serve` — on the embedded default and on PostgreSQL
//! and NATS: a commune computes its aid for Solaire Dôme and sees it broken down by
//! funder before it submits; on a programme with 5,000 € left, two of the funder's
//! agents approve two applications at once from two browsers: one award, the other
//! refused in French and rejected with its reason, the gauge says the envelope is spent;
//! the payment is recorded; the applicants read where their applications stand. One
//! agent signs in through the real OpenID provider. The pages pass axe-core.

use std::time::Duration;

use fabrique_api::members as mp;
use fabrique_api::projects::{self as pp, projects_service_client::ProjectsServiceClient};
use fabrique_testkit::browser::Browser;
use fabrique_testkit::{authed, eventually};
use tonic::transport::Channel;

use crate::bookings::{landed, signed_in_for, site_with_provider};
use crate::seeded_site::{SeededSite, shown_text};
use crate::sign_in::sign_in_as;

/// The seed's active member named `name`, `members/{id}`.
pub(crate) async fn member_named(channel: Channel, admin: &str, name: &str) -> mp::Member {
    mp::members_service_client::MembersServiceClient::new(channel)
        .list_members(authed(
            mp::ListMembersRequest {
                query: name.into(),
                states: vec![mp::MemberState::Active as i32],
                ..Default::default()
            },
            admin,
        ))
        .await
        .expect("members")
        .into_inner()
        .members
        .into_iter()
        .find(|m| m.display_name == name)
        .unwrap_or_else(|| panic!("the seed has {name}"))
}

/// An active commune of the seed that has not applied to `programme` (Solaire Dôme
/// takes communes, one award each).
pub(crate) async fn fresh_commune(channel: Channel, admin: &str, programme: &str) -> mp::Member {
    let applied: Vec<String> = ProjectsServiceClient::new(channel.clone())
        .list_applications(authed(
            pp::ListApplicationsRequest {
                parent: programme.into(),
                page_size: 100,
                ..Default::default()
            },
            admin,
        ))
        .await
        .expect("applications")
        .into_inner()
        .applications
        .into_iter()
        .map(|a| a.applicant)
        .collect();
    let communes = mp::members_service_client::MembersServiceClient::new(channel)
        .list_members(authed(
            mp::ListMembersRequest {
                kinds: vec![mp::MemberKind::Commune as i32],
                states: vec![mp::MemberState::Active as i32],
                ..Default::default()
            },
            admin,
        ))
        .await
        .expect("communes")
        .into_inner()
        .members;
    communes
        .into_iter()
        .find(|c| !applied.contains(&c.name) && c.display_name == "Thiers")
        .expect("Thiers, a commune of the seed that has not applied")
}

/// Whether the approval `agent` pressed was made (it lands on the queue saying so) or
/// refused (the queue again, with the refusal).
async fn approved(agent: &Browser) -> bool {
    eventually("a decision", Duration::from_secs(15), || async {
        let url = agent.url().await;
        if url.ends_with("/espace/instruction?fait=accordee") {
            Some(true)
        } else if url.ends_with("/espace/instruction") && !agent.find_all("#refus").await.is_empty()
        {
            Some(false)
        } else {
            None
        }
    })
    .await
}

/// Fills the application form of the programme page `browser` is on and presses
/// `button` ("Calculer l'aide" or "Déposer la demande").
async fn fill_and_press(browser: &Browser, units: &str, purpose: &str, button: &str) {
    browser
        .execute(
            "const [units, purpose] = arguments;
             document.querySelector('#unites').value = units;
             document.querySelector('#objet').value = purpose;",
            vec![units.into(), purpose.into()],
        )
        .await;
    let value = if button == "Calculer l'aide" {
        "calcul"
    } else {
        "depot"
    };
    let pressed = browser
        .find(&format!("form.booking button[value='{value}']"))
        .await;
    assert_eq!(browser.text(&pressed).await, button);
    browser.click(&pressed).await;
}

/// Waits for `css` on the page `browser` is on; fails with what the page says instead.
pub(crate) async fn appears(browser: &Browser, css: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while browser.find_all(css).await.is_empty() {
        if tokio::time::Instant::now() > deadline {
            let main = browser.find_all("main").await;
            let text = match main.first() {
                Some(main) => browser.text(main).await,
                None => String::new(),
            };
            panic!("no {css} on {}:\n{text}", browser.url().await);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Submits an application of one unit through the programme's page.
pub(crate) async fn apply_through_the_site(
    site: &SeededSite,
    browser: &Browser,
    programme: &str,
    purpose: &str,
) {
    browser.goto(&site.url(&format!("/{programme}"))).await;
    fill_and_press(browser, "1", purpose, "Calculer l'aide").await;
    appears(browser, "#aide-calculee").await;
    fill_and_press(browser, "1", purpose, "Déposer la demande").await;
    submitted(browser).await;
}

/// Waits until `browser` is on its applications, at the one just submitted (its row
/// is the page's target), and returns that row's text.
async fn submitted(browser: &Browser) -> String {
    eventually("the new application", Duration::from_secs(15), || async {
        let url = browser.url().await;
        if !url.contains("/espace/demandes?fait=deposee#demande-") {
            return None;
        }
        let row = browser.find_all("tr:target").await.into_iter().next()?;
        browser.text_now(&row).await
    })
    .await
}

async fn two_agents_approve_the_last_5000_euros(backend: &[(&str, &str)]) {
    let (site, _provider) = site_with_provider(backend).await;
    let admin = site.admin_token().await;
    let channel = site.channel().await;
    let departement = member_named(channel.clone(), &admin, "Département du Puy-de-Dôme").await;
    let solaire = site.programme("Solaire Dôme").await;
    let thiers = fresh_commune(channel.clone(), &admin, &solaire.name).await;
    let ambert = member_named(channel.clone(), &admin, "Thiers Dore et Montagne").await;
    // Marie, of the Département's staff, instructs through the alliance's provider.
    let mut with_marie = departement.clone();
    with_marie.contacts.push(mp::Contact {
        full_name: "Marie Martin".into(),
        role: mp::ContactRole::TransitionTechnician as i32,
        email: "marie.martin@thiers.example.fr".into(),
        title: "Instructrice des aides".into(),
    });
    mp::members_service_client::MembersServiceClient::new(channel.clone())
        .update_member(authed(
            mp::UpdateMemberRequest {
                member: Some(with_marie),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["contacts".into()],
                }),
            },
            &admin,
        ))
        .await
        .expect("a contact for Marie");

    // Thiers (a commune of Thiers Dore et Montagne, in the park's territory) computes
    // its aid for Solaire Dôme before submitting: the Département's 5,000 € and the
    // Région's quarter of it.
    let commune = signed_in_for(&site, &thiers.name).await;
    commune.goto(&site.url(&format!("/{}", solaire.name))).await;
    let form = shown_text(&commune, "#demande").await;
    assert!(form.contains("Calculer l'aide"), "{form}");
    assert!(
        commune
            .find_all("form.booking button[value='depot']")
            .await
            .is_empty(),
        "no submitting before the aid is shown"
    );
    fill_and_press(
        &commune,
        "1",
        "Centrale sur l'école Jules-Ferry",
        "Calculer l'aide",
    )
    .await;
    appears(&commune, "#aide-calculee").await;
    let computed = shown_text(&commune, "#aide-calculee")
        .await
        .replace(['\u{202f}', '\u{a0}'], " ");
    assert!(
        computed.contains("Aide calculée : 6 250,00 €"),
        "{computed}"
    );
    assert!(
        computed.contains(
            "Département du Puy-de-Dôme 5 000,00 € + Région Auvergne-Rhône-Alpes 1 250,00 €"
        ),
        "{computed}"
    );
    let violations = commune.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "the computed aid: {violations:?}");
    crate::seeded_site::for_the_guides(&commune, "aide-calculee", "#demande").await;
    // Nothing typed is lost, nothing was submitted yet.
    let kept = commune
        .execute("return document.querySelector('#objet').value", Vec::new())
        .await;
    assert_eq!(kept, "Centrale sur l'école Jules-Ferry");
    let projects = ProjectsServiceClient::new(channel.clone());
    let count = |programme: String| {
        let (mut projects, admin) = (projects.clone(), admin.clone());
        async move {
            projects
                .list_applications(authed(
                    pp::ListApplicationsRequest {
                        parent: programme,
                        page_size: 100,
                        ..Default::default()
                    },
                    &admin,
                ))
                .await
                .expect("applications")
                .into_inner()
                .applications
        }
    };
    let before = count(solaire.name.clone()).await.len();
    fill_and_press(
        &commune,
        "1",
        "Centrale sur l'école Jules-Ferry",
        "Déposer la demande",
    )
    .await;
    let row = submitted(&commune).await;
    assert!(row.contains("Centrale sur l'école Jules-Ferry"), "{row}");
    assert_eq!(count(solaire.name.clone()).await.len(), before + 1);
    let mine = shown_text(&commune, "main")
        .await
        .replace(['\u{202f}', '\u{a0}'], " ");
    assert!(
        mine.contains("Solaire Dôme Centrale sur l'école Jules-Ferry 1 5 000,00 € Déposée"),
        "{mine}"
    );
    let violations = commune.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "/espace/demandes: {violations:?}");

    // A programme with 5,000 € left, and two applications of 5,000 €.
    let mut admin_projects = projects.clone();
    let last = admin_projects
        .create_programme(authed(
            pp::CreateProgrammeRequest {
                programme: Some(pp::Programme {
                    title: "Dernière tranche".into(),
                    description: "Rénovation de l'éclairage public.".into(),
                    funder: departement.name.clone(),
                    envelope_cents: 500_000,
                    aid_per_unit_cents: 500_000,
                    unit_label: "quartier rénové".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("a programme")
        .into_inner();
    apply_through_the_site(&site, &commune, &last.name, "Éclairage du centre-ville").await;
    let other = signed_in_for(&site, &ambert.name).await;
    apply_through_the_site(&site, &other, &last.name, "Éclairage des hameaux").await;

    // Two agents of the Département, one of them through the provider, approve both at once.
    let marie = sign_in_as(&site, "marie").await;
    let colleague = signed_in_for(&site, &departement.name).await;
    for agent in [&marie, &colleague] {
        agent.goto(&site.url("/espace/instruction")).await;
        let page = shown_text(agent, "main").await;
        assert!(page.contains("Dernière tranche"), "{page}");
    }
    let violations = marie.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "/espace/instruction: {violations:?}");
    crate::seeded_site::for_the_guides(&marie, "instruction", "main").await;
    let approve = |purpose: &'static str| {
        format!(
            "(() => {{ for (const row of document.querySelectorAll('tbody tr')) {{
                 if (row.textContent.includes('{purpose}')) {{
                   row.querySelector(\"button[value='accorder']\").click(); return true; }}
               }} return false; }})()"
        )
    };
    let (first, second) = (
        format!("return {}", approve("Éclairage du centre-ville")),
        format!("return {}", approve("Éclairage des hameaux")),
    );
    let (a, b) = tokio::join!(
        marie.execute(&first, Vec::new()),
        colleague.execute(&second, Vec::new()),
    );
    assert_eq!((a, b), (true.into(), true.into()), "both pressed");
    let (marie_won, colleague_won) = tokio::join!(approved(&marie), approved(&colleague));
    assert!(marie_won ^ colleague_won, "one award, and only one");
    let loser = if marie_won { &colleague } else { &marie };
    let refusal = shown_text(loser, "#refus")
        .await
        .replace(['\u{202f}', '\u{a0}'], " ");
    assert!(
        refusal.contains(
            "L'enveloppe du programme ne suffit plus : cette aide de 5 000,00 € la dépasserait (enveloppe totale : 5 000,00 €)."
        ),
        "{refusal}"
    );
    let spent = shown_text(loser, "main").await;
    assert!(
        spent.contains("L'enveloppe est entièrement engagée"),
        "{spent}"
    );
    let decided = count(last.name.clone()).await;
    let states: Vec<i32> = decided.iter().map(|a| a.state).collect();
    assert_eq!(
        states
            .iter()
            .filter(|s| **s == pp::ApplicationState::Approved as i32)
            .count(),
        1,
        "{decided:?}"
    );
    assert_eq!(
        states
            .iter()
            .filter(|s| **s == pp::ApplicationState::Rejected as i32)
            .count(),
        1,
        "{decided:?}"
    );

    // The payment is recorded; the gauge counts it.
    loser.goto(&site.url("/espace/instruction")).await;
    let pressed = loser
        .execute(
            "for (const section of document.querySelectorAll('section.funded')) {
               if (!section.querySelector('h2').textContent.includes('Dernière tranche')) continue;
               const pay = section.querySelectorAll(\"button[value='payer']\");
               if (pay.length !== 1) return pay.length;
               pay[0].click();
               return 1;
             }
             return 0;",
            Vec::new(),
        )
        .await;
    assert_eq!(pressed, 1, "one award to pay in Dernière tranche");
    landed(loser, "/espace/instruction?fait=payee").await;
    let paid = projects
        .clone()
        .get_programme(pp::GetProgrammeRequest {
            name: last.name.clone(),
        })
        .await
        .expect("programme")
        .into_inner();
    assert_eq!((paid.committed_cents, paid.paid_cents), (500_000, 500_000));

    // The queue filtered: this programme's rejected applications, then its paid one
    // found by a word of its purpose.
    let (rejected_purpose, paid_purpose) = if marie_won {
        ("Éclairage des hameaux", "Éclairage du centre-ville")
    } else {
        ("Éclairage du centre-ville", "Éclairage des hameaux")
    };
    let filter = |state: &str, words: &str| {
        let script = "const [state, words] = arguments;
             const programme = document.querySelector('#programme');
             programme.value = [...programme.options]
                 .find(o => o.textContent.includes('Dernière tranche')).value;
             document.querySelector('#etat').value = state;
             document.querySelector('#demandeur').value = words;
             document.querySelector('form.filters button').click();";
        loser.execute(script, vec![state.into(), words.into()])
    };
    filter("rejetee", "").await;
    landed(loser, "&etat=rejetee&demandeur=").await;
    let rejected = shown_text(loser, "section.funded").await;
    assert!(
        rejected.contains("Rejetées, retirées ou annulées"),
        "{rejected}"
    );
    assert!(rejected.contains(rejected_purpose), "{rejected}");
    assert!(!rejected.contains(paid_purpose), "{rejected}");
    assert_eq!(loser.find_all("section.funded").await.len(), 1);
    let words = paid_purpose.split_whitespace().last().unwrap_or_default();
    // In capitals: the search ignores case (and accents).
    let words = words.to_uppercase();
    filter("payee", &words).await;
    landed(loser, &format!("&etat=payee&demandeur={words}")).await;
    let paid = shown_text(loser, "section.funded").await;
    assert!(paid.contains(paid_purpose), "{paid}");
    let violations = loser.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "a filtered queue: {violations:?}");

    // The applicant whose application came second reads why, in French.
    let rejected_applicant = if marie_won { &other } else { &commune };
    rejected_applicant.goto(&site.url("/espace/demandes")).await;
    let mine = shown_text(rejected_applicant, "main")
        .await
        .replace(['\u{202f}', '\u{a0}'], " ");
    assert!(
        mine.contains(&format!(
            "{rejected_purpose} 1 5 000,00 € Rejetée : l'enveloppe du programme était épuisée"
        )),
        "{mine}"
    );
    for browser in [commune, other, marie, colleague] {
        browser.quit().await;
    }
}

#[tokio::test]
async fn two_agents_approve_the_last_5000_euros_on_the_embedded_default() {
    two_agents_approve_the_last_5000_euros(&[]).await;
}

#[tokio::test]
async fn two_agents_approve_the_last_5000_euros_on_postgres_and_nats() {
    let postgres = crate::seeded_site::OnPostgres::new().await;
    two_agents_approve_the_last_5000_euros(&postgres.settings()).await;
}
