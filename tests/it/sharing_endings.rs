//! How requests and bookings end without both parties, over gRPC on both backends: a
//! request its owner does not answer in time expires — once, whatever the number of
//! replicas sweeping at once — and frees its slot or quantity; withdrawing a resource,
//! closing its place or suspending its owner cancels what was still to come on it, each
//! with an event naming the cause; the borrower cancels its own reservation. And slots
//! given in Paris time across the changes to and from summer time keep their length.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use fabrique_api::registry as rp;
use fabrique_api::sharing as proto;
use fabrique_platform::bus::ConsumerSpec;
use fabrique_platform::outbox::OutboxSignal;
use fabrique_testkit::{Backend, TestPlatform, authed};

use crate::sharing::{
    Sharing, active_member, equipment, material, platform, sharing_database, tomorrow,
};
use crate::support::Members;

impl Sharing {
    async fn withdraw(&self, name: &str, reason: &str) -> proto::Resource {
        let request = authed(
            proto::WithdrawResourceRequest {
                name: name.to_string(),
                reason: reason.to_string(),
                etag: String::new(),
            },
            &self.token,
        );
        self.client
            .clone()
            .withdraw_resource(request)
            .await
            .expect("withdrawn")
            .into_inner()
    }

    async fn cancel(&self, name: &str) -> proto::Reservation {
        let request = authed(
            proto::CancelReservationRequest {
                name: name.to_string(),
                reason: "plus besoin".into(),
                ..Default::default()
            },
            &self.token,
        );
        self.client
            .clone()
            .cancel_reservation(request)
            .await
            .expect("cancelled")
            .into_inner()
    }

    async fn claims_on(&self, resource: &str) -> Vec<proto::Claim> {
        let request = authed(
            proto::ListClaimsRequest {
                parent: resource.to_string(),
                page_size: 100,
                ..Default::default()
            },
            &self.token,
        );
        self.client
            .clone()
            .list_claims(request)
            .await
            .expect("claims")
            .into_inner()
            .claims
    }
}

