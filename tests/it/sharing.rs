//! Sharing over gRPC, with members and the registry beside it, on PostgreSQL with NATS
//! and on SQLite with the in-process bus: no double booking under concurrency (two
//! server instances on one PostgreSQL), no negative stock, a departing member's offers
//! and bookings ended once, matching, bad input, and a van lent from one ally to another.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{Datelike, TimeZone, Utc};
use fabrique_api::sharing::{self as proto, sharing_service_client::SharingServiceClient};
use fabrique_platform::bus::{ConsumerSpec, Headers, MSG_ID_HEADER, OutgoingMessage};
use fabrique_platform::config::DatabaseSettings;
use fabrique_testkit::{Backend, BusChoice, TestPlatform, authed};
use sea_orm::{ConnectionTrait, Statement};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::support::{
    Members, all_services, association, id_of, reason, refusal_fact, violated_fields,
};

const THIERS: (f64, f64) = (45.8564, 3.5475);

pub(crate) async fn platform(backend: Backend) -> TestPlatform {
    let bus = match backend {
        Backend::Postgres => BusChoice::SharedNats,
        Backend::Sqlite => BusChoice::InProcess,
    };
    TestPlatform::spawn(all_services(), backend, bus).await
}

#[derive(Clone)]
pub(crate) struct Sharing {
    pub(crate) client: SharingServiceClient<Channel>,
    pub(crate) token: String,
}

impl Sharing {
    pub(crate) async fn connect(platform: &TestPlatform, token: String) -> Self {
        Self {
            client: SharingServiceClient::new(platform.channel().await),
            token,
        }
    }

    pub(crate) async fn offer(&self, resource: proto::Resource) -> Result<proto::Resource, Status> {
        self.offer_with_id(resource, "").await
    }

