//! The notify service end to end, on PostgreSQL + NATS and on SQLite + the in-process
//! bus, against a real SMTP server (aiosmtpd, run by the test): who gets which e-mail,
//! once, with the right links; the settings honoured; an SMTP server that is down
//! delays e-mail and loses none; an e-mail given up goes to the dead letters and comes
//! back when replayed.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, TimeZone, Utc};
use fabrique_api::notify::{self as proto, notify_service_client::NotifyServiceClient};
use fabrique_api::sharing::{self as sharing, sharing_service_client::SharingServiceClient};
use fabrique_notify::NotifyConfig;
use fabrique_notify::domain::Retry;
use fabrique_notify::transport::Transport;
use fabrique_platform::service::Service;
use fabrique_testkit::smtp::{ReceivedMail, SmtpServer};
use fabrique_testkit::{Backend, BusChoice, TestPlatform, authed, eventually};
use tonic::Code;
use tonic::transport::Channel;

use crate::support::{Members, id_of};
use fabrique_api::members as members_proto;

pub const SITE: &str = "https://fabrique.test";
pub const ADMIN: &str = "admin@alliance.test";
const WAIT: Duration = Duration::from_secs(30);

/// Every service, notify sending through `smtp` with quick retries.
pub fn services_mailing_to(smtp: &SmtpServer, retry: Retry) -> Vec<Arc<dyn Service>> {
    let mut config = NotifyConfig::new(Transport::smtp(&smtp.url()).expect("SMTP URL"), SITE);
    config.admins = vec![fabrique_notify::domain::parse_address(ADMIN).unwrap()];
    config.retry = retry;
    fabrique::services::with_notify(fabrique::services::all(), config)
}

pub fn quick_retries(max_attempts: u32) -> Retry {
    Retry {
        max_attempts,
        first: Duration::from_millis(300),
        longest: Duration::from_secs(2),
    }
}

pub async fn platform(backend: Backend, services: Vec<Arc<dyn Service>>) -> TestPlatform {
    let bus = match backend {
        Backend::Postgres => BusChoice::SharedNats,
        Backend::Sqlite => BusChoice::InProcess,
    };
    TestPlatform::spawn(services, backend, bus).await
}

/// An association with contact people at `emails`, approved.
pub async fn member_with(members: &Members, name: &str, emails: &[&str]) -> String {
    let member = members
        .create(members_proto::Member {
            display_name: name.to_string(),
            kind: members_proto::MemberKind::Association as i32,
            contacts: emails
                .iter()
                .map(|email| members_proto::Contact {
                    full_name: format!("Contact {email}"),
                    role: members_proto::ContactRole::TransitionTechnician as i32,
                    email: email.to_string(),
                    title: String::new(),
                })
                .collect(),
            ..Default::default()
        })
        .await
        .expect("apply");
    members.approve(&member.name).await.expect("approve");
    member.name
}

pub async fn sharing_as(
    platform: &TestPlatform,
    member: &str,
) -> (SharingServiceClient<Channel>, String) {
    (
        SharingServiceClient::new(platform.channel().await),
        TestPlatform::member_token(&id_of(member)),
    )
}

/// Offers `resource` as `owner`, once the sharing service knows the owner is active.
pub async fn offer(platform: &TestPlatform, owner: &str, resource: sharing::Resource) -> String {
    let (client, token) = sharing_as(platform, owner).await;
    eventually("the sharing service to know the owner", WAIT, || {
        let (mut client, token, resource) = (client.clone(), token.clone(), resource.clone());
        async move {
            let request = sharing::CreateResourceRequest {
                resource: Some(resource),
                request_id: String::new(),
            };
            match client.create_resource(authed(request, &token)).await {
                Ok(r) => Some(r.into_inner().name),
                Err(status) if status.code() == Code::FailedPrecondition => None,
                Err(status) => panic!("offer: {status:?}"),
            }
        }
    })
    .await
}

