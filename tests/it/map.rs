//! The map's clusters (`ListPlaceClusters`) on PostgreSQL with NATS and on SQLite:
//! every LISTED place counted exactly once at every zoom, by the kept counts and by
//! grouping the places alike; counts that follow moderation, moves and kind changes;
//! exact under concurrent approvals; bad views refused by field; the counts of places
//! that existed before the migration that introduced them.

use std::collections::HashMap;

use fabrique_api::registry::{self as proto, registry_service_client::RegistryServiceClient};
use fabrique_testkit::{Backend, TestPlatform, authed};
use tonic::Code;
use tonic::transport::Channel;

use crate::support::{all_services, violated_fields};

/// Thiers and the villages around it, Clermont-Ferrand, and Loos-en-Gohelle far north.
const SPOTS: [(f64, f64); 6] = [
    (45.8564, 3.5475),
    (45.8600, 3.5500),
    (45.8700, 3.4400),
    (45.7772, 3.0870),
    (45.7800, 3.0900),
    (50.4578, 2.7922),
];

/// Mainland France and Corsica.
const FRANCE: proto::Bounds = proto::Bounds {
    south: 41.0,
    west: -5.5,
    north: 51.5,
    east: 10.0,
};

/// Around Thiers and Clermont.
const PUY_DE_DOME: proto::Bounds = proto::Bounds {
    south: 45.6,
    west: 2.9,
    north: 46.0,
    east: 3.7,
};

/// What a screen of 1280 × 800 pixels centred on `center` shows at `zoom`.
fn screen(center: (f64, f64), zoom: i32) -> proto::Bounds {
    let degrees_per_pixel = 360.0 / 256.0 / 2f64.powi(zoom);
    let (half_width, half_height) = (640.0 * degrees_per_pixel, 400.0 * degrees_per_pixel);
    let half_height = half_height * center.0.to_radians().cos();
    proto::Bounds {
        south: center.0 - half_height,
        west: center.1 - half_width,
        north: center.0 + half_height,
        east: center.1 + half_width,
    }
}

async fn platform(backend: Backend) -> TestPlatform {
    let bus = match backend {
        Backend::Postgres => fabrique_testkit::BusChoice::SharedNats,
        Backend::Sqlite => fabrique_testkit::BusChoice::InProcess,
    };
    TestPlatform::spawn(all_services(), backend, bus).await
}

struct Map {
    client: RegistryServiceClient<Channel>,
}

impl Map {
    async fn connect(platform: &TestPlatform) -> Self {
        Self {
            client: RegistryServiceClient::new(platform.channel().await),
        }
    }

    fn admin<T>(message: T) -> tonic::Request<T> {
        authed(message, &TestPlatform::admin_token())
    }

    /// A LISTED place (created and approved by an admin).
    async fn listed(&self, name: &str, kinds: &[proto::PlaceKind], at: (f64, f64)) -> proto::Place {
        let created = self.proposed(name, kinds, at).await;
        self.client
            .clone()
            .approve_place(Self::admin(proto::ApprovePlaceRequest {
                name: created.name,
                etag: String::new(),
            }))
            .await
            .expect("approve")
            .into_inner()
    }

    async fn proposed(
        &self,
        name: &str,
        kinds: &[proto::PlaceKind],
        at: (f64, f64),
    ) -> proto::Place {
        let place = proto::Place {
            display_name: name.to_string(),
            kinds: kinds.iter().map(|k| *k as i32).collect(),
            capabilities: vec!["laser_cutting".into()],
            // Loos-en-Gohelle in the north, Thiers for the others.
            insee_code: if at.0 > 50.0 { "62528" } else { "63430" }.into(),
            location: Some(proto::Location {
                latitude: at.0,
                longitude: at.1,
            }),
            ..Default::default()
        };
        self.client
            .clone()
            .create_place(Self::admin(proto::CreatePlaceRequest {
                place: Some(place),
                request_id: String::new(),
            }))
            .await
            .expect("create")
            .into_inner()
    }

