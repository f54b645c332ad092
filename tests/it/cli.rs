//! The `fabrique` binary as users run it: the README's quick start (serve with no
//! configuration, sign a token, call it, stop it with SIGTERM), `migrate`, and `seed`.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use fabrique_api::members as proto;
use fabrique_api::registry;
use fabrique_testkit::{TempDir, TestDatabase, authed};
use tonic_health::pb::health_check_response::ServingStatus;

const BIN: &str = env!("CARGO_BIN_EXE_fabrique");

/// The first line of the ```sh block after `<!-- marker -->` in README.md.
fn readme_command(marker: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let after = readme
        .split_once(&format!("<!-- {marker} -->"))
        .unwrap_or_else(|| panic!("README.md has no <!-- {marker} --> block"))
        .1;
    let block = after.split_once("```sh\n").expect("a ```sh block").1;
    block.lines().next().expect("a command").trim().to_string()
}

/// `cargo run [--release] -- ARGS` → the binary under test and ARGS.
fn as_binary(command: &str) -> Vec<String> {
    let args = command
        .strip_prefix("cargo run --release -- ")
        .or_else(|| command.strip_prefix("cargo run -- "))
        .unwrap_or_else(|| panic!("the README command {command:?} is not `cargo run -- …`"));
    args.split_whitespace().map(str::to_string).collect()
}

fn free_port() -> u16 {
    fabrique_testkit::free_port()
}

