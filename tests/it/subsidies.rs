//! Subsidies as a Département runs them, over gRPC on both backends: one award per legal
//! entity (its SIREN, over re-joins and concurrent approvals), envelope changes voted by
//! deliberation, awards cancelled with their money back, and payments by advance and
//! balance — each with its event.

use std::time::Duration;

use fabrique_api::projects as proto;
use fabrique_platform::bus::ConsumerSpec;
use fabrique_testkit::{Backend, TestPlatform, authed};
use tonic::{Code, Status};

use crate::projects::{
    Projects, active_members, funders, open_data_communes, platform, projects_database, scalar,
    solaire_dome,
};
use crate::support::{Members, id_of, reason, refusal_fact, violated_fields};

impl Projects {
    pub(crate) async fn change_envelope(
        &self,
        programme: &str,
        envelope_cents: i64,
        reference: &str,
    ) -> Result<proto::Programme, Status> {
        let request = proto::ChangeEnvelopeRequest {
            name: programme.to_string(),
            envelope_cents,
            deliberation_reference: reference.to_string(),
            deliberation_time: Some(day_before(1)),
        };
        let mut client = self.client.clone();
        client
            .change_envelope(authed(request, &self.token))
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn cancel(&self, application: &str) -> Result<proto::Application, Status> {
        let request = proto::CancelAwardRequest {
            name: application.to_string(),
            reason: "la commune renonce : toiture à refaire d'abord".into(),
        };
        let mut client = self.client.clone();
        client
            .cancel_award(authed(request, &self.token))
            .await
            .map(tonic::Response::into_inner)
    }

    pub(crate) async fn pay(
        &self,
        application: &str,
        kind: proto::PaymentKind,
        amount_cents: i64,
    ) -> Result<proto::Application, Status> {
        self.pay_part(application, kind, amount_cents, "").await
    }

    /// A payment of `co_funder`'s part (`""`: the funder's).
    pub(crate) async fn pay_part(
        &self,
        application: &str,
        kind: proto::PaymentKind,
        amount_cents: i64,
        co_funder: &str,
    ) -> Result<proto::Application, Status> {
        let request = proto::RecordPaymentRequest {
            name: application.to_string(),
            payment: Some(proto::Payment {
                kind: kind as i32,
                amount_cents,
                pay_time: Some(day_before(0)),
                record_time: None,
                co_funder: co_funder.to_string(),
            }),
        };
        let mut client = self.client.clone();
        client
            .record_payment(authed(request, &self.token))
            .await
            .map(tonic::Response::into_inner)
    }
}

/// Midnight UTC `days` days ago.
fn day_before(days: i64) -> prost_types::Timestamp {
    let day = chrono::Utc::now().date_naive() - chrono::Duration::days(days);
    let at = day.and_time(chrono::NaiveTime::MIN).and_utc();
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

pub(crate) fn refused_for(status: &Status, code: &str) {
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(reason(status), code, "{status:?}");
}

/// The subjects published on the projects stream under `fabrique.projects.{what}.*`,
/// until `count` have come.
pub(crate) async fn subjects(platform: &TestPlatform, what: &str, count: usize) -> Vec<String> {
    let mut events = platform
        .bus
        .subscribe(&ConsumerSpec {
            stream: platform.stream("projects"),
            durable_name: format!("test-{}", uuid::Uuid::new_v4().simple()),
            filter_subjects: vec![format!("{}fabrique.projects.{what}.>", platform.prefix)],
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    let mut seen = Vec::new();
    while seen.len() < count {
        let delivery = tokio::time::timeout(Duration::from_secs(20), events.next())
            .await
            .unwrap_or_else(|_| panic!("{count} {what} events in time, saw {seen:?}"))
            .expect("open")
            .expect("ok");
        let subject = delivery.subject.trim_start_matches(&platform.prefix);
        seen.push(subject.trim_start_matches("fabrique.projects.").to_string());
        delivery.acker.ack().await.expect("ack");
    }
    seen
}

/// A commune awarded once cannot be awarded again by joining again under a new member
/// record: the limit is its SIREN's. And two applications of one commune approved at
/// once give one award (the database's count, not the check before it).
async fn one_award_per_legal_entity(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (departement, region) = funders(&platform, &members).await;
    let funder =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let programme = funder.programme(solaire_dome(&region)).await.expect("open");
    let communes = open_data_communes(2);
    let (thiers, siren) = (communes[0].clone(), communes[0].siren.clone());
    let first = active_members(&platform, &members, vec![thiers.clone()])
        .await
        .remove(0);
    let client = Projects::connect(&platform, TestPlatform::member_token(&id_of(&first))).await;
    let awarded = client
        .apply(&programme.name, "Centrale 1")
        .await
        .expect("apply");
    funder.approve(&awarded.name).await.expect("approve");

    members
        .leave(&first, "fusion de communes")
        .await
        .expect("leave");
    let again = active_members(&platform, &members, vec![thiers])
        .await
        .remove(0);
    assert_ne!(again, first, "a new member record");
    let client = Projects::connect(&platform, TestPlatform::member_token(&id_of(&again))).await;
    let refused = client
        .apply(&programme.name, "Centrale 2")
        .await
        .unwrap_err();
    refused_for(&refused, "AWARD_LIMIT_REACHED");
    assert_eq!(
        refusal_fact(&refused, "legal_entity"),
        format!("siren:{siren}")
    );

    // Two applications of another commune, both submitted before any award, approved
    // by two agents at once: one award, the other rejected with the limit as reason.
    let other = active_members(&platform, &members, vec![communes[1].clone()])
        .await
        .remove(0);
    let client = Projects::connect(&platform, TestPlatform::member_token(&id_of(&other))).await;
    let a = client.apply(&programme.name, "École").await.expect("apply");
    let b = client
        .apply(&programme.name, "Mairie")
        .await
        .expect("apply");
    let (one, two) = tokio::join!(funder.approve(&a.name), funder.approve(&b.name));
    let refusals: Vec<Status> = [one, two].into_iter().filter_map(Result::err).collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    refused_for(&refusals[0], "AWARD_LIMIT_REACHED");
    let programme = funder.get_programme(&programme.name).await.expect("get");
    assert_eq!(
        (programme.award_count, programme.committed_cents),
        (2, 1_000_000)
    );
}

/// Two member records of one SIREN known to the projects service at once (the members
/// service allows one current record per SIREN; this service holds the rule without
/// relying on it): their applications approved at the same instant give one award.
async fn two_records_of_one_siren_race_for_one_award(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (departement, region) = funders(&platform, &members).await;
    let funder =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let programme = funder.programme(solaire_dome(&region)).await.expect("open");
    let commune = open_data_communes(1).remove(0);
    let first = active_members(&platform, &members, vec![commune.clone()])
        .await
        .remove(0);
    let db = projects_database(&platform).await;
    let known =
        fabrique_replicas::members::get(&db, uuid::Uuid::parse_str(&id_of(&first)).unwrap())
            .await
            .expect("read")
            .expect("known");
    let twin_id = uuid::Uuid::now_v7();
    let twin = fabrique_replicas::members::ReplicaMember {
        id: twin_id,
        ..known.clone()
    };
    assert!(
        fabrique_replicas::members::upsert(&db, &twin)
            .await
            .expect("stored")
    );

    let mut submitted = Vec::new();
    for member in [id_of(&first), twin_id.to_string()] {
        let client = Projects::connect(&platform, TestPlatform::member_token(&member)).await;
        submitted.push(
            client
                .apply(&programme.name, "Centrale")
                .await
                .expect("apply"),
        );
    }
    let second_funder = funder.clone();
    let (one, two) = tokio::join!(
        funder.approve(&submitted[0].name),
        second_funder.approve(&submitted[1].name)
    );
    let refusals: Vec<Status> = [one, two].into_iter().filter_map(Result::err).collect();
    assert_eq!(refusals.len(), 1, "one of them refused: {refusals:?}");
    refused_for(&refusals[0], "AWARD_LIMIT_REACHED");
    let counted = scalar(
        &db,
        "SELECT CAST(SUM(awards) AS BIGINT) FROM legal_entity_awards",
    )
    .await;
    assert_eq!(counted, 1);
}

/// Over 60 lines: one programme's budget life told in order — a top-up, a reduction
/// refused below what is committed, an award cancelled and its money reused, an advance
/// and a balance below the award — each checked against the programme's amounts.
async fn a_programme_s_budget_lives_by_deliberations_and_payments(backend: Backend) {
    use proto::PaymentKind::{Advance, Balance};
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (departement, region) = funders(&platform, &members).await;
    let funder =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let programme = funder
        .programme(proto::Programme {
            envelope_cents: 1_000_000,
            ..solaire_dome(&region)
        })
        .await
        .expect("open");
    let communes = active_members(&platform, &members, open_data_communes(3)).await;
    let clients: Vec<Projects> = futures::future::join_all(
        communes
            .iter()
            .map(|c| Projects::connect(&platform, TestPlatform::member_token(&id_of(c)))),
    )
    .await;
    let mut awards = Vec::new();
    for client in &clients[..2] {
        let a = client
            .apply(&programme.name, "Centrale de 9 kWc")
            .await
            .expect("apply");
        awards.push(funder.approve(&a.name).await.expect("approve"));
    }
    let third = clients[2]
        .apply(&programme.name, "Centrale")
        .await
        .expect("apply");

    // The envelope is spent; the Département's budget decision adds 5,000 €, and a
    // reduction below what is committed is refused, as is a change by the applicant.
    let topped = funder
        .change_envelope(&programme.name, 1_500_000, "DM2-2026-045")
        .await
        .expect("top-up");
    assert_eq!(
        (topped.envelope_cents, topped.remaining_cents),
        (1_500_000, 500_000)
    );
    assert_eq!(topped.envelope_changes.len(), 1);
    assert_eq!(topped.envelope_changes[0].previous_cents, 1_000_000);
    assert_eq!(
        topped.envelope_changes[0].deliberation_reference,
        "DM2-2026-045"
    );
    let refused = funder
        .change_envelope(&programme.name, 999_999, "DM3-2026-002")
        .await
        .unwrap_err();
    refused_for(&refused, "ENVELOPE_BELOW_COMMITTED");
    assert_eq!(refusal_fact(&refused, "committed_cents"), "1000000");
    let denied = clients[0]
        .change_envelope(&programme.name, 2_000_000, "x")
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let blank = funder
        .change_envelope(&programme.name, 2_000_000, " ")
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&blank), ["deliberation_reference"]);

    // The first commune gives up: its 5,000 € return, it may apply again.
    let cancelled = funder.cancel(&awards[0].name).await.expect("cancel");
    assert_eq!(cancelled.state, proto::ApplicationState::Cancelled as i32);
    let after = funder.get_programme(&programme.name).await.expect("get");
    assert_eq!((after.committed_cents, after.award_count), (500_000, 1));
    refused_for(
        &funder.cancel(&awards[0].name).await.unwrap_err(),
        "APPLICATION_NOT_APPROVED",
    );
    funder
        .approve(&third.name)
        .await
        .expect("the freed money goes to the third");
    let again = clients[0]
        .apply(&programme.name, "Centrale, plus tard")
        .await
        .expect("again");
    funder.approve(&again.name).await.expect("approved again");

    // The second award: an advance of 1,500 €, then a balance of 3,000 € as the work
    // cost less; 500 € return to the envelope. Nothing is paid beyond the award.
    let name = &awards[1].name;
    refused_for(
        &funder.pay(name, Advance, 500_000).await.unwrap_err(),
        "PAYMENT_EXCEEDS_AWARD",
    );
    let advanced = funder.pay(name, Advance, 150_000).await.expect("advance");
    assert_eq!(
        (advanced.state, advanced.paid_cents),
        (proto::ApplicationState::Approved as i32, 150_000)
    );
    refused_for(
        &funder.cancel(name).await.unwrap_err(),
        "AWARD_HAS_PAYMENTS",
    );
    let over = funder.pay(name, Balance, 350_001).await.unwrap_err();
    refused_for(&over, "PAYMENT_EXCEEDS_AWARD");
    assert_eq!(refusal_fact(&over, "unpaid_cents"), "350000");
    let paid = funder.pay(name, Balance, 300_000).await.expect("balance");
    assert_eq!(
        (paid.state, paid.paid_cents),
        (proto::ApplicationState::Paid as i32, 450_000)
    );
    assert_eq!(paid.payments.len(), 2);
    let end = funder.get_programme(&programme.name).await.expect("get");
    assert_eq!(
        (end.committed_cents, end.paid_cents, end.remaining_cents),
        (1_450_000, 450_000, 50_000)
    );

    let mut seen = subjects(&platform, "application", 11).await;
    seen.sort();
    let expected = [
        "advance_paid",
        "approved",
        "approved",
        "approved",
        "approved",
        "cancelled",
        "paid",
        "submitted",
        "submitted",
        "submitted",
        "submitted",
    ];
    assert_eq!(seen, expected.map(|s| format!("application.{s}")));
    let programme_events = subjects(&platform, "programme", 2).await;
    assert_eq!(
        programme_events,
        ["programme.opened", "programme.envelope_changed"]
    );
}

/// Concurrent advances on one award and concurrent cancel-and-approve over an envelope
/// that holds one award: whatever the interleaving, nothing is paid twice and the
/// envelope holds exactly the awards standing.
async fn payments_and_cancellations_race_without_breaking_the_envelope(backend: Backend) {
    use proto::PaymentKind::Advance;
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (departement, region) = funders(&platform, &members).await;
    let funder =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let programme = funder
        .programme(proto::Programme {
            envelope_cents: 500_000,
            ..solaire_dome(&region)
        })
        .await
        .expect("open");
    let communes = active_members(&platform, &members, open_data_communes(2)).await;
    let mut submitted = Vec::new();
    for commune in &communes {
        let client =
            Projects::connect(&platform, TestPlatform::member_token(&id_of(commune))).await;
        submitted.push(
            client
                .apply(&programme.name, "Centrale")
                .await
                .expect("apply"),
        );
    }
    funder.approve(&submitted[0].name).await.expect("approve");
    let (one, two) = tokio::join!(
        funder.pay(&submitted[0].name, Advance, 300_000),
        funder.pay(&submitted[0].name, Advance, 300_000)
    );
    assert_eq!(
        [&one, &two].iter().filter(|r| r.is_ok()).count(),
        1,
        "{one:?} {two:?}"
    );
    assert_eq!(
        funder
            .application(&submitted[0].name)
            .await
            .expect("get")
            .paid_cents,
        300_000
    );

    // A second programme: cancelling the one award while approving another.
    let programme = funder
        .programme(proto::Programme {
            title: "Solaire Dôme, seconde vague".into(),
            envelope_cents: 500_000,
            ..solaire_dome(&region)
        })
        .await
        .expect("open");
    let mut submitted = Vec::new();
    for commune in &communes {
        let client =
            Projects::connect(&platform, TestPlatform::member_token(&id_of(commune))).await;
        submitted.push(
            client
                .apply(&programme.name, "Centrale")
                .await
                .expect("apply"),
        );
    }
    funder.approve(&submitted[0].name).await.expect("approve");
    let (cancelled, approved) = tokio::join!(
        funder.cancel(&submitted[0].name),
        funder.approve(&submitted[1].name)
    );
    cancelled.expect("the cancellation needs nothing");
    let end = funder.get_programme(&programme.name).await.expect("get");
    let standing = i64::from(approved.is_ok()) * 500_000;
    assert_eq!(end.committed_cents, standing, "{approved:?}");
    assert!(end.committed_cents <= end.envelope_cents);
}

/// What the awards finance, reported by the programme: installed kWc and the yearly
/// production its yield gives; an installation badly given is refused by field.
async fn a_programme_reports_what_its_awards_install(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (departement, region) = funders(&platform, &members).await;
    let funder =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let programme = funder
        .programme(proto::Programme {
            yield_kwh_per_kwp: 1_200,
            ..solaire_dome(&region)
        })
        .await
        .expect("open");
    let communes = active_members(&platform, &members, open_data_communes(3)).await;
    let apply = |commune: &String, peak_kw: f64| {
        let commune = commune.clone();
        let (platform, programme) = (&platform, programme.name.clone());
        async move {
            let client =
                Projects::connect(platform, TestPlatform::member_token(&id_of(&commune))).await;
            let request = proto::CreateApplicationRequest {
                parent: programme,
                application: Some(proto::Application {
                    units: 1,
                    purpose: "Centrale sur l'école".into(),
                    installation: Some(proto::Installation {
                        peak_kw,
                        area_m2: 60.0,
                        building: "École Jules-Ferry".into(),
                    }),
                    ..Default::default()
                }),
                request_id: String::new(),
                validate_only: false,
            };
            let mut client = client.client.clone();
            let token = TestPlatform::member_token(&id_of(&commune));
            client
                .create_application(authed(request, &token))
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let awarded = apply(&communes[0], 9.0).await.expect("apply");
    assert_eq!(
        awarded
            .installation
            .as_ref()
            .map(|i| (i.peak_kw, i.area_m2)),
        Some((9.0, 60.0))
    );
    funder.approve(&awarded.name).await.expect("approve");
    let waiting = apply(&communes[1], 8.925).await.expect("apply");
    assert_eq!(waiting.installation.map(|i| i.peak_kw), Some(8.925));
    let bad = apply(&communes[2], 9.0001).await.unwrap_err();
    assert_eq!(violated_fields(&bad), ["application.installation.peak_kw"]);
    let report = funder.get_programme(&programme.name).await.expect("read");
    // Only awards count: 9 kWc × 1,200 kWh/kWc.
    assert_eq!(
        (report.installed_kw, report.estimated_yearly_kwh),
        (9.0, 10_800)
    );
}

macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {
        mod postgres {
            $(#[tokio::test] async fn $test() { super::$test(fabrique_testkit::Backend::Postgres).await; })+
        }
        mod sqlite {
            $(#[tokio::test] async fn $test() { super::$test(fabrique_testkit::Backend::Sqlite).await; })+
        }
    };
}

on_both_backends!(
    one_award_per_legal_entity,
    two_records_of_one_siren_race_for_one_award,
    a_programme_s_budget_lives_by_deliberations_and_payments,
    payments_and_cancellations_race_without_breaking_the_envelope,
    a_programme_reports_what_its_awards_install,
);
