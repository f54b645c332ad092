//! Citizen participation through the site, in Chromium, over the seeded `fabrique
//! serve`: an inhabitant signs in through the real OpenID provider (no member's
//! contact: a citizen), chooses her pseudonym, finds the Département's consultation,
//! is refused a support in French until the Département — signed in for the member —
//! records her verified residence from her participant number, then supports, comments,
//! registers for the citizen conference and votes in Thiers's budget. Every page passes
//! axe-core; the guides' pictures are taken here.

use fabrique_api::members as mp;
use fabrique_testkit::browser::Browser;
use fabrique_testkit::oidc::OidcProvider;
use fabrique_testkit::{authed, free_port};

use crate::bookings::signed_in_for;
use crate::seeded_site::{
    SeededSite, arrived, for_the_guides, heading_with, link_or_button, link_with_text, shown_text,
};
use crate::sign_in::{CLIENT_ID, account, sign_in_as};

/// The page `browser` shows, as a person reads it (no-break spaces as spaces).
async fn read(browser: &Browser) -> String {
    shown_text(browser, "main")
        .await
        .replace(['\u{202F}', '\u{A0}'], " ")
}

async fn accessible(browser: &Browser, page: &str) {
    let violations = browser.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "{page}: {violations:?}");
}

/// The path of a page's URL.
fn path_of(url: &str) -> String {
    url.splitn(4, '/')
        .nth(3)
        .map(|p| format!("/{p}"))
        .unwrap_or_default()
}

