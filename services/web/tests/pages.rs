//! The site's public pages over real HTTP, reading a real registry through its gRPC API:
//! what a visitor sees, in French, and what it must never see (a place not listed,
//! markup from a description run as such). On PostgreSQL + NATS and on SQLite + the
//! in-process bus.

mod common;

use std::sync::Arc;

use common::{alliance, platform, site};
use fabrique_platform::service::Service;
use fabrique_testkit::http::get;
use fabrique_testkit::{Backend, BusChoice, TestPlatform, authed, token};

async fn a_visitor_finds_places_and_reads_one(backend: Backend) {
    let platform = platform(backend).await;
    let places = alliance(&platform).await;
    let site = site(&format!("http://{}", platform.addr)).await;

    let home = get(site, "/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("<html lang=\"fr\">"));
    assert!(
        home.body
            .contains("Bienvenue sur la Fabrique des transitions")
    );

    // The list: listed places only, with their kinds in French.
    let list = get(site, "/lieux").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(
        list.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let text = list.text();
    for name in [
        "FabLab de Thiers",
        "Atelier vélo de Thiers",
        "Ressourcerie d&#39;Ambert",
    ] {
        assert!(text.contains(name), "{name} is not listed:\n{text}");
    }
    assert!(
        !text.contains("Lieu en attente"),
        "a proposed place is listed"
    );
    assert!(text.contains("3 lieux"));
    assert!(text.contains("Atelier de réparation"));
    assert!(text.contains(&format!("href=\"/lieux/{}\"", places.fablab)));

    // Filters: by kind, by capability, by text; each keeps only what matches.
    for (query, only) in [
        ("/lieux?type=fablab", "FabLab de Thiers"),
        ("/lieux?equipement=laser_cutting", "FabLab de Thiers"),
        ("/lieux?q=ambert", "Ressourcerie d&#39;Ambert"),
        (
            "/lieux?q=v%C3%A9lo&type=repair_workshop",
            "Atelier vélo de Thiers",
        ),
    ] {
        let page = get(site, query).await;
        assert_eq!(page.status, 200, "{query}");
        let text = page.text();
        assert!(text.contains("1 lieu"), "{query}:\n{text}");
        assert!(text.contains(only), "{query} lost {only}");
    }
    let none = get(site, "/lieux?q=introuvable").await;
    assert!(
        none.text()
            .contains("Aucun lieu ne correspond à ces critères.")
    );
    // The filter form shows what was chosen.
    let chosen = get(site, "/lieux?type=fablab&equipement=laser_cutting").await;
    assert!(
        chosen
            .body
            .contains("<option value=\"fablab\" selected>FabLab</option>")
    );
    assert!(
        chosen
            .body
            .contains("<option value=\"laser_cutting\" selected>Découpe laser</option>")
    );

    // A place's page: kinds, hours, contact, capabilities in French, places nearby.
    let fablab = get(site, &format!("/lieux/{}", places.fablab)).await;
    assert_eq!(fablab.status, 200, "{}", fablab.body);
    let text = fablab.text();
    assert!(text.contains("<h1>FabLab de Thiers</h1>"));
    assert!(text.contains("<th scope=\"row\">Lundi</th><td>09 h 00 – 18 h 00</td>"));
    assert!(text.contains("<th scope=\"row\">Samedi</th><td>10 h 00 – 12 h 00</td>"));
    assert!(text.contains("<th scope=\"row\">Dimanche</th><td>fermé</td>"));
    assert!(
        text.contains("Ouvert en ce moment") || text.contains("Fermé en ce moment"),
        "no open-now status"
    );
    assert!(text.contains("Découpe laser"));
    assert!(text.contains("Impression 3D"));
    assert!(text.contains("1 rue de la Coutellerie<br>63300 Thiers"));
    assert!(text.contains("href=\"https://fablab-thiers.example.org/\""));
    assert!(text.contains("réemploi"));
    let nearby = text.split("À proximité").nth(1).expect("a nearby section");
    assert!(nearby.contains("Atelier vélo de Thiers"), "{nearby}");
    assert!(
        nearby.contains(" km") || nearby.contains(" m<"),
        "no distance"
    );
    assert!(!nearby.contains("Ambert"), "Ambert is 35 km away");
    // Markup in a description is text, never markup.
    assert!(
        ["&lt;script&gt;alert(", "&#60;script&#62;alert("]
            .iter()
            .any(|escaped| text.contains(escaped)),
        "the description's markup is not shown escaped"
    );
    assert!(
        !fablab.body.contains("<script"),
        "a script tag reached the page"
    );

    // What is not listed, or does not exist, is a French 404.
    for path in [
        format!("/lieux/{}", places.proposed),
        "/lieux/0190a000-0000-7000-8000-000000000000".to_string(),
        "/lieux/pas-un-identifiant".to_string(),
        "/nulle-part".to_string(),
    ] {
        let page = get(site, &path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.body.contains("Page introuvable"), "{path}");
    }
    assert!(!places.repair.is_empty() && !places.ressourcerie.is_empty());
}