/// Reserves two hours of `resource` tomorrow (plus `hours_later`) as `borrower`, once the
/// sharing service knows the borrower.
pub async fn reserve(
    platform: &TestPlatform,
    borrower: &str,
    resource: &str,
    hours_later: i64,
) -> String {
    let (client, token) = sharing_as(platform, borrower).await;
    let t = Utc::now() + chrono::Duration::days(1);
    let start = Utc
        .with_ymd_and_hms(t.year(), t.month(), t.day(), 8, 0, 0)
        .single()
        .expect("a time")
        + chrono::Duration::hours(hours_later);
    eventually("the sharing service to know the borrower", WAIT, || {
        let (mut client, token) = (client.clone(), token.clone());
        async move {
            let request = sharing::CreateReservationRequest {
                parent: resource.to_string(),
                reservation: Some(sharing::Reservation {
                    start_time: Some(fabrique_platform::time::timestamp(start)),
                    end_time: Some(fabrique_platform::time::timestamp(
                        start + chrono::Duration::hours(2),
                    )),
                    ..Default::default()
                }),
                request_id: String::new(),
            };
            match client.create_reservation(authed(request, &token)).await {
                Ok(r) => Some(r.into_inner().name),
                Err(status) if status.code() == Code::FailedPrecondition => None,
                Err(status) => panic!("reserve: {status:?}"),
            }
        }
    })
    .await
}

fn equipment(title: &str) -> sharing::Resource {
    sharing::Resource {
        kind: sharing::ResourceKind::Equipment as i32,
        title: title.to_string(),
        ..Default::default()
    }
}

fn material(title: &str, tonnes: f64) -> sharing::Resource {
    sharing::Resource {
        kind: sharing::ResourceKind::Material as i32,
        title: title.to_string(),
        quantity: Some(sharing::Quantity {
            amount: tonnes,
            unit: sharing::QuantityUnit::Tonne as i32,
        }),
        ..Default::default()
    }
}

/// The e-mails to `address`, in arrival order.
pub fn to(mails: &[ReceivedMail], address: &str) -> Vec<ReceivedMail> {
    mails
        .iter()
        .filter(|m| m.rcpt_tos.iter().any(|r| r == address))
        .cloned()
        .collect()
}

pub fn subjects(mails: &[ReceivedMail]) -> Vec<String> {
    mails
        .iter()
        .map(|m| m.header("Subject").unwrap_or_default())
        .collect()
}

/// The subjects in alphabetical order, for e-mails of events that happen together: the
/// sender sends due deliveries concurrently, so their arrival order is not theirs.
pub fn sorted_subjects(mails: &[ReceivedMail]) -> Vec<String> {
    let mut subjects = subjects(mails);
    subjects.sort();
    subjects
}

/// No e-mail beyond `count` arrives within a while: what the sender would have sent
/// twice has had time to go.
pub async fn no_more_than(smtp: &SmtpServer, count: usize) {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), count, "{:#?}", subjects(&mails));
}

async fn e_mails_reach_the_people_concerned_once_each(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let platform = platform(backend, services_mailing_to(&smtp, quick_retries(5))).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let owner = member_with(
        &members,
        "FabLab de Thiers",
        &["atelier@fablab.test", "Accueil@FabLab.test"],
    )
    .await;
    let borrower = member_with(&members, "Ville de Ternant", &["mairie@ternant.test"]).await;

    // The admins hear of both applications.
    let mails = smtp.wait_for(2, WAIT).await;
    assert_eq!(
        sorted_subjects(&to(&mails, ADMIN)),
        [
            "Nouvelle adhésion : FabLab de Thiers",
            "Nouvelle adhésion : Ville de Ternant"
        ]
    );

    // A request goes to each of the owner's contact people (addresses in lower case).
    let laser = offer(&platform, &owner, equipment("Découpeuse laser")).await;
    let reservation = reserve(&platform, &borrower, &laser, 0).await;
    let mails = smtp.wait_for(4, WAIT).await;
    for address in ["atelier@fablab.test", "accueil@fablab.test"] {
        let request = to(&mails, address);
        assert_eq!(
            subjects(&request),
            ["Demande de réservation : Découpeuse laser"],
            "{address}"
        );
        let text = request[0].text_body();
        assert!(
            text.contains("Ville de Ternant demande à réserver « Découpeuse laser »"),
            "{text}"
        );
        assert!(
            text.contains(&format!("{SITE}/espace/reservations")),
            "{text}"
        );
        assert!(text.contains(&format!("{SITE}/espace/courriels")), "{text}");
        assert!(
            request[0]
                .html_body()
                .contains(&format!("href=\"{SITE}/espace/reservations\""))
        );
        assert_eq!(
            request[0].header("Auto-Submitted").as_deref(),
            Some("auto-generated")
        );
    }

    // The owner confirms: the borrower hears of it.
    let (mut client, token) = sharing_as(&platform, &owner).await;
    let confirm = sharing::ConfirmReservationRequest {
        name: reservation.clone(),
        etag: String::new(),
    };
    client
        .confirm_reservation(authed(confirm, &token))
        .await
        .expect("confirm");
    let mails = smtp.wait_for(5, WAIT).await;
    assert_eq!(
        subjects(&to(&mails, "mairie@ternant.test")),
        ["Réservation confirmée"]
    );

    // The owner leaves the alliance: the confirmed booking is cancelled by the platform
    // and the borrower is told; the owner's addresses are no longer written to.
    members
        .leave(&owner, "Fermeture de l’atelier")
        .await
        .expect("leave");
    let mails = smtp.wait_for(6, WAIT).await;
    assert_eq!(
        subjects(&to(&mails, "mairie@ternant.test")),
        ["Réservation confirmée", "Réservation annulée"]
    );
    no_more_than(&smtp, 6).await;
    platform.stop().await;
}

