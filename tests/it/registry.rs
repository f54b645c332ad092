//! The registry over gRPC, with the members service beside it, on PostgreSQL with NATS
//! and on SQLite with the in-process bus: search by distance, filters and pages,
//! operators who must be active members and whose departure flags their places,
//! authorization, CSV imports, and the whole path from a new member to its FabLab found
//! on the map.

use std::collections::HashSet;
use std::time::Duration;

use fabrique_api::members as members_proto;
use fabrique_api::registry::{self as proto, registry_service_client::RegistryServiceClient};
use fabrique_platform::bus::{ConsumerSpec, Headers, MSG_ID_HEADER, OutgoingMessage};
use fabrique_testkit::{Backend, BusChoice, TestPlatform, authed};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::support::{Members, all_services, association, id_of, reason, violated_fields};

const CLERMONT: (f64, f64) = (45.7772, 3.0870);
const THIERS: (f64, f64) = (45.8564, 3.5475);
const TERNANT: (f64, f64) = (45.806, 3.006);
const LOOS: (f64, f64) = (50.4578, 2.7922);

async fn platform(backend: Backend) -> TestPlatform {
    let bus = match backend {
        Backend::Postgres => BusChoice::SharedNats,
        Backend::Sqlite => BusChoice::InProcess,
    };
    TestPlatform::spawn(all_services(), backend, bus).await
}

#[derive(Clone)]
struct Registry {
    client: RegistryServiceClient<Channel>,
    token: Option<String>,
}

impl Registry {
    async fn connect(platform: &TestPlatform, token: Option<String>) -> Self {
        Self {
            client: RegistryServiceClient::new(platform.channel().await),
            token,
        }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        match &self.token {
            Some(token) => authed(message, token),
            None => tonic::Request::new(message),
        }
    }

    async fn create(&self, place: proto::Place, request_id: &str) -> Result<proto::Place, Status> {
        let request = self.request(proto::CreatePlaceRequest {
            place: Some(place),
            request_id: request_id.to_string(),
        });
        self.client
            .clone()
            .create_place(request)
            .await
            .map(tonic::Response::into_inner)
    }

    async fn approve(&self, name: &str) -> Result<proto::Place, Status> {
        let request = self.request(proto::ApprovePlaceRequest {
            name: name.to_string(),
            etag: String::new(),
        });
        self.client
            .clone()
            .approve_place(request)
            .await
            .map(tonic::Response::into_inner)
    }

    async fn get(&self, name: &str) -> Result<proto::Place, Status> {
        let request = self.request(proto::GetPlaceRequest {
            name: name.to_string(),
        });
        self.client
            .clone()
            .get_place(request)
            .await
            .map(tonic::Response::into_inner)
    }

    async fn list(
        &self,
        request: proto::ListPlacesRequest,
    ) -> Result<proto::ListPlacesResponse, Status> {
        let request = self.request(request);
        self.client
            .clone()
            .list_places(request)
            .await
            .map(tonic::Response::into_inner)
    }

    async fn list_all(&self, mut request: proto::ListPlacesRequest) -> Vec<proto::Place> {
        let mut all = Vec::new();
        loop {
            let page = self.list(request.clone()).await.expect("list");
            all.extend(page.places);
            if page.next_page_token.is_empty() {
                return all;
            }
            request.page_token = page.next_page_token;
        }
    }

    async fn update(&self, place: proto::Place, paths: &[&str]) -> Result<proto::Place, Status> {
        let request = self.request(proto::UpdatePlaceRequest {
            place: Some(place),
            update_mask: Some(prost_types::FieldMask {
                paths: paths.iter().map(|p| p.to_string()).collect(),
            }),
        });
        self.client
            .clone()
            .update_place(request)
            .await
            .map(tonic::Response::into_inner)
    }

    async fn import(
        &self,
        source: &str,
        csv: String,
    ) -> Result<proto::ImportPlacesResponse, Status> {
        let request = self.request(proto::ImportPlacesRequest {
            source: source.to_string(),
            csv: csv.into_bytes(),
            operator: String::new(),
        });
        self.client
            .clone()
            .import_places(request)
            .await
            .map(tonic::Response::into_inner)
    }
}