/// The Département's member record, as the admin reads it.
async fn departement(site: &SeededSite) -> mp::Member {
    let admin = site.admin_token().await;
    mp::members_service_client::MembersServiceClient::new(site.channel().await)
        .list_members(authed(
            mp::ListMembersRequest {
                query: "Département du Puy-de-Dôme".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("list")
        .into_inner()
        .members
        .into_iter()
        .next()
        .expect("the seed's Département")
}

/// Over 60 lines: one inhabitant's path through the section, and the organiser's step
/// in the middle of it, in the order people live them.
#[tokio::test]
async fn an_inhabitant_takes_part_and_the_organiser_verifies_her_residence_on_the_embedded_default()
{
    let address = format!("127.0.0.1:{}", free_port());
    let client_secret = uuid::Uuid::new_v4().simple().to_string();
    let provider = OidcProvider::start(
        CLIENT_ID,
        &client_secret,
        &format!("http://{address}/connexion/retour"),
        &[account("lea", "lea.habitante@example.org", true, &[])],
    )
    .await;
    let site = SeededSite::launch(
        &[
            ("FABRIQUE_WEB_OIDC_ISSUER", provider.issuer.as_str()),
            ("FABRIQUE_WEB_OIDC_CLIENT_ID", CLIENT_ID),
            ("FABRIQUE_WEB_OIDC_CLIENT_SECRET", client_secret.as_str()),
            ("FABRIQUE_WEB_OIDC_NAME", "le compte de l'alliance"),
        ],
        Some(address),
    )
    .await;

    // Signed in, Léa acts for no member: her space leads to her participant profile.
    let lea = sign_in_as(&site, "lea").await;
    let space = read(&lea).await;
    assert!(
        space.contains("Vous n'agissez au nom d'aucun membre"),
        "{space}"
    );
    assert!(space.contains("Participation citoyenne"), "{space}");
    accessible(&lea, "/espace").await;
    lea.click(&link_with_text(&lea, "Mon profil de participant").await)
        .await;
    heading_with(&lea, "Mon profil de participant").await;
    accessible(&lea, "/participation/profil").await;
    lea.type_into(&lea.find("#pseudonyme").await, "Léa du Livradois")
        .await;
    lea.click(&link_or_button(&lea, "Participer sous ce pseudonyme").await)
        .await;
    let profile = read(&lea).await;
    assert!(profile.contains("Léa du Livradois"), "{profile}");
    let number = lea.text(&lea.find("main code").await).await;
    assert_eq!(number.len(), 36, "a participant number: {number}");

    // The consultation asks for verified residents: her support is refused, in French.
    lea.goto(&site.url("/participation")).await;
    heading_with(&lea, "Participation citoyenne").await;
    accessible(&lea, "/participation").await;
    for_the_guides(&lea, "participation", "main").await;
    lea.click(&link_with_text(&lea, "Quelle route pour demain ?").await)
        .await;
    heading_with(&lea, "Quelle route pour demain ?").await;
    accessible(&lea, "a process").await;
    let process = lea.url().await;
    let page = read(&lea).await;
    assert!(
        page.contains("En ce moment, vous pouvez : déposer des propositions"),
        "{page}"
    );
    lea.click(&link_with_text(&lea, "Faucher plus tard").await)
        .await;
    heading_with(&lea, "Faucher plus tard").await;
    accessible(&lea, "a proposal").await;
    let proposal = lea.url().await;
    lea.click(&link_or_button(&lea, "Soutenir cette proposition").await)
        .await;
    let refused = shown_text(&lea, "#refus").await;
    assert!(
        refused.contains("présentez votre numéro de participant"),
        "{refused}"
    );
    accessible(&lea, "a refused support").await;

    Box::pin(organiser_verifies(&site, &number, &process, &proposal)).await;

    // Now her support counts; she comments, then registers for the conference.
    lea.goto(&proposal).await;
    lea.click(&link_or_button(&lea, "Soutenir cette proposition").await)
        .await;
    arrived(&lea, "#soutiens").await;
    assert!(
        read(&lea)
            .await
            .contains("Vous soutenez cette proposition.")
    );
    lea.type_into(
        &lea.find("#commentaire").await,
        "Oui, après la floraison : les insectes en profitent.",
    )
    .await;
    lea.click(&link_or_button(&lea, "Publier le commentaire").await)
        .await;
    arrived(&lea, "#commentaires").await;
    assert!(read(&lea).await.contains("Léa du Livradois"));
    for_the_guides(&lea, "proposition", "#soutiens").await;
    Box::pin(proposes_at_a_place(&lea, &process)).await;
    Box::pin(registers_for_the_conference(&lea, &process)).await;
    Box::pin(votes_in_thiers(&site, &lea)).await;
    lea.quit().await;
}

/// The Département, signed in for its member, records Léa's residence from `number`,
/// and its forms pass axe-core.
async fn organiser_verifies(site: &SeededSite, number: &str, process: &str, proposal: &str) {
    // The Département records her residence from the number she shows.
    let organiser = signed_in_for(site, &departement(site).await.name).await;
    organiser.goto(&site.url("/espace/participation")).await;
    heading_with(&organiser, "Mes démarches participatives").await;
    let tools = read(&organiser).await;
    assert!(tools.contains("Quelle route pour demain ?"), "{tools}");
    accessible(&organiser, "/espace/participation").await;
    organiser
        .type_into(&organiser.find("#numero").await, number)
        .await;
    organiser
        .click(&link_or_button(&organiser, "Enregistrer la vérification").await)
        .await;
    arrived(&organiser, "?fait=verifie").await;
    for_the_guides(&organiser, "organisation", "main").await;
    // The organiser's forms pass axe-core too.
    for (path, heading) in [
        (
            "/espace/participation/nouvelle".to_string(),
            "Lancer une démarche",
        ),
        (
            format!("{}/rencontres/nouvelle", path_of(process)),
            "Programmer une rencontre",
        ),
        (
            format!("{}/budgets/nouveau", path_of(process)),
            "Ouvrir un budget",
        ),
    ] {
        organiser.goto(&site.url(&path)).await;
        heading_with(&organiser, heading).await;
        accessible(&organiser, &path).await;
    }
    organiser.goto(proposal).await;
    heading_with(&organiser, "Faucher plus tard").await;
    let as_organiser = read(&organiser).await;
    assert!(
        as_organiser.contains("Répondre à la proposition"),
        "{as_organiser}"
    );
    accessible(&organiser, "a proposal, for its organiser").await;
    organiser.quit().await;
}

/// Léa proposes an idea at a place of the map.
async fn proposes_at_a_place(lea: &Browser, process: &str) {
    // She proposes an idea at a place of the map.
    lea.goto(process).await;
    lea.click(&link_or_button(lea, "Déposer une proposition").await)
        .await;
    heading_with(lea, "Déposer une proposition").await;
    accessible(lea, "the proposal form").await;
    lea.type_into(
        &lea.find("#titre").await,
        "Un abri vélo devant l'Hôtel du Département",
    )
    .await;
    lea.type_into(
        &lea.find("#texte").await,
        "Les agents et les visiteurs viendraient plus souvent à vélo s'ils pouvaient le garer à l'abri.",
    )
    .await;
    lea.execute(
        "const place = [...document.querySelectorAll('#lieu option')]
           .find(o => o.textContent.includes('Hôtel du Département'));
         document.querySelector('#lieu').value = place.value;",
        vec![],
    )
    .await;
    lea.click(&link_or_button(lea, "Publier la proposition").await)
        .await;
    heading_with(lea, "Un abri vélo").await;
    let proposed = read(lea).await;
    assert!(
        proposed.contains("Proposée par Léa du Livradois"),
        "{proposed}"
    );
    assert!(proposed.contains("Où : Salle des assemblées"), "{proposed}");
}

/// Léa registers for the citizen conference.
async fn registers_for_the_conference(lea: &Browser, process: &str) {
    lea.goto(process).await;
    lea.click(&link_with_text(lea, "Conférence citoyenne").await)
        .await;
    heading_with(lea, "Conférence citoyenne").await;
    accessible(lea, "a meeting").await;
    lea.click(&link_or_button(lea, "M'inscrire").await).await;
    arrived(lea, "#inscription").await;
    let meeting = read(lea).await;
    assert!(meeting.contains("Vous êtes inscrit"), "{meeting}");
    assert!(meeting.contains("samedi 6 février 2027"), "{meeting}");
}

/// Léa votes in Thiers's budget: three projects within the envelope.
async fn votes_in_thiers(site: &SeededSite, lea: &Browser) {
    lea.goto(&site.url("/participation")).await;
    lea.click(&link_with_text(lea, "Budget participatif de Thiers").await)
        .await;
    lea.click(&link_with_text(lea, "Budget 2027").await).await;
    heading_with(lea, "Budget 2027").await;
    accessible(lea, "a budget").await;
    for item in ["Un jardin partagé", "Des bancs", "Une boîte à livres"] {
        let mut checked = false;
        for label in lea.find_all("main form label").await {
            if lea.text(&label).await.contains(item) {
                lea.click(&label).await;
                checked = true;
            }
        }
        assert!(checked, "{item} on the ballot");
    }
    lea.click(&link_or_button(lea, "Voter").await).await;
    arrived(lea, "#bulletin").await;
    let ballot = read(lea).await;
    assert!(
        ballot.contains("Votre bulletin est enregistré : 15 000,00 €"),
        "{ballot}"
    );
    for_the_guides(lea, "budget-participatif", "main").await;
}
