//! Projects over gRPC, with members beside it, on PostgreSQL with NATS and on SQLite
//! with the in-process bus: Solaire Dôme's envelope never exceeded under concurrent
//! approvals (two server instances on one PostgreSQL), the Région's co-funding in exact
//! cents, grouped purchases, a departing member's applications, the SCDL export, Villes
//! Pairs teams, and application events seen in order on NATS.

use std::collections::HashMap;
use std::time::Duration;

use fabrique_api::members as members_proto;
use fabrique_api::projects::{self as proto, projects_service_client::ProjectsServiceClient};
use fabrique_platform::bus::{ConsumerSpec, Headers, MSG_ID_HEADER, OutgoingMessage};
use fabrique_platform::config::DatabaseSettings;
use fabrique_testkit::{Backend, BusChoice, TestPlatform, authed};
use sea_orm::{ConnectionTrait, Statement};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::support::{
    Members, all_services, association, id_of, reason, refusal_fact, violated_fields,
};

const COLLECTIVITES: &str = include_str!("../../src/seed/puy-de-dome-collectivites.csv");

pub(crate) async fn platform(backend: Backend) -> TestPlatform {
    let bus = match backend {
        Backend::Postgres => BusChoice::SharedNats,
        Backend::Sqlite => BusChoice::InProcess,
    };
    TestPlatform::spawn(all_services(), backend, bus).await
}

#[derive(Clone)]
pub(crate) struct Projects {
    pub(crate) client: ProjectsServiceClient<Channel>,
    pub(crate) token: String,
}

impl Projects {
    pub(crate) async fn connect(platform: &TestPlatform, token: String) -> Self {
        Self {
            client: ProjectsServiceClient::new(platform.channel().await),
            token,
        }
    }

