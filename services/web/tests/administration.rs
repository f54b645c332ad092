//! "Administration" over real HTTP, against the real services: an admin approves or
//! refuses memberships, publishes a proposed place seen beside its possible duplicate
//! or closes it, marks a place reviewed, reinstates a suspended member, and sends a
//! given-up e-mail again; a member who is not an admin is refused the page.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{draft, place, site_with};
use fabrique_api::members::{self as mp, MemberKind, members_service_client::MembersServiceClient};
use fabrique_api::registry::{self as rp, registry_service_client::RegistryServiceClient};
use fabrique_notify::NotifyConfig;
use fabrique_notify::domain::Retry;
use fabrique_notify::transport::Transport;
use fabrique_platform::service::Service;
use fabrique_testkit::http::{Page, get_with_cookie, post_form};
use fabrique_testkit::{Backend, BusChoice, TestPlatform, authed, eventually};
use fabrique_web::auth::link::{self, LinkFor};
use fabrique_web::auth::{ApiSigner, SignIn};

const KEY: [u8; 32] = [9; 32];
const WAIT: Duration = Duration::from_secs(30);

/// Every service the site reads; notify writes to an SMTP port where nothing listens
/// and gives up at the first failure, so that the page has an e-mail to send again.
async fn platform(backend: Backend) -> TestPlatform {
    let nowhere = format!("smtp://127.0.0.1:{}", fabrique_testkit::free_port());
    let mut notify = NotifyConfig::new(
        Transport::smtp(&nowhere).expect("an SMTP URL"),
        "http://127.0.0.1",
    );
    notify.admins =
        vec![fabrique_notify::domain::parse_address("admin@alliance.test").expect("an address")];
    notify.retry = Retry {
        max_attempts: 1,
        ..Retry::default()
    };
    let services: Vec<Arc<dyn Service>> = vec![
        Arc::new(fabrique_members::MembersService),
        Arc::new(fabrique_registry::RegistryServiceModule),
        Arc::new(fabrique_sharing::SharingServiceModule),
        Arc::new(fabrique_projects::ProjectsServiceModule),
        Arc::new(fabrique_notify::NotifyServiceModule::new(notify)),
        Arc::new(fabrique_participation::ParticipationServiceModule),
    ];
    let bus = match backend {
        Backend::Postgres => BusChoice::SharedNats,
        Backend::Sqlite => BusChoice::InProcess,
    };
    TestPlatform::spawn(services, backend, bus).await
}

async fn apply(platform: &TestPlatform, name: &str) -> String {
    let mut members = MembersServiceClient::new(platform.channel().await);
    let request = mp::CreateMemberRequest {
        member: Some(mp::Member {
            display_name: name.into(),
            kind: MemberKind::Association as i32,
            ..Default::default()
        }),
        request_id: String::new(),
    };
    members
        .create_member(authed(request, &TestPlatform::admin_token()))
        .await
        .expect("apply")
        .into_inner()
        .name
}