    /// The clusters of `bounds` at `zoom`, asked anonymously as the site does.
    async fn clusters(
        &self,
        bounds: proto::Bounds,
        zoom: i32,
        kinds: &[proto::PlaceKind],
        capabilities: &[&str],
    ) -> Result<proto::ListPlaceClustersResponse, tonic::Status> {
        self.client
            .clone()
            .list_place_clusters(proto::ListPlaceClustersRequest {
                bounds: Some(bounds),
                zoom,
                kinds: kinds.iter().map(|k| *k as i32).collect(),
                capabilities: capabilities.iter().map(|c| c.to_string()).collect(),
                ..Default::default()
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// France's clusters at `zoom` as counted, checked against the places grouped.
    async fn both_ways(&self, zoom: i32) -> proto::ListPlaceClustersResponse {
        let counted = self
            .clusters(FRANCE, zoom, &[], &[])
            .await
            .expect("counted");
        let grouped = self
            .clusters(FRANCE, zoom, &[], &["laser_cutting"])
            .await
            .expect("grouped");
        assert_eq!(counted.place_count, grouped.place_count, "zoom {zoom}");
        counted
    }

    /// Each named place's count: a cluster of one names its place.
    async fn singles(
        &self,
        bounds: proto::Bounds,
        zoom: i32,
    ) -> HashMap<String, (String, f64, f64)> {
        let response = self
            .clusters(bounds, zoom, &[], &[])
            .await
            .expect("clusters");
        response
            .clusters
            .into_iter()
            .filter(|c| c.place_count == 1)
            .map(|c| {
                let at = c.location.expect("location");
                (c.place, (c.display_name, at.latitude, at.longitude))
            })
            .collect()
    }
}

/// The same places counted at every zoom from the country to the street, by the kept
/// counts (zoom ≤ 10) and by grouping the places (a capability filter every place
/// matches, or zoom > 10): the totals never differ, proposed places never show, and a
/// cluster of one is the place itself.
async fn every_listed_place_is_counted_once_at_every_zoom(backend: Backend) {
    let platform = platform(backend).await;
    let map = Map::connect(&platform).await;
    let mut listed = Vec::new();
    for (i, at) in SPOTS.iter().enumerate() {
        let kinds = if i % 2 == 0 {
            vec![proto::PlaceKind::Fablab]
        } else {
            vec![proto::PlaceKind::Fablab, proto::PlaceKind::Ressourcerie]
        };
        listed.push(map.listed(&format!("Lieu {i}"), &kinds, *at).await);
    }
    map.proposed("En attente", &[proto::PlaceKind::Fablab], SPOTS[0])
        .await;

    for zoom in 0..=6 {
        let world = proto::Bounds {
            south: -85.0,
            west: -180.0,
            north: 85.0,
            east: 180.0,
        };
        if zoom <= 4 {
            let all = map.clusters(world, zoom, &[], &[]).await.expect("world");
            assert_eq!(all.place_count, 6, "zoom {zoom}, the world");
        }
        let counted = map.clusters(FRANCE, zoom, &[], &[]).await.expect("counted");
        let grouped = map
            .clusters(FRANCE, zoom, &[], &["laser_cutting"])
            .await
            .expect("grouped");
        assert_eq!(counted.place_count, 6, "zoom {zoom}, counted");
        assert_eq!(grouped.place_count, 6, "zoom {zoom}, grouped");
        let sum: i32 = counted.clusters.iter().map(|c| c.place_count).sum();
        assert_eq!(sum, 6);
        let mut a: Vec<i32> = counted.clusters.iter().map(|c| c.place_count).collect();
        let mut b: Vec<i32> = grouped.clusters.iter().map(|c| c.place_count).collect();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "zoom {zoom}: both ways cluster alike");
    }
    // The whole country is one or two clusters: never a marker per place.
    let national = map.clusters(FRANCE, 5, &[], &[]).await.expect("national");
    assert!(national.clusters.len() <= 2, "{:?}", national.clusters);

    // Screens of 1280 × 800 pixels over Puy-de-Dôme: the five places there, counted
    // (zoom ≤ 10) or grouped (zoom > 10).
    for zoom in 7..=10 {
        let view = map
            .clusters(screen((45.82, 3.3), zoom), zoom, &[], &[])
            .await
            .expect("view");
        assert_eq!(view.place_count, 5, "zoom {zoom}: Loos is outside");
    }
    for zoom in 11..=13 {
        let view = map
            .clusters(screen(SPOTS[0], zoom), zoom, &[], &[])
            .await
            .expect("view");
        assert_eq!(
            view.place_count, 3,
            "zoom {zoom}: Thiers and its neighbours"
        );
    }
    // Close enough, every place is its own cluster, at its own position.
    let singles = map.singles(screen(SPOTS[0], 16), 16).await;
    assert_eq!(singles.len(), 2, "{singles:?}");
    for place in &listed[..2] {
        let (name, latitude, longitude) = &singles[&place.name];
        let at = place.location.as_ref().expect("location");
        assert_eq!(name, &place.display_name);
        assert!((latitude - at.latitude).abs() < 1e-9);
        assert!((longitude - at.longitude).abs() < 1e-9);
    }
    // Zoom 8 adds the kept counts up and still names a place alone in its cell.
    let counted = map.singles(FRANCE, 8).await;
    assert_eq!(counted[&listed[5].name].0, "Lieu 5", "Loos is alone");
    assert!(
        (counted[&listed[5].name].1 - SPOTS[5].0).abs() < 1e-6,
        "microdegrees"
    );

    // Kinds: one kind from the counts, two from the places.
    let ressourceries = map
        .clusters(FRANCE, 6, &[proto::PlaceKind::Ressourcerie], &[])
        .await
        .expect("kind");
    assert_eq!(ressourceries.place_count, 3);
    let either = map
        .clusters(
            FRANCE,
            6,
            &[proto::PlaceKind::Ressourcerie, proto::PlaceKind::Fablab],
            &[],
        )
        .await
        .expect("kinds");
    assert_eq!(either.place_count, 6, "a place of both kinds counts once");
    for (department, expected) in [("62", 1), ("63", 5), ("2A", 0)] {
        let mut request = proto::ListPlaceClustersRequest {
            bounds: Some(FRANCE),
            zoom: 6,
            insee_department: department.into(),
            ..Default::default()
        };
        let in_department = map
            .client
            .clone()
            .list_place_clusters(request.clone())
            .await;
        assert_eq!(
            in_department.expect("department").into_inner().place_count,
            expected
        );
        request.insee_department = "6".into();
        let status = map
            .client
            .clone()
            .list_place_clusters(request)
            .await
            .expect_err("bad");
        assert_eq!(violated_fields(&status), ["insee_department"]);
    }
}

/// Suspending, reinstating, moving, changing kinds and closing a place move its counts.
async fn counts_follow_moderation_moves_and_kinds(backend: Backend) {
    let platform = platform(backend).await;
    let map = Map::connect(&platform).await;
    let thiers = map
        .listed("FabLab de Thiers", &[proto::PlaceKind::Fablab], SPOTS[0])
        .await;
    assert_eq!(map.both_ways(6).await.place_count, 1);

    let mut registry = map.client.clone();
    let suspended = registry
        .suspend_place(Map::admin(proto::SuspendPlaceRequest {
            name: thiers.name.clone(),
            reason: "vérification".into(),
            etag: String::new(),
        }))
        .await
        .expect("suspend")
        .into_inner();
    assert_eq!(
        map.both_ways(6).await.place_count,
        0,
        "suspended places leave the map"
    );
    let reinstated = registry
        .reinstate_place(Map::admin(proto::ReinstatePlaceRequest {
            name: suspended.name.clone(),
            etag: String::new(),
        }))
        .await
        .expect("reinstate")
        .into_inner();
    assert_eq!(map.both_ways(6).await.place_count, 1);

    // Moved to Loos and made a ressourcerie: the single cluster follows.
    let mut moved = reinstated.clone();
    moved.location = Some(proto::Location {
        latitude: SPOTS[5].0,
        longitude: SPOTS[5].1,
    });
    moved.kinds = vec![proto::PlaceKind::Ressourcerie as i32];
    let moved = registry
        .update_place(Map::admin(proto::UpdatePlaceRequest {
            place: Some(moved),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["location".into(), "kinds".into()],
            }),
        }))
        .await
        .expect("move")
        .into_inner();
    let at_zoom_8 = map.both_ways(8).await;
    assert_eq!(at_zoom_8.clusters.len(), 1);
    let cluster = &at_zoom_8.clusters[0];
    assert_eq!(cluster.place, thiers.name);
    let at = cluster.location.as_ref().expect("location");
    assert!((at.latitude - SPOTS[5].0).abs() < 1e-6, "{at:?}");
    for (kind, expected) in [
        (proto::PlaceKind::Fablab, 0),
        (proto::PlaceKind::Ressourcerie, 1),
    ] {
        let by_kind = map.clusters(FRANCE, 8, &[kind], &[]).await.expect("kind");
        assert_eq!(by_kind.place_count, expected, "{kind:?}");
    }