#[tokio::test]
async fn a_visitor_finds_places_and_reads_one_on_postgres() {
    a_visitor_finds_places_and_reads_one(Backend::Postgres).await;
}

#[tokio::test]
async fn a_visitor_finds_places_and_reads_one_on_sqlite() {
    a_visitor_finds_places_and_reads_one(Backend::Sqlite).await;
}

/// Every response carries the security headers; the policy allows no inline script,
/// nothing from elsewhere, and no framing.
#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let platform = platform(Backend::Sqlite).await;
    let site = site(&format!("http://{}", platform.addr)).await;
    for path in ["/", "/lieux", "/static/site.css", "/nulle-part"] {
        let page = get(site, path).await;
        let policy = page
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no Content-Security-Policy"));
        assert!(policy.contains("default-src 'self'"), "{path}: {policy}");
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert_eq!(page.header("referrer-policy"), Some("same-origin"));
    }
    let css = get(site, "/static/site.css").await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(css.body.contains(":focus-visible"));
}

/// When the registry does not answer, the visitor gets a French 503, not a blank page
/// nor the error's details; the site itself stays up.
#[tokio::test]
async fn a_service_that_does_not_answer_is_said_in_french() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let nobody = closed.local_addr().expect("an address");
    drop(closed);
    let site = site(&format!("http://{nobody}")).await;
    let page = get(site, "/lieux").await;
    assert_eq!(page.status, 503);
    assert!(page.body.contains("Service momentanément indisponible"));
    assert!(!page.body.contains("transport error"), "{}", page.body);
    assert_eq!(get(site, "/healthz").await.status, 200);
}

/// A funder, as the members service records it once approved: `members/{id}`.
async fn active_member(
    platform: &TestPlatform,
    admin: &str,
    name: &str,
    kind: fabrique_api::members::MemberKind,
) -> String {
    active(
        platform,
        admin,
        fabrique_api::members::Member {
            display_name: name.into(),
            kind: kind as i32,
            siren: fabrique_testkit::siren_for(kind),
            ..Default::default()
        },
    )
    .await
}

/// `member` created and approved by an admin; its name.
async fn active(
    platform: &TestPlatform,
    admin: &str,
    member: fabrique_api::members::Member,
) -> String {
    use fabrique_api::members::{self as mp, members_service_client::MembersServiceClient};
    let mut members = MembersServiceClient::new(platform.channel().await);
    let created = members
        .create_member(authed(
            mp::CreateMemberRequest {
                member: Some(member),
                request_id: String::new(),
            },
            admin,
        ))
        .await
        .expect("create member")
        .into_inner();
    members
        .approve_member(authed(
            mp::ApproveMemberRequest {
                name: created.name.clone(),
                ..Default::default()
            },
            admin,
        ))
        .await
        .expect("approve member");
    created.name
}