/// The page's text as read: tags out, spaces collapsed, entities decoded.
fn visible(page: &Page) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in page.words().chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").expect("a form") + 19;
    page[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

async fn admins_decide_what_waits_for_them(backend: Backend) {
    let platform = platform(backend).await;
    let api = ApiSigner::hs256(fabrique_testkit::secret().to_string(), None, None);
    let sign_in = SignIn::new("http://127.0.0.1", KEY.to_vec(), api);
    let web = fabrique_web::Web::new(&format!("http://{}", platform.addr))
        .expect("a valid API URL")
        .with_sign_in(sign_in.clone());
    let site = site_with(web).await;
    let same_site = [("Sec-Fetch-Site", "same-origin")];
    let admin_link = link::sign(&sign_in.session_key, LinkFor::Admin);
    let signed_in = post_form(
        site,
        "/connexion/lien",
        &same_site,
        &[("jeton", &admin_link)],
    )
    .await;
    let cookie = signed_in.cookie().expect("a session");
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];

    let welcome = apply(&platform, "Repair café de Billom").await;
    let doubtful = apply(&platform, "Association fictive").await;

    // The memberships, and the e-mails that could not leave (the admins' news of them).
    let page: Page = eventually("the e-mails to be given up", WAIT, || {
        let cookie = cookie.clone();
        async move {
            let page = get_with_cookie(site, "/espace/administration", &cookie).await;
            let words = visible(&page);
            (words.contains("Nouvelle adhésion : Association fictive")
                && words.contains("Nouvelle adhésion : Repair café de Billom"))
            .then_some(page)
        }
    })
    .await;
    let words = visible(&page);
    assert!(words.contains("Adhésions à valider Membre"), "{words}");
    assert!(
        words.contains("2 courriel(s) n'ont pas pu partir"),
        "{words}"
    );
    let csrf = csrf_of(&page.body);
    let act = |action: &'static str, target: String, reason: &'static str| {
        let (csrf, headers) = (csrf.clone(), headers);
        async move {
            let fields = [
                ("csrf", csrf.as_str()),
                ("action", action),
                ("cible", target.as_str()),
                ("motif", reason),
            ];
            post_form(site, "/espace/administration", &headers, &fields).await
        }
    };
    let approved = act("approuver", welcome.clone(), "").await;
    assert_eq!(approved.status, 303, "{}", approved.body);
    assert_eq!(
        approved.header("location"),
        Some("/espace/administration?fait=approuve#adhesions")
    );
    let refused = act("refuser", doubtful.clone(), "Aucune activité de transition").await;
    assert_eq!(refused.status, 303, "{}", refused.body);
    let again = act("approuver", welcome.clone(), "").await;
    assert_eq!(again.status, 409);
    assert!(
        again.words().contains("Cette adhésion a déjà été traitée."),
        "{}",
        again.words()
    );
    let failed = page
        .body
        .split("name=\"cible\" value=\"deliveries/")
        .nth(1)
        .expect("an e-mail to send again");
    let delivery = format!(
        "deliveries/{}",
        failed.split('"').next().unwrap_or_default()
    );
    let retried = act("renvoyer", delivery, "").await;
    assert_eq!(retried.status, 303, "{}", retried.body);
    let after = get_with_cookie(site, "/espace/administration?fait=renvoye", &cookie).await;
    let words = visible(&after);
    assert!(words.contains("Le courriel repart."), "{words}");
    assert!(
        words.contains("Aucune adhésion n'attend de décision."),
        "{words}"
    );
    assert!(
        words.contains("Association fictive Association Aucune activité de transition"),
        "{words}"
    );

    // The repair café's place is listed; another one nearby with a similar name is
    // proposed: seen beside it, closed as a duplicate.
    let admin = TestPlatform::admin_token();
    let mut registry = RegistryServiceClient::new(platform.channel().await);
    let mut cafe = draft(
        "Repair café de Billom",
        rp::PlaceKind::RepairWorkshop,
        45.7225,
        3.3390,
    );
    cafe.operator = welcome.clone();
    eventually("the registry to know the member", WAIT, || {
        let (mut registry, cafe, admin) = (registry.clone(), cafe.clone(), admin.clone());
        async move {
            let request = rp::CreatePlaceRequest {
                place: Some(cafe),
                request_id: String::new(),
            };
            registry.create_place(authed(request, &admin)).await.ok()
        }
    })
    .await
    .into_inner();
    let listed = get_with_cookie(site, "/espace/administration", &cookie).await;
    let cafe_place = listed
        .body
        .split("name=\"cible\" value=\"places/")
        .nth(1)
        .expect("the café proposed");
    let cafe_place = format!(
        "places/{}",
        cafe_place.split('"').next().unwrap_or_default()
    );
    assert_eq!(act("publier", cafe_place, "").await.status, 303);
    let twin = draft(
        "Repair Café Billom",
        rp::PlaceKind::RepairWorkshop,
        45.7226,
        3.3392,
    );
    let twin = place(&mut registry, &admin, twin, false).await;
    let side_by_side = get_with_cookie(site, "/espace/administration", &cookie).await;
    let words = visible(&side_by_side);
    assert!(
        words.contains("Lieu proposé : Repair Café Billom"),
        "{words}"
    );
    assert!(
        words.contains("Doublons possibles Repair café de Billom"),
        "{words}"
    );
    let closed = act("fermer", format!("places/{twin}"), "Doublon").await;
    assert_eq!(closed.status, 303, "{}", closed.body);

    // Its member suspended: the place is to review, the member to reinstate.
    let mut members = MembersServiceClient::new(platform.channel().await);
    let suspend = mp::SuspendMemberRequest {
        name: welcome.clone(),
        reason: "Cotisation en retard".into(),
        ..Default::default()
    };
    members
        .suspend_member(authed(suspend, &admin))
        .await
        .expect("suspend");
    let flagged: Page = eventually("the place to need review", WAIT, || {
        let cookie = cookie.clone();
        async move {
            let page = get_with_cookie(site, "/espace/administration", &cookie).await;
            (!visible(&page).contains("Aucun lieu n'est à revoir.")).then_some(page)
        }
    })
    .await;
    let words = visible(&flagged);
    assert!(
        words.contains("Aucun lieu n'attend d'être publié."),
        "{words}"
    );
    assert!(
        words.contains("Repair café de Billom Cotisation en retard"),
        "{words}"
    );
    let to_review = flagged
        .body
        .split("value=\"revu\"")
        .next()
        .and_then(|before| before.rsplit("name=\"cible\" value=\"").next())
        .and_then(|rest| rest.split('"').next())
        .expect("the place to review")
        .to_string();
    assert_eq!(act("revu", to_review, "").await.status, 303);
    assert_eq!(act("retablir", welcome.clone(), "").await.status, 303);
    let after = get_with_cookie(site, "/espace/administration", &cookie).await;
    assert!(
        after.words().contains("Aucun lieu n'est à revoir."),
        "{}",
        after.words()
    );
    assert!(
        after.words().contains("Aucun membre n'est suspendu."),
        "{}",
        after.words()
    );

    // A member's person is no admin.
    let id = welcome.trim_start_matches("members/").to_string();
    let member_link = link::sign(&sign_in.session_key, LinkFor::Member(id));
    let member = post_form(
        site,
        "/connexion/lien",
        &same_site,
        &[("jeton", &member_link)],
    )
    .await;
    let cookie = member.cookie().expect("a member's session");
    let refused = get_with_cookie(site, "/espace/administration", &cookie).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
}