    registry
        .close_place(Map::admin(proto::ClosePlaceRequest {
            name: moved.name,
            reason: String::new(),
            etag: String::new(),
        }))
        .await
        .expect("close");
    assert_eq!(
        map.both_ways(8).await.place_count,
        0,
        "closed places leave the map"
    );
}

/// Twenty places approved at once in one cell: the kept count is exact (each approval
/// adds to the same row), and once all but one are suspended at once the cell names
/// the one left.
async fn concurrent_approvals_in_one_cell_are_all_counted(backend: Backend) {
    let platform = platform(backend).await;
    let map = Map::connect(&platform).await;
    let mut proposed = Vec::new();
    for i in 0..20 {
        let at = (45.8564 + f64::from(i) * 1e-4, 3.5475);
        proposed.push(
            map.proposed(&format!("Lieu {i}"), &[proto::PlaceKind::Fablab], at)
                .await,
        );
    }
    let approvals = proposed.iter().map(|place| {
        let mut client = map.client.clone();
        let name = place.name.clone();
        async move {
            client
                .approve_place(Map::admin(proto::ApprovePlaceRequest {
                    name,
                    etag: String::new(),
                }))
                .await
                .expect("approve")
        }
    });
    futures::future::join_all(approvals).await;
    let view = map.clusters(FRANCE, 6, &[], &[]).await.expect("clusters");
    assert_eq!(view.place_count, 20);
    assert_eq!(view.clusters.len(), 1);

    let suspensions = proposed[1..].iter().map(|place| {
        let mut client = map.client.clone();
        let name = place.name.clone();
        async move {
            client
                .suspend_place(Map::admin(proto::SuspendPlaceRequest {
                    name,
                    reason: "doublon".into(),
                    etag: String::new(),
                }))
                .await
                .expect("suspend")
        }
    });
    futures::future::join_all(suspensions).await;
    let view = map.clusters(FRANCE, 6, &[], &[]).await.expect("clusters");
    assert_eq!(view.place_count, 1);
    assert_eq!(view.clusters[0].place, proposed[0].name, "the one left");
    assert_eq!(view.clusters[0].display_name, "Lieu 0");
}