fn place(
    name: &str,
    kinds: &[proto::PlaceKind],
    (latitude, longitude): (f64, f64),
) -> proto::Place {
    proto::Place {
        display_name: name.to_string(),
        kinds: kinds.iter().map(|k| *k as i32).collect(),
        location: Some(proto::Location {
            latitude,
            longitude,
        }),
        ..Default::default()
    }
}

/// Creates and approves a place as admin.
async fn listed(admin: &Registry, place: proto::Place) -> proto::Place {
    let created = admin.create(place, "").await.expect("create");
    admin.approve(&created.name).await.expect("approve")
}

fn near((latitude, longitude): (f64, f64), radius_km: f64) -> Option<proto::Near> {
    Some(proto::Near {
        location: Some(proto::Location {
            latitude,
            longitude,
        }),
        radius_km,
    })
}

/// An approved member, known to the registry: proposing a place it operates succeeds
/// once the member events reached the registry's replica.
async fn active_operator(
    members: &Members,
    registry: &Registry,
    name: &str,
) -> (members_proto::Member, proto::Place) {
    let member = members.create(association(name)).await.expect("member");
    let member = members.approve(&member.name).await.expect("approve");
    let mut fablab = place(
        &format!("FabLab {name}"),
        &[proto::PlaceKind::Fablab],
        CLERMONT,
    );
    fablab.operator = member.name.clone();
    let request_id = uuid::Uuid::new_v4().to_string();
    let created = fabrique_testkit::eventually(
        "the registry to know the member",
        Duration::from_secs(20),
        || {
            let (registry, fablab, request_id) =
                (registry.clone(), fablab.clone(), request_id.clone());
            async move {
                match registry.create(fablab, &request_id).await {
                    Ok(place) => Some(place),
                    Err(status) if status.code() == Code::FailedPrecondition => None,
                    Err(status) => panic!("unexpected {status:?}"),
                }
            }
        },
    )
    .await;
    (member, created)
}

async fn search_by_distance_is_exact_and_nearest_first(backend: Backend) {
    let platform = platform(backend).await;
    let admin = Registry::connect(&platform, Some(TestPlatform::admin_token())).await;
    for (name, at) in [
        ("Loos", LOOS),
        ("Thiers", THIERS),
        ("Ternant", TERNANT),
        ("Clermont", CLERMONT),
    ] {
        listed(&admin, place(name, &[proto::PlaceKind::TiersLieu], at)).await;
    }
    let public = Registry::connect(&platform, None).await;
    let within = |radius| {
        let public = public.clone();
        async move {
            public
                .list_all(proto::ListPlacesRequest {
                    near: near(CLERMONT, radius),
                    ..Default::default()
                })
                .await
                .into_iter()
                .map(|p| (p.display_name, p.distance_km))
                .collect::<Vec<_>>()
        }
    };
    // Thiers is 36.8 km from Clermont-Ferrand as the crow flies: outside 30 km.
    let thirty = within(30.0).await;
    assert_eq!(
        thirty.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["Clermont", "Ternant"]
    );
    assert!(thirty[0].1 < 0.001);
    assert!((thirty[1].1 - 7.05).abs() < 0.05, "{thirty:?}");
    let forty = within(40.0).await;
    assert_eq!(
        forty.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["Clermont", "Ternant", "Thiers"],
        "every Auvergne place, nearest first, never Loos-en-Gohelle"
    );
    assert!((forty[2].1 - 36.76).abs() < 0.05, "{forty:?}");
    assert_eq!(within(600.0).await.len(), 4);

    let bad = public
        .list(proto::ListPlacesRequest {
            near: near((91.0, 3.0), 30.0),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad), ["near.location.latitude"]);
    let bad = admin
        .create(
            place("Nulle part", &[proto::PlaceKind::Fablab], (91.0, 3.0)),
            "",
        )
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad), ["place.location.latitude"]);
    let no_radius = public
        .list(proto::ListPlacesRequest {
            near: near(CLERMONT, 0.0),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&no_radius), ["near.radius_km"]);
}

