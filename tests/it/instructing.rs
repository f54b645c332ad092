//! Instructing Solaire Dôme through the site, in Chromium, over a seeded `fabrique
//! serve` (embedded default, and PostgreSQL with NATS): the Aduhme, its operator, sends
//! Thiers's application back to complete; Thiers completes it from its applications;
//! the Aduhme gives its opinion, which the Département reads before approving; the
//! Département records an advance, cancels an award nothing was paid of, and records
//! the deliberation that tops up the envelope. Each page passes axe-core.

use fabrique_api::projects::{self as pp, projects_service_client::ProjectsServiceClient};
use fabrique_testkit::authed;
use fabrique_testkit::browser::Browser;

use crate::bookings::{landed, signed_in_for, site_with_provider};
use crate::funding::{apply_through_the_site, fresh_commune, member_named};
use crate::seeded_site::shown_text;

const PURPOSE: &str = "Centrale sur le gymnase municipal";

/// Fills the fields `values` (name, value) of the form holding the button `action` in
/// the row containing `text`, and presses it; whether such a button was found.
async fn press_in_row(browser: &Browser, text: &str, action: &str, values: &[(&str, &str)]) {
    let values = serde_json::json!(
        values
            .iter()
            .map(|(name, value)| vec![*name, *value])
            .collect::<Vec<_>>()
    );
    let pressed = browser
        .execute(
            "const [text, action, values] = arguments;
             for (const row of document.querySelectorAll('tbody tr')) {
               if (!row.textContent.includes(text)) continue;
               const button = row.querySelector(`button[value='${action}']`);
               if (!button) continue;
               for (const [name, value] of values) {
                 button.form.querySelector(`[name='${name}']`).value = value;
               }
               button.click();
               return true;
             }
             return false;",
            vec![text.into(), action.into(), values],
        )
        .await;
    assert_eq!(pressed, true, "a {action} button in the row of {text}");
}

/// The page's text, narrow spaces as plain ones.
async fn plain(browser: &Browser, css: &str) -> String {
    shown_text(browser, css)
        .await
        .replace(['\u{202f}', '\u{a0}'], " ")
}

async fn accessible(browser: &Browser, page: &str) {
    let violations = browser.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "{page}: {violations:?}");
}

