//! A Villes Pairs season as it runs, over gRPC on both backends: co-pilots schedule
//! sessions — for every team, for one team, for a peer group of one role across the
//! teams — in a listed place or online (the address for participants only), record who
//! came, cancel; the members expected write restitutions, read by the season's
//! participants (of any workshop of the season) and by nobody else until a co-pilot
//! publishes them; and each change is one event.

use std::time::Duration;

use chrono::Utc;
use fabrique_api::members::{ContactRole as R, MemberKind as K};
use fabrique_api::projects as proto;
use fabrique_api::registry as rp;
use fabrique_platform::bus::ConsumerSpec;
use fabrique_testkit::{Backend, TestPlatform, authed};
use tonic::Code;

use crate::projects::{Projects, active_members, platform, projects_database, with_kind};
use crate::support::{Members, id_of, reason, violated_fields};

fn ts(t: chrono::DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    })
}

/// A session of two hours starting `hours` from now (negative: begun already).
fn session(title: &str, hours: i64) -> proto::WorkshopSession {
    let start = Utc::now() + chrono::Duration::hours(hours);
    proto::WorkshopSession {
        title: title.to_string(),
        start_time: ts(start),
        end_time: ts(start + chrono::Duration::hours(2)),
        ..Default::default()
    }
}

impl Projects {
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        if self.token.is_empty() {
            tonic::Request::new(message)
        } else {
            authed(message, &self.token)
        }
    }

    async fn schedule(
        &self,
        workshop: &str,
        session: proto::WorkshopSession,
    ) -> Result<proto::WorkshopSession, tonic::Status> {
        let request = self.request(proto::ScheduleWorkshopSessionRequest {
            parent: workshop.to_string(),
            session: Some(session),
            request_id: String::new(),
        });
        let answer = self.client.clone().schedule_workshop_session(request).await;
        answer.map(tonic::Response::into_inner)
    }

    async fn attend(
        &self,
        session: &str,
        attendees: &[&String],
    ) -> Result<proto::WorkshopSession, tonic::Status> {
        let request = self.request(proto::RecordAttendanceRequest {
            name: session.to_string(),
            attendees: attendees.iter().map(|a| a.to_string()).collect(),
        });
        let answer = self.client.clone().record_attendance(request).await;
        answer.map(tonic::Response::into_inner)
    }

    async fn restitute(
        &self,
        workshop: &str,
        session: &str,
        title: &str,
    ) -> Result<proto::Restitution, tonic::Status> {
        let request = self.request(proto::CreateRestitutionRequest {
            parent: workshop.to_string(),
            restitution: Some(proto::Restitution {
                session: session.to_string(),
                title: title.to_string(),
                text: "Ce que nous avons appris, et ce que nous ferons ensuite.".into(),
                links: vec!["https://www.fabrique-des-transitions.fr/villes-pairs".into()],
                ..Default::default()
            }),
            request_id: String::new(),
        });
        let answer = self.client.clone().create_restitution(request).await;
        answer.map(tonic::Response::into_inner)
    }

    async fn restitution(&self, name: &str) -> Result<proto::Restitution, tonic::Status> {
        let request = self.request(proto::GetRestitutionRequest {
            name: name.to_string(),
        });
        let answer = self.client.clone().get_restitution(request).await;
        answer.map(tonic::Response::into_inner)
    }

    async fn restitutions(&self, workshop: &str) -> Vec<String> {
        let request = self.request(proto::ListRestitutionsRequest {
            parent: workshop.to_string(),
            ..Default::default()
        });
        let answer = self.client.clone().list_restitutions(request).await;
        let list = answer.expect("restitutions").into_inner().restitutions;
        list.into_iter().map(|r| r.title).collect()
    }

    async fn workshop(&self, name: &str) -> proto::Workshop {
        let request = self.request(proto::GetWorkshopRequest {
            name: name.to_string(),
        });
        let answer = self.client.clone().get_workshop(request).await;
        answer.expect("workshop").into_inner()
    }

    async fn new_workshop(&self, season: &str, co_pilots: &[&String]) -> proto::Workshop {
        let request = self.request(proto::CreateWorkshopRequest {
            workshop: Some(proto::Workshop {
                theme: "Quelle route pour demain ?".into(),
                season: season.to_string(),
                co_pilots: co_pilots.iter().map(|c| c.to_string()).collect(),
                ..Default::default()
            }),
            request_id: String::new(),
        });
        let answer = self.client.clone().create_workshop(request).await;
        answer.expect("workshop").into_inner()
    }

    async fn team(&self, workshop: &str, others: &[&String]) {
        let request = self.request(proto::SetWorkshopTeamRequest {
            name: workshop.to_string(),
            members: others.iter().map(|o| o.to_string()).collect(),
        });
        self.client
            .clone()
            .set_workshop_team(request)
            .await
            .expect("team");
    }
}