/// Puts on the bus `payload` as a dead letter of `consumer` (of `service`) that failed
/// on an event of `subject`; the event's id.
async fn dead_letter(
    platform: &TestPlatform,
    (service, consumer): (&str, &str),
    subject: &str,
    member: &str,
    payload: Vec<u8>,
) -> uuid::Uuid {
    use fabrique_platform::bus::{OutgoingMessage, Subjects};
    use fabrique_platform::consumer::{DLQ_CONSUMER, DLQ_DELIVERIES, DLQ_REASON, DLQ_SUBJECT};
    let subjects = Subjects::new(platform.prefix.clone());
    let id = uuid::Uuid::now_v7();
    let mut headers = fabrique_platform::event::event_headers(
        id,
        &fabrique_platform::event::source_of("members"),
        "fabrique.members.v1.MemberJoined",
        member,
        chrono::Utc::now(),
    );
    headers.insert(DLQ_SUBJECT, subjects.full(subject));
    headers.insert(DLQ_CONSUMER, consumer.to_string());
    headers.insert(DLQ_DELIVERIES, "5");
    headers.insert(DLQ_REASON, "database unavailable");
    platform
        .bus
        .publish(OutgoingMessage {
            subject: subjects.dlq_subject(service),
            headers,
            payload: bytes::Bytes::from(payload),
        })
        .await
        .expect("publish")
        .await
        .expect("stored");
    id
}