    pub(crate) async fn programme(
        &self,
        programme: proto::Programme,
    ) -> Result<proto::Programme, Status> {
        let request = authed(
            proto::CreateProgrammeRequest {
                programme: Some(programme),
                request_id: String::new(),
            },
            &self.token,
        );
        self.client
            .clone()
            .create_programme(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn get_programme(&self, name: &str) -> Result<proto::Programme, Status> {
        let request = authed(
            proto::GetProgrammeRequest {
                name: name.to_string(),
            },
            &self.token,
        );
        self.client
            .clone()
            .get_programme(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn apply(
        &self,
        programme: &str,
        purpose: &str,
    ) -> Result<proto::Application, Status> {
        let request = authed(
            proto::CreateApplicationRequest {
                parent: programme.to_string(),
                application: Some(proto::Application {
                    units: 1,
                    purpose: purpose.to_string(),
                    ..Default::default()
                }),
                request_id: String::new(),
                validate_only: false,
            },
            &self.token,
        );
        self.client
            .clone()
            .create_application(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn approve(&self, name: &str) -> Result<proto::Application, Status> {
        let request = authed(
            proto::ApproveApplicationRequest {
                name: name.to_string(),
            },
            &self.token,
        );
        self.client
            .clone()
            .approve_application(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn application(&self, name: &str) -> Result<proto::Application, Status> {
        let request = authed(
            proto::GetApplicationRequest {
                name: name.to_string(),
            },
            &self.token,
        );
        self.client
            .clone()
            .get_application(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn purchase(
        &self,
        purchase: proto::GroupPurchase,
    ) -> Result<proto::GroupPurchase, Status> {
        let request = authed(
            proto::CreateGroupPurchaseRequest {
                group_purchase: Some(purchase),
                request_id: String::new(),
            },
            &self.token,
        );
        self.client
            .clone()
            .create_group_purchase(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn join(
        &self,
        purchase: &str,
        sites: &[(&str, &str, f64)],
    ) -> Result<proto::GroupPurchase, Status> {
        let request = authed(
            proto::JoinGroupPurchaseRequest {
                name: purchase.to_string(),
                sites: sites
                    .iter()
                    .map(|(name, lot, volume)| proto::Site {
                        name: name.to_string(),
                        lot: lot.to_string(),
                        volume: *volume,
                    })
                    .collect(),
            },
            &self.token,
        );
        self.client
            .clone()
            .join_group_purchase(request)
            .await
            .map(tonic::Response::into_inner)
    }
}

/// Communes of the Puy-de-Dôme open data (real INSEE codes and SIRENs).
pub(crate) fn open_data_communes(count: usize) -> Vec<members_proto::Member> {
    COLLECTIVITES
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (f.len() >= 5 && f[0] == "commune").then(|| members_proto::Member {
                display_name: f[1].to_string(),
                kind: members_proto::MemberKind::Commune as i32,
                insee_code: f[2].to_string(),
                siren: f[3].to_string(),
                epci_siren: f[4].to_string(),
                ..Default::default()
            })
        })
        .take(count)
        .collect()
}

pub(crate) fn with_kind(
    name: &str,
    kind: members_proto::MemberKind,
    roles: &[members_proto::ContactRole],
) -> members_proto::Member {
    members_proto::Member {
        display_name: name.to_string(),
        kind: kind as i32,
        siren: fabrique_testkit::siren_for(kind),
        insee_code: if kind == members_proto::MemberKind::Commune {
            "63113".into()
        } else {
            String::new()
        },
        contacts: roles
            .iter()
            .enumerate()
            .map(|(i, role)| members_proto::Contact {
                full_name: format!("Personne {i} (exemple)"),
                role: *role as i32,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// Members created, approved, and known to the projects service; their names.
pub(crate) async fn active_members(
    platform: &TestPlatform,
    members: &Members,
    list: Vec<members_proto::Member>,
) -> Vec<String> {
    let mut calls = Vec::new();
    for member in list {
        let members = members.clone();
        calls.push(tokio::spawn(async move {
            let created = members.create(member).await.expect("apply");
            members.approve(&created.name).await.expect("approve").name
        }));
    }
    let mut names = Vec::new();
    for call in calls {
        names.push(call.await.expect("task"));
    }
    let db = projects_database(platform).await;
    let ids: Vec<String> = names.iter().map(|n| id_of(n)).collect();
    fabrique_testkit::eventually(
        "the projects service to know the members",
        Duration::from_secs(60),
        || {
            let (db, ids) = (db.clone(), ids.clone());
            async move {
                for id in &ids {
                    let id = uuid::Uuid::parse_str(id).expect("uuid");
                    match fabrique_replicas::members::get(&db, id).await {
                        Ok(Some(m)) if m.is_active() => {}
                        _ => return None,
                    }
                }
                Some(())
            }
        },
    )
    .await;
    names
}

pub(crate) async fn projects_database(platform: &TestPlatform) -> sea_orm::DatabaseConnection {
    fabrique_platform::db::connect(
        &DatabaseSettings {
            url: platform.database_url.clone(),
            max_connections: 2,
        },
        "projects",
    )
    .await
    .expect("database")
}

pub(crate) async fn scalar(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_string(),
    ))
    .await
    .expect("query")
    .expect("a row")
    .try_get_by_index::<i64>(0)
    .expect("a number")
}

pub(crate) fn solaire_dome(region: &str) -> proto::Programme {
    proto::Programme {
        title: "Solaire Dôme".into(),
        description: "Centrales photovoltaïques de 9 kWc (60 m²) en toiture des bâtiments publics"
            .into(),
        envelope_cents: 50_000_000,
        aid_per_unit_cents: 500_000,
        unit_label: "installation photovoltaïque de 9 kWc".into(),
        max_units_per_application: 1,
        eligible_kinds: vec!["commune".into(), "epci".into()],
        max_awards_per_member: 1,
        co_funders: vec![proto::CoFunder {
            member: region.to_string(),
            share_basis_points: 2_500,
            cents_per_unit: 0,
            note: "via le Parc naturel régional Livradois-Forez".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The Département (funder) and the Région (co-funder), active.
pub(crate) async fn funders(platform: &TestPlatform, members: &Members) -> (String, String) {
    let names = active_members(
        platform,
        members,
        vec![
            with_kind(
                "Département du Puy-de-Dôme",
                members_proto::MemberKind::Departement,
                &[],
            ),
            with_kind(
                "Région Auvergne-Rhône-Alpes",
                members_proto::MemberKind::Region,
                &[],
            ),
        ],
    )
    .await;
    (names[0].clone(), names[1].clone())
}

async fn the_envelope_is_never_exceeded(backend: Backend) {
    let platform = platform(backend).await;
    let second = match backend {
        Backend::Postgres => Some(platform.another_instance(all_services()).await),
        Backend::Sqlite => None,
    };
    let admin_token = TestPlatform::admin_token();
    let members = Members::connect(&platform, admin_token.clone()).await;
    let (departement, region) = funders(&platform, &members).await;
    let communes = active_members(&platform, &members, open_data_communes(120)).await;
    let association = active_members(&platform, &members, vec![association("Aduhme")])
        .await
        .remove(0);

    let funder =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let programme = funder
        .programme(solaire_dome(&region))
        .await
        .expect("open Solaire Dôme");
    assert_eq!(programme.remaining_cents, 50_000_000);

    let clients = |token: String| {
        let (platform, second) = (&platform, &second);
        async move {
            let first = Projects::connect(platform, token.clone()).await;
            let other = match second {
                Some(second) => Projects::connect(second, token).await,
                None => first.clone(),
            };
            (first, other)
        }
    };
    let mut calls = Vec::new();
    for (i, commune) in communes.iter().enumerate() {
        let (first, other) = clients(TestPlatform::member_token(&id_of(commune))).await;
        let client = if i % 2 == 0 { first } else { other };
        let name = programme.name.clone();
        calls.push(tokio::spawn(async move {
            client.apply(&name, "Centrale de 9 kWc sur la mairie").await
        }));
    }
    let mut applications = Vec::new();
    for call in calls {
        applications.push(
            call.await
                .expect("task")
                .expect("an eligible commune applies"),
        );
    }

    let (admin, admin_other) = clients(admin_token.clone()).await;
    let mut calls = Vec::new();
    for (i, application) in applications.iter().enumerate() {
        let client = if i % 2 == 0 {
            admin.clone()
        } else {
            admin_other.clone()
        };
        let name = application.name.clone();
        calls.push(tokio::spawn(async move { client.approve(&name).await }));
    }
    let mut approved = 0;
    for call in calls {
        match call.await.expect("task") {
            Ok(application) => {
                assert_eq!(application.state, proto::ApplicationState::Approved as i32);
                approved += 1;
            }
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                assert_eq!(reason(&status), "ENVELOPE_EXHAUSTED", "{status:?}");
                assert_eq!(refusal_fact(&status, "aid_cents"), "500000");
                assert_eq!(refusal_fact(&status, "envelope_cents"), "50000000");
            }
        }
    }
    assert_eq!(approved, 100, "100 × 5,000 € = 500,000 €");
    let mut rejected = 0;
    for application in &applications {
        let current = admin.application(&application.name).await.expect("get");
        if current.state == proto::ApplicationState::Rejected as i32 {
            assert!(
                current.state_reason.contains("ENVELOPE_EXHAUSTED"),
                "{}",
                current.state_reason
            );
            rejected += 1;
        }
    }
    assert_eq!(rejected, 20);
    let programme = admin.get_programme(&programme.name).await.expect("get");
    assert_eq!(
        (programme.committed_cents, programme.remaining_cents),
        (50_000_000, 0)
    );
    // The programme counts what happened: 120 applications, 100 awards.
    assert_eq!(
        (programme.application_count, programme.award_count),
        (120, 100)
    );

    let db = projects_database(&platform).await;
    assert_eq!(
        scalar(&db, "SELECT committed_cents FROM programmes").await,
        50_000_000
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT CAST(SUM(aid_cents) AS BIGINT) FROM applications WHERE state = 'approved'"
        )
        .await,
        50_000_000
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM applications WHERE state = 'approved'"
        )
        .await,
        100
    );

    // Once approved, a commune cannot apply again; an association may not apply at all.
    let mut winner = None;
    for application in &applications {
        if admin
            .application(&application.name)
            .await
            .expect("get")
            .state
            == proto::ApplicationState::Approved as i32
        {
            winner = Some(application.clone());
            break;
        }
    }
    let winner = winner.expect("a winner");
    let again = Projects::connect(
        &platform,
        TestPlatform::member_token(&id_of(&winner.applicant)),
    )
    .await
    .apply(&programme.name, "Une deuxième centrale")
    .await
    .unwrap_err();
    assert_eq!(
        (again.code(), reason(&again).as_str()),
        (Code::FailedPrecondition, "AWARD_LIMIT_REACHED")
    );
    let ineligible = Projects::connect(&platform, TestPlatform::member_token(&id_of(&association)))
        .await
        .apply(&programme.name, "Des panneaux")
        .await
        .unwrap_err();
    assert_eq!(reason(&ineligible), "INELIGIBLE");
    assert!(
        ineligible.message().contains("commune, epci"),
        "{}",
        ineligible.message()
    );
}

async fn the_breakdown_is_exact_and_the_scdl_export_parses(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (departement, region) = funders(&platform, &members).await;
    let communes = active_members(&platform, &members, open_data_communes(3)).await;
    let funder =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let programme = funder.programme(solaire_dome(&region)).await.expect("open");

    let commune =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&communes[0]))).await;
    // validate_only: the same aid and breakdown, checked as a submission, written nowhere.
    let preview_of = |units: i32| proto::CreateApplicationRequest {
        parent: programme.name.clone(),
        application: Some(proto::Application {
            units,
            purpose: "Centrale sur l'école".into(),
            ..Default::default()
        }),
        request_id: "5d7c1a3e-8f0b-4c61-9d2e-7b4a6c0e9f12".into(),
        validate_only: true,
    };
    let preview = commune
        .client
        .clone()
        .create_application(authed(preview_of(1), &commune.token))
        .await
        .expect("preview")
        .into_inner();
    assert!(
        preview.name.is_empty() && preview.create_time.is_none(),
        "{preview:?}"
    );
    assert_eq!(preview.aid_cents, 500_000);
    assert_eq!(preview.breakdown.len(), 2);
    let too_many = commune
        .client
        .clone()
        .create_application(authed(preview_of(0), &commune.token))
        .await
        .expect_err("no units");
    assert_eq!(violated_fields(&too_many), ["application.units"]);
    let funder_preview = funder
        .client
        .clone()
        .create_application(authed(preview_of(1), &funder.token))
        .await
        .expect_err("a funder may not apply to its programme");
    assert_eq!(funder_preview.code(), Code::PermissionDenied);
    let db = projects_database(&platform).await;
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM applications").await, 0);
    assert_eq!(
        funder
            .get_programme(&programme.name)
            .await
            .expect("programme")
            .application_count,
        0
    );
    let application = commune
        .apply(&programme.name, "Centrale sur l'école")
        .await
        .expect("apply");
    assert_eq!(application.aid_cents, 500_000);
    let lines: Vec<(String, i64)> = application
        .breakdown
        .iter()
        .map(|l| (l.funder.clone(), l.amount_cents))
        .collect();
    assert_eq!(
        lines,
        [(departement.clone(), 500_000), (region.clone(), 125_000)]
    );
    assert!(application.breakdown[1].note.contains("Livradois-Forez"));

    for name in &communes {
        let client = Projects::connect(&platform, TestPlatform::member_token(&id_of(name))).await;
        let a = match client.apply(&programme.name, "Centrale de 9 kWc").await {
            Ok(a) => a,
            Err(_) => application.clone(),
        };
        funder.approve(&a.name).await.ok();
    }
    let mut client = funder.client.clone();
    let export = client
        .export_awards(authed(
            proto::ExportAwardsRequest {
                name: programme.name.clone(),
            },
            &funder.token,
        ))
        .await
        .expect("export")
        .into_inner();
    // One row per award and funder: the Département's aid, the Région's part.
    assert_eq!(export.rows, 6);
    // The funders and these communes have no SIRET in the register: the export says so.
    assert_eq!(export.warnings.len(), 5, "{:?}", export.warnings);
    let mut reader = csv::Reader::from_reader(export.csv.as_slice());
    let headers: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(headers, fabrique_projects::scdl::COLUMNS);
    let rows: Vec<HashMap<String, String>> =
        reader.deserialize().map(|r| r.expect("a row")).collect();
    assert_eq!(rows.len(), 6, "one row per award and funder");
    let expected: Vec<String> = open_data_communes(3)
        .into_iter()
        .map(|m| m.display_name)
        .collect();
    for row in &rows {
        let part = match row["nomAttribuant"].as_str() {
            "Département du Puy-de-Dôme" => "5000.00",
            "Région Auvergne-Rhône-Alpes" => "1250.00",
            other => panic!("an unexpected funder {other}"),
        };
        assert_eq!(row["montant"], part);
        assert!(expected.contains(&row["nomBeneficiaire"]), "{row:?}");
        assert_eq!(row["idBeneficiaire"], "", "no SIRET known: {row:?}");
        assert_eq!(row["dispositifAide"], "Solaire Dôme");
    }
}

async fn a_grouped_purchase_adds_volumes_exactly(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (departement, _) = funders(&platform, &members).await;
    let communes = active_members(&platform, &members, open_data_communes(3)).await;
    let coordinator =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let deadline = chrono::Utc::now() + chrono::Duration::days(30);
    let gas = coordinator
        .purchase(proto::GroupPurchase {
            title: "Achat groupé de gaz 2027".into(),
            category: proto::GroupPurchaseCategory::Gas as i32,
            unit: "MWh".into(),
            lots: vec![
                proto::Lot {
                    code: "petits-sites".into(),
                    title: "Sites de moins de 300 MWh".into(),
                    total_volume: 0.0,
                    site_category: 0,
                },
                proto::Lot {
                    code: "sport".into(),
                    title: "Piscines, gymnases et stades".into(),
                    total_volume: 0.0,
                    site_category: proto::SiteCategory::SportsFacility as i32,
                },
            ],
            deadline: Some(fabrique_platform::time::timestamp(deadline)),
            ..Default::default()
        })
        .await
        .expect("open the purchase");
    let volumes: [&[(&str, &str, f64)]; 3] = [
        &[
            ("Mairie", "petits-sites", 12.345),
            ("Piscine", "sport", 410.0),
        ],
        &[("École", "petits-sites", 0.655)],
        &[("Gymnase", "petits-sites", 87.0), ("Stade", "sport", 350.5)],
    ];
    let mut last = None;
    for (commune, sites) in communes.iter().zip(volumes) {
        let client =
            Projects::connect(&platform, TestPlatform::member_token(&id_of(commune))).await;
        last = Some(client.join(&gas.name, sites).await.expect("join"));
    }
    let totals: HashMap<String, f64> = last
        .expect("joined")
        .lots
        .iter()
        .map(|l| (l.code.clone(), l.total_volume))
        .collect();
    assert_eq!(totals["petits-sites"], 100.0, "12.345 + 0.655 + 87");
    assert_eq!(totals["sport"], 760.5);
    assert_eq!(
        gas.lots[1].site_category,
        proto::SiteCategory::SportsFacility as i32
    );

    let first =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&communes[0]))).await;
    let unknown_lot = first
        .join(&gas.name, &[("Mairie", "electricite", 1.0)])
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unknown_lot), ["sites[0].lot"]);
    let soon = coordinator
        .purchase(proto::GroupPurchase {
            title: "Isolation des combles (Cocon 63)".into(),
            category: proto::GroupPurchaseCategory::Insulation as i32,
            unit: "m²".into(),
            lots: vec![proto::Lot {
                code: "combles".into(),
                title: "Combles perdus".into(),
                total_volume: 0.0,
                site_category: 0,
            }],
            deadline: Some(fabrique_platform::time::timestamp(
                chrono::Utc::now() + chrono::Duration::milliseconds(1500),
            )),
            ..Default::default()
        })
        .await
        .expect("open");
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let late = first
        .join(&soon.name, &[("Mairie", "combles", 120.0)])
        .await
        .unwrap_err();
    assert_eq!(
        (late.code(), reason(&late).as_str()),
        (Code::FailedPrecondition, "DEADLINE_PASSED")
    );
    outcome_is_exported_once_awarded(&coordinator, &gas.name, &communes).await;
}

/// No outcome before the award; after it, the coordinator's export has each commune's
/// rows, whose savings add up to the lot's, and the public's has none.
async fn outcome_is_exported_once_awarded(
    coordinator: &Projects,
    purchase: &str,
    communes: &[String],
) {
    let export = |token: Option<&str>| {
        let message = proto::ExportGroupPurchaseRequest {
            name: purchase.to_string(),
        };
        let request = match token {
            Some(token) => authed(message, token),
            None => tonic::Request::new(message),
        };
        let mut client = coordinator.client.clone();
        async move { client.export_group_purchase(request).await }
    };
    let early = export(Some(&coordinator.token))
        .await
        .expect_err("not awarded");
    assert_eq!(reason(&early), "PURCHASE_STATE");
    let mut client = coordinator.client.clone();
    let close = proto::CloseGroupPurchaseRequest {
        name: purchase.to_string(),
    };
    client
        .close_group_purchase(authed(close, &coordinator.token))
        .await
        .expect("closed");
    let price = |lot: &str, price_cents, reference_cents| proto::LotPrice {
        lot: lot.into(),
        price_cents,
        reference_cents,
        ..Default::default()
    };
    let award = proto::AwardGroupPurchaseRequest {
        name: purchase.to_string(),
        supplier: "Énergies citoyennes du Livradois".into(),
        supplier_siret: String::new(),
        prices: vec![
            price("petits-sites", 4_150, 5_000),
            price("sport", 3_900, 4_500),
        ],
    };
    let awarded = client
        .award_group_purchase(authed(award, &coordinator.token))
        .await
        .expect("awarded")
        .into_inner();
    let rows = |csv: &[u8]| -> Vec<csv::StringRecord> {
        csv::Reader::from_reader(csv)
            .records()
            .map(|r| r.expect("a row"))
            .collect()
    };
    let cents = |euros: &str| -> i64 {
        let (whole, part) = euros.split_once('.').expect("two decimals");
        whole.parse::<i64>().expect("euros") * 100 + part.parse::<i64>().expect("cents")
    };
    let allies = rows(
        &export(Some(&coordinator.token))
            .await
            .expect("export")
            .into_inner()
            .csv,
    );
    let members: Vec<&csv::StringRecord> = allies.iter().filter(|r| &r[0] == "membre").collect();
    assert_eq!(members.len(), 5, "3 communes in small sites, 2 in sports");
    let group = allies.last().expect("the group's row");
    assert_eq!(cents(&group[13]), awarded.saving_cents);
    // 100 MWh × 8.50 € + 760.5 MWh × 6 € = 850 € + 4,563 €.
    assert_eq!(awarded.saving_cents, 541_300);
    for lot in ["petits-sites", "sport"] {
        let of_lot = |kind: &str| -> i64 {
            allies
                .iter()
                .filter(|r| &r[0] == kind && &r[4] == lot)
                .map(|r| cents(&r[13]))
                .sum()
        };
        assert_eq!(of_lot("membre"), of_lot("lot"), "{lot}");
    }
    assert!(allies.iter().any(|r| &r[6] == "sports_facility"));
    let public = rows(&export(None).await.expect("public export").into_inner().csv);
    let kinds: Vec<&str> = public.iter().map(|r| &r[0]).collect();
    assert_eq!(kinds, ["lot", "lot", "groupe"]);
    assert_eq!(communes.len(), 3);
}

async fn a_departing_member_s_open_applications_are_withdrawn_once(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (departement, region) = funders(&platform, &members).await;
    let commune = active_members(&platform, &members, open_data_communes(1))
        .await
        .remove(0);
    let funder =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let first = funder
        .programme(solaire_dome(&region))
        .await
        .expect("first programme");
    let second = funder
        .programme(proto::Programme {
            title: "Solaire Dôme, seconde vague".into(),
            ..solaire_dome(&region)
        })
        .await
        .expect("second programme");
    let client = Projects::connect(&platform, TestPlatform::member_token(&id_of(&commune))).await;
    let awarded = client
        .apply(&first.name, "Centrale 1")
        .await
        .expect("apply");
    funder.approve(&awarded.name).await.expect("approve");
    let open = client
        .apply(&second.name, "Centrale 2")
        .await
        .expect("apply");

    members
        .leave(&commune, "fusion de communes")
        .await
        .expect("leave");
    fabrique_testkit::eventually(
        "the open application withdrawn",
        Duration::from_secs(20),
        || {
            let (funder, name) = (funder.clone(), open.name.clone());
            async move {
                let a = funder.application(&name).await.ok()?;
                (a.state == proto::ApplicationState::Withdrawn as i32).then_some(())
            }
        },
    )
    .await;
    assert_eq!(
        funder.application(&awarded.name).await.expect("get").state,
        proto::ApplicationState::Approved as i32,
        "awarded aid stays"
    );
    assert_eq!(
        funder
            .get_programme(&first.name)
            .await
            .expect("get")
            .committed_cents,
        500_000
    );
    // A withdrawn application is no longer counted; an award stays one.
    let counts = |p: proto::Programme| (p.application_count, p.award_count);
    assert_eq!(
        counts(funder.get_programme(&first.name).await.expect("get")),
        (1, 1)
    );
    assert_eq!(
        counts(funder.get_programme(&second.name).await.expect("get")),
        (0, 0)
    );

    // The `left` event again: nothing more happens.
    let mut left_events = platform
        .bus
        .subscribe(&ConsumerSpec {
            stream: platform.stream("members"),
            durable_name: "test-replay".into(),
            filter_subjects: vec![format!("{}fabrique.members.member.left", platform.prefix)],
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    let left = tokio::time::timeout(Duration::from_secs(10), left_events.next())
        .await
        .expect("in time")
        .expect("open")
        .expect("ok");
    let mut headers = Headers::new();
    for (name, value) in left.headers.iter() {
        headers.insert(name.to_string(), value);
    }
    headers.insert(MSG_ID_HEADER, "replayed-left");
    platform
        .bus
        .publish(OutgoingMessage {
            subject: left.subject.clone(),
            headers,
            payload: left.payload.clone(),
        })
        .await
        .expect("sent")
        .await
        .expect("stored");
    let mut withdrawn = platform
        .bus
        .subscribe(&ConsumerSpec {
            stream: platform.stream("projects"),
            durable_name: "test-withdrawn".into(),
            filter_subjects: vec![format!(
                "{}fabrique.projects.application.withdrawn",
                platform.prefix
            )],
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    let mut count = 0;
    while let Ok(Some(Ok(delivery))) =
        tokio::time::timeout(Duration::from_secs(3), withdrawn.next()).await
    {
        count += 1;
        delivery.acker.ack().await.expect("ack");
    }
    assert_eq!(count, 1, "withdrawn once");
}

async fn validate_team_names_the_missing_roles(backend: Backend) {
    use members_proto::ContactRole as R;
    let platform = platform(backend).await;
    let admin_token = TestPlatform::admin_token();
    let members = Members::connect(&platform, admin_token.clone()).await;
    let names = active_members(
        &platform,
        &members,
        vec![
            with_kind(
                "Département du Puy-de-Dôme",
                members_proto::MemberKind::Departement,
                &[
                    R::ElectedOfficial,
                    R::ProcurementOfficer,
                    R::RoadsTechnician,
                ],
            ),
            with_kind(
                "In Sun We Trust",
                members_proto::MemberKind::Company,
                &[R::CompanyRepresentative],
            ),
        ],
    )
    .await;
    let admin = Projects::connect(&platform, admin_token).await;
    let mut client = admin.client.clone();
    let workshop = client
        .create_workshop(authed(
            proto::CreateWorkshopRequest {
                workshop: Some(proto::Workshop {
                    theme:
                        "Quelle route pour demain ? Quel modèle de sobriété pour la construction"
                            .into(),
                    season: "Saison 3".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin.token,
        ))
        .await
        .expect("workshop")
        .into_inner();
    assert_eq!(
        workshop.required_roles.len(),
        5,
        "the Villes Pairs roles by default"
    );
    let validate = |lead: String| {
        let (mut client, token, name) = (
            admin.client.clone(),
            admin.token.clone(),
            workshop.name.clone(),
        );
        async move {
            client
                .validate_team(authed(proto::ValidateTeamRequest { name, lead }, &token))
                .await
                .expect("validate")
                .into_inner()
        }
    };
    let alone = validate(names[0].clone()).await;
    assert!(!alone.complete);
    assert_eq!(
        alone.missing_roles,
        ["transition_technician", "company_representative"]
    );

    let lead = Projects::connect(&platform, TestPlatform::member_token(&id_of(&names[0]))).await;
    let mut client = lead.client.clone();
    client
        .set_workshop_team(authed(
            proto::SetWorkshopTeamRequest {
                name: workshop.name.clone(),
                members: vec![names[1].clone()],
            },
            &lead.token,
        ))
        .await
        .expect("team");
    let with_company = validate(names[0].clone()).await;
    assert_eq!(with_company.missing_roles, ["transition_technician"]);
    let company = with_company
        .covered
        .iter()
        .find(|c| c.role == "company_representative")
        .expect("covered");
    assert_eq!(company.members, [names[1].clone()]);
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

on_both_stores!(
    the_envelope_is_never_exceeded,
    the_breakdown_is_exact_and_the_scdl_export_parses,
    a_grouped_purchase_adds_volumes_exactly,
    a_departing_member_s_open_applications_are_withdrawn_once,
    validate_team_names_the_missing_roles,
);

/// Members join, a programme opens, applications are approved; a raw NATS subscriber
/// sees each application submitted, then approved.
#[tokio::test]
async fn application_events_arrive_in_order_on_nats() {
    let platform =
        TestPlatform::spawn(all_services(), Backend::Postgres, BusChoice::SharedNats).await;
    let nats = async_nats::connect(platform.nats_url.clone().expect("NATS"))
        .await
        .expect("raw NATS");
    let mut raw = nats
        .subscribe(format!(
            "{}fabrique.projects.application.>",
            platform.prefix
        ))
        .await
        .expect("subscribe");
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (departement, region) = funders(&platform, &members).await;
    let communes = active_members(&platform, &members, open_data_communes(5)).await;
    let funder =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let programme = funder.programme(solaire_dome(&region)).await.expect("open");
    let mut expected = Vec::new();
    for commune in &communes {
        let client =
            Projects::connect(&platform, TestPlatform::member_token(&id_of(commune))).await;
        let application = client
            .apply(&programme.name, "Centrale de 9 kWc")
            .await
            .expect("apply");
        funder.approve(&application.name).await.expect("approve");
        expected.push(application.name);
    }
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    while seen.values().map(Vec::len).sum::<usize>() < 2 * expected.len() {
        let message =
            tokio::time::timeout(Duration::from_secs(10), futures::StreamExt::next(&mut raw))
                .await
                .expect("events within 10 s")
                .expect("open");
        let subject = message
            .headers
            .as_ref()
            .and_then(|h| h.get("ce-subject"))
            .map(|v| v.as_str().to_string())
            .expect("ce-subject");
        let verb = message
            .subject
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_string();
        let event: proto::ApplicationChanged =
            prost::Message::decode(message.payload.clone()).expect("decodes");
        assert_eq!(event.application, subject);
        seen.entry(subject).or_default().push(verb);
    }
    for name in expected {
        assert_eq!(seen[&name], ["submitted", "approved"], "{name}");
    }
}

/// Acceptance (issue "One shape for every service"): approvals, rejections,
/// withdrawals and payments of one programme's applications run concurrently on two
/// instances, and every application event carries the programme's committed total as
/// it is after the transaction that emits it. A trigger installed for the test numbers
/// the events in the order their transactions wrote them (each holds the programme's
/// row until it commits, so that is the commit order); replaying them in that order,
/// each approval adds its aid and every event's total is the running one.
#[tokio::test]
async fn application_events_carry_the_amounts_after_their_transaction() {
    use prost::Message;

    let platform = platform(Backend::Postgres).await;
    let second = platform.another_instance(all_services()).await;
    let db = projects_database(&platform).await;
    for sql in [
        "CREATE TABLE event_order (seq bigserial PRIMARY KEY, event_id uuid NOT NULL)",
        "CREATE FUNCTION record_event_order() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN INSERT INTO event_order (event_id) VALUES (NEW.event_id); RETURN NEW; END $$",
        "CREATE TRIGGER record_event_order AFTER INSERT ON fabrique_outbox \
         FOR EACH ROW EXECUTE FUNCTION record_event_order()",
    ] {
        db.execute_unprepared(sql)
            .await
            .expect("the test's trigger");
    }

    let admin_token = TestPlatform::admin_token();
    let members = Members::connect(&platform, admin_token.clone()).await;
    let (departement, region) = funders(&platform, &members).await;
    let communes = active_members(&platform, &members, open_data_communes(40)).await;
    let funder_token = TestPlatform::member_token(&id_of(&departement));
    let funder = Projects::connect(&platform, funder_token.clone()).await;
    // Ten awards' worth: most approvals are refused for the envelope, and rejected.
    let programme = funder
        .programme(proto::Programme {
            envelope_cents: 5_000_000,
            ..solaire_dome(&region)
        })
        .await
        .expect("a programme");

    let mut tasks = Vec::new();
    for (i, commune) in communes.iter().enumerate() {
        let instance = if i % 2 == 0 { &platform } else { &second };
        let applicant =
            Projects::connect(instance, TestPlatform::member_token(&id_of(commune))).await;
        let funder = Projects::connect(instance, funder_token.clone()).await;
        let programme = programme.name.clone();
        tasks.push(tokio::spawn(async move {
            let application = applicant
                .apply(&programme, "Centrale de 9 kWc sur l'école")
                .await
                .expect("an eligible commune applies");
            let name = application.name;
            let mut client = funder.client.clone();
            match i % 4 {
                0 => {
                    applicant
                        .client
                        .clone()
                        .withdraw_application(authed(
                            proto::WithdrawApplicationRequest {
                                name: name.clone(),
                                reason: "le conseil municipal a changé d'avis".into(),
                            },
                            &applicant.token,
                        ))
                        .await
                        .expect("withdrawn");
                    let late = funder.approve(&name).await.expect_err("decided");
                    assert_eq!(reason(&late), "APPLICATION_DECIDED");
                }
                1 => {
                    if funder.approve(&name).await.is_ok() {
                        client
                            .pay_application(authed(
                                proto::PayApplicationRequest { name: name.clone() },
                                &funder.token,
                            ))
                            .await
                            .expect("paid");
                    }
                }
                2 => {
                    let _ = client
                        .reject_application(authed(
                            proto::RejectApplicationRequest {
                                name: name.clone(),
                                reason: "toiture non conforme".into(),
                            },
                            &funder.token,
                        ))
                        .await;
                }
                _ => {
                    let _ = funder.approve(&name).await;
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("a task");
    }

    // Every application's events: one submitted, one per move it went through.
    let expected = scalar(
        &db,
        "SELECT COALESCE(SUM(CASE state WHEN 'submitted' THEN 1 WHEN 'paid' THEN 3 ELSE 2 END), 0)::bigint \
         FROM applications",
    )
    .await;
    let stream = platform.stream("projects");
    let url = platform.nats_url.clone().expect("NATS");
    let messages =
        fabrique_testkit::eventually("every application event", Duration::from_secs(60), || {
            let (url, stream) = (url.clone(), stream.clone());
            async move {
                let messages: Vec<_> = fabrique_testkit::stream_messages(&url, &stream)
                    .await
                    .into_iter()
                    .filter(|m| m.subject.contains(".application."))
                    .collect();
                (messages.len() as i64 == expected).then_some(messages)
            }
        })
        .await;

    let order: HashMap<String, i64> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT event_id::text, seq FROM event_order".to_string(),
        ))
        .await
        .expect("the order")
        .into_iter()
        .map(|row| {
            (
                row.try_get_by_index::<String>(0).expect("id"),
                row.try_get_by_index::<i64>(1).expect("seq"),
            )
        })
        .collect();
    let mut events: Vec<(i64, String, proto::ApplicationChanged)> = messages
        .iter()
        .map(|m| {
            let id = m.headers.get("ce-id").expect("ce-id").as_str().to_string();
            let seq = *order
                .get(&id)
                .unwrap_or_else(|| panic!("event {id} was not numbered"));
            let verb = m.subject.rsplit('.').next().expect("a verb").to_string();
            let event = proto::ApplicationChanged::decode(m.payload.clone()).expect("decodes");
            (seq, verb, event)
        })
        .collect();
    events.sort_by_key(|(seq, _, _)| *seq);
    let mut committed = 0;
    let mut seen = HashMap::new();
    for (seq, verb, event) in &events {
        if verb == "approved" {
            committed += event.aid_cents;
        }
        *seen.entry(verb.clone()).or_insert(0) += 1;
        assert_eq!(
            event.programme_committed_cents, committed,
            "event #{seq} ({verb} {}) carries another total than the programme had after it",
            event.application
        );
    }
    for verb in ["submitted", "approved", "rejected", "withdrawn", "paid"] {
        assert!(
            seen.get(verb).is_some_and(|n| *n > 0),
            "no {verb} event: {seen:?}"
        );
    }
    assert_eq!(
        scalar(&db, "SELECT committed_cents FROM programmes").await,
        committed,
        "the replay ends where the programme is"
    );
    assert!(committed <= 5_000_000);
    second.stop().await;
}
