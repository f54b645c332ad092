//! What the site's tests share: the site on a free port, a platform with members and
//! the registry, and the places of a small alliance around Thiers.

#![allow(dead_code)]

use std::sync::Arc;

use fabrique_api::registry::{self as rp, registry_service_client::RegistryServiceClient};
use fabrique_platform::service::Service;
use fabrique_testkit::{Backend, BusChoice, TestPlatform, authed, token};

/// The site on a free port, calling `api_url`; stops with the test.
pub async fn site(api_url: &str) -> std::net::SocketAddr {
    site_with(fabrique_web::Web::new(api_url).expect("a valid API URL")).await
}

/// The site on a free port calling `platform`, people signing in with sessions signed
/// by `key` and the site signing its API tokens with the platform's secret.
pub async fn signed_site(
    platform: &TestPlatform,
    key: &[u8],
) -> (std::net::SocketAddr, fabrique_web::auth::SignIn) {
    use fabrique_web::auth::{ApiSigner, SignIn};
    let api = ApiSigner::hs256(fabrique_testkit::secret().to_string(), None, None);
    let sign_in = SignIn::new("http://127.0.0.1", key.to_vec(), api);
    let web = fabrique_web::Web::new(&format!("http://{}", platform.addr))
        .expect("a valid API URL")
        .with_sign_in(sign_in.clone());
    (site_with(web).await, sign_in)
}

/// The value of form field `name` on `page`, as a browser sends it back (the template
/// escaped its quotes and ampersands).
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).expect("the field") + marker.len();
    page[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// `web` on a free port; stops with the test.
pub async fn site_with(web: fabrique_web::Web) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(fabrique_web::serve(listener, web, std::future::pending()));
    address
}

pub async fn platform(backend: Backend) -> TestPlatform {
    let services: Vec<Arc<dyn Service>> = vec![
        Arc::new(fabrique_members::MembersService),
        Arc::new(fabrique_registry::RegistryServiceModule),
    ];
    let bus = match backend {
        Backend::Postgres => BusChoice::SharedNats,
        Backend::Sqlite => BusChoice::InProcess,
    };
    TestPlatform::spawn(services, backend, bus).await
}

/// Places as an admin records them; `listed` ones approved. Returns their ids.
pub struct Places {
    pub fablab: String,
    pub repair: String,
    pub ressourcerie: String,
    pub proposed: String,
}

pub async fn place(
    registry: &mut RegistryServiceClient<tonic::transport::Channel>,
    admin: &str,
    draft: rp::Place,
    listed: bool,
) -> String {
    let created = registry
        .create_place(authed(
            rp::CreatePlaceRequest {
                place: Some(draft),
                request_id: String::new(),
            },
            admin,
        ))
        .await
        .expect("create place")
        .into_inner();
    if listed {
        registry
            .approve_place(authed(
                rp::ApprovePlaceRequest {
                    name: created.name.clone(),
                    etag: String::new(),
                },
                admin,
            ))
            .await
            .expect("approve place");
    }
    created
        .name
        .strip_prefix("places/")
        .expect("places/{id}")
        .to_string()
}

pub fn draft(name: &str, kind: rp::PlaceKind, latitude: f64, longitude: f64) -> rp::Place {
    rp::Place {
        display_name: name.into(),
        kinds: vec![kind as i32],
        location: Some(rp::Location {
            latitude,
            longitude,
        }),
        ..Default::default()
    }
}