/// A place the admin creates, approved (LISTED) or not, once the projects service knows it.
async fn place(platform: &TestPlatform, name: &str, listed: bool) -> String {
    let mut registry =
        rp::registry_service_client::RegistryServiceClient::new(platform.channel().await);
    let admin = TestPlatform::admin_token();
    let draft = rp::Place {
        display_name: name.to_string(),
        kinds: vec![rp::PlaceKind::TiersLieu as i32],
        location: Some(rp::Location {
            latitude: 45.85,
            longitude: 3.55,
        }),
        ..Default::default()
    };
    let request = authed(
        rp::CreatePlaceRequest {
            place: Some(draft),
            request_id: String::new(),
        },
        &admin,
    );
    let mut place = registry
        .create_place(request)
        .await
        .expect("place")
        .into_inner();
    if listed {
        let request = authed(
            rp::ApprovePlaceRequest {
                name: place.name.clone(),
                etag: String::new(),
            },
            &admin,
        );
        place = registry
            .approve_place(request)
            .await
            .expect("listed")
            .into_inner();
    }
    let db = projects_database(platform).await;
    let id = uuid::Uuid::parse_str(place.name.trim_start_matches("places/")).expect("id");
    let state = if listed { "listed" } else { "proposed" };
    fabrique_testkit::eventually(
        "projects to know the place",
        Duration::from_secs(60),
        || {
            let db = db.clone();
            async move {
                match fabrique_replicas::places::get(&db, id).await {
                    Ok(Some(p)) if p.state == state => Some(()),
                    _ => None,
                }
            }
        },
    )
    .await;
    place.name
}

