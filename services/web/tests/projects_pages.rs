//! The pages of what allies do together over real HTTP, reading real members and
//! projects services through their public gRPC API: projects under way (never a
//! proposed one), grouped purchases with their totals per lot in French numbers and
//! their deadline (never a member's sites), peer workshops with each team's missing
//! roles (never a contact person). On PostgreSQL + NATS and on SQLite + the in-process
//! bus.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::{full_platform, joined_member, site, timestamp};
use fabrique_api::members::{ContactRole, MemberKind};
use fabrique_api::projects::{self as pp, projects_service_client::ProjectsServiceClient};
use fabrique_testkit::http::get;
use fabrique_testkit::{Backend, authed, eventually, token};

fn id(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// A project led by the bearer of `token`, once the projects service knows its member.
async fn project(
    projects: &ProjectsServiceClient<tonic::transport::Channel>,
    token: &str,
    draft: pp::Project,
) -> String {
    eventually(
        "the projects service to know the member",
        Duration::from_secs(30),
        || {
            let (mut projects, draft) = (projects.clone(), draft.clone());
            async move {
                projects
                    .create_project(authed(
                        pp::CreateProjectRequest {
                            project: Some(draft),
                            request_id: String::new(),
                        },
                        token,
                    ))
                    .await
                    .ok()
                    .map(|p| p.into_inner().name)
            }
        },
    )
    .await
}

async fn a_visitor_reads_projects_purchases_and_workshops(backend: Backend) {
    let platform = full_platform(backend).await;
    let admin = token("admin", &["admin"]);
    let (thiers, thiers_token) = joined_member(
        &platform,
        &admin,
        "Commune de Thiers",
        MemberKind::Commune,
        &[(
            "Stéphane Rodier",
            ContactRole::ElectedOfficial,
            "maire@ville-thiers.fr",
        )],
    )
    .await;
    let (ambert, ambert_token) = joined_member(
        &platform,
        &admin,
        "Communauté de communes Ambert Livradois Forez",
        MemberKind::Epci,
        &[(
            "Daniel Fayet",
            ContactRole::ProcurementOfficer,
            "achats@ambert-livradois-forez.fr",
        )],
    )
    .await;
    let projects = ProjectsServiceClient::new(platform.channel().await);
    let lighting = project(
        &projects,
        &thiers_token,
        pp::Project {
            title: "Rénovation de l'éclairage public".into(),
            summary: "Remplacer 1 200 points lumineux par des LED.".into(),
            themes: vec![pp::Theme::Energy as i32],
            participants: vec![pp::Participant {
                member: ambert.clone(),
                role: "partenaire technique".into(),
            }],
            milestones: vec![pp::Milestone {
                title: "Diagnostic des points lumineux".into(),
                due: Some(prost_types::Timestamp {
                    seconds: 1_803_859_200, // 1 March 2027
                    nanos: 0,
                }),
                done: true,
            }],
            ..Default::default()
        },
    )
    .await;
    let mut client = projects.clone();
    client
        .change_project_state(authed(
            pp::ChangeProjectStateRequest {
                name: lighting.clone(),
                state: pp::ProjectState::Active as i32,
                etag: String::new(),
            },
            &thiers_token,
        ))
        .await
        .expect("start the project");
    let idea = project(
        &projects,
        &thiers_token,
        pp::Project {
            title: "Idée de covoiturage".into(),
            themes: vec![pp::Theme::Mobility as i32],
            ..Default::default()
        },
    )
    .await;
    // Ambert must be known before it joins anything.
    project(
        &projects,
        &ambert_token,
        pp::Project {
            title: "Brouillon d'Ambert".into(),
            ..Default::default()
        },
    )
    .await;

    let deadline = Utc::now() + chrono::Duration::days(30);
    let purchase = client
        .create_group_purchase(authed(
            pp::CreateGroupPurchaseRequest {
                group_purchase: Some(pp::GroupPurchase {
                    title: "Électricité 2027".into(),
                    category: pp::GroupPurchaseCategory::Electricity as i32,
                    unit: "MWh".into(),
                    lots: vec![
                        pp::Lot {
                            code: "c5".into(),
                            title: "Points de livraison C5".into(),
                            ..Default::default()
                        },
                        pp::Lot {
                            code: "c4".into(),
                            title: "Points de livraison C4".into(),
                            ..Default::default()
                        },
                    ],
                    deadline: timestamp(deadline),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &thiers_token,
        ))
        .await
        .expect("purchase")
        .into_inner()
        .name;
    let site_of = |name: &str, lot: &str, volume: f64| pp::Site {
        name: name.into(),
        lot: lot.into(),
        volume,
    };
    for (token, sites) in [
        (
            &ambert_token,
            vec![site_of("École Jules-Ferry", "c5", 1250.5)],
        ),
        (
            &thiers_token,
            vec![
                site_of("Mairie de Thiers", "c5", 300.0),
                site_of("Piscine municipale", "c4", 800.25),
            ],
        ),
    ] {
        client
            .join_group_purchase(authed(
                pp::JoinGroupPurchaseRequest {
                    name: purchase.clone(),
                    sites,
                },
                token,
            ))
            .await
            .expect("join");
    }

    let workshop = client
        .create_workshop(authed(
            pp::CreateWorkshopRequest {
                workshop: Some(pp::Workshop {
                    theme: "Quelle route pour demain ?".into(),
                    season: "Saison 3".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("workshop")
        .into_inner()
        .name;
    client
        .set_workshop_team(authed(
            pp::SetWorkshopTeamRequest {
                name: workshop.clone(),
                members: vec![ambert.clone()],
            },
            &thiers_token,
        ))
        .await
        .expect("team");
    // A session online for every team (an admin schedules it, as co-pilots do), and two
    // restitutions by the team, one published.
    let start = chrono::TimeZone::with_ymd_and_hms(&Utc, 2027, 3, 10, 8, 30, 0).unwrap();
    let session = client
        .schedule_workshop_session(authed(
            pp::ScheduleWorkshopSessionRequest {
                parent: workshop.clone(),
                session: Some(pp::WorkshopSession {
                    title: "Visite du chantier de la RD 906".into(),
                    start_time: timestamp(start),
                    end_time: timestamp(start + chrono::Duration::hours(2)),
                    online_url: "https://visio.example.org/salle-privee".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("session")
        .into_inner()
        .name;
    let mut restitutions = Vec::new();
    for title in ["Ce que le chantier nous a appris", "Brouillon de la clause"] {
        let restitution = client
            .create_restitution(authed(
                pp::CreateRestitutionRequest {
                    parent: workshop.clone(),
                    restitution: Some(pp::Restitution {
                        session: session.clone(),
                        title: title.into(),
                        text: "Premier constat.\n\nDeuxième constat.".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &thiers_token,
            ))
            .await
            .expect("restitution")
            .into_inner();
        restitutions.push(restitution.name);
    }
    client
        .publish_restitution(authed(
            pp::PublishRestitutionRequest {
                name: restitutions[0].clone(),
            },
            &admin,
        ))
        .await
        .expect("published");
    let site = site(&format!("http://{}", platform.addr)).await;

    // Projects: the one under way, never the proposed ones; filters by theme and state.
    let list = get(site, "/projets").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let text = list.text();
    assert!(
        text.contains(&format!(
            "href=\"/projets/{}\">Rénovation de l&#39;éclairage public</a>",
            id(&lighting)
        )),
        "{text}"
    );
    assert!(text.contains("1 projet"), "{text}");
    assert!(text.contains("En cours — Énergie"));
    assert!(text.contains("Porteur : Commune de Thiers"));
    for hidden in ["covoiturage", "Brouillon"] {
        assert!(
            !text.contains(hidden),
            "a proposed project is listed: {hidden}"
        );
    }
    assert!(
        get(site, "/projets?theme=energy")
            .await
            .text()
            .contains("1 projet")
    );
    assert!(
        get(site, "/projets?theme=mobility")
            .await
            .text()
            .contains("Aucun projet")
    );
    assert!(
        get(site, "/projets?etat=completed")
            .await
            .text()
            .contains("0 projet")
    );
    let page = get(site, &format!("/projets/{}", id(&lighting))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let text = page.text();
    assert!(text.contains(&format!(
        "<a href=\"/allies/{}\">Commune de Thiers</a>",
        id(&thiers)
    )));
    assert!(text.contains(&format!(
        "<a href=\"/allies/{}\">Communauté de communes Ambert Livradois Forez</a> — partenaire technique",
        id(&ambert)
    )), "{text}");
    assert!(text.contains(
        "<th scope=\"row\">Diagnostic des points lumineux</th><td>1er mars 2027</td><td>atteint</td>"
    ), "{text}");

    // The grouped purchase: totals per lot and in all, the deadline, who takes part —
    // never a member's sites.
    let list = get(site, "/achats-groupes").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let text = list.text();
    assert!(text.contains(&format!(
        "href=\"/achats-groupes/{}\">Électricité 2027</a>",
        id(&purchase)
    )));
    assert!(text.contains("Électricité — Ouvert aux adhésions"));
    let day = fabrique_web::fr::date(fabrique_web::fr::in_paris(deadline).date_naive());
    assert!(
        text.contains(&format!("Adhésions jusqu&#39;au {day} à ")),
        "{text}"
    );
    assert!(
        get(site, "/achats-groupes?categorie=gas")
            .await
            .text()
            .contains("0 achat groupé")
    );
    let page = get(site, &format!("/achats-groupes/{}", id(&purchase))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let text = page.text();
    assert!(
        text.contains(
            "<th scope=\"row\">Points de livraison C5</th><td class=\"number\">1 550,5 MWh</td>"
        ),
        "{text}"
    );
    assert!(text.contains(
        "<th scope=\"row\">Points de livraison C4</th><td class=\"number\">800,25 MWh</td>"
    ));
    assert!(
        text.contains("<th scope=\"row\">Tous les lots</th><td class=\"number\">2 350,75 MWh</td>")
    );
    assert!(text.contains(&format!(
        "<a href=\"/allies/{}\">Communauté de communes Ambert Livradois Forez</a>",
        id(&ambert)
    )));
    for private in ["École Jules-Ferry", "Mairie de Thiers", "Piscine"] {
        assert!(
            !text.contains(private),
            "a member's site is shown: {private}"
        );
    }

    // The workshop: its roles, its team and what the team lacks — never a contact.
    let list = get(site, "/ateliers").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let text = list.text();
    assert!(text.contains(&format!(
        "href=\"/ateliers/{}\">Quelle route pour demain ?</a>",
        id(&workshop)
    )));
    assert!(text.contains("Saison 3") && text.contains("1 équipe"));
    let page = get(site, &format!("/ateliers/{}", id(&workshop))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let text = page.text();
    assert!(text.contains("Équipe de Commune de Thiers"));
    let missing = text.split("Rôles manquants").nth(1).expect("missing roles");
    for role in [
        "Technicien ou technicienne de la transition",
        "Technicien ou technicienne de la voirie",
        "Représentant ou représentante d&#39;une entreprise",
    ] {
        assert!(
            missing.contains(role),
            "{role} is not said missing:\n{missing}"
        );
    }
    for held in ["Élu ou élue", "Responsable de la commande publique"] {
        assert!(!missing.contains(held), "{held} is held");
    }
    // Its session, online (its address kept from the public), and the published
    // restitution only, in paragraphs.
    let sessions = text.split("Séances").nth(1).expect("sessions");
    assert!(
        sessions.contains("Visite du chantier de la RD 906"),
        "{sessions}"
    );
    assert!(sessions.contains("mercredi 10 mars 2027") && sessions.contains("En ligne"));
    assert!(sessions.contains("Toutes les équipes"), "{sessions}");
    assert!(
        !text.contains("salle-privee"),
        "the online address is public"
    );
    assert!(
        text.contains("<h3>Ce que le chantier nous a appris</h3>"),
        "{text}"
    );
    assert!(text.contains("<p>Deuxième constat.</p>"));
    assert!(
        !text.contains("Brouillon de la clause"),
        "an unpublished restitution is shown"
    );
    for private in ["Stéphane Rodier", "maire@ville-thiers.fr", "Daniel Fayet"] {
        assert!(
            !text.contains(private),
            "a contact person is shown: {private}"
        );
    }

    // The partner's page lists the project it takes part in.
    let ally = get(site, &format!("/allies/{}", id(&ambert))).await;
    assert_eq!(ally.status, 200, "{}", ally.body);
    assert!(
        ally.text()
            .contains(&format!("href=\"/projets/{}\">Rénovation", id(&lighting)))
    );

    for path in [
        format!("/projets/{}", id(&idea)),
        "/projets/0190a000-0000-7000-8000-000000000000".to_string(),
        "/achats-groupes/pas-un-identifiant".to_string(),
        "/achats-groupes/0190a000-0000-7000-8000-000000000000".to_string(),
        "/ateliers/0190a000-0000-7000-8000-000000000000".to_string(),
    ] {
        let page = get(site, &path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.body.contains("Page introuvable"), "{path}");
    }
}

#[tokio::test]
async fn a_visitor_reads_projects_purchases_and_workshops_on_postgres() {
    a_visitor_reads_projects_purchases_and_workshops(Backend::Postgres).await;
}

#[tokio::test]
async fn a_visitor_reads_projects_purchases_and_workshops_on_sqlite() {
    a_visitor_reads_projects_purchases_and_workshops(Backend::Sqlite).await;
}
