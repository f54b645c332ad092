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