/// The verbs published under `fabrique.sharing.{what}.*` for `subject` (a resource or a
/// reservation name), waiting for `count` of them, then checking no more come.
async fn verbs(platform: &TestPlatform, filters: &[&str], count: usize) -> Vec<String> {
    let mut events = platform
        .bus
        .subscribe(&ConsumerSpec {
            stream: platform.stream("sharing"),
            durable_name: format!("test-{}", uuid::Uuid::new_v4().simple()),
            filter_subjects: filters
                .iter()
                .map(|f| format!("{}fabrique.sharing.{f}", platform.prefix))
                .collect(),
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    let mut seen = Vec::new();
    let mut wait = Duration::from_secs(20);
    while let Ok(Some(Ok(delivery))) = tokio::time::timeout(wait, events.next()).await {
        let subject = delivery.subject.trim_start_matches(&platform.prefix);
        seen.push(subject.trim_start_matches("fabrique.sharing.").to_string());
        delivery.acker.ack().await.expect("ack");
        if seen.len() >= count {
            // Anything more would come soon: the outbox is relayed at once.
            wait = Duration::from_secs(2);
        }
    }
    seen.sort();
    seen
}

/// With one hour to answer, a reservation and a claim left unanswered expire when four
/// sweeps run at once two hours later: two expirations in all, one event each, the slot
/// bookable again and the quantity back in the stock.
async fn unanswered_requests_expire_once(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (_, owner) = active_member(&platform, &members, "Prêteur occupé").await;
    let (_, borrower) = active_member(&platform, &members, "Emprunteur").await;
    let within_an_hour = Some(proto::BookingRules {
        answer_within_hours: 1,
        ..Default::default()
    });
    let tool = owner
        .offer(proto::Resource {
            booking_rules: within_an_hour,
            ..equipment("Découpeuse laser", 0)
        })
        .await
        .expect("offer");
    assert_eq!(tool.booking_rules.expect("rules").answer_within_hours, 1);
    let stock = owner
        .offer(proto::Resource {
            booking_rules: within_an_hour,
            ..material("Grave de réemploi", 30.0)
        })
        .await
        .expect("offer");
    let start = tomorrow();
    let asked = borrower
        .reserve(&tool.name, start, start + chrono::Duration::hours(2))
        .await
        .expect("requested");
    let seconds = |t: &Option<prost_types::Timestamp>| t.as_ref().expect("a time").seconds;
    assert_eq!(
        seconds(&asked.answer_time) - seconds(&asked.create_time),
        3_600
    );
    let claimed = borrower.claim(&stock.name, 5.0, false).await.expect("held");
    assert!(claimed.answer_time.is_some());

    let db = sharing_database(&platform).await;
    let sweeper = fabrique_sharing::app::Sharing::new(db, OutboxSignal::new());
    assert_eq!(sweeper.expire_overdue(Utc::now()).await.expect("sweep"), 0);
    let later = Utc::now() + chrono::Duration::hours(2);
    let sweeps: Vec<_> = (0..4)
        .map(|_| {
            let sweeper = sweeper.clone();
            tokio::spawn(async move { sweeper.expire_overdue(later).await.expect("sweep") })
        })
        .collect();
    let mut expired = 0;
    for sweep in sweeps {
        expired += sweep.await.expect("task");
    }
    assert_eq!(expired, 2, "each request expired once");

    let read = borrower.reservation(&asked.name).await.expect("read");
    assert_eq!(read.state, proto::ReservationState::Expired as i32);
    assert_eq!(read.state_reason, "not answered in time");
    borrower
        .reserve(&tool.name, start, start + chrono::Duration::hours(2))
        .await
        .expect("the slot is free again");
    let claims = owner.claims_on(&stock.name).await;
    assert_eq!(claims[0].state, proto::ClaimState::Expired as i32);
    let remaining = owner.get(&stock.name).await.expect("read").quantity;
    assert_eq!(remaining.expect("a stock").amount, 30.0);
    assert_eq!(
        verbs(&platform, &["reservation.expired", "claim.expired"], 2).await,
        ["claim.expired", "reservation.expired"]
    );
}

/// Withdrawing a resource cancels its reservations still to come and its held claims,
/// each saying why; the borrower cancels its own; a suspended owner's offers are
/// withdrawn with their bookings.
async fn what_ends_with_a_resource(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (owner_name, owner) = active_member(&platform, &members, "Recyclerie").await;
    let (_, borrower) = active_member(&platform, &members, "Commune voisine").await;
    let van = owner
        .offer(equipment("Fourgon partagé", 0))
        .await
        .expect("offer");
    let start = tomorrow();
    let hours = chrono::Duration::hours;
    let confirmed = borrower
        .reserve(&van.name, start, start + hours(2))
        .await
        .expect("asked");
    owner.confirm(&confirmed.name).await.expect("confirmed");
    let requested = borrower
        .reserve(&van.name, start + hours(4), start + hours(6))
        .await
        .expect("asked");
    let own = borrower
        .reserve(&van.name, start + hours(8), start + hours(9))
        .await
        .expect("asked");
    let by_borrower = borrower.cancel(&own.name).await;
    assert_eq!(by_borrower.state, proto::ReservationState::Cancelled as i32);

    owner.withdraw(&van.name, "moteur en panne").await;
    for name in [&confirmed.name, &requested.name] {
        let read = borrower.reservation(name).await.expect("read");
        assert_eq!(read.state, proto::ReservationState::Cancelled as i32);
        assert!(
            read.state_reason
                .contains("was withdrawn by its owner: moteur en panne"),
            "{}",
            read.state_reason
        );
    }

    // Materials: a held claim is cancelled, its quantity back, when the owner is
    // suspended (its offers withdrawn).
    let gravel = owner
        .offer(material("Enrobés de réemploi", 12.0))
        .await
        .expect("offer");
    borrower
        .claim(&gravel.name, 4.0, false)
        .await
        .expect("held");
    members
        .suspend(&owner_name, "cotisation impayée")
        .await
        .expect("suspended");
    fabrique_testkit::eventually("the claim cancelled", Duration::from_secs(20), || {
        let (owner, name) = (owner.clone(), gravel.name.clone());
        async move {
            let claims = owner.claims_on(&name).await;
            (claims[0].state == proto::ClaimState::Cancelled as i32).then_some(())
        }
    })
    .await;
    let gravel = borrower.get(&gravel.name).await.expect("read");
    assert_eq!(gravel.state, proto::ResourceState::Withdrawn as i32);
    assert_eq!(gravel.quantity.expect("stock").amount, 12.0);
    let seen = verbs(&platform, &["reservation.cancelled", "claim.cancelled"], 4).await;
    assert_eq!(
        seen,
        [
            "claim.cancelled",
            "reservation.cancelled",
            "reservation.cancelled",
            "reservation.cancelled"
        ]
    );
}

/// A place that closes makes its resources unavailable and cancels what was booked
/// there, naming the place.
async fn a_closed_place_ends_its_bookings(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (owner_name, owner) = active_member(&platform, &members, "Tiers-lieu").await;
    let (_, borrower) = active_member(&platform, &members, "Association voisine").await;
    let mut registry =
        rp::registry_service_client::RegistryServiceClient::new(platform.channel().await);
    let admin = TestPlatform::admin_token();
    let draft = rp::Place {
        display_name: "La Dorélie".into(),
        kinds: vec![rp::PlaceKind::TiersLieu as i32],
        operator: owner_name.clone(),
        location: Some(rp::Location {
            latitude: 45.85,
            longitude: 3.54,
        }),
        ..Default::default()
    };
    // The registry learns of the operator from member events on its own time: the
    // sharing service knowing it says nothing of the registry. The request id makes
    // the retries one place.
    let request_id = uuid::Uuid::new_v4().to_string();
    let place = fabrique_testkit::eventually(
        "the registry to know the operator",
        Duration::from_secs(20),
        || {
            let request = authed(
                rp::CreatePlaceRequest {
                    place: Some(draft.clone()),
                    request_id: request_id.clone(),
                },
                &admin,
            );
            let mut registry = registry.clone();
            async move {
                match registry.create_place(request).await {
                    Ok(place) => Some(place.into_inner()),
                    Err(status) if status.code() == tonic::Code::FailedPrecondition => None,
                    Err(status) => panic!("unexpected {status:?}"),
                }
            }
        },
    )
    .await;
    registry
        .approve_place(authed(
            rp::ApprovePlaceRequest {
                name: place.name.clone(),
                etag: String::new(),
            },
            &admin,
        ))
        .await
        .expect("listed");
    let room = fabrique_testkit::eventually(
        "the sharing service to know the place",
        Duration::from_secs(20),
        || {
            let owner = owner.clone();
            let resource = proto::Resource {
                kind: proto::ResourceKind::Space as i32,
                place: place.name.clone(),
                ..equipment("Salle de réunion", 0)
            };
            async move { owner.offer(resource).await.ok() }
        },
    )
    .await;
    let start = tomorrow();
    let booked = borrower
        .reserve(&room.name, start, start + chrono::Duration::hours(2))
        .await
        .expect("asked");
    registry
        .close_place(authed(
            rp::ClosePlaceRequest {
                name: place.name.clone(),
                reason: "fin du bail".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("closed");
    fabrique_testkit::eventually("the booking cancelled", Duration::from_secs(20), || {
        let (borrower, name) = (borrower.clone(), booked.name.clone());
        async move {
            let read = borrower.reservation(&name).await.ok()?;
            (read.state == proto::ReservationState::Cancelled as i32).then_some(read)
        }
    })
    .await;
    let read = borrower.reservation(&booked.name).await.expect("read");
    assert!(
        read.state_reason
            .contains(&format!("{} closed", place.name)),
        "{}",
        read.state_reason
    );
    let room = owner.get(&room.name).await.expect("read");
    assert_eq!(room.state, proto::ResourceState::Unavailable as i32);
}

/// A night slot given as Paris wall-clock times, 01:00–04:00, lasts two hours the night
/// summer time begins, three the night before, four the night it ends: a resource that
/// lends for two hours at most takes the first and refuses the others. The instants
/// sent are UTC (the API's only zone); the site converts Paris time the same way.
async fn paris_slots_keep_their_meaning_across_summer_time(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (_, owner) = active_member(&platform, &members, "Garage solidaire").await;
    let (_, borrower) = active_member(&platform, &members, "Covoitureurs").await;
    let van = owner
        .offer(proto::Resource {
            booking_rules: Some(proto::BookingRules {
                max_duration_hours: 2,
                ..Default::default()
            }),
            ..equipment("Minibus de nuit", 0)
        })
        .await
        .expect("offer");
    let paris = |y, m, d, h| {
        let day = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a day");
        let time = chrono::NaiveTime::from_hms_opt(h, 0, 0).expect("a time");
        fabrique_types::fr::paris_local(day, time).expect("a Paris time")
    };
    let night = |y, m, d| (paris(y, m, d, 1), paris(y, m, d, 4));
    let (start, end) = night(2027, 3, 28);
    let spring = borrower
        .reserve(&van.name, start, end)
        .await
        .expect("two hours the night summer time begins");
    let seconds = |t: &Option<prost_types::Timestamp>| t.as_ref().expect("a time").seconds;
    assert_eq!(
        seconds(&spring.end_time) - seconds(&spring.start_time),
        7_200
    );
    assert_eq!(
        spring.start_time.expect("start").seconds,
        Utc.with_ymd_and_hms(2027, 3, 28, 0, 0, 0)
            .single()
            .expect("a time")
            .timestamp(),
        "01:00 in Paris is midnight UTC in winter time"
    );
    for (y, m, d, hours) in [(2027, 3, 27, 3), (2027, 10, 31, 4)] {
        let (start, end) = night(y, m, d);
        assert_eq!((end - start).num_hours(), hours);
        let refused = borrower.reserve(&van.name, start, end).await.unwrap_err();
        assert_eq!(
            crate::support::reason(&refused),
            "SLOT_TOO_LONG",
            "{y}-{m}-{d}: {refused:?}"
        );
    }
}

mod postgres {
    use fabrique_testkit::Backend::Postgres;

    #[tokio::test]
    async fn paris_slots_keep_their_meaning_across_summer_time() {
        super::paris_slots_keep_their_meaning_across_summer_time(Postgres).await;
    }

    #[tokio::test]
    async fn unanswered_requests_expire_once() {
        super::unanswered_requests_expire_once(Postgres).await;
    }

    #[tokio::test]
    async fn what_ends_with_a_resource() {
        super::what_ends_with_a_resource(Postgres).await;
    }

    #[tokio::test]
    async fn a_closed_place_ends_its_bookings() {
        super::a_closed_place_ends_its_bookings(Postgres).await;
    }
}

mod sqlite {
    use fabrique_testkit::Backend::Sqlite;

    #[tokio::test]
    async fn paris_slots_keep_their_meaning_across_summer_time() {
        super::paris_slots_keep_their_meaning_across_summer_time(Sqlite).await;
    }

    #[tokio::test]
    async fn unanswered_requests_expire_once() {
        super::unanswered_requests_expire_once(Sqlite).await;
    }

    #[tokio::test]
    async fn what_ends_with_a_resource() {
        super::what_ends_with_a_resource(Sqlite).await;
    }

    #[tokio::test]
    async fn a_closed_place_ends_its_bookings() {
        super::a_closed_place_ends_its_bookings(Sqlite).await;
    }
}