/// The workshop verbs published for this platform, waiting for `count`, then checking
/// no more come.
async fn workshop_verbs(platform: &TestPlatform, count: usize) -> Vec<String> {
    let mut events = platform
        .bus
        .subscribe(&ConsumerSpec {
            stream: platform.stream("projects"),
            durable_name: format!("test-{}", uuid::Uuid::new_v4().simple()),
            filter_subjects: vec![format!("{}fabrique.projects.workshop.>", platform.prefix)],
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    let mut seen = Vec::new();
    let mut wait = Duration::from_secs(20);
    while let Ok(Some(Ok(delivery))) = tokio::time::timeout(wait, events.next()).await {
        let subject = delivery.subject.trim_start_matches(&platform.prefix);
        seen.push(
            subject
                .trim_start_matches("fabrique.projects.workshop.")
                .to_string(),
        );
        delivery.acker.ack().await.expect("ack");
        if seen.len() >= count {
            wait = Duration::from_secs(2);
        }
    }
    seen.sort();
    seen
}

/// Over 60 lines: it is a season told in order, each refusal where it would happen.
async fn a_season_runs_with_sessions_and_restitutions(backend: Backend) {
    let platform = platform(backend).await;
    let admin_token = TestPlatform::admin_token();
    let members = Members::connect(&platform, admin_token.clone()).await;
    let names = active_members(
        &platform,
        &members,
        vec![
            with_kind("Loos-en-Gohelle", K::Commune, &[R::ElectedOfficial]),
            with_kind("ATEMIS", K::ResearchLab, &[]),
            with_kind(
                "Département du Puy-de-Dôme",
                K::Departement,
                &[
                    R::ElectedOfficial,
                    R::ProcurementOfficer,
                    R::RoadsTechnician,
                ],
            ),
            with_kind("In Sun We Trust", K::Company, &[R::CompanyRepresentative]),
            with_kind("Thiers Dore et Montagne", K::Epci, &[R::RoadsTechnician]),
            with_kind(
                "Ville d'une autre équipe",
                K::Commune,
                &[R::ElectedOfficial],
            ),
            with_kind("Association de passage", K::Association, &[]),
        ],
    )
    .await;
    let [loos, atemis, dep, insun, tdm, other_workshop, stranger] =
        <[String; 7]>::try_from(names).expect("seven members");
    let admin = Projects::connect(&platform, admin_token).await;
    let anonymous = Projects {
        client: admin.client.clone(),
        token: String::new(),
    };
    let as_ = |m: &String| Projects {
        client: admin.client.clone(),
        token: TestPlatform::member_token(&id_of(m)),
    };
    let season = format!("Saison 3 {}", uuid::Uuid::now_v7());
    let workshop = admin.new_workshop(&season, &[&loos, &atemis]).await;
    assert_eq!(workshop.co_pilots, [loos.clone(), atemis.clone()]);
    let w = workshop.name.clone();
    as_(&dep).team(&w, &[&insun]).await;
    as_(&tdm).team(&w, &[]).await;
    // Another workshop of the same season: its team takes part in the season too.
    let beside = admin.new_workshop(&season, &[&loos]).await;
    as_(&other_workshop).team(&beside.name, &[]).await;
    let listed = place(&platform, "Plateforme de réemploi (test)", true).await;
    let proposed = place(&platform, "Hangar pas encore publié (test)", false).await;

    // Scheduling: co-pilots only, a listed place, somebody expected.
    let (loos_, atemis_) = (as_(&loos), as_(&atemis));
    let visit = proto::WorkshopSession {
        place: listed.clone(),
        ..session("Visite de la plateforme", -1)
    };
    let refused = as_(&dep)
        .schedule(&w, visit.clone())
        .await
        .expect_err("not a co-pilot");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let refused = loos_
        .schedule(
            &w,
            proto::WorkshopSession {
                place: proposed.clone(),
                ..visit.clone()
            },
        )
        .await
        .expect_err("not listed");
    assert_eq!(reason(&refused), "PLACE_NOT_LISTED", "{refused:?}");
    let both = proto::WorkshopSession {
        online_url: "https://visio.example.org/salle".into(),
        ..visit.clone()
    };
    let refused = loos_.schedule(&w, both).await.expect_err("two venues");
    assert_eq!(violated_fields(&refused), ["session.online_url"]);
    let backwards = proto::WorkshopSession {
        title: " ".into(),
        end_time: visit.start_time,
        peer_group: "juggler".into(),
        ..visit.clone()
    };
    let refused = loos_
        .schedule(&w, backwards)
        .await
        .expect_err("three faults");
    assert_eq!(
        violated_fields(&refused),
        ["session.title", "session.end_time", "session.peer_group"]
    );
    let nobody = proto::WorkshopSession {
        peer_group: "transition_technician".into(),
        ..visit.clone()
    };
    let refused = loos_.schedule(&w, nobody).await.expect_err("nobody");
    assert_eq!(reason(&refused), "NOBODY_EXPECTED", "{refused:?}");
    let visit = loos_.schedule(&w, visit).await.expect("visit");
    let mut everyone = vec![dep.clone(), insun.clone(), tdm.clone()];
    everyone.sort();
    assert_eq!(visit.expected_members, everyone, "every team's members");
    let technicians = atemis_
        .schedule(
            &w,
            proto::WorkshopSession {
                online_url: "https://visio.example.org/techniciens".into(),
                peer_group: "roads_technician".into(),
                ..session("Techniciens des routes", 48)
            },
        )
        .await
        .expect("peer group");
    let mut roads: Vec<String> = vec![dep.clone(), tdm.clone()];
    roads.sort();
    assert_eq!(technicians.expected_members, roads, "the roads technicians");
    let team_only = loos_
        .schedule(
            &w,
            proto::WorkshopSession {
                place: listed.clone(),
                team: dep.clone(),
                ..session("Équipe du Département", 72)
            },
        )
        .await
        .expect("one team");
    for _ in 0..2 {
        let request = authed(
            proto::CancelWorkshopSessionRequest {
                name: team_only.name.clone(),
            },
            &loos_.token,
        );
        let cancelled = loos_.client.clone().cancel_workshop_session(request).await;
        assert!(cancelled.expect("cancelled").into_inner().cancelled);
    }

    // The online address: participants see it, others only that it is online.
    let online = |w: &proto::Workshop| {
        let s = w
            .sessions
            .iter()
            .find(|s| s.name == technicians.name)
            .expect("session");
        assert!(s.online);
        s.online_url.clone()
    };
    assert_eq!(
        online(&as_(&insun).workshop(&w).await),
        "https://visio.example.org/techniciens"
    );
    assert_eq!(online(&anonymous.workshop(&w).await), "");
    assert_eq!(online(&as_(&stranger).workshop(&w).await), "");
    assert_eq!(
        anonymous.workshop(&w).await.sessions.len(),
        3,
        "sessions are public"
    );

    // Attendance: once begun, not cancelled, members of the teams.
    let refused = loos_
        .attend(&technicians.name, &[&dep])
        .await
        .expect_err("future");
    assert_eq!(reason(&refused), "SESSION_NOT_STARTED", "{refused:?}");
    let refused = loos_
        .attend(&team_only.name, &[&dep])
        .await
        .expect_err("cancelled");
    assert_eq!(reason(&refused), "SESSION_CANCELLED", "{refused:?}");
    let refused = loos_
        .attend(&visit.name, &[&dep, &stranger])
        .await
        .expect_err("stranger");
    assert_eq!(violated_fields(&refused), ["attendees[1]"]);
    let refused = as_(&dep)
        .attend(&visit.name, &[&dep])
        .await
        .expect_err("not a co-pilot");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let attended = loos_
        .attend(&visit.name, &[&dep, &tdm])
        .await
        .expect("attendance");
    assert_eq!(attended.attendees, [dep.clone(), tdm.clone()]);
    let read = anonymous.workshop(&w).await;
    let stored = read
        .sessions
        .iter()
        .find(|s| s.name == visit.name)
        .expect("visit");
    assert_eq!(stored.attendees, [dep.clone(), tdm.clone()]);

    // Restitutions: by the members expected, speaking for their team or peer group.
    let from_tdm = as_(&tdm)
        .restitute(&w, &visit.name, "Ce que Thiers retient")
        .await;
    let from_tdm = from_tdm.expect("team's restitution");
    assert_eq!(
        (from_tdm.team.as_str(), from_tdm.published),
        (tdm.as_str(), false)
    );
    let refused = as_(&insun)
        .restitute(&w, &technicians.name, "Pas du groupe")
        .await;
    assert_eq!(
        refused.expect_err("not a roads technician").code(),
        Code::PermissionDenied
    );
    let refused = as_(&stranger).restitute(&w, &visit.name, "Intrus").await;
    assert_eq!(
        refused.expect_err("stranger").code(),
        Code::PermissionDenied
    );
    let refused = as_(&dep).restitute(&w, &team_only.name, "Annulée").await;
    assert_eq!(
        reason(&refused.expect_err("cancelled")),
        "SESSION_CANCELLED"
    );
    let from_group = as_(&dep)
        .restitute(&w, &technicians.name, "Clause de réemploi")
        .await;
    let from_group = from_group.expect("peer group's restitution");
    assert_eq!(from_group.peer_group, "roads_technician");
    assert_eq!(from_group.author, dep);
    let request = authed(
        proto::CreateRestitutionRequest {
            parent: w.clone(),
            restitution: Some(proto::Restitution {
                session: visit.name.clone(),
                title: "Liens".into(),
                text: "Premier paragraphe.\n\nSecond paragraphe.".into(),
                links: vec!["pas une adresse".into()],
                ..Default::default()
            }),
            request_id: String::new(),
        },
        &as_(&dep).token,
    );
    let refused = admin.client.clone().create_restitution(request).await;
    assert_eq!(
        violated_fields(&refused.expect_err("a bad link")),
        ["restitution.links[0]"]
    );
    let elsewhere = as_(&dep)
        .restitute(&beside.name, &visit.name, "Ailleurs")
        .await;
    assert_eq!(
        violated_fields(&elsewhere.expect_err("another workshop's session")),
        ["restitution.session"]
    );

    // Until published: the season's participants only, NOT_FOUND for anyone else.
    for reader in [&insun, &other_workshop, &atemis] {
        as_(reader)
            .restitution(&from_tdm.name)
            .await
            .expect("a participant reads it");
    }
    for reader in [&anonymous, &as_(&stranger)] {
        let hidden = reader
            .restitution(&from_tdm.name)
            .await
            .expect_err("hidden");
        assert_eq!(hidden.code(), Code::NotFound);
        assert!(reader.restitutions(&w).await.is_empty());
    }
    assert_eq!(as_(&other_workshop).restitutions(&w).await.len(), 2);
    let publish = |who: &Projects| {
        let request = authed(
            proto::PublishRestitutionRequest {
                name: from_tdm.name.clone(),
            },
            &who.token,
        );
        let mut client = who.client.clone();
        async move { client.publish_restitution(request).await }
    };
    let refused = publish(&as_(&tdm)).await.expect_err("not a co-pilot");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let published = publish(&atemis_).await.expect("published").into_inner();
    assert!(published.published && published.publish_time.is_some());
    publish(&loos_)
        .await
        .expect("published again: nothing changes");
    assert_eq!(anonymous.restitutions(&w).await, ["Ce que Thiers retient"]);
    anonymous
        .restitution(&from_tdm.name)
        .await
        .expect("public now");

    // An admin names the co-pilots: ATEMIS no longer runs the workshop.
    let request = authed(
        proto::SetWorkshopCoPilotsRequest {
            name: w.clone(),
            co_pilots: vec![loos.clone()],
        },
        &admin.token,
    );
    let changed = admin.client.clone().set_workshop_co_pilots(request).await;
    assert_eq!(
        changed.expect("co-pilots").into_inner().co_pilots,
        std::slice::from_ref(&loos)
    );
    let no_longer = proto::WorkshopSession {
        online_url: "https://visio.example.org/salle".into(),
        ..session("Plus co-pilote", 5)
    };
    let refused = atemis_.schedule(&w, no_longer).await;
    assert_eq!(
        refused.expect_err("no longer").code(),
        Code::PermissionDenied
    );

    // One event per change: 2 workshops, 3 teams, 3 sessions, 1 cancellation (the second
    // changed nothing), 1 attendance, 2 restitutions, 1 publication, 1 co-pilots set.
    let mut expected = vec!["created"; 2];
    expected.extend(["team_set"; 3]);
    expected.extend(["session_scheduled"; 3]);
    expected.extend(["session_cancelled", "attendance_recorded"]);
    expected.extend(["restitution_added"; 2]);
    expected.extend(["restitution_published", "co_pilots_set"]);
    expected.sort();
    assert_eq!(workshop_verbs(&platform, expected.len()).await, expected);
}

macro_rules! on_both_stores {
    ($($test:ident),+ $(,)?) => {
        mod postgres {
            $(#[tokio::test] async fn $test() { super::$test(fabrique_testkit::Backend::Postgres).await; })+
        }
        mod sqlite {
            $(#[tokio::test] async fn $test() { super::$test(fabrique_testkit::Backend::Sqlite).await; })+
        }
    };
}

on_both_stores!(a_season_runs_with_sessions_and_restitutions);

/// The members expected at a session are e-mailed when it is scheduled and when it is
/// cancelled — each contact person once, with when and how to join, and a link to the
/// workshop's page; its co-pilot, not expected, is not.
async fn the_members_expected_are_told_of_a_session(backend: Backend) {
    use crate::notify::{
        member_with, no_more_than, quick_retries, services_mailing_to, subjects, to,
    };
    let smtp = fabrique_testkit::smtp::SmtpServer::start().await;
    let platform =
        crate::notify::platform(backend, services_mailing_to(&smtp, quick_retries(5))).await;
    let admin_token = TestPlatform::admin_token();
    let members = Members::connect(&platform, admin_token.clone()).await;
    let co_pilot = member_with(&members, "ATEMIS", &["atemis@atemis.test"]).await;
    let a = member_with(&members, "Ville de Riom", &["technique@riom.test"]).await;
    let b = member_with(&members, "Ville de Issoire", &["technique@issoire.test"]).await;
    let wait = Duration::from_secs(30);
    smtp.wait_for(3, wait).await;
    let admin = Projects::connect(&platform, admin_token).await;
    let as_ = |m: &String| Projects {
        client: admin.client.clone(),
        token: TestPlatform::member_token(&id_of(m)),
    };
    // Once the projects service knows the three members from their events.
    let workshop = fabrique_testkit::eventually("the co-pilot known", wait, || {
        let (admin, co_pilot) = (admin.clone(), co_pilot.clone());
        async move {
            let request = authed(
                proto::CreateWorkshopRequest {
                    workshop: Some(proto::Workshop {
                        theme: "Sobriété des bâtiments publics".into(),
                        co_pilots: vec![co_pilot],
                        ..Default::default()
                    }),
                    request_id: "0190a000-0000-7000-8000-00000000c0de".into(),
                },
                &admin.token,
            );
            admin.client.clone().create_workshop(request).await.ok()
        }
    })
    .await
    .into_inner();
    for member in [&a, &b] {
        let lead = as_(member);
        let name = workshop.name.clone();
        fabrique_testkit::eventually("the lead known", wait, || {
            let (lead, name) = (lead.clone(), name.clone());
            async move {
                let request = authed(
                    proto::SetWorkshopTeamRequest {
                        name,
                        members: Vec::new(),
                    },
                    &lead.token,
                );
                lead.client.clone().set_workshop_team(request).await.ok()
            }
        })
        .await;
    }
    let together = proto::WorkshopSession {
        online_url: "https://visio.example.org/techniciens".into(),
        peer_group: "transition_technician".into(),
        ..session("Les techniciens ensemble", 240)
    };
    let scheduled = as_(&co_pilot).schedule(&workshop.name, together).await;
    let scheduled = scheduled.expect("scheduled");
    assert_eq!(scheduled.expected_members.len(), 2);
    let mails = smtp.wait_for(5, wait).await;
    let id = workshop.name.trim_start_matches("workshops/");
    for address in ["technique@riom.test", "technique@issoire.test"] {
        let told = to(&mails, address);
        assert_eq!(
            subjects(&told),
            ["Séance de l’atelier : Les techniciens ensemble"],
            "{address}"
        );
        let text = told[0].text_body();
        assert!(
            text.contains(&format!("{}/ateliers/{id}", crate::notify::SITE)),
            "{text}"
        );
        assert!(
            text.contains("En ligne") && !text.contains("visio.example.org"),
            "{text}"
        );
    }
    let request = authed(
        proto::CancelWorkshopSessionRequest {
            name: scheduled.name.clone(),
        },
        &as_(&co_pilot).token,
    );
    admin
        .client
        .clone()
        .cancel_workshop_session(request)
        .await
        .expect("cancelled");
    let mails = smtp.wait_for(7, wait).await;
    assert_eq!(
        subjects(&to(&mails, "technique@riom.test")),
        [
            "Séance de l’atelier : Les techniciens ensemble",
            "Séance annulée : Les techniciens ensemble"
        ]
    );
    assert!(
        to(&mails, "atemis@atemis.test").is_empty(),
        "the co-pilot is not expected"
    );
    no_more_than(&smtp, 7).await;
    platform.stop().await;
}

mod told {
    #[tokio::test]
    async fn on_postgres() {
        super::the_members_expected_are_told_of_a_session(fabrique_testkit::Backend::Postgres)
            .await;
    }

    #[tokio::test]
    async fn on_sqlite() {
        super::the_members_expected_are_told_of_a_session(fabrique_testkit::Backend::Sqlite).await;
    }
}