/// A view that cannot be drawn is refused, naming the field.
async fn views_that_cannot_be_drawn_are_refused_by_field(backend: Backend) {
    let platform = platform(backend).await;
    let map = Map::connect(&platform).await;
    let mut client = map.client.clone();
    let missing = client
        .list_place_clusters(proto::ListPlaceClustersRequest::default())
        .await
        .expect_err("no bounds");
    assert_eq!(missing.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&missing), ["bounds"]);
    let cases = [
        (FRANCE, 23, "zoom"),
        (FRANCE, -1, "zoom"),
        (
            proto::Bounds {
                south: 46.0,
                north: 45.0,
                ..PUY_DE_DOME
            },
            8,
            "bounds",
        ),
        (
            proto::Bounds {
                north: 91.0,
                ..PUY_DE_DOME
            },
            8,
            "bounds.north",
        ),
        (
            proto::Bounds {
                west: 181.0,
                ..PUY_DE_DOME
            },
            8,
            "bounds.west",
        ),
        (FRANCE, 14, "bounds"),
    ];
    for (bounds, zoom, field) in cases {
        let status = map.clusters(bounds, zoom, &[], &[]).await.expect_err(field);
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert_eq!(violated_fields(&status), [field], "{status:?}");
    }
}

/// Places that existed before the migration that brought the map's counts are
/// counted by it: LISTED ones only, each under its kinds, and at their finest cells.
async fn places_stored_before_the_counts_are_counted_by_the_migration(backend: Backend) {
    use fabrique_registry::domain::map_grid::View;
    use fabrique_registry::store::{ListFilter, cells, migrations::Migrator};
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    use sea_orm_migration::MigratorTrait;

    let dir = fabrique_testkit::TempDir::new("map-migration");
    let postgres = fabrique_testkit::TestDatabase::create_if(backend == Backend::Postgres).await;
    let url = match &postgres {
        Some(database) => database.url.clone(),
        None => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("registry.db").display()
        ),
    };
    let db = sea_orm::Database::connect(&url).await.expect("connect");
    // Every migration before the counts' (later ones, such as the places' spatial
    // index, come after it as they would on a database of that time).
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261207_000202_map_cells")
        .expect("the counts' migration") as u32;
    Migrator::up(&db, Some(before))
        .await
        .expect("migrations before the counts");
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "INSERT INTO places (id, display_name, search_text, kind_tags, capability_tags, \
             latitude, longitude, eco_labels, state, needs_review, possible_duplicates, \
             created_by, created_at, updated_at, version) \
             VALUES ($1, $2, '', $3, '||', $4, $5, '[]', $6, false, '[]', 'admin', $7, $7, 1)"
        }
        _ => {
            "INSERT INTO places (id, display_name, search_text, kind_tags, capability_tags, \
             latitude, longitude, eco_labels, state, needs_review, possible_duplicates, \
             created_by, created_at, updated_at, version) \
             VALUES (?, ?, '', ?, '||', ?, ?, '[]', ?, 0, '[]', 'admin', ?, ?, 1)"
        }
    };
    let thiers = uuid::Uuid::now_v7();
    for (id, name, kinds, (latitude, longitude), state) in [
        (thiers, "Thiers", "|fablab|", SPOTS[0], "listed"),
        (
            uuid::Uuid::now_v7(),
            "Loos",
            "|fablab|ressourcerie|",
            SPOTS[5],
            "listed",
        ),
        (
            uuid::Uuid::now_v7(),
            "Proposé",
            "|fablab|",
            SPOTS[1],
            "proposed",
        ),
    ] {
        let now = chrono::Utc::now();
        let mut values: Vec<sea_orm::Value> = vec![
            id.into(),
            name.into(),
            kinds.into(),
            latitude.into(),
            longitude.into(),
            state.into(),
            now.into(),
        ];
        if db.get_database_backend() != DbBackend::Postgres {
            values.push(now.into());
        }
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            values,
        ))
        .await
        .expect("a place stored before");
    }
    Migrator::up(&db, None)
        .await
        .expect("the counts' migration");

    let corner =
        |(latitude, longitude)| fabrique_types::Location::parse(latitude, longitude).unwrap();
    let view = View::new(
        corner((FRANCE.south, FRANCE.west)),
        corner((FRANCE.north, FRANCE.east)),
        8,
    )
    .expect("view");
    let counted = cells::counted(&db, &view, None).await.expect("counted");
    let grouped = cells::grouped(&db, &view, &ListFilter::default())
        .await
        .expect("grouped");
    for clusters in [&counted, &grouped] {
        assert_eq!(
            clusters.iter().map(|c| c.count).sum::<i64>(),
            2,
            "{clusters:?}"
        );
        let alone = clusters
            .iter()
            .find(|c| c.single.as_ref().is_some_and(|(id, _, _)| *id == thiers))
            .expect("Thiers alone in its cell");
        assert_eq!(alone.single.as_ref().unwrap().1, "Thiers");
    }
    let ressourceries = cells::counted(
        &db,
        &view,
        Some(fabrique_registry::domain::PlaceKind::Ressourcerie),
    )
    .await
    .expect("by kind");
    assert_eq!(ressourceries.iter().map(|c| c.count).sum::<i64>(), 1);
    // The country's views at zoom 5 and 7, added up from the regions' and the areas'
    // counts (a later migration's), which counted the same places.
    for zoom in [5, 7] {
        let country = View::new(
            corner((FRANCE.south, FRANCE.west)),
            corner((FRANCE.north, FRANCE.east)),
            zoom,
        )
        .expect("view");
        for (kind, places) in [
            (None, 2),
            (Some(fabrique_registry::domain::PlaceKind::Ressourcerie), 1),
        ] {
            let coarser = cells::counted(&db, &country, kind).await.expect("coarser");
            let total = coarser.iter().map(|c| c.count).sum::<i64>();
            assert_eq!(total, places, "zoom {zoom}, {kind:?}");
        }
    }
    db.close().await.expect("close");
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
    every_listed_place_is_counted_once_at_every_zoom,
    counts_follow_moderation_moves_and_kinds,
    concurrent_approvals_in_one_cell_are_all_counted,
    views_that_cannot_be_drawn_are_refused_by_field,
    places_stored_before_the_counts_are_counted_by_the_migration,
);
