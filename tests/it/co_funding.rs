//! A co-funder's part limited to a territory and tracked like the funder's, over gRPC on
//! both backends: the Région's 25 % of Solaire Dôme paid only to communes of the listed
//! EPCIs or INSEE codes (the member register's, carried by member events), its
//! committed and paid totals on the programme, its own advances and balance on the
//! awards it co-funds — never more than its part, once under concurrency — and who may
//! record them.

use fabrique_api::projects as proto;
use fabrique_testkit::{Backend, TestPlatform};
use tonic::{Code, Status};

use crate::projects::{Projects, active_members, funders, open_data_communes, platform};
use crate::subsidies::{refused_for, subjects};
use crate::support::{Members, id_of, violated_fields};

/// The Région's part of one 5,000 € award: 25 %.
const PART: i64 = 125_000;

fn co_funder_totals(programme: &proto::Programme) -> (i64, i64) {
    let co = &programme.co_funders[0];
    (co.committed_cents, co.paid_cents)
}

/// Over 60 lines: one story, from the programme's territory to the totals its
/// co-funder's payments leave, each step asserted where it happens.
async fn a_co_funder_pays_its_part_within_its_territory(backend: Backend) {
    use proto::PaymentKind::{Advance, Balance};
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (departement, region) = funders(&platform, &members).await;
    let funder =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let co_funder = Projects::connect(&platform, TestPlatform::member_token(&id_of(&region))).await;
    let admin = Projects::connect(&platform, TestPlatform::admin_token()).await;

    // Ambert and Aix-la-Fayette are communes of CC Ambert Livradois Forez, Arconsat is
    // listed by its INSEE code; Aigueperse is of neither.
    let mut programme = crate::projects::solaire_dome(&region);
    programme.co_funders[0].epci_sirens = vec!["200070761".into()];
    programme.co_funders[0].insee_codes = vec!["63008".into()];
    let mut bad = programme.clone();
    bad.co_funders[0].insee_codes = vec!["630".into()];
    let invalid = funder.programme(bad).await.unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&invalid),
        vec!["programme.co_funders[0].insee_codes[0]"]
    );
    let programme = funder.programme(programme).await.expect("open");

    let communes = open_data_communes(8);
    let pick = |name: &str| {
        communes
            .iter()
            .find(|c| c.display_name == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in the open data"))
    };
    let names = active_members(
        &platform,
        &members,
        ["Ambert", "Arconsat", "Aigueperse", "Aix-la-Fayette"]
            .into_iter()
            .map(pick)
            .collect(),
    )
    .await;
    let mut awards = Vec::new();
    for name in &names {
        let client = Projects::connect(&platform, TestPlatform::member_token(&id_of(name))).await;
        let a = client
            .apply(&programme.name, "Centrale de 9 kWc")
            .await
            .expect("apply");
        awards.push(funder.approve(&a.name).await.expect("approve"));
    }
    let parts: Vec<usize> = awards.iter().map(|a| a.breakdown.len()).collect();
    assert_eq!(
        parts,
        vec![2, 2, 1, 2],
        "the Région pays in its territory only"
    );
    assert_eq!(awards[0].breakdown[1].amount_cents, PART);
    let (ambert, arconsat, aigueperse, aix) = (&awards[0], &awards[1], &awards[2], &awards[3]);
    let read = funder.get_programme(&programme.name).await.expect("get");
    assert_eq!(co_funder_totals(&read), (3 * PART, 0));

    // The co-funder reads the awards it pays a part of, not the others; it records its
    // payments, which leave the award's state alone.
    co_funder
        .application(&ambert.name)
        .await
        .expect("a co-funded award");
    assert_eq!(
        co_funder
            .application(&aigueperse.name)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let advanced = co_funder
        .pay_part(&ambert.name, Advance, 50_000, &region)
        .await
        .expect("the Région's advance");
    assert_eq!(advanced.state, proto::ApplicationState::Approved as i32);
    assert_eq!(advanced.paid_cents, 0, "the funder's payments only");
    let last = advanced.payments.last().expect("a payment");
    assert_eq!(
        (last.co_funder.as_str(), last.amount_cents),
        (region.as_str(), 50_000)
    );
    // The work cost less: its balance pays 60,000 of the 75,000 left, and gives back
    // the rest of its committed part.
    co_funder
        .pay_part(&ambert.name, Balance, 60_000, &region)
        .await
        .expect("the Région's balance");
    let settled = co_funder
        .pay_part(&ambert.name, Balance, 1, &region)
        .await
        .unwrap_err();
    refused_for(&settled, "PAYMENT_EXCEEDS_AWARD");

    // An advance must leave a balance; the funder does not pay the Région's part; a
    // payment for an applicant outside the territory is refused even to an admin.
    let whole = co_funder
        .pay_part(&arconsat.name, Advance, PART, &region)
        .await
        .unwrap_err();
    refused_for(&whole, "PAYMENT_EXCEEDS_AWARD");
    let not_its_part = funder
        .pay_part(&arconsat.name, Advance, 10_000, &region)
        .await
        .unwrap_err();
    assert_eq!(not_its_part.code(), Code::PermissionDenied);
    let outside = admin
        .pay_part(&aigueperse.name, Balance, 10_000, &region)
        .await
        .unwrap_err();
    refused_for(&outside, "NOT_CO_FUNDED");

    // Two advances of 1,000 € at once on a part of 1,250 €: one is recorded.
    let (one, two) = tokio::join!(
        co_funder.pay_part(&aix.name, Advance, 100_000, &region),
        co_funder.pay_part(&aix.name, Advance, 100_000, &region),
    );
    let refusals: Vec<Status> = [one, two].into_iter().filter_map(Result::err).collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0].code(), Code::FailedPrecondition, "{refusals:?}");

    // A cancelled award gives the co-funder's part back; one it paid is not cancelled.
    funder.cancel(&arconsat.name).await.expect("cancel");
    refused_for(
        &funder.cancel(&ambert.name).await.unwrap_err(),
        "AWARD_HAS_PAYMENTS",
    );
    let read = funder.get_programme(&programme.name).await.expect("get");
    assert_eq!(
        co_funder_totals(&read),
        (110_000 + PART, 110_000 + 100_000),
        "Ambert's part settled at 1,100 €, Aix-la-Fayette's committed with 1,000 € paid"
    );
    assert_eq!(read.paid_cents, 0, "the Département paid nothing yet");
    let seen = subjects(&platform, "application", 12).await;
    assert_eq!(
        seen.iter()
            .filter(|s| *s == "application.co_funder_paid")
            .count(),
        3,
        "{seen:?}"
    );
}

mod postgres {
    #[tokio::test]
    async fn a_co_funder_pays_its_part_within_its_territory() {
        super::a_co_funder_pays_its_part_within_its_territory(fabrique_testkit::Backend::Postgres)
            .await;
    }
}

mod sqlite {
    #[tokio::test]
    async fn a_co_funder_pays_its_part_within_its_territory() {
        super::a_co_funder_pays_its_part_within_its_territory(fabrique_testkit::Backend::Sqlite)
            .await;
    }
}