/// The events the services gave up on: counted per service, handed back to the
/// consumer that failed on them once the cause is gone; one that still fails is
/// refused in French and stays.
async fn admins_hand_failed_events_back(backend: Backend) {
    let platform = platform(backend).await;
    let api = ApiSigner::hs256(fabrique_testkit::secret().to_string(), None, None);
    let sign_in = SignIn::new("http://127.0.0.1", KEY.to_vec(), api);
    let web = fabrique_web::Web::new(&format!("http://{}", platform.addr))
        .expect("a valid API URL")
        .with_sign_in(sign_in.clone());
    let site = site_with(web).await;
    let same_site = [("Sec-Fetch-Site", "same-origin")];
    let admin_link = link::sign(&sign_in.session_key, LinkFor::Admin);
    let cookie = post_form(
        site,
        "/connexion/lien",
        &same_site,
        &[("jeton", &admin_link)],
    )
    .await
    .cookie()
    .expect("a session");
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    let quiet = get_with_cookie(site, "/espace/administration", &cookie).await;
    assert!(
        visible(&quiet).contains("Événements en échec"),
        "{}",
        visible(&quiet)
    );
    assert!(visible(&quiet).contains("Aucun événement en échec."));

    // A member's arrival the registry failed to apply, and one it can never read.
    let id = uuid::Uuid::now_v7();
    let member = format!("members/{id}");
    let joined = mp::MemberJoined {
        member: Some(mp::MemberSnapshot {
            id: id.to_string(),
            display_name: "Ressourcerie du Livradois".into(),
            kind: MemberKind::Association as i32,
            state: mp::MemberState::Active as i32,
            version: 2,
            ..Default::default()
        }),
        occurred_at: None,
    };
    let subject = "fabrique.members.member.joined";
    let consumer = ("registry", "registry-members");
    dead_letter(
        &platform,
        consumer,
        subject,
        &member,
        prost::Message::encode_to_vec(&joined),
    )
    .await;
    dead_letter(&platform, consumer, subject, &member, b"illisible".to_vec()).await;
    let page = get_with_cookie(site, "/espace/administration", &cookie).await;
    let words = visible(&page);
    assert!(words.contains("Lieux : 2 événements en échec"), "{words}");
    assert!(
        words.contains("registry-members database unavailable 5"),
        "{words}"
    );
    let letters: Vec<String> = page
        .body
        .split("name=\"cible\" value=\"deadLetters/")
        .skip(1)
        .map(|rest| format!("deadLetters/{}", rest.split('"').next().unwrap_or_default()))
        .collect();
    assert_eq!(letters.len(), 2, "{letters:?}");
    let csrf = csrf_of(&page.body);
    let replay = |letter: String| {
        let (csrf, headers) = (csrf.clone(), headers);
        async move {
            let fields = [
                ("csrf", csrf.as_str()),
                ("action", "rejouer"),
                ("cible", letter.as_str()),
            ];
            post_form(site, "/espace/administration", &headers, &fields).await
        }
    };
    let replayed = replay(letters[0].clone()).await;
    assert_eq!(replayed.status, 303, "{}", replayed.body);
    assert_eq!(
        replayed.header("location"),
        Some("/espace/administration?fait=rejoue#evenements")
    );
    let mut registry = RegistryServiceClient::new(platform.channel().await);
    let mut place = draft(
        "Ressourcerie du Livradois",
        rp::PlaceKind::Ressourcerie,
        45.6,
        3.5,
    );
    place.operator = member.clone();
    registry
        .create_place(authed(
            rp::CreatePlaceRequest {
                place: Some(place),
                request_id: String::new(),
            },
            &TestPlatform::admin_token(),
        ))
        .await
        .expect("the registry knows the member now");
    let refused = replay(letters[1].clone()).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    let words = visible(&refused);
    assert!(
        words.contains("Le service ne peut toujours pas traiter cet événement"),
        "{words}"
    );
    assert!(words.contains("Lieux : 1 événement en échec"), "{words}");
}

#[tokio::test]
async fn admins_hand_failed_events_back_on_postgres() {
    admins_hand_failed_events_back(Backend::Postgres).await;
}

#[tokio::test]
async fn admins_hand_failed_events_back_on_sqlite() {
    admins_hand_failed_events_back(Backend::Sqlite).await;
}

#[tokio::test]
async fn admins_decide_what_waits_for_them_on_postgres() {
    admins_decide_what_waits_for_them(Backend::Postgres).await;
}

#[tokio::test]
async fn admins_decide_what_waits_for_them_on_sqlite() {
    admins_decide_what_waits_for_them(Backend::Sqlite).await;
}