#[tokio::test]
async fn e_mails_reach_the_people_concerned_once_each_on_postgres() {
    e_mails_reach_the_people_concerned_once_each(Backend::Postgres).await;
}

#[tokio::test]
async fn e_mails_reach_the_people_concerned_once_each_on_sqlite() {
    e_mails_reach_the_people_concerned_once_each(Backend::Sqlite).await;
}

pub async fn notify_client(platform: &TestPlatform) -> NotifyServiceClient<Channel> {
    NotifyServiceClient::new(platform.channel().await)
}

async fn settings_choose_what_each_address_receives(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let platform = platform(backend, services_mailing_to(&smtp, quick_retries(5))).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let owner = member_with(
        &members,
        "Plateforme de réemploi",
        &["stock@reemploi.test", "direction@reemploi.test"],
    )
    .await;
    let claimant = member_with(&members, "Commune de Courpière", &["voirie@courpiere.test"]).await;
    smtp.wait_for(2, WAIT).await;

    // The direction turns off what concerns the resources; a member that is not the
    // owner cannot even see that the address has settings.
    let mut notify = notify_client(&platform).await;
    let name = "notificationSettings/direction@reemploi.test";
    let owner_token = TestPlatform::member_token(&id_of(&owner));
    let update = |kinds: Vec<i32>, etag: &str| proto::UpdateNotificationSettingsRequest {
        settings: Some(proto::NotificationSettings {
            name: name.to_string(),
            disabled_kinds: kinds,
            etag: etag.to_string(),
            ..Default::default()
        }),
    };
    let stranger = TestPlatform::member_token(&id_of(&claimant));
    let get = proto::GetNotificationSettingsRequest { name: name.into() };
    let hidden = notify
        .get_notification_settings(authed(get.clone(), &stranger))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound, "{hidden:?}");
    let denied = notify
        .update_notification_settings(authed(update(vec![1], ""), &stranger))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::NotFound, "{denied:?}");
    let before = eventually("notify to know the owner's contacts", WAIT, || {
        let (mut notify, get, token) = (notify.clone(), get.clone(), owner_token.clone());
        async move {
            notify
                .get_notification_settings(authed(get, &token))
                .await
                .ok()
        }
    })
    .await
    .into_inner();
    assert!(before.disabled_kinds.is_empty() && before.etag.is_empty());
    let kind = proto::NotificationKind::AsOwner as i32;
    let set = notify
        .update_notification_settings(authed(update(vec![kind], ""), &owner_token))
        .await
        .expect("update")
        .into_inner();
    assert_eq!(set.disabled_kinds, [kind]);
    let stale = notify
        .update_notification_settings(authed(update(vec![], "\"v7\""), &owner_token))
        .await
        .unwrap_err();
    assert_eq!(crate::support::reason(&stale), "ETAG_MISMATCH", "{stale:?}");
    let bad = notify
        .update_notification_settings(authed(update(vec![42], &set.etag), &owner_token))
        .await
        .unwrap_err();
    assert_eq!(
        crate::support::violated_fields(&bad),
        ["settings.disabled_kinds[0]"]
    );

    // A claim on the owner's materials: only the stock's address is told.
    let gravel = offer(&platform, &owner, material("Grave de voirie", 12.0)).await;
    let (mut client, token) = sharing_as(&platform, &claimant).await;
    let claim = sharing::CreateClaimRequest {
        parent: gravel.clone(),
        amount: 2.5,
        accept_less: false,
        request_id: String::new(),
    };
    client
        .create_claim(authed(claim, &token))
        .await
        .expect("claim");
    let mails = smtp.wait_for(3, WAIT).await;
    let told = to(&mails, "stock@reemploi.test");
    assert_eq!(subjects(&told), ["Matériaux demandés : Grave de voirie"]);
    assert!(
        told[0].text_body().contains("Quantité : 2,5\u{a0}t"),
        "{}",
        told[0].text_body()
    );
    assert!(to(&mails, "direction@reemploi.test").is_empty());
    no_more_than(&smtp, 3).await;

    // Admins see what was written and sent.
    let list = proto::ListDeliveriesRequest {
        recipient: "stock@reemploi.test".into(),
        ..Default::default()
    };
    let admin = TestPlatform::admin_token();
    let sent = notify
        .list_deliveries(authed(list.clone(), &admin))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(sent.deliveries.len(), 1);
    assert_eq!(sent.deliveries[0].state, proto::DeliveryState::Sent as i32);
    assert_eq!(
        sent.deliveries[0].link,
        format!("{SITE}/espace/reservations")
    );
    let refused = notify
        .list_deliveries(authed(list, &owner_token))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    platform.stop().await;
}