    async fn offer_with_id(
        &self,
        resource: proto::Resource,
        request_id: &str,
    ) -> Result<proto::Resource, Status> {
        let request = authed(
            proto::CreateResourceRequest {
                resource: Some(resource),
                request_id: request_id.to_string(),
            },
            &self.token,
        );
        self.client
            .clone()
            .create_resource(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn get(&self, name: &str) -> Result<proto::Resource, Status> {
        let request = authed(
            proto::GetResourceRequest {
                name: name.to_string(),
            },
            &self.token,
        );
        self.client
            .clone()
            .get_resource(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn reserve(
        &self,
        resource: &str,
        start: chrono::DateTime<Utc>,
        end: chrono::DateTime<Utc>,
    ) -> Result<proto::Reservation, Status> {
        let request = authed(
            proto::CreateReservationRequest {
                parent: resource.to_string(),
                reservation: Some(proto::Reservation {
                    start_time: Some(fabrique_platform::time::timestamp(start)),
                    end_time: Some(fabrique_platform::time::timestamp(end)),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &self.token,
        );
        self.client
            .clone()
            .create_reservation(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn reservation(&self, name: &str) -> Result<proto::Reservation, Status> {
        let request = authed(
            proto::GetReservationRequest {
                name: name.to_string(),
            },
            &self.token,
        );
        self.client
            .clone()
            .get_reservation(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn confirm(&self, name: &str) -> Result<proto::Reservation, Status> {
        let request = authed(
            proto::ConfirmReservationRequest {
                name: name.to_string(),
                etag: String::new(),
            },
            &self.token,
        );
        self.client
            .clone()
            .confirm_reservation(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn claim(
        &self,
        resource: &str,
        amount: f64,
        accept_less: bool,
    ) -> Result<proto::Claim, Status> {
        let request = authed(
            proto::CreateClaimRequest {
                parent: resource.to_string(),
                amount,
                accept_less,
                request_id: String::new(),
            },
            &self.token,
        );
        self.client
            .clone()
            .create_claim(request)
            .await
            .map(tonic::Response::into_inner)
    }

    async fn need(&self, need: proto::Need, request_id: &str) -> Result<proto::Need, Status> {
        let request = authed(
            proto::CreateNeedRequest {
                need: Some(need),
                request_id: request_id.to_string(),
            },
            &self.token,
        );
        self.client
            .clone()
            .create_need(request)
            .await
            .map(tonic::Response::into_inner)
    }

    async fn matches(&self, need: &str) -> Result<Vec<proto::Match>, Status> {
        let request = authed(
            proto::ListMatchesRequest {
                need: need.to_string(),
                page_size: 0,
            },
            &self.token,
        );
        self.client
            .clone()
            .list_matches(request)
            .await
            .map(|r| r.into_inner().matches)
    }
}

/// An approved member, with a client acting for it once the sharing service knows it.
pub(crate) async fn active_member(
    platform: &TestPlatform,
    members: &Members,
    name: &str,
) -> (String, Sharing) {
    let member = members.create(association(name)).await.expect("apply");
    members.approve(&member.name).await.expect("approve");
    let sharing =
        Sharing::connect(platform, TestPlatform::member_token(&id_of(&member.name))).await;
    let request_id = uuid::Uuid::new_v4().to_string();
    fabrique_testkit::eventually(
        "the sharing service to know the member",
        Duration::from_secs(20),
        || {
            let (sharing, request_id) = (sharing.clone(), request_id.clone());
            async move {
                let probe = proto::Need {
                    description: "test de présence".into(),
                    ..Default::default()
                };
                match sharing.need(probe, &request_id).await {
                    Ok(_) => Some(()),
                    Err(status) if status.code() == Code::FailedPrecondition => None,
                    Err(status) => panic!("unexpected {status:?}"),
                }
            }
        },
    )
    .await;
    (member.name, sharing)
}

pub(crate) fn equipment(title: &str, turnaround_minutes: i32) -> proto::Resource {
    proto::Resource {
        kind: proto::ResourceKind::Equipment as i32,
        title: title.to_string(),
        booking_rules: Some(proto::BookingRules {
            turnaround_minutes,
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn material(title: &str, tonnes: f64) -> proto::Resource {
    proto::Resource {
        kind: proto::ResourceKind::Material as i32,
        title: title.to_string(),
        quantity: Some(proto::Quantity {
            amount: tonnes,
            unit: proto::QuantityUnit::Tonne as i32,
        }),
        ..Default::default()
    }
}

/// Tomorrow, on the hour.
pub(crate) fn tomorrow() -> chrono::DateTime<Utc> {
    let t = Utc::now() + chrono::Duration::days(1);
    Utc.with_ymd_and_hms(t.year(), t.month(), t.day(), 8, 0, 0)
        .single()
        .expect("a time")
}

pub(crate) async fn sharing_database(platform: &TestPlatform) -> sea_orm::DatabaseConnection {
    fabrique_platform::db::connect(
        &DatabaseSettings {
            url: platform.database_url.clone(),
            max_connections: 2,
        },
        "sharing",
    )
    .await
    .expect("database")
}

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_string(),
    ))
    .await
    .expect("query")
    .expect("a row")
    .try_get_by_index::<i64>(0)
    .expect("a count")
}

async fn concurrent_reservations_never_overlap(backend: Backend) {
    let platform = platform(backend).await;
    // Two server instances on one PostgreSQL, as two pods; one process on SQLite.
    let second = match backend {
        Backend::Postgres => Some(platform.another_instance(all_services()).await),
        Backend::Sqlite => None,
    };
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (_, owner) = active_member(&platform, &members, "Prêteur").await;
    let (borrower_name, borrower) = active_member(&platform, &members, "Emprunteur").await;
    let tool = owner
        .offer(equipment("Broyeur de végétaux", 30))
        .await
        .expect("offer");
    let via_second = match &second {
        Some(second) => {
            Sharing::connect(second, TestPlatform::member_token(&id_of(&borrower_name))).await
        }
        None => borrower.clone(),
    };

    // Ten groups of five requests; within a group every pair overlaps once the 30-minute
    // turnaround is counted, groups are three hours apart: exactly ten can win.
    let base = tomorrow();
    let minutes = |m: i64| chrono::Duration::minutes(m);
    let variants = [(0, 60), (30, 90), (0, 120), (15, 45), (60, 120)];
    let mut calls = Vec::new();
    for group in 0..10 {
        for (i, (from, to)) in variants.iter().enumerate() {
            let start = base + minutes(group * 180 + from);
            let end = base + minutes(group * 180 + to);
            let client = if (group + i as i64) % 2 == 0 {
                borrower.clone()
            } else {
                via_second.clone()
            };
            let resource = tool.name.clone();
            calls.push(tokio::spawn(async move {
                client.reserve(&resource, start, end).await
            }));
        }
    }
    let mut won = 0;
    for call in calls {
        match call.await.expect("task") {
            Ok(_) => won += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                assert_eq!(reason(&status), "SLOT_TAKEN");
                assert!(
                    status.message().contains("/reservations/"),
                    "names the conflicting slot: {}",
                    status.message()
                );
                // And gives it to programs: the holder and its slot, which overlaps.
                let holder = refusal_fact(&status, "holding_reservation");
                assert!(
                    holder.starts_with(&format!("{}/reservations/", tool.name)),
                    "{status:?}"
                );
                let at = |key| {
                    chrono::DateTime::parse_from_rfc3339(&refusal_fact(&status, key))
                        .unwrap_or_else(|e| panic!("{key}: {e} in {status:?}"))
                };
                let (from, to) = (at("holding_start_time"), at("holding_end_time"));
                assert!(
                    from < to && from >= base && to <= base + minutes(30 * 180),
                    "{status:?}"
                );
                assert!(!refusal_fact(&status, "turnaround_minutes").is_empty());
            }
        }
    }
    assert_eq!(won, 10);

    let db = sharing_database(&platform).await;
    let overlaps = count(
        &db,
        "SELECT COUNT(*) FROM reservations a JOIN reservations b
           ON a.resource_id = b.resource_id AND a.id < b.id
         WHERE a.state IN ('requested', 'confirmed') AND b.state IN ('requested', 'confirmed')
           AND a.start_us < b.held_end_us AND b.start_us < a.held_end_us",
    )
    .await;
    assert_eq!(overlaps, 0, "no overlap in the database");
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM reservations").await,
        10,
        "losers wrote nothing"
    );
}

/// One reservation sent many times at once with one request id (a double click, a
/// client retrying while its first try is still running): every copy answers the same
/// reservation, one is written. Another caller reusing that id is refused.
async fn one_request_sent_many_times_at_once_reserves_once(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (_, owner) = active_member(&platform, &members, "Prêteur").await;
    let (_, borrower) = active_member(&platform, &members, "Emprunteur").await;
    let (_, stranger) = active_member(&platform, &members, "Autre").await;
    let tool = owner
        .offer(equipment("Broyeur de végétaux", 30))
        .await
        .expect("offer");
    let start = tomorrow();
    let request = |token: &str| {
        authed(
            proto::CreateReservationRequest {
                parent: tool.name.clone(),
                reservation: Some(proto::Reservation {
                    start_time: Some(fabrique_platform::time::timestamp(start)),
                    end_time: Some(fabrique_platform::time::timestamp(
                        start + chrono::Duration::hours(2),
                    )),
                    ..Default::default()
                }),
                request_id: "0e6f2b9c-3c1e-4d55-9a43-5d2b7c1f0a11".into(),
            },
            token,
        )
    };
    let copies: Vec<_> = (0..8)
        .map(|_| {
            let (mut client, request) = (borrower.client.clone(), request(&borrower.token));
            tokio::spawn(async move { client.create_reservation(request).await })
        })
        .collect();
    let mut names = HashSet::new();
    for copy in copies {
        let made = copy.await.expect("task").expect("every copy answers");
        names.insert(made.into_inner().name);
    }
    assert_eq!(names.len(), 1, "{names:?}");
    let reused = stranger
        .client
        .clone()
        .create_reservation(request(&stranger.token))
        .await
        .expect_err("another caller's request id");
    assert_eq!(reason(&reused), "REQUEST_ID_REUSED");
    let db = sharing_database(&platform).await;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM reservations").await, 1);
}

async fn concurrent_claims_never_take_more_than_the_stock(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (_, owner) = active_member(&platform, &members, "Département").await;
    let (_, claimant) = active_member(&platform, &members, "Commune").await;
    let asphalt = owner
        .offer(material("Fraisat d'enrobé", 25.0))
        .await
        .expect("offer");
    let mut calls = Vec::new();
    for _ in 0..40 {
        let (claimant, resource) = (claimant.clone(), asphalt.name.clone());
        calls.push(tokio::spawn(async move {
            claimant.claim(&resource, 1.0, false).await
        }));
    }
    let mut granted = 0;
    for call in calls {
        match call.await.expect("task") {
            Ok(claim) => {
                assert_eq!(claim.quantity.expect("quantity").amount, 1.0);
                granted += 1;
            }
            Err(status) => assert_eq!(reason(&status), "NOT_ENOUGH_LEFT", "{status:?}"),
        }
    }
    assert_eq!(granted, 25);
    let left = owner
        .get(&asphalt.name)
        .await
        .expect("get")
        .remaining
        .expect("remaining");
    assert_eq!(left.amount, 0.0);
    let db = sharing_database(&platform).await;
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM resources WHERE remaining_milli < 0"
        )
        .await,
        0
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM claims").await, 25);

    // Partial claims: ask 3 t of 2 t left, and take what is left.
    let gravel = owner.offer(material("Grave", 2.0)).await.expect("offer");
    assert_eq!(
        reason(&claimant.claim(&gravel.name, 3.0, false).await.unwrap_err()),
        "NOT_ENOUGH_LEFT"
    );
    let partial = claimant
        .claim(&gravel.name, 3.0, true)
        .await
        .expect("accept less");
    assert_eq!(partial.quantity.expect("quantity").amount, 2.0);
    let mut cancel = claimant.client.clone();
    cancel
        .cancel_claim(authed(
            proto::CancelClaimRequest {
                name: partial.name.clone(),
            },
            &claimant.token,
        ))
        .await
        .expect("cancel");
    assert_eq!(
        owner
            .get(&gravel.name)
            .await
            .expect("get")
            .remaining
            .expect("left")
            .amount,
        2.0,
        "returned"
    );
}

async fn a_departing_member_s_offers_and_bookings_end_once(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (owner_name, owner) = active_member(&platform, &members, "Partant").await;
    let (_, borrower) = active_member(&platform, &members, "Restant").await;
    let van = owner
        .offer(proto::Resource {
            kind: proto::ResourceKind::Vehicle as i32,
            title: "Fourgon".into(),
            ..Default::default()
        })
        .await
        .expect("offer");
    let now = Utc::now();
    let ongoing = borrower
        .reserve(
            &van.name,
            now + chrono::Duration::seconds(2),
            now + chrono::Duration::hours(2),
        )
        .await
        .expect("soon");
    let future = borrower
        .reserve(
            &van.name,
            tomorrow(),
            tomorrow() + chrono::Duration::hours(3),
        )
        .await
        .expect("tomorrow");
    tokio::time::sleep(Duration::from_millis(2500)).await; // the first one has started

    members
        .leave(&owner_name, "fin d'activité")
        .await
        .expect("leave");
    fabrique_testkit::eventually("the offer withdrawn", Duration::from_secs(20), || {
        let (borrower, name) = (borrower.clone(), van.name.clone());
        async move {
            let resource = borrower.get(&name).await.ok()?;
            (resource.state == proto::ResourceState::Withdrawn as i32).then_some(())
        }
    })
    .await;
    let cancelled = borrower.reservation(&future.name).await.expect("get");
    assert_eq!(cancelled.state, proto::ReservationState::Cancelled as i32);
    assert!(
        cancelled.state_reason.contains("left"),
        "{}",
        cancelled.state_reason
    );
    assert_eq!(
        borrower
            .reservation(&ongoing.name)
            .await
            .expect("get")
            .state,
        proto::ReservationState::Requested as i32,
        "a reservation already under way is kept"
    );

    // The same `left` event again changes nothing.
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
    let mut ended = platform
        .bus
        .subscribe(&ConsumerSpec {
            stream: platform.stream("sharing"),
            durable_name: "test-ended".into(),
            filter_subjects: vec![
                format!("{}fabrique.sharing.resource.withdrawn", platform.prefix),
                format!("{}fabrique.sharing.reservation.cancelled", platform.prefix),
            ],
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    let mut subjects = Vec::new();
    while let Ok(Some(Ok(delivery))) =
        tokio::time::timeout(Duration::from_secs(3), ended.next()).await
    {
        subjects.push(
            delivery
                .subject
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_string(),
        );
        delivery.acker.ack().await.expect("ack");
    }
    subjects.sort();
    assert_eq!(subjects, ["cancelled", "withdrawn"], "one event each, once");
}

async fn matching_prefers_free_and_near(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (_, lender) = active_member(&platform, &members, "FabLab voisin").await;
    let (_, other) = active_member(&platform, &members, "Autre emprunteur").await;
    let (_, seeker) = active_member(&platform, &members, "Commune de Thiers").await;
    let at = |east_km: f64, north_km: f64| proto::Location {
        latitude: THIERS.0 + north_km / 111.195,
        longitude: THIERS.1 + east_km / (111.195 * THIERS.0.to_radians().cos()),
    };
    let printer = |title: &str, location| proto::Resource {
        location: Some(location),
        ..equipment(title, 0)
    };
    let near_free = lender
        .offer(printer("Imprimante 3D Prusa", at(10.0, 0.0)))
        .await
        .expect("offer");
    let near_booked = lender
        .offer(printer("Imprimante 3D Ultimaker", at(5.0, 0.0)))
        .await
        .expect("offer");
    let far_free = lender
        .offer(printer("Imprimante 3D Bambu", at(0.0, 200.0)))
        .await
        .expect("offer");
    lender
        .offer(printer("Scie à ruban", at(1.0, 0.0)))
        .await
        .expect("offer");

    // Next Tuesday, 10:00 to 12:00.
    let today = Utc::now().date_naive();
    let days = (7 + chrono::Weekday::Tue.num_days_from_monday() as i64
        - today.weekday().num_days_from_monday() as i64
        - 1)
        % 7
        + 1;
    let tuesday = (today + chrono::Duration::days(days))
        .and_hms_opt(10, 0, 0)
        .expect("time")
        .and_utc();
    other
        .reserve(
            &near_booked.name,
            tuesday,
            tuesday + chrono::Duration::hours(2),
        )
        .await
        .expect("book the near one");

    let need = seeker
        .need(
            proto::Need {
                kind: proto::ResourceKind::Equipment as i32,
                description: "imprimante 3D".into(),
                location: Some(at(0.0, 0.0)),
                start_time: Some(fabrique_platform::time::timestamp(tuesday)),
                end_time: Some(fabrique_platform::time::timestamp(
                    tuesday + chrono::Duration::hours(2),
                )),
                ..Default::default()
            },
            "",
        )
        .await
        .expect("need");
    let matches = seeker.matches(&need.name).await.expect("matches");
    let names: Vec<&str> = matches
        .iter()
        .map(|m| {
            m.resource
                .as_ref()
                .map(|r| r.title.as_str())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        names,
        [
            "Imprimante 3D Prusa",
            "Imprimante 3D Bambu",
            "Imprimante 3D Ultimaker"
        ],
        "the saw does not fit"
    );
    let position = |name: &str| {
        matches
            .iter()
            .position(|m| m.resource.as_ref().is_some_and(|r| r.name == name))
    };
    assert!(position(&near_free.name) < position(&near_booked.name));
    assert!(position(&near_free.name) < position(&far_free.name));
    assert!(!matches[2].available);
    assert!(
        (matches[0].distance_km - 10.0).abs() < 0.1,
        "{}",
        matches[0].distance_km
    );
}

async fn bad_input_is_refused_and_writes_nothing(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (_, owner) = active_member(&platform, &members, "Propriétaire").await;
    let (_, other) = active_member(&platform, &members, "Voisin").await;
    let tool = owner.offer(equipment("Perceuse", 0)).await.expect("offer");
    let base = tomorrow();
    let hours = chrono::Duration::hours;

    let reversed = other
        .reserve(&tool.name, base + hours(2), base)
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&reversed), ["reservation.end_time"]);
    let empty = other.reserve(&tool.name, base, base).await.unwrap_err();
    assert_eq!(violated_fields(&empty), ["reservation.end_time"]);
    assert!(empty.message().contains("empty"), "{}", empty.message());
    let own = owner
        .reserve(&tool.name, base, base + hours(1))
        .await
        .unwrap_err();
    assert_eq!(
        (own.code(), reason(&own).as_str()),
        (Code::FailedPrecondition, "OWN_RESOURCE")
    );
    let unknown = other
        .reserve(
            &format!("resources/{}", uuid::Uuid::now_v7()),
            base,
            base + hours(1),
        )
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let past = other
        .reserve(&tool.name, base - hours(48), base - hours(47))
        .await
        .unwrap_err();
    assert_eq!(reason(&past), "SLOT_IN_THE_PAST");

    let asphalt = owner.offer(material("Fraisat", 5.0)).await.expect("offer");
    assert_eq!(
        violated_fields(&other.claim(&asphalt.name, -1.0, false).await.unwrap_err()),
        ["amount"]
    );
    assert_eq!(
        violated_fields(&other.claim(&asphalt.name, 0.0, false).await.unwrap_err()),
        ["amount"]
    );
    assert_eq!(
        violated_fields(&other.claim(&asphalt.name, 0.0001, false).await.unwrap_err()),
        ["amount"]
    );
    let negative = owner.offer(material("Négatif", -3.0)).await.unwrap_err();
    assert_eq!(violated_fields(&negative), ["resource.quantity.amount"]);
    let no_quantity = owner
        .offer(proto::Resource {
            quantity: None,
            ..material("Sans quantité", 1.0)
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&no_quantity), ["resource.quantity"]);
    let not_bookable = other
        .reserve(&asphalt.name, base, base + hours(1))
        .await
        .unwrap_err();
    assert_eq!(reason(&not_bookable), "NOT_BOOKABLE");
    let bad_place = owner
        .offer(proto::Resource {
            location: Some(proto::Location {
                latitude: 91.0,
                longitude: 3.0,
            }),
            ..equipment("Ailleurs", 0)
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad_place), ["resource.location.latitude"]);

    let db = sharing_database(&platform).await;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM reservations").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM claims").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM resources").await, 2);
    // And the server still serves.
    other
        .reserve(&tool.name, base, base + hours(1))
        .await
        .expect("a valid reservation");
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
    concurrent_reservations_never_overlap,
    one_request_sent_many_times_at_once_reserves_once,
    concurrent_claims_never_take_more_than_the_stock,
    a_departing_member_s_offers_and_bookings_end_once,
    matching_prefers_free_and_near,
    bad_input_is_refused_and_writes_nothing,
);

/// Two allies, one van: offered, reserved, confirmed — seen by a raw NATS subscriber.
#[tokio::test]
async fn a_van_lent_from_one_ally_to_another() {
    let platform =
        TestPlatform::spawn(all_services(), Backend::Postgres, BusChoice::SharedNats).await;
    let nats = async_nats::connect(platform.nats_url.clone().expect("NATS"))
        .await
        .expect("raw NATS");
    let mut raw = nats
        .subscribe(format!("{}fabrique.sharing.>", platform.prefix))
        .await
        .expect("subscribe");
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (owner_name, owner) = active_member(&platform, &members, "Ressourcerie").await;
    let (borrower_name, borrower) = active_member(&platform, &members, "Repair café").await;

    let van = owner
        .offer(proto::Resource {
            kind: proto::ResourceKind::Vehicle as i32,
            title: "Fourgon 12 m³".into(),
            conditions: Some(proto::Conditions {
                mode: proto::CostMode::CostShared as i32,
                price_cents_per_day: 4500,
                deposit_cents: 50000,
            }),
            ..Default::default()
        })
        .await
        .expect("offer the van");
    assert_eq!(van.owner, owner_name);
    let start = tomorrow();
    let requested = borrower
        .reserve(&van.name, start, start + chrono::Duration::hours(8))
        .await
        .expect("reserve");
    assert_eq!(requested.state, proto::ReservationState::Requested as i32);
    assert_eq!(requested.borrower, borrower_name);
    let denied = borrower.confirm(&requested.name).await.unwrap_err();
    assert_eq!(
        denied.code(),
        Code::PermissionDenied,
        "only the owner confirms"
    );
    owner
        .confirm(&requested.name)
        .await
        .expect("the owner confirms");
    let seen = borrower
        .reservation(&requested.name)
        .await
        .expect("the borrower reads it");
    assert_eq!(seen.state, proto::ReservationState::Confirmed as i32);

    let expected = [
        "fabrique.sharing.resource.offered",
        "fabrique.sharing.reservation.requested",
        "fabrique.sharing.reservation.confirmed",
    ];
    let mut subjects = HashSet::new();
    while !expected.iter().all(|e| subjects.contains(*e)) {
        let message =
            tokio::time::timeout(Duration::from_secs(10), futures::StreamExt::next(&mut raw))
                .await
                .expect("events within 10 s")
                .expect("subscription open");
        subjects.insert(
            message
                .subject
                .trim_start_matches(&platform.prefix)
                .to_string(),
        );
        assert_eq!(
            message
                .headers
                .as_ref()
                .and_then(|h| h.get("content-type"))
                .map(|v| v.as_str()),
            Some("application/protobuf")
        );
    }
    // The members' presence probes posted needs too; nothing else was published.
    assert!(
        subjects
            .iter()
            .all(|s| expected.contains(&s.as_str()) || s == "fabrique.sharing.need.posted"),
        "{subjects:?}"
    );
}