async fn fabrique(args: &[&str], envs: &[(&str, &str)]) -> String {
    let output = tokio::process::Command::new(BIN)
        .args(args)
        .env_remove("FABRIQUE_DATABASE_URL")
        .env_remove("FABRIQUE_NATS_URL")
        .envs(envs.iter().copied())
        .output()
        .await
        .expect("fabrique runs");
    assert!(
        output.status.success(),
        "fabrique {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

async fn wait_serving(endpoint: &str) {
    fabrique_testkit::eventually("fabrique to serve", Duration::from_secs(60), || async {
        let channel = tonic::transport::Channel::from_shared(endpoint.to_string())
            .ok()?
            .connect()
            .await
            .ok()?;
        let response = tonic_health::pb::health_client::HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .ok()?;
        (response.get_ref().status == ServingStatus::Serving as i32).then_some(())
    })
    .await;
}

async fn terminate(child: &mut tokio::process::Child) {
    let pid = child.id().expect("running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("stops within 30 s of SIGTERM")
        .expect("exit status");
    assert!(status.success(), "exit after SIGTERM: {status}");
}

#[tokio::test]
async fn the_readme_quick_start_works_as_written() {
    assert_eq!(readme_command("test-command"), "./scripts/test");
    let seed = as_binary(&readme_command("seed-command"));
    let serve = as_binary(&readme_command("serve-command"));
    let data = TempDir::new("quickstart");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let data_dir = data.path().to_str().expect("utf-8 path");
    // The site's port: the README's 127.0.0.1:8080 is the default (checked below), a
    // free one here so that tests run side by side.
    let site = format!("127.0.0.1:{}", free_port());
    let envs = [
        ("FABRIQUE_DATA_DIR", data_dir),
        ("FABRIQUE_LISTEN", listen.as_str()),
        ("FABRIQUE_WEB_LISTEN", site.as_str()),
    ];

    // The README's two commands: seed, then serve.
    let seed_args: Vec<&str> = seed.iter().map(String::as_str).collect();
    fabrique(&seed_args, &envs).await;
    let mut server = tokio::process::Command::new(BIN)
        .args(&serve)
        .env_remove("FABRIQUE_DATABASE_URL")
        .env_remove("FABRIQUE_NATS_URL")
        .envs(envs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("serve starts");
    let endpoint = format!("http://{listen}");
    wait_serving(&endpoint).await;
    assert!(
        data.path().join("members.db").exists(),
        "SQLite file under the data dir"
    );
    // "Then open http://127.0.0.1:8080": the site answers, in French, by default there.
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    assert!(readme.contains("open http://127.0.0.1:8080"));
    let help = fabrique(&["serve", "--help"], &[]).await;
    assert!(help.contains("[default: 127.0.0.1:8080]"), "{help}");
    let site: std::net::SocketAddr = site.parse().expect("an address");
    let home = fabrique_testkit::http::get(site, "/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("<html lang=\"fr\">"));
    // The seeded data is there to see.
    let places = fabrique_testkit::http::get(site, "/lieux").await.text();
    assert!(places.contains("FabLab de Thiers (exemple)"), "{places}");
    let programmes = fabrique_testkit::http::get(site, "/programmes")
        .await
        .text();
    assert!(programmes.contains("Solaire Dôme"), "{programmes}");

    let token_command = as_binary(&readme_command("token-command"));
    let token_args: Vec<&str> = token_command.iter().map(String::as_str).collect();
    let token = fabrique(&token_args, &envs).await.trim().to_string();
    let channel = tonic::transport::Channel::from_shared(endpoint)
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut members = proto::members_service_client::MembersServiceClient::new(channel);
    let created = members
        .create_member(authed(
            proto::CreateMemberRequest {
                member: Some(proto::Member {
                    display_name: "Aduhme".into(),
                    kind: proto::MemberKind::Association as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &token,
        ))
        .await
        .expect("create with the printed token")
        .into_inner();
    assert_eq!(created.state, proto::MemberState::Pending as i32);
    // Without the token: no change, and a pending member is not in the public directory.
    let anonymous = members
        .approve_member(proto::ApproveMemberRequest {
            name: created.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
    let unseen = members
        .get_member(proto::GetMemberRequest {
            name: created.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(unseen.code(), tonic::Code::NotFound);
    terminate(&mut server).await;
}

/// Seeds twice, serves, lists. With PostgreSQL the server uses NATS, and the events the
/// seed left in the outbox must reach JetStream once served.
async fn seeded_alliance(database_url: Option<&str>, data: &TempDir) -> Seeded {
    let data_dir = data.path().to_str().expect("utf-8 path").to_string();
    let mut envs = vec![("FABRIQUE_DATA_DIR", data_dir.as_str())];
    if let Some(url) = database_url {
        envs.push(("FABRIQUE_DATABASE_URL", url));
    }
    let first = fabrique(&["seed"], &envs).await;
    let second = fabrique(&["seed"], &envs).await;
    assert_eq!(first, second, "seeding twice gives the same members");

    let listen = format!("127.0.0.1:{}", free_port());
    let site: std::net::SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("an address");
    let secret = &format!("seed-test-secret-{}", uuid::Uuid::new_v4().simple());
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(["serve", "--listen", &listen, "--jwt-secret", secret])
        .args(["--web-listen", &site.to_string()])
        .env("FABRIQUE_DATA_DIR", &data_dir)
        .env_remove("FABRIQUE_NATS_URL")
        .env_remove("FABRIQUE_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let prefix = fabrique_testkit::unique_prefix();
    if let Some(url) = database_url {
        command
            .env("FABRIQUE_DATABASE_URL", url)
            .env("FABRIQUE_NATS_URL", fabrique_testkit::shared_nats_url())
            .env("FABRIQUE_SUBJECT_PREFIX", &prefix);
    }
    let mut server = command.spawn().expect("serve");
    let endpoint = format!("http://{listen}");
    wait_serving(&endpoint).await;
    let token = fabrique(&["token", "--jwt-secret", secret], &[])
        .await
        .trim()
        .to_string();
    let channel = tonic::transport::Channel::from_shared(endpoint)
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let members = proto::members_service_client::MembersServiceClient::new(channel.clone())
        .list_members(authed(
            proto::ListMembersRequest {
                page_size: 500,
                ..Default::default()
            },
            &token,
        ))
        .await
        .expect("list")
        .into_inner()
        .members;
    let programmes = fabrique_api::projects::projects_service_client::ProjectsServiceClient::new(
        channel.clone(),
    )
    .list_programmes(authed(
        fabrique_api::projects::ListProgrammesRequest::default(),
        &token,
    ))
    .await
    .expect("programmes")
    .into_inner()
    .programmes;
    // What allies share and do together: four resources, a confirmed reservation and a
    // held claim, two projects.
    let mut sharing =
        fabrique_api::sharing::sharing_service_client::SharingServiceClient::new(channel.clone());
    let resources = sharing
        .list_resources(authed(
            fabrique_api::sharing::ListResourcesRequest {
                page_size: 100,
                ..Default::default()
            },
            &token,
        ))
        .await
        .expect("resources")
        .into_inner()
        .resources;
    let titles: Vec<&str> = resources.iter().map(|r| r.title.as_str()).collect();
    for title in [
        "Découpeuse laser du FabLab",
        "Salle de réunion du tiers-lieu",
        "Fraisats d'enrobés de réemploi",
        "Fourgon partagé",
    ] {
        assert!(titles.contains(&title), "{title} in {titles:?}");
    }
    let laser = resources
        .iter()
        .find(|r| r.title == "Découpeuse laser du FabLab")
        .expect("the laser cutter");
    assert!(!laser.place.is_empty(), "at the Thiers FabLab");
    let reservations = sharing
        .list_reservations(authed(
            fabrique_api::sharing::ListReservationsRequest {
                parent: laser.name.clone(),
                page_size: 10,
                ..Default::default()
            },
            &token,
        ))
        .await
        .expect("reservations")
        .into_inner()
        .reservations;
    assert_eq!(
        reservations.iter().map(|r| r.state).collect::<Vec<_>>(),
        [fabrique_api::sharing::ReservationState::Confirmed as i32]
    );
    let gravel = resources
        .iter()
        .find(|r| r.title == "Fraisats d'enrobés de réemploi")
        .expect("the road materials");
    assert_eq!(gravel.remaining.as_ref().map(|q| q.amount), Some(112.0));
    let projects = fabrique_api::projects::projects_service_client::ProjectsServiceClient::new(
        channel.clone(),
    )
    .list_projects(authed(
        fabrique_api::projects::ListProjectsRequest {
            page_size: 100,
            ..Default::default()
        },
        &token,
    ))
    .await
    .expect("projects")
    .into_inner()
    .projects;
    // Cocon 63 awarded: 1,100 m² of attics at 19.50 € instead of 31 € saves 12,650 €.
    let purchases = fabrique_api::projects::projects_service_client::ProjectsServiceClient::new(
        channel.clone(),
    )
    .list_group_purchases(authed(
        fabrique_api::projects::ListGroupPurchasesRequest {
            page_size: 100,
            ..Default::default()
        },
        &token,
    ))
    .await
    .expect("purchases")
    .into_inner()
    .group_purchases;
    let cocon = purchases
        .iter()
        .find(|p| p.title.starts_with("Cocon 63"))
        .expect("Cocon 63");
    assert_eq!(
        (cocon.state, cocon.saving_cents),
        (
            fabrique_api::projects::GroupPurchaseState::Awarded as i32,
            1_265_000
        )
    );
    assert_eq!(cocon.participations.len(), 5);
    // Its outcome, as the public downloads it from the site: the lot and the group, no
    // member's row; and the electricity purchase's street lighting lot, priced apart.
    let id = |name: &str| name.rsplit('/').next().unwrap_or_default().to_string();
    let file = format!("/achats-groupes/{}/resultat.csv", id(&cocon.name));
    let outcome = fabrique_testkit::http::get(site, &file).await;
    assert_eq!(outcome.status, 200, "{}", outcome.body);
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(outcome.body.as_bytes())
        .records()
        .map(|r| r.expect("a row"))
        .collect();
    let kinds: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(kinds, ["lot", "groupe"]);
    assert_eq!((&rows[1][10], &rows[1][13]), ("1100", "12650.00"));
    let electricity = purchases
        .iter()
        .find(|p| p.title == "Achat groupé d'électricité")
        .expect("electricity");
    let page = format!("/achats-groupes/{}", id(&electricity.name));
    let page = fabrique_testkit::http::get(site, &page).await;
    assert!(page.text().contains("Éclairage public (éclairage public)"));
    seeded_season(&channel).await;
    seeded_consultation(&channel).await;
    let titles: Vec<&str> = projects.iter().map(|p| p.title.as_str()).collect();
    assert!(
        titles.contains(&"Habitat participatif du Domaine des possibles")
            && titles.contains(&"Quelle route pour demain ? Réemployer les matériaux routiers"),
        "{titles:?}"
    );
    let places = registry::registry_service_client::RegistryServiceClient::new(channel)
        .list_places(registry::ListPlacesRequest {
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("public list of places")
        .into_inner()
        .places;
    // `serve` brings the site up beside the services, on the seeded data: its list of
    // places shows every listed place the API gives.
    let page = fabrique_testkit::http::get(site, "/lieux").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let listed: Vec<&registry::Place> = places
        .iter()
        .filter(|p| p.state == registry::PlaceState::Listed as i32)
        .collect();
    assert!(!listed.is_empty(), "the seed lists no place");
    for place in listed {
        let id = place.name.strip_prefix("places/").expect("places/{id}");
        assert!(
            page.body.contains(&format!("href=\"/lieux/{id}\"")),
            "the site does not list {}",
            place.display_name
        );
    }
    // And each programme's gauge says what the API says (Solaire Dôme's after seeding).
    assert!(!programmes.is_empty(), "the seed opens no programme");
    for programme in &programmes {
        let id = programme
            .name
            .strip_prefix("programmes/")
            .expect("programmes/{id}");
        let page = fabrique_testkit::http::get(site, &format!("/programmes/{id}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for cents in [
            programme.envelope_cents,
            programme.committed_cents,
            programme.paid_cents,
            programme.remaining_cents,
        ] {
            let amount = fabrique_web::fr::euros(cents);
            assert!(
                page.body.contains(&format!("<dt>{amount}</dt>")),
                "{}: the gauge does not show {amount}",
                programme.title
            );
        }
    }
    if database_url.is_some() {
        let nats = fabrique_testkit::shared_nats_url();
        let stream = fabrique_platform::bus::Subjects::new(prefix.clone()).stream_name("members");
        let expected = members.len() * 2 - members.iter().filter(|m| m.joined_at.is_none()).count();
        fabrique_testkit::eventually(
            "the seed's events on JetStream",
            Duration::from_secs(30),
            || {
                let (nats, stream) = (nats.clone(), stream.clone());
                async move {
                    (fabrique_testkit::stream_messages(&nats, &stream)
                        .await
                        .len()
                        == expected)
                        .then_some(())
                }
            },
        )
        .await;
    }
    terminate(&mut server).await;
    (members, places, programmes)
}

type Seeded = (
    Vec<proto::Member>,
    Vec<registry::Place>,
    Vec<fabrique_api::projects::Programme>,
);

/// Villes Pairs season 3 as the public reads it: co-piloted by two members, a first
/// session for every team with who came, a second for the roads technicians' peer
/// group (online, its address kept from the public), and the published restitution.
async fn seeded_season(channel: &tonic::transport::Channel) {
    use fabrique_api::projects as pp;
    let mut client = pp::projects_service_client::ProjectsServiceClient::new(channel.clone());
    let workshops = client
        .list_workshops(pp::ListWorkshopsRequest::default())
        .await
        .expect("public workshops")
        .into_inner()
        .workshops;
    let season = workshops
        .iter()
        .find(|w| w.season.starts_with("Villes Pairs, saison 3"))
        .expect("season 3");
    assert_eq!((season.co_pilots.len(), season.teams.len()), (2, 2));
    assert_eq!(season.sessions.len(), 2);
    let (visit, technicians) = (&season.sessions[0], &season.sessions[1]);
    assert!(
        !visit.place.is_empty() && visit.attendees.len() == 3,
        "{visit:?}"
    );
    assert_eq!(technicians.peer_group, "roads_technician");
    assert_eq!(technicians.expected_members.len(), 2, "{technicians:?}");
    assert!(technicians.online && technicians.online_url.is_empty());
    let restitutions = client
        .list_restitutions(pp::ListRestitutionsRequest {
            parent: season.name.clone(),
            ..Default::default()
        })
        .await
        .expect("public restitutions")
        .into_inner()
        .restitutions;
    assert_eq!(restitutions.len(), 1);
    assert_eq!(restitutions[0].session, visit.name);
}

/// The Département's consultation as the public reads it: the proposals step active,
/// three proposals — the reuse of road materials at the threshold of three supports,
/// under study — and the citizen conference in the listed assembly hall, two registered.
/// Seeded twice, nothing doubled.
async fn seeded_consultation(channel: &tonic::transport::Channel) {
    use fabrique_api::participation as pa;
    let mut client =
        pa::participation_service_client::ParticipationServiceClient::new(channel.clone());
    let processes = client
        .list_processes(pa::ListProcessesRequest::default())
        .await
        .expect("public processes")
        .into_inner()
        .processes;
    assert_eq!(processes.len(), 2, "{processes:?}");
    let process = processes
        .iter()
        .find(|p| p.title == "Quelle route pour demain ?")
        .expect("the Département's consultation");
    assert_eq!((process.active_step, process.steps.len()), (2, 4));
    assert!(process.verified_only && process.territory.len() == 14);
    let proposals = client
        .list_proposals(pa::ListProposalsRequest {
            parent: process.name.clone(),
            order: pa::ProposalOrder::MostSupported as i32,
            ..Default::default()
        })
        .await
        .expect("public proposals")
        .into_inner()
        .proposals;
    assert_eq!(proposals.len(), 3);
    let reuse = &proposals[0];
    assert_eq!(
        reuse.title,
        "Réemployer les fraisats dans les chantiers du Département"
    );
    assert_eq!((reuse.support_count, reuse.threshold_reached), (3, true));
    assert_eq!(reuse.state, pa::ProposalState::Evaluating as i32);
    assert!(reuse.answer.is_some());
    assert_eq!(proposals[1].support_count, 1);
    let meetings = client
        .list_meetings(pa::ListMeetingsRequest {
            parent: process.name.clone(),
            ..Default::default()
        })
        .await
        .expect("public meetings")
        .into_inner()
        .meetings;
    assert_eq!(meetings.len(), 1);
    let conference = &meetings[0];
    assert_eq!(conference.kind, pa::MeetingKind::CitizenConference as i32);
    assert_eq!(
        conference.place_display_name,
        "Salle des assemblées de l'Hôtel du Département (exemple)"
    );
    assert_eq!((conference.seats, conference.registered_count), (60, 2));

    // Thiers's participatory budget: the vote open, four items, three ballots.
    let thiers = processes
        .iter()
        .find(|p| p.title == "Budget participatif de Thiers 2027")
        .expect("Thiers's budget");
    assert_eq!(thiers.active_step, 2);
    assert!(thiers.steps[1].votes_open);
    let budgets = client
        .list_budgets(pa::ListBudgetsRequest {
            parent: thiers.name.clone(),
        })
        .await
        .expect("public budgets")
        .into_inner()
        .budgets;
    assert_eq!(budgets.len(), 1);
    let budget = &budgets[0];
    assert_eq!(budget.envelope_cents, 2_000_000);
    assert_eq!((budget.items.len(), budget.ballot_count), (4, 3));
    assert_eq!(budget.state, pa::BudgetState::Open as i32);
}

fn check_alliance((members, places, programmes): &Seeded) {
    let departement = members
        .iter()
        .find(|m| m.display_name == "Département du Puy-de-Dôme")
        .expect("the Département");
    assert_eq!(departement.state, proto::MemberState::Active as i32);
    let joined = departement.joined_at.as_ref().expect("joined");
    let joined = chrono::DateTime::from_timestamp(joined.seconds, 0).expect("time");
    assert_eq!(joined.date_naive().to_string(), "2021-02-10");
    let tdm = members
        .iter()
        .find(|m| m.display_name == "Thiers Dore et Montagne")
        .expect("the EPCI");
    assert_eq!(tdm.siren, "200070712", "SIREN from the open data");
    assert_eq!(tdm.kind, proto::MemberKind::Epci as i32);
    for name in [
        "Loos-en-Gohelle",
        "ATEMIS",
        "Aduhme",
        "In Sun We Trust",
        "Région Auvergne-Rhône-Alpes",
    ] {
        assert!(
            members.iter().any(|m| m.display_name == name),
            "{name} missing"
        );
    }
    assert!(
        members
            .iter()
            .any(|m| m.state == proto::MemberState::Pending as i32),
        "one application pending"
    );

    assert!(places.len() >= 6, "{places:?}");
    let busi = places
        .iter()
        .find(|p| p.display_name.starts_with("Busi"))
        .expect("Busi's incubator");
    assert!(
        busi.kinds
            .contains(&(registry::PlaceKind::Incubator as i32))
    );
    let operator = members
        .iter()
        .find(|m| m.display_name == "Busi")
        .expect("Busi");
    assert_eq!(busi.operator, operator.name);
    let fablab = places
        .iter()
        .find(|p| p.display_name.starts_with("FabLab de Thiers"))
        .expect("a FabLab");
    assert_eq!(fablab.operator, tdm.name);
    assert!(
        places
            .iter()
            .any(|p| p.display_name == "Domaine des possibles")
    );

    let solaire = programmes
        .iter()
        .find(|p| p.title == "Solaire Dôme")
        .expect("Solaire Dôme");
    assert_eq!(solaire.envelope_cents, 50_000_000);
    // Thiers Dore et Montagne's grouping of four communes: one gave up, its award was
    // cancelled and its 5,000 € returned; one was paid in an advance and a balance.
    assert_eq!(solaire.committed_cents, 3 * 500_000);
    assert_eq!(solaire.paid_cents, 2 * 500_000);
    assert_eq!(solaire.award_count, 3);
    let aduhme = members
        .iter()
        .find(|m| m.display_name == "Aduhme")
        .expect("the Aduhme");
    assert_eq!(solaire.operator, aduhme.name, "the Aduhme instructs");
    assert_eq!(solaire.co_funders[0].share_basis_points, 2_500);
    // Each commune of the grouping gave its school's 9 kWc; three awards install them.
    assert_eq!(solaire.installed_kw, 27.0);
    assert_eq!(solaire.estimated_yearly_kwh, 32_400);
    // The Région's 25 % for the park's communes: three parts, one paid.
    assert!(!solaire.co_funders[0].epci_sirens.is_empty());
    assert_eq!(
        (
            solaire.co_funders[0].committed_cents,
            solaire.co_funders[0].paid_cents
        ),
        (3 * 125_000, 125_000)
    );
}

#[tokio::test]
async fn seed_loads_the_example_alliance_on_sqlite() {
    let data = TempDir::new("seed");
    check_alliance(&seeded_alliance(None, &data).await);
}

#[tokio::test]
async fn seed_loads_the_example_alliance_on_postgres_and_its_events_follow() {
    let database = TestDatabase::create().await;
    let data = TempDir::new("seed");
    fabrique(
        &["migrate"],
        &[("FABRIQUE_DATABASE_URL", database.url.as_str())],
    )
    .await;
    check_alliance(&seeded_alliance(Some(&database.url), &data).await);
}

async fn fabrique_status(args: &[&str], envs: &[(&str, &str)]) -> (i32, String) {
    let output = tokio::process::Command::new(BIN)
        .args(args)
        .env_remove("FABRIQUE_DATABASE_URL")
        .env_remove("FABRIQUE_NATS_URL")
        .envs(envs.iter().copied())
        .output()
        .await
        .expect("fabrique runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).to_string(),
    )
}

#[tokio::test]
async fn import_places_loads_a_csv_and_reports_bad_rows_by_line() {
    let data = TempDir::new("import");
    let data_dir = data.path().to_str().expect("utf-8 path");
    let envs = [("FABRIQUE_DATA_DIR", data_dir)];
    let file = data.path().join("lieux-63.csv");
    std::fs::write(
        &file,
        "identifiant;nom;adresse;code_postal;commune;code_insee;latitude;longitude;typologie;horaires\n\
         l1;FabLab de Riom;1 place de la Fédération;63200;Riom;63300;45,8936;3,1126;FabLab;We 14:00-19:00\n\
         l2;Ressourcerie d'Issoire;;63500;Issoire;63178;45,5446;3,2497;Ressourcerie;\n\
         l3;Sans coordonnées;;;;;;;FabLab;\n",
    )
    .expect("write the file");
    let path = file.to_str().expect("utf-8 path");

    let (code, out) = fabrique_status(&["import", "places", path], &envs).await;
    assert_eq!(code, 3, "some rows refused: {out}");
    assert!(
        out.contains("2 created, 0 updated, 0 unchanged, 1 refused"),
        "{out}"
    );
    assert!(out.contains("line 4: latitude"), "{out}");

    let (code, out) = fabrique_status(&["import", "places", path], &envs).await;
    assert_eq!(code, 3);
    assert!(
        out.contains("0 created, 0 updated, 2 unchanged, 1 refused"),
        "importing again duplicates nothing: {out}"
    );

    std::fs::write(
        &file,
        std::fs::read_to_string(&file)
            .expect("read")
            .replace("l3;Sans coordonnées;;;;;;;FabLab;\n", ""),
    )
    .expect("rewrite");
    let (code, out) = fabrique_status(&["import", "places", path], &envs).await;
    assert_eq!(code, 0, "{out}");
}
