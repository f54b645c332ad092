//! The administration page through the site, in Chromium, over a seeded `fabrique
//! serve` on the embedded default and on PostgreSQL and NATS: an admin, signed in
//! through the real OpenID provider (her address is among the admins'), approves one
//! membership and refuses another with a reason, closes a proposed place seen beside
//! the listed place it duplicates, publishes another, and reads on that place's page
//! who published it; a suspended member's place is marked reviewed and the member
//! reinstated. The services agree. On NATS, an event no service can read is
//! listed among the events given up, and handing it back is refused in French. The
//! page passes axe-core.

use fabrique_api::members::{self as mp, members_service_client::MembersServiceClient};
use fabrique_api::registry::{self as rp, registry_service_client::RegistryServiceClient};
use fabrique_testkit::authed;
use fabrique_testkit::browser::Browser;

use crate::bookings::{landed, site_with_provider};
use crate::seeded_site::{SeededSite, arrived, for_the_guides, shown_text};
use crate::sign_in::sign_in_as;

const PAGE: &str = "/espace/administration";

async fn apply(site: &SeededSite, admin: &str, name: &str) -> String {
    let request = mp::CreateMemberRequest {
        member: Some(mp::Member {
            display_name: name.into(),
            kind: mp::MemberKind::Association as i32,
            territory: "Livradois-Forez".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    MembersServiceClient::new(site.channel().await)
        .create_member(authed(request, admin))
        .await
        .expect("apply")
        .into_inner()
        .name
}

/// Proposes a place (created, not yet listed) and returns its name.
async fn propose(site: &SeededSite, admin: &str, place: rp::Place) -> String {
    let request = rp::CreatePlaceRequest {
        place: Some(place),
        request_id: String::new(),
    };
    RegistryServiceClient::new(site.channel().await)
        .create_place(authed(request, admin))
        .await
        .expect("propose")
        .into_inner()
        .name
}

/// Presses `action` in the form that targets `target` (after typing `reason` in it, if
/// it has a reason field), and waits for the page to say `done`.
async fn act(browser: &Browser, target: &str, action: &str, reason: &str, done: &str) {
    browser
        .execute(
            "const [target, action, reason] = arguments;
             const form = [...document.querySelectorAll('main form')].find(form =>
                 form.querySelector(`input[name='cible'][value='${target}']`)
                 && form.querySelector(`button[value='${action}']`));
             const motif = form.querySelector(\"input[name='motif']\");
             if (motif) motif.value = reason;
             form.querySelector(`button[value='${action}']`).click();",
            vec![target.into(), action.into(), reason.into()],
        )
        .await;
    landed_with(browser, action).await;
    assert_eq!(shown_text(browser, "main [role='status']").await, done);
}

/// The page after an action: the administration page, scrolled to its section.
async fn landed_with(browser: &Browser, action: &str) {
    fabrique_testkit::eventually(action, std::time::Duration::from_secs(15), || async {
        let url = browser.url().await;
        (url.contains(&format!("{PAGE}?fait=")) && url.contains('#')).then_some(())
    })
    .await;
}

async fn member_state(site: &SeededSite, admin: &str, name: &str) -> (i32, String) {
    let member = MembersServiceClient::new(site.channel().await)
        .get_member(authed(mp::GetMemberRequest { name: name.into() }, admin))
        .await
        .expect("member")
        .into_inner();
    (member.state, member.state_reason)
}

async fn place_state(site: &SeededSite, admin: &str, name: &str) -> i32 {
    RegistryServiceClient::new(site.channel().await)
        .get_place(authed(rp::GetPlaceRequest { name: name.into() }, admin))
        .await
        .expect("place")
        .into_inner()
        .state
}

/// A poison published where members' events go is dead-lettered by the registry;
/// the page lists it, and handing it back is refused with the reason in French.
async fn events_the_services_gave_up_on(
    site: &SeededSite,
    browser: &Browser,
    url: &str,
    prefix: &str,
) {
    let nats = async_nats::connect(url).await.expect("NATS");
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("ce-id", uuid::Uuid::now_v7().to_string().as_str());
    async_nats::jetstream::new(nats)
        .publish_with_headers(
            format!("{prefix}fabrique.members.member.joined"),
            headers,
            "illisible".into(),
        )
        .await
        .expect("publish")
        .await
        .expect("stored");
    let section = fabrique_testkit::eventually(
        "the registry to give up on it",
        std::time::Duration::from_secs(30),
        || async {
            browser.goto(&site.url(PAGE)).await;
            let text = shown_text(browser, "section[aria-labelledby='evenements']").await;
            text.contains("Lieux : 1 événement en échec")
                .then_some(text)
        },
    )
    .await;
    assert!(section.contains("registry-members"), "{section}");
    browser
        .execute(
            "[...document.querySelectorAll(\"section[aria-labelledby='evenements'] form\")]
                 .find(form => form.querySelector(\"input[value^='deadLetters/registry/']\"))
                 .querySelector('button').click();",
            Vec::new(),
        )
        .await;
    let refusal = shown_text(browser, "#refus").await;
    assert!(
        refusal.contains("Le service ne peut toujours pas traiter cet événement"),
        "{refusal}"
    );
    let section = shown_text(browser, "section[aria-labelledby='evenements']").await;
    assert!(
        section.contains("Lieux : 1 événement en échec"),
        "{section}"
    );
    let violations = browser.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "events given up: {violations:?}");
}

async fn an_admin_decides_memberships_and_places(backend: &[(&str, &str)]) {
    // Marie, whom the OpenID provider knows, is an admin by her address.
    let mut settings = backend.to_vec();
    settings.push(("FABRIQUE_WEB_ADMINS", "marie.martin@thiers.example.fr"));
    let (site, _provider) = site_with_provider(&settings).await;
    let admin = site.admin_token().await;
    let welcome = apply(&site, &admin, "Repair café de Billom").await;
    let doubtful = apply(&site, &admin, "Association sans activité").await;

    // A seeded listed place, and a proposal for the same place a few metres away.
    let listed = RegistryServiceClient::new(site.channel().await)
        .list_places(authed(
            rp::ListPlacesRequest {
                page_size: 1,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("places")
        .into_inner()
        .places
        .into_iter()
        .next()
        .expect("the seed lists places");
    let at = listed.location.expect("a listed place is on the map");
    let twin = propose(
        &site,
        &admin,
        rp::Place {
            display_name: listed.display_name.to_lowercase(),
            kinds: listed.kinds.clone(),
            location: Some(rp::Location {
                latitude: at.latitude + 0.0001,
                longitude: at.longitude + 0.0001,
            }),
            ..Default::default()
        },
    )
    .await;
    let new_place = propose(
        &site,
        &admin,
        rp::Place {
            display_name: "Ressourcerie des Combrailles".into(),
            kinds: vec![rp::PlaceKind::Ressourcerie as i32],
            location: Some(rp::Location {
                latitude: 45.95,
                longitude: 2.72,
            }),
            ..Default::default()
        },
    )
    .await;

    let browser = sign_in_as(&site, "marie").await;
    arrived(&browser, "/espace").await;
    // Marie signs in as an admin.
    assert_eq!(
        shown_text(&browser, "main .badge").await,
        "administrateur de l'alliance"
    );
    browser.goto(&site.url(PAGE)).await;
    let pending = shown_text(&browser, "section[aria-labelledby='adhesions']").await;
    for name in ["Repair café de Billom", "Association sans activité"] {
        assert!(pending.contains(name), "{pending}");
    }
    let proposed = shown_text(&browser, "section[aria-labelledby='lieux-proposes']").await;
    let twin_block = proposed
        .split("Lieu proposé : ")
        .find(|block| block.starts_with(&listed.display_name.to_lowercase()))
        .unwrap_or_else(|| panic!("the twin is proposed: {proposed}"));
    assert!(
        twin_block.contains("Doublons possibles") && twin_block.contains(&listed.display_name),
        "the listed place beside its twin: {twin_block}"
    );
    let violations = browser.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "{PAGE}: {violations:?}");
    for_the_guides(&browser, "administration", "main").await;

    act(
        &browser,
        &welcome,
        "approuver",
        "",
        "L'adhésion est approuvée.",
    )
    .await;
    act(
        &browser,
        &doubtful,
        "refuser",
        "Aucune activité de transition",
        "L'adhésion est refusée.",
    )
    .await;
    let pending = shown_text(&browser, "section[aria-labelledby='adhesions']").await;
    assert!(
        !pending.contains("Repair café de Billom") && !pending.contains("Association sans"),
        "decided memberships leave the list: {pending}"
    );
    assert_eq!(
        member_state(&site, &admin, &welcome).await.0,
        mp::MemberState::Active as i32
    );
    assert_eq!(
        member_state(&site, &admin, &doubtful).await,
        (
            mp::MemberState::Left as i32,
            "Aucune activité de transition".to_string()
        )
    );

    act(&browser, &twin, "fermer", "Doublon", "Le lieu est fermé.").await;
    act(&browser, &new_place, "publier", "", "Le lieu est publié.").await;
    assert_eq!(
        place_state(&site, &admin, &twin).await,
        rp::PlaceState::Closed as i32
    );
    assert_eq!(
        place_state(&site, &admin, &new_place).await,
        rp::PlaceState::Listed as i32
    );

    // The approved member runs a place; suspended, its place is to review: marked
    // reviewed, then the member reinstated.
    let place = rp::Place {
        display_name: "Repair café de Billom".into(),
        kinds: vec![rp::PlaceKind::RepairWorkshop as i32],
        operator: welcome.clone(),
        location: Some(rp::Location {
            latitude: 45.7225,
            longitude: 3.3390,
        }),
        ..Default::default()
    };
    let cafe = fabrique_testkit::eventually(
        "the registry to know the member",
        std::time::Duration::from_secs(30),
        || {
            let (site, admin, place) = (&site, admin.clone(), place.clone());
            async move {
                let request = rp::CreatePlaceRequest {
                    place: Some(place),
                    request_id: String::new(),
                };
                RegistryServiceClient::new(site.channel().await)
                    .create_place(authed(request, &admin))
                    .await
                    .ok()
                    .map(|made| made.into_inner().name)
            }
        },
    )
    .await;
    browser.goto(&site.url(PAGE)).await;
    act(&browser, &cafe, "publier", "", "Le lieu est publié.").await;
    MembersServiceClient::new(site.channel().await)
        .suspend_member(authed(
            mp::SuspendMemberRequest {
                name: welcome.clone(),
                reason: "Cotisation en retard".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("suspend");
    fabrique_testkit::eventually(
        "the place to need review",
        std::time::Duration::from_secs(30),
        || async {
            browser.goto(&site.url(PAGE)).await;
            let text = shown_text(&browser, "section[aria-labelledby='lieux-a-revoir']").await;
            text.contains("Repair café de Billom").then_some(())
        },
    )
    .await;
    let suspended = shown_text(&browser, "section[aria-labelledby='suspendus']").await;
    assert!(
        suspended.contains("Repair café de Billom Cotisation en retard"),
        "{suspended}"
    );
    act(
        &browser,
        &cafe,
        "revu",
        "",
        "Le lieu est marqué comme revu.",
    )
    .await;
    act(&browser, &welcome, "retablir", "", "Le membre est rétabli.").await;
    assert_eq!(
        member_state(&site, &admin, &welcome).await.0,
        mp::MemberState::Active as i32
    );
    let suspended = shown_text(&browser, "section[aria-labelledby='suspendus']").await;
    assert!(
        suspended.contains("Aucun membre n'est suspendu."),
        "{suspended}"
    );

    // On NATS, an event the services can never read: every consumer of members gives up
    // on it; handing it back is refused in French, and it stays.
    let setting = |name: &str| backend.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    if let (Some(url), Some(prefix)) = (
        setting("FABRIQUE_NATS_URL"),
        setting("FABRIQUE_SUBJECT_PREFIX"),
    ) {
        events_the_services_gave_up_on(&site, &browser, url, prefix).await;
    }

    // Who did it, on the place's own page.
    let href = format!("/lieux/{}", new_place.trim_start_matches("places/"));
    browser.goto(&site.url(&href)).await;
    let history = shown_text(&browser, "section[aria-labelledby='historique']").await;
    assert!(history.contains("Lieu publié"), "{history}");
    landed(&browser, &href).await;
    browser.quit().await;
}

#[tokio::test]
async fn an_admin_decides_memberships_and_places_on_the_embedded_default() {
    an_admin_decides_memberships_and_places(&[]).await;
}

#[tokio::test]
async fn an_admin_decides_memberships_and_places_on_postgres_and_nats() {
    let postgres = crate::seeded_site::OnPostgres::new().await;
    an_admin_decides_memberships_and_places(&postgres.settings()).await;
}