/// Over 60 lines: one instruction from the request to complete to the envelope's
/// deliberation, each party's page asserted as it acts.
async fn the_operator_instructs_and_the_funder_decides(backend: &[(&str, &str)]) {
    let (site, _provider) = site_with_provider(backend).await;
    let admin = site.admin_token().await;
    let channel = site.channel().await;
    let solaire = site.programme("Solaire Dôme").await;
    let thiers = fresh_commune(channel.clone(), &admin, &solaire.name).await;
    let departement = member_named(channel.clone(), &admin, "Département du Puy-de-Dôme").await;
    let aduhme = member_named(channel.clone(), &admin, "Aduhme").await;

    let commune = signed_in_for(&site, &thiers.name).await;
    apply_through_the_site(&site, &commune, &solaire.name, PURPOSE).await;

    // The Aduhme instructs without deciding: no approval, a request to complete.
    let operator = signed_in_for(&site, &aduhme.name).await;
    operator.goto(&site.url("/espace/instruction")).await;
    let queue = plain(&operator, "main").await;
    assert!(
        queue.contains("Vous instruisez ce programme pour son financeur."),
        "{queue}"
    );
    assert!(
        operator
            .find_all("button[value='accorder']")
            .await
            .is_empty(),
        "the operator does not decide"
    );
    accessible(&operator, "/espace/instruction (operator)").await;
    press_in_row(
        &operator,
        PURPOSE,
        "completer-demande",
        &[("message", "Joignez le devis de l'installateur.")],
    )
    .await;
    landed(&operator, "/espace/instruction?fait=a-completer").await;
    let sent_back = plain(&operator, "main").await;
    assert!(
        sent_back.contains("À compléter par le demandeur"),
        "{sent_back}"
    );

    // Thiers reads what is asked and completes it.
    commune.goto(&site.url("/espace/demandes")).await;
    let mine = plain(&commune, "main").await;
    assert!(
        mine.contains("À compléter") && mine.contains("Joignez le devis de l'installateur."),
        "{mine}"
    );
    accessible(&commune, "/espace/demandes (to complete)").await;
    press_in_row(
        &commune,
        PURPOSE,
        "completer",
        &[("reponse", "Devis de Solaire Auvergne joint : 10 800 € TTC.")],
    )
    .await;
    landed(&commune, "/espace/demandes?fait=completee").await;
    let completed = plain(&commune, "main").await;
    assert!(completed.contains("Déposée"), "{completed}");

    // The opinion, favourable, then read by the Département before it approves.
    operator.goto(&site.url("/espace/instruction")).await;
    press_in_row(
        &operator,
        PURPOSE,
        "avis",
        &[
            ("recommandation", "favorable"),
            ("avis", "Toiture saine, devis conforme."),
        ],
    )
    .await;
    landed(&operator, "/espace/instruction?fait=avis").await;
    let funder = signed_in_for(&site, &departement.name).await;
    funder.goto(&site.url("/espace/instruction")).await;
    let queue = plain(&funder, "main").await;
    assert!(
        queue.contains("Avis favorable de l'instructeur : Toiture saine, devis conforme."),
        "{queue}"
    );
    assert!(
        queue.contains("Réponse du demandeur : Devis de Solaire Auvergne joint"),
        "{queue}"
    );
    press_in_row(&funder, PURPOSE, "accorder", &[]).await;
    landed(&funder, "/espace/instruction?fait=accordee").await;

    // An advance of 1,500 € paid today; the row says so and no longer offers to cancel.
    let today = chrono::Utc::now().date_naive().to_string();
    press_in_row(
        &funder,
        PURPOSE,
        "acompte",
        &[("montant", "1 500"), ("date", today.as_str())],
    )
    .await;
    landed(&funder, "/espace/instruction?fait=acompte").await;
    let row = plain(&funder, "main").await;
    assert!(row.contains("Déjà versé : 1 500,00 €"), "{row}");
    accessible(&funder, "/espace/instruction (funder)").await;
    let mut projects = ProjectsServiceClient::new(channel.clone());
    let listed = projects
        .list_applications(authed(
            pp::ListApplicationsRequest {
                parent: solaire.name.clone(),
                page_size: 100,
                applicant: thiers.name.clone(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("applications")
        .into_inner()
        .applications;
    let a = listed
        .iter()
        .find(|a| a.purpose == PURPOSE)
        .expect("Thiers's application");
    assert_eq!(
        (a.state, a.paid_cents),
        (pp::ApplicationState::Approved as i32, 150_000)
    );

    // An advance above what remains is refused in French, nothing recorded.
    press_in_row(
        &funder,
        PURPOSE,
        "acompte",
        &[("montant", "3 500"), ("date", today.as_str())],
    )
    .await;
    let refusal = plain(&funder, "#refus").await;
    assert!(refusal.contains("dépasse le reste à payer"), "{refusal}");

    // The grouping's award not yet paid is cancelled: the commune gave up.
    let before = site.programme("Solaire Dôme").await.committed_cents;
    let cancelled = funder
        .execute(
            "for (const row of document.querySelectorAll('tbody tr')) {
               const button = row.querySelector(\"button[value='annuler']\");
               if (!button || row.textContent.includes(arguments[0])) continue;
               button.form.querySelector(\"[name='motif']\").value = 'La commune renonce.';
               button.click();
               return true;
             }
             return false;",
            vec![PURPOSE.into()],
        )
        .await;
    assert_eq!(cancelled, true, "an award of the grouping to cancel");
    landed(&funder, "/espace/instruction?fait=annulee").await;
    assert_eq!(
        site.programme("Solaire Dôme").await.committed_cents,
        before - 500_000
    );

    // The deliberation that tops the envelope up to 600,000 €.
    funder
        .execute(
            "const [day] = arguments;
             const form = document.querySelector(\"form[action='/espace/instruction/enveloppe']\");
             form.querySelector(\"[name='montant']\").value = '600 000';
             form.querySelector(\"[name='reference']\").value = 'DM2-2026-045';
             form.querySelector(\"[name='date']\").value = day;
             form.querySelector('button').click();",
            vec![today.as_str().into()],
        )
        .await;
    landed(&funder, "/espace/instruction?fait=enveloppe").await;
    assert_eq!(
        site.programme("Solaire Dôme").await.envelope_cents,
        60_000_000
    );
    funder
        .execute(
            "document.querySelector('details.envelope').open = true;",
            Vec::new(),
        )
        .await;
    let history = plain(&funder, "details.envelope ul").await;
    assert!(
        history.contains("de 500 000,00 € à 600 000,00 € (délibération DM2-2026-045)"),
        "{history}"
    );
}

#[tokio::test]
async fn the_operator_instructs_and_the_funder_decides_on_the_embedded_default() {
    the_operator_instructs_and_the_funder_decides(&[]).await;
}

#[tokio::test]
async fn the_operator_instructs_and_the_funder_decides_on_postgres_and_nats() {
    let postgres = crate::seeded_site::OnPostgres::new().await;
    the_operator_instructs_and_the_funder_decides(&postgres.settings()).await;
}