#[tokio::test]
async fn settings_choose_what_each_address_receives_on_postgres() {
    settings_choose_what_each_address_receives(Backend::Postgres).await;
}

#[tokio::test]
async fn settings_choose_what_each_address_receives_on_sqlite() {
    settings_choose_what_each_address_receives(Backend::Sqlite).await;
}

/// The deliveries in `state`, as an admin lists them.
pub async fn deliveries(
    platform: &TestPlatform,
    state: proto::DeliveryState,
) -> Vec<proto::Delivery> {
    let request = proto::ListDeliveriesRequest {
        state: state as i32,
        page_size: 500,
        ..Default::default()
    };
    notify_client(platform)
        .await
        .list_deliveries(authed(request, &TestPlatform::admin_token()))
        .await
        .expect("list deliveries")
        .into_inner()
        .deliveries
}

async fn an_smtp_server_down_for_20_s_delays_e_mail_and_loses_none(backend: Backend) {
    let mut smtp = SmtpServer::start().await;
    let platform = platform(backend, services_mailing_to(&smtp, quick_retries(100))).await;
    smtp.stop().await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let owner = member_with(&members, "Tiers-lieu de Billom", &["salle@billom.test"]).await;
    let borrower = member_with(&members, "Ville d’Ambert", &["transition@ambert.test"]).await;
    let room = offer(&platform, &owner, equipment("Salle de réunion")).await;
    reserve(&platform, &borrower, &room, 0).await;
    reserve(&platform, &borrower, &room, 4).await;

    // Two applications for the admins, two requests for the owner: all waiting, each
    // tried and failed more than once while the server is down.
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(smtp.messages().is_empty());
    let waiting = deliveries(&platform, proto::DeliveryState::Pending).await;
    assert_eq!(waiting.len(), 4, "{waiting:#?}");
    assert!(
        waiting
            .iter()
            .all(|d| d.attempts >= 2 && !d.last_error.is_empty()),
        "{waiting:#?}"
    );

    smtp.restart().await;
    let mails = smtp.wait_for(4, WAIT).await;
    assert_eq!(to(&mails, ADMIN).len(), 2);
    assert_eq!(to(&mails, "salle@billom.test").len(), 2);
    no_more_than(&smtp, 4).await;
    assert_eq!(
        deliveries(&platform, proto::DeliveryState::Sent)
            .await
            .len(),
        4
    );
    platform.stop().await;
}

#[tokio::test]
async fn an_smtp_server_down_for_20_s_delays_e_mail_and_loses_none_on_postgres() {
    an_smtp_server_down_for_20_s_delays_e_mail_and_loses_none(Backend::Postgres).await;
}

#[tokio::test]
async fn an_smtp_server_down_for_20_s_delays_e_mail_and_loses_none_on_sqlite() {
    an_smtp_server_down_for_20_s_delays_e_mail_and_loses_none(Backend::Sqlite).await;
}