pub async fn alliance(platform: &TestPlatform) -> Places {
    let admin = token("admin", &["admin"]);
    let mut registry = RegistryServiceClient::new(platform.channel().await);
    let fablab = rp::Place {
        description: "Découpe laser et impression 3D.\n\n<script>alert('pris')</script>".into(),
        capabilities: vec!["laser_cutting".into(), "3d_printing".into()],
        opening_hours: "Mo-Fr 09:00-18:00; Sa 10:00-12:00".into(),
        website: "https://fablab-thiers.example.org/".into(),
        address: Some(rp::PostalAddress {
            street: "1 rue de la Coutellerie".into(),
            postal_code: "63300".into(),
            locality: "Thiers".into(),
        }),
        eco_labels: vec!["réemploi".into()],
        ..draft("FabLab de Thiers", rp::PlaceKind::Fablab, 45.8563, 3.5477)
    };
    Places {
        fablab: place(&mut registry, &admin, fablab, true).await,
        repair: place(
            &mut registry,
            &admin,
            draft(
                "Atelier vélo de Thiers",
                rp::PlaceKind::RepairWorkshop,
                45.8501,
                3.5552,
            ),
            true,
        )
        .await,
        ressourcerie: place(
            &mut registry,
            &admin,
            draft(
                "Ressourcerie d'Ambert",
                rp::PlaceKind::Ressourcerie,
                45.5497,
                3.7417,
            ),
            true,
        )
        .await,
        proposed: place(
            &mut registry,
            &admin,
            draft("Lieu en attente", rp::PlaceKind::TiersLieu, 45.86, 3.55),
            false,
        )
        .await,
    }
}

/// Every service the site reads — members, registry, sharing, projects, notify (which
/// sends nothing here), participation — on `backend` with its real bus.
pub async fn full_platform(backend: Backend) -> TestPlatform {
    let services: Vec<Arc<dyn Service>> = vec![
        Arc::new(fabrique_members::MembersService),
        Arc::new(fabrique_registry::RegistryServiceModule),
        Arc::new(fabrique_sharing::SharingServiceModule),
        Arc::new(fabrique_projects::ProjectsServiceModule),
        Arc::new(fabrique_notify::NotifyServiceModule::default()),
        Arc::new(fabrique_participation::ParticipationServiceModule),
    ];
    let bus = match backend {
        Backend::Postgres => BusChoice::SharedNats,
        Backend::Sqlite => BusChoice::InProcess,
    };
    TestPlatform::spawn(services, backend, bus).await
}

/// A member approved by `admin`, with `contacts` (name, role, e-mail): its name
/// `members/{id}` and a member token of its own.
pub async fn joined_member(
    platform: &TestPlatform,
    admin: &str,
    name: &str,
    kind: fabrique_api::members::MemberKind,
    contacts: &[(&str, fabrique_api::members::ContactRole, &str)],
) -> (String, String) {
    use fabrique_api::members::{self as mp, members_service_client::MembersServiceClient};
    let mut members = MembersServiceClient::new(platform.channel().await);
    let created = members
        .create_member(authed(
            mp::CreateMemberRequest {
                member: Some(mp::Member {
                    display_name: name.into(),
                    kind: kind as i32,
                    siren: fabrique_testkit::siren_for(kind),
                    // A commune needs its INSEE code: Thiers's.
                    insee_code: if kind == fabrique_api::members::MemberKind::Commune {
                        "63430".into()
                    } else {
                        String::new()
                    },
                    contacts: contacts
                        .iter()
                        .map(|(full_name, role, email)| mp::Contact {
                            full_name: full_name.to_string(),
                            role: *role as i32,
                            email: email.to_string(),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }),
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
    let id = created.name.strip_prefix("members/").expect("members/{id}");
    (created.name.clone(), token(id, &["member"]))
}

/// A timestamp of the API.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    })
}

/// `hour`:00 in Paris on `day`, as an instant (right on the days clocks change too).
pub fn paris_hour(day: chrono::NaiveDate, hour: i64) -> chrono::DateTime<chrono::Utc> {
    use chrono::Timelike;
    let guess = fabrique_web::fr::paris_midnight(day) + chrono::Duration::hours(hour);
    let shown = i64::from(fabrique_web::fr::in_paris(guess).hour());
    guess - chrono::Duration::hours(shown - hour)
}