/// Programmes: the list and a programme's page say its rules in French and draw its
/// envelope, with the amounts written out; an unknown programme is a French 404. The
/// directory: active allies only, filtered by kind, a funder's page with what it
/// funds, never a contact person.
#[tokio::test]
async fn a_visitor_reads_programmes_and_the_directory_of_allies() {
    use fabrique_api::projects::{self as pp, projects_service_client::ProjectsServiceClient};
    let services: Vec<Arc<dyn Service>> = vec![
        Arc::new(fabrique_members::MembersService),
        Arc::new(fabrique_registry::RegistryServiceModule),
        Arc::new(fabrique_projects::ProjectsServiceModule),
        // A member's page lists the resources it offers too.
        Arc::new(fabrique_sharing::SharingServiceModule),
    ];
    let platform = TestPlatform::spawn(services, Backend::Sqlite, BusChoice::InProcess).await;
    let admin = token("admin", &["admin"]);
    use fabrique_api::members::MemberKind;
    let funder = active_member(
        &platform,
        &admin,
        "Département du Puy-de-Dôme",
        MemberKind::Departement,
    )
    .await;
    let region = active_member(
        &platform,
        &admin,
        "Région Auvergne-Rhône-Alpes",
        MemberKind::Region,
    )
    .await;
    let projects = ProjectsServiceClient::new(platform.channel().await);
    let draft = pp::Programme {
        title: "Solaire Dôme".into(),
        description: "Des toits publics au service de l'énergie solaire.".into(),
        funder: funder.clone(),
        envelope_cents: 50_000_000,
        aid_per_unit_cents: 500_000,
        unit_label: "installation photovoltaïque de 9 kWc".into(),
        eligible_kinds: vec!["commune".into(), "epci".into()],
        max_awards_per_member: 1,
        co_funders: vec![pp::CoFunder {
            member: region.clone(),
            share_basis_points: 2500,
            ..Default::default()
        }],
        opens_at: Some(prost_types::Timestamp {
            seconds: 1_593_561_600, // 1 July 2020, 00:00 UTC
            nanos: 0,
        }),
        ..Default::default()
    };
    // The projects service learns the funder from the members' events.
    let programme = fabrique_testkit::eventually(
        "the projects service to know the funder",
        std::time::Duration::from_secs(20),
        || {
            let (mut projects, draft, admin) = (projects.clone(), draft.clone(), admin.clone());
            async move {
                projects
                    .create_programme(authed(
                        pp::CreateProgrammeRequest {
                            programme: Some(draft),
                            request_id: String::new(),
                        },
                        &admin,
                    ))
                    .await
                    .ok()
                    .map(tonic::Response::into_inner)
            }
        },
    )
    .await;
    let id = programme
        .name
        .strip_prefix("programmes/")
        .expect("programmes/{id}")
        .to_string();
    let site = site(&format!("http://{}", platform.addr)).await;

    let list = get(site, "/programmes").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let text = list.text();
    assert!(text.contains(&format!("href=\"/programmes/{id}\">Solaire Dôme</a>")));
    assert!(text.contains("Financeur : Département du Puy-de-Dôme"));
    assert!(text.contains("Ouvert aux demandes"));
    assert!(text.contains("<dt>500 000,00 €</dt>"), "{text}");

    let page = get(site, &format!("/programmes/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let text = page.text();
    assert!(text.contains("<h1>Solaire Dôme</h1>"));
    assert!(text.contains("Depuis le 1er juillet 2020"), "{text}");
    assert!(text.contains("5 000,00 € par installation photovoltaïque de 9 kWc"));
    assert!(text.contains("Une aide par membre au plus."));
    assert!(text.contains("Réservé aux communes et intercommunalités."));
    assert!(
        text.contains("Région Auvergne-Rhône-Alpes : 25 % de l&#39;aide"),
        "{text}"
    );
    // The gauge: drawn (an image with its sentence) and written out.
    assert!(text.contains("role=\"img\""));
    assert!(text.contains(
        "aria-label=\"Enveloppe totale 500 000,00 € : Engagé 0,00 €, dont versé 0,00 €, Disponible 500 000,00 €\""
    ));
    assert!(text.contains("<dt>0,00 €</dt>"));
    assert!(!text.contains("entièrement engagée"));

    assert!(
        text.contains("Aucune demande pour l&#39;instant."),
        "{text}"
    );

    // A commune's application approved: the counts and the open-data file follow.
    // Thiers, from the Puy-de-Dôme's open data.
    let commune = active(
        &platform,
        &admin,
        fabrique_api::members::Member {
            display_name: "Commune de Thiers".into(),
            kind: fabrique_api::members::MemberKind::Commune as i32,
            insee_code: "63430".into(),
            siren: "216304303".into(),
            ..Default::default()
        },
    )
    .await;
    let commune_token = token(commune.strip_prefix("members/").expect("id"), &["member"]);
    let application = fabrique_testkit::eventually(
        "the projects service to know the commune",
        std::time::Duration::from_secs(20),
        || {
            let (mut projects, token) = (projects.clone(), commune_token.clone());
            let parent = programme.name.clone();
            async move {
                projects
                    .create_application(authed(
                        pp::CreateApplicationRequest {
                            parent,
                            application: Some(pp::Application {
                                units: 1,
                                purpose: "Toiture de l'école".into(),
                                ..Default::default()
                            }),
                            request_id: String::new(),
                            validate_only: false,
                        },
                        &token,
                    ))
                    .await
                    .ok()
                    .map(tonic::Response::into_inner)
            }
        },
    )
    .await;
    let mut approving = projects.clone();
    approving
        .approve_application(authed(
            pp::ApproveApplicationRequest {
                name: application.name.clone(),
            },
            &admin,
        ))
        .await
        .expect("approve");
    let page = get(site, &format!("/programmes/{id}")).await.text();
    assert!(page.contains("1 demande, dont 1 aide attribuée."), "{page}");
    assert!(page.contains(&format!("href=\"/programmes/{id}/aides.csv\"")));
    let csv = get(site, &format!("/programmes/{id}/aides.csv")).await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment; filename=\"aides-"))
    );
    let mut lines = csv.body.lines();
    assert!(
        lines
            .next()
            .is_some_and(|header| header.starts_with("nomAttribuant"))
    );
    // One award, one row per funder: the Département's aid, the Région's part.
    for (funder, amount) in [
        ("Département du Puy-de-Dôme", "5000.00"),
        ("Région Auvergne-Rhône-Alpes", "1250.00"),
    ] {
        let row = lines.next().expect("a row per funder");
        assert!(
            row.starts_with(funder) && row.contains("Commune de Thiers") && row.contains(amount),
            "{row}"
        );
    }
    assert_eq!(lines.next(), None);

    let unknown = get(site, "/programmes/0190a000-0000-7000-8000-000000000000").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("Page introuvable"));

    // The directory: active allies with their kind; a filter by kind; the funder's page
    // with what it funds; never a contact person; a pending member is nowhere.
    let pending = pending_member_with_a_contact(&platform, &admin).await;
    let allies = get(site, "/allies").await;
    assert_eq!(allies.status, 200, "{}", allies.body);
    let text = allies.text();
    assert!(text.contains("Département du Puy-de-Dôme"));
    assert!(text.contains("Région Auvergne-Rhône-Alpes"));
    assert!(text.contains("3 alliés"), "with the commune: {text}");
    assert!(!text.contains("Ressourcerie en attente"));
    let regions = get(site, "/allies?type=region").await.text();
    assert!(regions.contains("1 allié") && regions.contains("Région Auvergne-Rhône-Alpes"));
    assert!(!regions.contains("Département du Puy-de-Dôme"));
    let funder_id = funder.strip_prefix("members/").expect("members/{id}");
    let page = get(site, &format!("/allies/{funder_id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let text = page.text();
    assert!(text.contains("<h1>Département du Puy-de-Dôme</h1>"));
    assert!(text.contains("Membre depuis le"));
    assert!(text.contains("Programmes financés"));
    assert!(text.contains(&format!("href=\"/programmes/{id}\">Solaire Dôme</a>")));
    assert!(text.contains("Aucun lieu référencé."));
    let hidden = get(
        site,
        &format!("/allies/{}", pending.trim_start_matches("members/")),
    )
    .await;
    assert_eq!(hidden.status, 404);
    assert!(!hidden.body.contains("Camille Martin"));
}

/// A member left PENDING, with a contact person the public must never see.
async fn pending_member_with_a_contact(platform: &TestPlatform, admin: &str) -> String {
    use fabrique_api::members::{self as mp, members_service_client::MembersServiceClient};
    MembersServiceClient::new(platform.channel().await)
        .create_member(authed(
            mp::CreateMemberRequest {
                member: Some(mp::Member {
                    display_name: "Ressourcerie en attente".into(),
                    kind: mp::MemberKind::Association as i32,
                    contacts: vec![mp::Contact {
                        full_name: "Camille Martin".into(),
                        role: mp::ContactRole::ElectedOfficial as i32,
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            admin,
        ))
        .await
        .expect("create member")
        .into_inner()
        .name
}