async fn an_e_mail_given_up_is_dead_lettered_and_sent_when_replayed(backend: Backend) {
    use fabrique_platform::bus::{ConsumerSpec, Headers, MSG_ID_HEADER, OutgoingMessage};
    use fabrique_platform::consumer::{DLQ_CONSUMER, DLQ_SUBJECT};
    use prost::Message as _;

    let mut smtp = SmtpServer::start().await;
    let platform = platform(backend, services_mailing_to(&smtp, quick_retries(2))).await;
    smtp.stop().await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    member_with(
        &members,
        "Recyclerie du Livradois",
        &["contact@recyclerie.test"],
    )
    .await;
    let failed = eventually("the e-mail to be given up", WAIT, || {
        let platform = &platform;
        async move {
            let failed = deliveries(platform, proto::DeliveryState::Failed).await;
            (!failed.is_empty()).then_some(failed)
        }
    })
    .await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 2);
    assert_eq!(failed[0].recipient, ADMIN);

    // Its dead letter names the delivery, not the address.
    let mut letters = platform
        .bus
        .subscribe(&ConsumerSpec {
            stream: platform.stream("dlq"),
            durable_name: "test-notify-letters".into(),
            filter_subjects: vec![format!("{}fabrique.dlq.notify", platform.prefix)],
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    let letter = tokio::time::timeout(WAIT, letters.next())
        .await
        .expect("a dead letter in time")
        .expect("open")
        .expect("ok");
    let given_up = proto::DeliveryGivenUp::decode(letter.payload.clone()).expect("payload");
    assert_eq!(given_up.delivery, failed[0].name);
    assert_eq!(letter.headers.get(DLQ_CONSUMER), Some("notify-sender"));
    let subject = letter
        .headers
        .get(DLQ_SUBJECT)
        .expect("subject")
        .to_string();
    assert_eq!(
        subject,
        format!("{}fabrique.notify.delivery.given_up", platform.prefix)
    );
    assert!(!String::from_utf8_lossy(&letter.payload).contains(ADMIN));
    assert!(
        letter
            .headers
            .iter()
            .all(|(_, value)| !value.contains(ADMIN))
    );

    // Replayed as `fabrique dlq replay` does, once the server is back: sent.
    smtp.restart().await;
    let mut headers = Headers::new();
    for (name, value) in letter.headers.iter() {
        if !name.starts_with("fabrique-dlq-") && name != MSG_ID_HEADER {
            headers.insert(name.to_string(), value);
        }
    }
    headers.insert(MSG_ID_HEADER, format!("replay-{}", letter.stream_sequence));
    let replay = OutgoingMessage {
        subject,
        headers,
        payload: letter.payload.clone(),
    };
    platform
        .bus
        .publish(replay)
        .await
        .expect("publish")
        .await
        .expect("stored");
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(
        subjects(&to(&mails, ADMIN)),
        ["Nouvelle adhésion : Recyclerie du Livradois"]
    );
    eventually("the delivery to be sent", WAIT, || {
        let platform = &platform;
        async move {
            let sent = deliveries(platform, proto::DeliveryState::Sent).await;
            (sent.len() == 1).then_some(())
        }
    })
    .await;
    no_more_than(&smtp, 1).await;
    let again = proto::RetryDeliveryRequest {
        name: failed[0].name.clone(),
    };
    let sent = notify_client(&platform)
        .await
        .retry_delivery(authed(again, &TestPlatform::admin_token()))
        .await
        .expect_err("a sent e-mail is not retried");
    assert_eq!(crate::support::reason(&sent), "DELIVERY_NOT_FAILED");
    platform.stop().await;
}

#[tokio::test]
async fn an_e_mail_given_up_is_dead_lettered_and_sent_when_replayed_on_postgres() {
    an_e_mail_given_up_is_dead_lettered_and_sent_when_replayed(Backend::Postgres).await;
}

#[tokio::test]
async fn an_e_mail_given_up_is_dead_lettered_and_sent_when_replayed_on_sqlite() {
    an_e_mail_given_up_is_dead_lettered_and_sent_when_replayed(Backend::Sqlite).await;
}

/// The members stored before the notify service existed: their contacts are published
/// once by a migration, as a database that had not run it yet runs it.
async fn members_stored_before_notify_have_their_contacts_published(backend: Backend) {
    use fabrique_platform::config::DatabaseSettings;
    use sea_orm::{ConnectionTrait, Statement};

    let members_only: Vec<Arc<dyn Service>> = vec![Arc::new(fabrique_members::MembersService)];
    let platform = platform(backend, members_only).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let member = member_with(&members, "Atelier vélo de Riom", &["velo@riom.test"]).await;
    let db = fabrique_platform::db::connect(
        &DatabaseSettings {
            url: platform.database_url.clone(),
            // The migration's advisory lock holds one while it runs on another.
            max_connections: 2,
        },
        "members",
    )
    .await
    .expect("the members database");
    let published = |db: sea_orm::DatabaseConnection| {
        let member = member.clone();
        async move {
            let sql = format!(
                "SELECT COUNT(*) FROM fabrique_changes WHERE resource = '{member}' \
                 AND subject LIKE 'fabrique.private.members.contacts.%'"
            );
            db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("count")
                .expect("a row")
                .try_get_by_index::<i64>(0)
                .expect("a number")
        }
    };
    assert_eq!(published(db.clone()).await, 1, "published when it applied");
    db.execute_unprepared(
        "DELETE FROM seaql_migrations WHERE version = 'm20261207_000103_publish_contacts'",
    )
    .await
    .expect("forget the migration");
    fabrique_platform::db::migrate::<fabrique_members::store::migrations::Migrator>(&db, "members")
        .await
        .expect("migrate");
    assert_eq!(
        published(db.clone()).await,
        2,
        "published again by the migration"
    );
    platform.stop().await;
}

#[tokio::test]
async fn members_stored_before_notify_have_their_contacts_published_on_postgres() {
    members_stored_before_notify_have_their_contacts_published(Backend::Postgres).await;
}

#[tokio::test]
async fn members_stored_before_notify_have_their_contacts_published_on_sqlite() {
    members_stored_before_notify_have_their_contacts_published(Backend::Sqlite).await;
}

/// An SMTP server that asks for a login gets the one in `FABRIQUE_SMTP_URL`.
#[tokio::test]
async fn e_mails_leave_through_a_server_that_wants_a_login() {
    let smtp = SmtpServer::start_with_auth("fabrique", "mot de passe: secret").await;
    let platform = platform(
        Backend::Sqlite,
        services_mailing_to(&smtp, quick_retries(5)),
    )
    .await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    member_with(&members, "Ressourcerie de Vic-le-Comte", &[]).await;
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(
        subjects(&to(&mails, ADMIN)),
        ["Nouvelle adhésion : Ressourcerie de Vic-le-Comte"]
    );
    platform.stop().await;
}

/// The event id decides: however many handlers write one event's e-mail to one address
/// at once (redeliveries, replicas, replays), one delivery is stored.
async fn one_event_writes_one_e_mail_per_address(backend: Backend) {
    use fabrique_notify::domain::{Delivery, DeliveryState, Kind, parse_address};
    use fabrique_platform::config::DatabaseSettings;

    let notify_only: Vec<Arc<dyn Service>> =
        vec![Arc::new(fabrique_notify::NotifyServiceModule::default())];
    let platform = platform(backend, notify_only).await;
    let db = fabrique_platform::db::connect(
        &DatabaseSettings {
            url: platform.database_url.clone(),
            max_connections: 8,
        },
        "notify",
    )
    .await
    .expect("the notify database");
    let event = uuid::Uuid::now_v7();
    let delivery = |recipient: &str| Delivery {
        id: uuid::Uuid::now_v7(),
        event_id: event,
        kind: Kind::AsOwner,
        recipient: parse_address(recipient).unwrap(),
        subject: "Demande de réservation".into(),
        text: "…".into(),
        html: "…".into(),
        link: format!("{SITE}/espace/reservations"),
        state: DeliveryState::Pending,
        attempts: 0,
        last_error: None,
        created_at: chrono::Utc::now(),
        sent_at: None,
        next_attempt_at: chrono::Utc::now(),
    };
    let writes = (0..8).map(|_| {
        let (db, delivery) = (db.clone(), delivery("stock@reemploi.test"));
        tokio::spawn(async move { fabrique_notify::store::insert_delivery(&db, &delivery).await })
    });
    let mut stored = 0;
    for write in writes {
        stored += usize::from(write.await.expect("task").expect("insert"));
    }
    assert_eq!(stored, 1);
    let other = delivery("direction@reemploi.test");
    let other = fabrique_notify::store::insert_delivery(&db, &other).await;
    assert!(
        other.expect("insert"),
        "another address of the event has its own"
    );
    platform.stop().await;
}

#[tokio::test]
async fn one_event_writes_one_e_mail_per_address_on_postgres() {
    one_event_writes_one_e_mail_per_address(Backend::Postgres).await;
}

#[tokio::test]
async fn one_event_writes_one_e_mail_per_address_on_sqlite() {
    one_event_writes_one_e_mail_per_address(Backend::Sqlite).await;
}

/// Applicants hear of decisions and payments, with the programme and the amount;
/// operators hear that their place needs review.
async fn applicants_and_operators_hear_of_what_concerns_them(backend: Backend) {
    use fabrique_api::projects::{self as pp, projects_service_client::ProjectsServiceClient};
    use fabrique_api::registry::{self as rp, registry_service_client::RegistryServiceClient};

    let smtp = SmtpServer::start().await;
    let platform = platform(backend, services_mailing_to(&smtp, quick_retries(5))).await;
    let admin = TestPlatform::admin_token();
    let members = Members::connect(&platform, admin.clone()).await;
    let funder = member_with(&members, "Département du Puy-de-Dôme", &[]).await;
    let commune = member_with(
        &members,
        "Commune de Saint-Rémy",
        &["mairie@saint-remy.test"],
    )
    .await;
    let operator = member_with(&members, "Tiers-lieu La Dorélie", &["lieu@dorelie.test"]).await;
    smtp.wait_for(3, WAIT).await;

    let projects = ProjectsServiceClient::new(platform.channel().await);
    let programme = eventually("the projects service to know the funder", WAIT, || {
        let mut projects = projects.clone();
        let request = pp::CreateProgrammeRequest {
            programme: Some(pp::Programme {
                title: "Solaire Dôme".into(),
                funder: funder.clone(),
                envelope_cents: 50_000_000,
                aid_per_unit_cents: 500_000,
                unit_label: "installation".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let admin = admin.clone();
        async move {
            projects
                .create_programme(authed(request, &admin))
                .await
                .ok()
        }
    })
    .await
    .into_inner()
    .name;
    let commune_token = TestPlatform::member_token(&id_of(&commune));
    let application = eventually("the projects service to know the commune", WAIT, || {
        let mut projects = projects.clone();
        let request = pp::CreateApplicationRequest {
            parent: programme.clone(),
            application: Some(pp::Application {
                units: 1,
                purpose: "Toiture de l’école".into(),
                ..Default::default()
            }),
            request_id: String::new(),
            validate_only: false,
        };
        let token = commune_token.clone();
        async move {
            projects
                .create_application(authed(request, &token))
                .await
                .ok()
        }
    })
    .await
    .into_inner()
    .name;
    let mut projects = projects.clone();
    // Sent back to complete, completed, then approved and paid.
    let ask = pp::RequestCompletionRequest {
        name: application.clone(),
        message: "Joignez le devis.".into(),
    };
    projects
        .request_completion(authed(ask, &admin))
        .await
        .expect("to complete");
    let answer = pp::CompleteApplicationRequest {
        name: application.clone(),
        answer: "Devis joint.".into(),
        purpose: String::new(),
    };
    projects
        .complete_application(authed(answer, &commune_token))
        .await
        .expect("completed");
    let approve = pp::ApproveApplicationRequest {
        name: application.clone(),
    };
    projects
        .approve_application(authed(approve, &admin))
        .await
        .expect("approve");
    let pay = pp::PayApplicationRequest { name: application };
    projects
        .pay_application(authed(pay, &admin))
        .await
        .expect("pay");
    let mails = smtp.wait_for(6, WAIT).await;
    let told = to(&mails, "mairie@saint-remy.test");
    assert_eq!(
        sorted_subjects(&told),
        [
            "Aide versée",
            "Demande d’aide acceptée",
            "Demande d’aide à compléter"
        ]
    );
    let asked = told
        .iter()
        .find(|m| m.header("Subject").as_deref() == Some("Demande d’aide à compléter"))
        .expect("the request to complete");
    assert!(
        !asked.text_body().contains("Joignez le devis"),
        "what is asked stays on the site"
    );
    let accepted = told
        .iter()
        .find(|m| m.header("Subject").as_deref() == Some("Demande d’aide acceptée"))
        .expect("the acceptance");
    let text = accepted.text_body();
    assert!(text.contains("au programme « Solaire Dôme »"), "{text}");
    assert!(text.contains("Aide : 5\u{202f}000,00\u{a0}€"), "{text}");
    assert!(text.contains(&format!("{SITE}/espace/demandes")), "{text}");

    // The operator's place: listed, then to review once its operator is suspended.
    let mut registry = RegistryServiceClient::new(platform.channel().await);
    let place = eventually("the registry to know the operator", WAIT, || {
        let mut registry = registry.clone();
        let request = rp::CreatePlaceRequest {
            place: Some(rp::Place {
                display_name: "La Dorélie".into(),
                kinds: vec![rp::PlaceKind::TiersLieu as i32],
                operator: operator.clone(),
                location: Some(rp::Location {
                    latitude: 45.6,
                    longitude: 3.5,
                }),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let admin = admin.clone();
        async move { registry.create_place(authed(request, &admin)).await.ok() }
    })
    .await
    .into_inner()
    .name;
    let approve = rp::ApprovePlaceRequest {
        name: place.clone(),
        etag: String::new(),
    };
    registry
        .approve_place(authed(approve, &admin))
        .await
        .expect("list");
    members
        .suspend(&operator, "Cotisation impayée")
        .await
        .expect("suspend");
    let mails = smtp.wait_for(7, WAIT).await;
    let told = to(&mails, "lieu@dorelie.test");
    assert_eq!(subjects(&told), ["Lieu à revoir : La Dorélie"]);
    let id = place.trim_start_matches("places/");
    assert!(told[0].text_body().contains(&format!("{SITE}/lieux/{id}")));
    no_more_than(&smtp, 7).await;
    platform.stop().await;
}

#[tokio::test]
async fn applicants_and_operators_hear_of_what_concerns_them_on_postgres() {
    applicants_and_operators_hear_of_what_concerns_them(Backend::Postgres).await;
}

#[tokio::test]
async fn applicants_and_operators_hear_of_what_concerns_them_on_sqlite() {
    applicants_and_operators_hear_of_what_concerns_them(Backend::Sqlite).await;
}

/// Off the embedded default, without an SMTP server: e-mails are written and kept
/// pending, none sent or tried, until the service runs with one (a pod's file system is
/// no mailbox). On the embedded default, or given a folder, they go to `.eml` files.
#[tokio::test]
async fn without_an_smtp_server_e_mails_wait_off_the_embedded_default() {
    let data = std::path::Path::new("/nonexistent-data-dir");
    let args = |mail_dir: Option<&str>| fabrique_notify::NotifyArgs {
        smtp_url: None,
        notify_mail_dir: mail_dir.map(Into::into),
        notify_from: "Fabrique <ne-pas-repondre@fabrique.test>".into(),
        notify_site_url: None,
        notify_admins: vec![ADMIN.into()],
        notify_max_attempts: 10,
        notify_first_retry_seconds: 0.2,
        notify_longest_retry_seconds: 1.0,
    };
    let transport = |mail_dir, embedded| {
        args(mail_dir)
            .config((data, embedded), None, &[])
            .expect("valid")
            .transport
    };
    assert!(matches!(transport(None, false), Transport::Hold));
    assert!(matches!(transport(None, true), Transport::Files(f) if f == data.join("mail")));
    assert!(
        matches!(transport(Some("/srv/mail"), false), Transport::Files(f) if f.ends_with("srv/mail"))
    );

    let config = args(None)
        .config((data, false), Some(SITE), &[])
        .expect("valid");
    let services = fabrique::services::with_notify(fabrique::services::all(), config);
    let platform = platform(Backend::Postgres, services).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    member_with(&members, "Ressourcerie de Vic-le-Comte", &[]).await;
    let waiting = eventually("the admins' e-mail to be written", WAIT, || {
        let platform = &platform;
        async move {
            let found = deliveries(platform, proto::DeliveryState::Pending).await;
            (!found.is_empty()).then_some(found)
        }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let still = deliveries(&platform, proto::DeliveryState::Pending).await;
    assert_eq!(still.len(), waiting.len());
    assert!(
        still
            .iter()
            .all(|d| d.attempts == 0 && d.recipient == ADMIN),
        "{still:?}"
    );
    assert!(
        deliveries(&platform, proto::DeliveryState::Sent)
            .await
            .is_empty()
    );
    assert!(
        deliveries(&platform, proto::DeliveryState::Failed)
            .await
            .is_empty()
    );
    platform.stop().await;
}