async fn filters_combine_and_pages_have_no_duplicates_or_gaps(backend: Backend) {
    let platform = platform(backend).await;
    let admin = Registry::connect(&platform, Some(TestPlatform::admin_token())).await;
    let mut expected_laser_fablabs = HashSet::new();
    for i in 0..24 {
        let kinds = if i % 2 == 0 {
            vec![proto::PlaceKind::Fablab]
        } else {
            vec![proto::PlaceKind::RepairWorkshop]
        };
        let mut p = place(
            &format!("Lieu {i:02}"),
            &kinds,
            (CLERMONT.0 + f64::from(i) * 0.001, CLERMONT.1),
        );
        p.capabilities = match i % 3 {
            0 => vec!["3d_printing".into(), "laser_cutting".into()],
            1 => vec!["laser_cutting".into()],
            _ => vec!["3d_printing".into()],
        };
        p.insee_code = "63113".into();
        let created = listed(&admin, p).await;
        if i % 2 == 0 && i % 3 != 2 {
            expected_laser_fablabs.insert(created.name);
        }
    }
    let found: HashSet<String> = admin
        .list_all(proto::ListPlacesRequest {
            kinds: vec![proto::PlaceKind::Fablab as i32],
            capabilities: vec!["laser_cutting".into()],
            page_size: 3,
            ..Default::default()
        })
        .await
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(found, expected_laser_fablabs);
    let both = admin
        .list_all(proto::ListPlacesRequest {
            capabilities: vec!["laser_cutting".into(), "3d_printing".into()],
            insee_department: "63".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(both.len(), 8, "capabilities are all required");
    let any_kind = admin
        .list_all(proto::ListPlacesRequest {
            kinds: vec![
                proto::PlaceKind::Fablab as i32,
                proto::PlaceKind::RepairWorkshop as i32,
            ],
            ..Default::default()
        })
        .await;
    assert_eq!(any_kind.len(), 24, "kinds are any of");

    // Pages, by id and by distance, with places added between pages.
    for by_distance in [false, true] {
        let mut request = proto::ListPlacesRequest {
            page_size: 5,
            near: if by_distance {
                near(CLERMONT, 50.0)
            } else {
                None
            },
            ..Default::default()
        };
        let mut seen = Vec::new();
        let mut last_distance = 0.0;
        let mut pages = 0;
        loop {
            let page = admin.list(request.clone()).await.expect("page");
            for p in &page.places {
                if by_distance {
                    assert!(p.distance_km >= last_distance, "nearest first across pages");
                    last_distance = p.distance_km;
                }
                seen.push(p.name.clone());
            }
            pages += 1;
            // Far away, so that it does not fall inside the distance search.
            listed(
                &admin,
                place(
                    &format!("Ajout {by_distance} {pages}"),
                    &[proto::PlaceKind::Fablab],
                    LOOS,
                ),
            )
            .await;
            if page.next_page_token.is_empty() {
                break;
            }
            request.page_token = page.next_page_token;
        }
        let unique: HashSet<_> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "no duplicates");
        assert!(unique.len() >= 24, "no gaps: {}", unique.len());
    }
    let wrong = admin
        .list(proto::ListPlacesRequest {
            capabilities: vec!["teleportation".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&wrong), ["capabilities[0]"]);
}

async fn operators_must_be_active_and_their_departure_flags_places_once(backend: Backend) {
    let platform = platform(backend).await;
    let admin_token = TestPlatform::admin_token();
    let members = Members::connect(&platform, admin_token.clone()).await;
    let admin = Registry::connect(&platform, Some(admin_token)).await;

    let mut unknown = place("Orphelin", &[proto::PlaceKind::Fablab], CLERMONT);
    unknown.operator = format!("members/{}", uuid::Uuid::now_v7());
    let refused = admin.create(unknown, "").await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(reason(&refused), "OPERATOR_NOT_ACTIVE");

    let (member, fablab) = active_operator(&members, &admin, "Atelier Partagé").await;
    let fablab = admin.approve(&fablab.name).await.expect("approve");
    assert!(!fablab.needs_review);

    members
        .leave(&member.name, "dissolution")
        .await
        .expect("leave");
    let flagged = fabrique_testkit::eventually(
        "the place flagged for review",
        Duration::from_secs(20),
        || {
            let (admin, name) = (admin.clone(), fablab.name.clone());
            async move { admin.get(&name).await.ok().filter(|p| p.needs_review) }
        },
    )
    .await;
    assert_eq!(
        flagged.state,
        proto::PlaceState::Listed as i32,
        "still visible"
    );
    assert!(
        flagged.review_reason.contains("left"),
        "{}",
        flagged.review_reason
    );

    // Deliver the `left` event a second time: nothing changes.
    let mut members_stream = platform
        .bus
        .subscribe(&ConsumerSpec {
            stream: platform.stream("members"),
            durable_name: "test-replay".into(),
            filter_subjects: vec![format!("{}fabrique.members.member.left", platform.prefix)],
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    let left = tokio::time::timeout(Duration::from_secs(10), members_stream.next())
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
        .expect("stored again");
    let mut reviews = platform
        .bus
        .subscribe(&ConsumerSpec {
            stream: platform.stream("registry"),
            durable_name: "test-reviews".into(),
            filter_subjects: vec![format!(
                "{}fabrique.registry.place.review_needed",
                platform.prefix
            )],
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    let first = tokio::time::timeout(Duration::from_secs(10), reviews.next())
        .await
        .expect("one review_needed event")
        .expect("open")
        .expect("ok");
    assert_eq!(first.headers.get("ce-subject"), Some(fablab.name.as_str()));
    first.acker.ack().await.expect("ack");
    if let Ok(Some(Ok(second))) = tokio::time::timeout(Duration::from_secs(2), reviews.next()).await
    {
        panic!(
            "a second review_needed event for {:?}",
            second.headers.get("ce-subject")
        );
    }
    assert_eq!(
        admin.get(&fablab.name).await.expect("get").etag,
        flagged.etag,
        "applied once"
    );

    // A member that left cannot operate a new place.
    let mut again = place("Nouveau lieu", &[proto::PlaceKind::Fablab], CLERMONT);
    again.operator = member.name.clone();
    assert_eq!(
        admin.create(again, "").await.unwrap_err().code(),
        Code::FailedPrecondition
    );
}

async fn only_the_operator_or_an_admin_edits_a_place(backend: Backend) {
    let platform = platform(backend).await;
    let admin_token = TestPlatform::admin_token();
    let members = Members::connect(&platform, admin_token.clone()).await;
    let admin = Registry::connect(&platform, Some(admin_token)).await;
    let (owner, fablab) = active_operator(&members, &admin, "Propriétaire").await;
    let fablab = admin.approve(&fablab.name).await.expect("approve");
    let (other, _) = active_operator(&members, &admin, "Voisin").await;

    let as_owner = Registry::connect(
        &platform,
        Some(TestPlatform::member_token(&id_of(&owner.name))),
    )
    .await;
    let as_other = Registry::connect(
        &platform,
        Some(TestPlatform::member_token(&id_of(&other.name))),
    )
    .await;
    let mut change = fablab.clone();
    change.opening_hours = "Mo-Fr 09:00-18:00".into();

    let denied = as_other
        .update(change.clone(), &["opening_hours"])
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let updated = as_owner
        .update(change.clone(), &["opening_hours"])
        .await
        .expect("the operator edits");
    assert_eq!(updated.opening_spans.len(), 5);
    let mut takeover = updated.clone();
    takeover.operator = other.name.clone();
    assert_eq!(
        as_owner
            .update(takeover.clone(), &["operator"])
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let mut by_admin = updated.clone();
    by_admin.display_name = "FabLab renommé".into();
    let renamed = admin
        .update(by_admin, &["display_name"])
        .await
        .expect("an admin edits");
    assert_eq!(renamed.display_name, "FabLab renommé");
    assert_eq!(
        admin
            .update(updated, &["display_name"])
            .await
            .unwrap_err()
            .code(),
        Code::Aborted,
        "stale etag"
    );
    assert_eq!(
        as_other.approve(&fablab.name).await.unwrap_err().code(),
        Code::PermissionDenied
    );

    // Anonymous callers read listed places only, and write nothing.
    let public = Registry::connect(&platform, None).await;
    public.get(&fablab.name).await.expect("public read");
    let proposed = admin
        .create(
            place("Pas encore", &[proto::PlaceKind::Fablab], CLERMONT),
            "",
        )
        .await
        .expect("create");
    assert_eq!(
        public.get(&proposed.name).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        public
            .create(place("Anonyme", &[proto::PlaceKind::Fablab], CLERMONT), "")
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
}

fn csv_rows(count: usize, bad: &[(usize, &str)]) -> String {
    let mut csv = String::from(
        "id,nom,adresse,code_postal,commune,code_insee,latitude,longitude,typologie,horaires,site_web\n",
    );
    for i in 0..count {
        let line = i + 2;
        let mut fields = vec![
            format!("lieu-{i}"),
            format!("Lieu n°{i}"),
            format!("\"{i} rue de la République, bâtiment A\""),
            "63000".into(),
            "Clermont-Ferrand".into(),
            "63113".into(),
            format!("{:.4}", 45.70 + (i as f64) * 0.0005),
            "3.0870".into(),
            if i % 2 == 0 {
                "FabLab".into()
            } else {
                "\"Tiers-lieu,Atelier de réparation\"".into()
            },
            "Mo-Fr 09:00-18:00".into(),
            "https://lieux.example.org".into(),
        ];
        for (bad_line, field) in bad {
            if *bad_line == line {
                match *field {
                    "latitude" => fields[6] = "quarante-cinq".into(),
                    "typologie" => fields[8] = "boulangerie".into(),
                    "code_insee" => fields[5] = "999".into(),
                    _ => {}
                }
            }
        }
        csv.push_str(&fields.join(","));
        csv.push('\n');
    }
    csv
}

async fn imports_update_instead_of_duplicating_and_report_bad_rows(backend: Backend) {
    let platform = platform(backend).await;
    let admin = Registry::connect(&platform, Some(TestPlatform::admin_token())).await;
    let file = csv_rows(200, &[]);
    let first = admin
        .import("tiers-lieux-63", file.clone())
        .await
        .expect("import");
    assert_eq!((first.created, first.updated, first.unchanged), (200, 0, 0));
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let second = admin
        .import("tiers-lieux-63", file.clone())
        .await
        .expect("import again");
    assert_eq!(
        (second.created, second.updated, second.unchanged),
        (0, 0, 200)
    );
    let all = admin
        .list_all(proto::ListPlacesRequest {
            page_size: 500,
            ..Default::default()
        })
        .await;
    assert_eq!(all.len(), 200);
    assert!(all.iter().all(|p| p.source == "tiers-lieux-63"));
    let changed = file.replace("Lieu n°7,", "Lieu numéro 7,");
    let third = admin
        .import("tiers-lieux-63", changed)
        .await
        .expect("import a change");
    assert_eq!((third.created, third.updated, third.unchanged), (0, 1, 199));

    let bad = csv_rows(
        50,
        &[(5, "latitude"), (10, "typologie"), (20, "code_insee")],
    );
    let report = admin
        .import("autre-source", bad)
        .await
        .expect("partial import");
    assert_eq!(report.created, 47);
    let errors: Vec<(i32, &str)> = report
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    assert_eq!(
        errors,
        [(5, "latitude"), (10, "typologie"), (20, "code_insee")]
    );

    let member = Registry::connect(
        &platform,
        Some(TestPlatform::member_token(
            &uuid::Uuid::now_v7().to_string(),
        )),
    )
    .await;
    assert_eq!(
        member
            .import("x", csv_rows(1, &[]))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let no_columns = admin.import("x", "nom\nA\n".into()).await.unwrap_err();
    assert_eq!(violated_fields(&no_columns), ["csv"]);
}

async fn a_place_proposed_next_to_a_similar_one_is_flagged(backend: Backend) {
    let platform = platform(backend).await;
    let admin = Registry::connect(&platform, Some(TestPlatform::admin_token())).await;
    let original = listed(
        &admin,
        place("FabLab de Thiers", &[proto::PlaceKind::Fablab], THIERS),
    )
    .await;
    let twin = admin
        .create(
            place(
                "Le Fablab Thiers",
                &[proto::PlaceKind::Fablab],
                (THIERS.0 + 0.001, THIERS.1),
            ),
            "",
        )
        .await
        .expect("create");
    assert_eq!(twin.possible_duplicates, vec![original.name]);
    let other = admin
        .create(
            place(
                "Ressourcerie de Thiers",
                &[proto::PlaceKind::Ressourcerie],
                THIERS,
            ),
            "",
        )
        .await
        .expect("create");
    assert!(other.possible_duplicates.is_empty());
    let far = admin
        .create(
            place("FabLab de Thiers", &[proto::PlaceKind::Fablab], CLERMONT),
            "",
        )
        .await
        .expect("create");
    assert!(
        far.possible_duplicates.is_empty(),
        "36 km away is not the same place"
    );
}

/// The event on `subject` in `stream` about `aggregate` (its `ce-subject`), read with
/// a fresh durable consumer.
async fn event_about(
    platform: &TestPlatform,
    stream: &str,
    subject: &str,
    aggregate: &str,
) -> fabrique_platform::bus::Delivery {
    let mut subscription = platform
        .bus
        .subscribe(&ConsumerSpec {
            stream: platform.stream(stream),
            durable_name: format!("test-{}", uuid::Uuid::now_v7()),
            filter_subjects: vec![format!("{}{subject}", platform.prefix)],
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    loop {
        let delivery = tokio::time::timeout(Duration::from_secs(20), subscription.next())
            .await
            .unwrap_or_else(|_| panic!("no {subject} event about {aggregate}"))
            .expect("open")
            .expect("ok");
        if delivery.headers.get("ce-subject") == Some(aggregate) {
            return delivery;
        }
    }
}

/// With no span exporter (none in this test process) a caller's W3C context travels
/// unchanged through both hops of a chain: the call writes an event with it, and the
/// consumer that reacts writes its own event with it, so a service further on that
/// does export spans still joins the caller's trace. A malformed context is dropped.
async fn a_callers_trace_context_travels_through_a_consumer_unchanged(backend: Backend) {
    assert!(!fabrique_platform::telemetry::spans_exported());
    let platform = platform(backend).await;
    let admin_token = TestPlatform::admin_token();
    let members = Members::connect(&platform, admin_token.clone()).await;
    let admin = Registry::connect(&platform, Some(admin_token.clone())).await;
    const LEFT: &str = "fabrique.members.member.left";
    const REVIEW: &str = "fabrique.registry.place.review_needed";
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let call = |name: &str, traceparent: &str| {
        let mut request = authed(
            members_proto::LeaveMemberRequest {
                name: name.to_string(),
                reason: "dissolution".into(),
                etag: String::new(),
            },
            &admin_token,
        );
        let metadata = request.metadata_mut();
        metadata.insert("traceparent", traceparent.parse().expect("ascii"));
        metadata.insert("tracestate", "alliance=63".parse().expect("ascii"));
        request
    };

    let (member, fablab) = active_operator(&members, &admin, "Atelier Tracé").await;
    admin.approve(&fablab.name).await.expect("approve");
    members
        .client
        .clone()
        .leave_member(call(&member.name, traceparent))
        .await
        .expect("leave");
    let left = event_about(&platform, "members", LEFT, &member.name).await;
    assert_eq!(left.headers.get("traceparent"), Some(traceparent));
    assert_eq!(left.headers.get("tracestate"), Some("alliance=63"));
    let review = event_about(&platform, "registry", REVIEW, &fablab.name).await;
    assert_eq!(
        review.headers.get("traceparent"),
        Some(traceparent),
        "through the consumer"
    );
    assert_eq!(review.headers.get("tracestate"), Some("alliance=63"));

    let (other, _) = active_operator(&members, &admin, "Atelier Mal Tracé").await;
    members
        .client
        .clone()
        .leave_member(call(&other.name, "00-pas-une-trace"))
        .await
        .expect("leave");
    let left = event_about(&platform, "members", LEFT, &other.name).await;
    assert_eq!(
        left.headers.get("traceparent"),
        None,
        "a malformed context is dropped"
    );
}

/// Each event says who made its change (CloudEvents authcontext): the person the
/// site's token names (`act`), else the token's subject; a change a consumer makes in
/// reaction is the system's.
async fn every_event_says_who_made_its_change(backend: Backend) {
    let platform = platform(backend).await;
    let admin_token = TestPlatform::admin_token();
    let members = Members::connect(&platform, admin_token.clone()).await;
    let admin = Registry::connect(&platform, Some(admin_token.clone())).await;
    let (member, fablab) = active_operator(&members, &admin, "Atelier Signé").await;
    let proposed = event_about(
        &platform,
        "registry",
        "fabrique.registry.place.proposed",
        &fablab.name,
    )
    .await;
    assert_eq!(proposed.headers.get("ce-authtype"), Some("service_account"));
    assert_eq!(proposed.headers.get("ce-authid"), Some("admin"));
    admin.approve(&fablab.name).await.expect("approve");

    // Marie, signed in to the site as an admin: the token the site signs for her.
    let signer =
        fabrique_web::auth::ApiSigner::hs256(fabrique_testkit::secret().into(), None, None);
    let marie = fabrique_web::auth::Session::new(
        "oidc:marie-7f3a".into(),
        "Marie".into(),
        true,
        Vec::new(),
    );
    let by_marie = signer.token_for(&marie).expect("an admin's token");
    members
        .with_token(by_marie)
        .leave(&member.name, "dissolution")
        .await
        .expect("leave");
    let left = event_about(
        &platform,
        "members",
        "fabrique.members.member.left",
        &member.name,
    )
    .await;
    assert_eq!(left.headers.get("ce-authtype"), Some("user"));
    assert_eq!(left.headers.get("ce-authid"), Some("oidc:marie-7f3a"));
    let review = event_about(
        &platform,
        "registry",
        "fabrique.registry.place.review_needed",
        &fablab.name,
    )
    .await;
    assert_eq!(review.headers.get("ce-authtype"), Some("system"));
    assert_eq!(
        review.headers.get("ce-authid"),
        None,
        "the system is nobody"
    );

    // And admins read it back per resource, newest first, a page at a time.
    let changes = |resource: &str, page_size: i32, page_token: &str| {
        let request = fabrique_api::audit::ListChangesRequest {
            resource: resource.to_string(),
            page_size,
            page_token: page_token.to_string(),
        };
        let mut client = admin.client.clone();
        let request = authed(request, &admin_token);
        async move { client.list_changes(request).await.map(|r| r.into_inner()) }
    };
    let who = |change: &fabrique_api::audit::Change| {
        (
            change
                .event_type
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_string(),
            change.actor_type.clone(),
            change.actor.clone(),
        )
    };
    let place = changes(&fablab.name, 0, "")
        .await
        .expect("the place's changes");
    let place: Vec<_> = place.changes.iter().map(who).collect();
    let admin_did = |what: &str| {
        (
            what.to_string(),
            "service_account".to_string(),
            "admin".to_string(),
        )
    };
    assert_eq!(
        place,
        [
            (
                "PlaceReviewNeeded".to_string(),
                "system".to_string(),
                String::new()
            ),
            admin_did("PlaceListed"),
            admin_did("PlaceProposed"),
        ]
    );
    // A member's changes are the members service's.
    let member_changes = |page_size: i32, page_token: &str| {
        let request = authed(
            fabrique_api::audit::ListChangesRequest {
                resource: member.name.clone(),
                page_size,
                page_token: page_token.to_string(),
            },
            &admin_token,
        );
        let mut client = members.client.clone();
        async move { client.list_changes(request).await.map(|r| r.into_inner()) }
    };
    let first = member_changes(1, "").await.expect("a first page");
    assert_eq!(
        first.changes.iter().map(who).collect::<Vec<_>>(),
        [(
            "MemberLeft".to_string(),
            "user".to_string(),
            "oidc:marie-7f3a".to_string()
        )]
    );
    let rest = member_changes(10, &first.next_page_token)
        .await
        .expect("the rest");
    let rest: Vec<String> = rest.changes.iter().map(|c| who(c).0).collect();
    assert_eq!(rest, ["MemberJoined", "MemberApplied"]);
    let elsewhere = changes(&fablab.name, 1, &first.next_page_token).await;
    assert_eq!(
        elsewhere.expect_err("another resource's token").code(),
        Code::InvalidArgument
    );
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
    search_by_distance_is_exact_and_nearest_first,
    filters_combine_and_pages_have_no_duplicates_or_gaps,
    operators_must_be_active_and_their_departure_flags_places_once,
    only_the_operator_or_an_admin_edits_a_place,
    imports_update_instead_of_duplicating_and_report_bad_rows,
    a_place_proposed_next_to_a_similar_one_is_flagged,
    a_callers_trace_context_travels_through_a_consumer_unchanged,
    every_event_says_who_made_its_change,
);

/// From a new ally to its FabLab on the map, across members, NATS and the registry.
#[tokio::test]
async fn a_new_member_s_fablab_is_found_by_distance() {
    let platform =
        TestPlatform::spawn(all_services(), Backend::Postgres, BusChoice::SharedNats).await;
    let admin_token = TestPlatform::admin_token();
    let members = Members::connect(&platform, admin_token.clone()).await;
    let member = members
        .create(crate::support::commune("Thiers", "63430", "216304303"))
        .await
        .expect("apply");
    members.approve(&member.name).await.expect("approve");

    let as_member = Registry::connect(
        &platform,
        Some(TestPlatform::member_token(&id_of(&member.name))),
    )
    .await;
    let mut fablab = place(
        "FabLab de la coutellerie",
        &[proto::PlaceKind::Fablab],
        THIERS,
    );
    fablab.operator = member.name.clone();
    fablab.capabilities = vec!["3d_printing".into(), "laser_cutting".into()];
    fablab.insee_code = "63430".into();
    let request_id = uuid::Uuid::new_v4().to_string();
    let proposed = fabrique_testkit::eventually(
        "the member to reach the registry",
        Duration::from_secs(20),
        || {
            let (as_member, fablab, request_id) =
                (as_member.clone(), fablab.clone(), request_id.clone());
            async move { as_member.create(fablab, &request_id).await.ok() }
        },
    )
    .await;
    assert_eq!(proposed.state, proto::PlaceState::Proposed as i32);
    let admin = Registry::connect(&platform, Some(admin_token)).await;
    admin.approve(&proposed.name).await.expect("list it");

    let public = Registry::connect(&platform, None).await;
    let found = public
        .list(proto::ListPlacesRequest {
            near: near(CLERMONT, 40.0),
            capabilities: vec!["laser_cutting".into()],
            ..Default::default()
        })
        .await
        .expect("search");
    assert_eq!(found.places.len(), 1);
    assert_eq!(found.places[0].name, proposed.name);
    assert!((found.places[0].distance_km - 36.76).abs() < 0.05);
    assert_eq!(found.places[0].operator, member.name);

    // The registry's events reached JetStream.
    let nats = platform.nats_url.clone().expect("NATS");
    let stream = platform.stream("registry");
    fabrique_testkit::eventually(
        "proposed and listed events",
        Duration::from_secs(10),
        || {
            let (nats, stream) = (nats.clone(), stream.clone());
            async move {
                let subjects: Vec<String> = fabrique_testkit::stream_messages(&nats, &stream)
                    .await
                    .iter()
                    .map(|m| m.subject.to_string())
                    .collect();
                (subjects.iter().any(|s| s.ends_with("place.proposed"))
                    && subjects.iter().any(|s| s.ends_with("place.listed")))
                .then_some(())
            }
        },
    )
    .await;
}
