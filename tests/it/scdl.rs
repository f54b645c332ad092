//! The SCDL "subventions" export of a programme checked as a reader would: the file is
//! validated by frictionless against the 2.1.0 Table Schema, with the schema's SIRET
//! and beneficiary checks (`tests/scdl/validate.py`), on both backends — one row per
//! award and funder, payments by instalment expressed, SIRETs from the member register.

use std::collections::HashMap;
use std::time::Duration;

use fabrique_api::members as mp;
use fabrique_api::projects as proto;
use fabrique_testkit::{Backend, TestPlatform, authed};
use fabrique_types::{Siren, Siret};

use crate::projects::{Projects, active_members, open_data_communes, platform, solaire_dome};
use crate::support::{Members, id_of};

/// `member` with its SIREN's head office SIRET (establishment 0001).
fn with_siret(mut member: mp::Member) -> mp::Member {
    let siren = Siren::parse(&member.siren).expect("a SIREN");
    member.siret = Siret::completing(&siren, 1).as_str().to_string();
    member
}

fn collectivity(name: &str, kind: mp::MemberKind) -> mp::Member {
    with_siret(mp::Member {
        display_name: name.to_string(),
        kind: kind as i32,
        siren: fabrique_testkit::a_siren(),
        ..Default::default()
    })
}

/// The validator's verdict on `csv`: its output, and whether it found no error.
async fn validated(csv: &[u8]) -> (String, bool) {
    let python = std::env::var("FABRIQUE_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "FABRIQUE_TEST_PYTHON is not set: run the suite with ./scripts/test, which prepares a \
             virtualenv with frictionless"
        )
    });
    let dir = fabrique_testkit::TempDir::new("scdl");
    let file = dir.path().join("subventions.csv");
    std::fs::write(&file, csv).expect("written");
    let root = env!("CARGO_MANIFEST_DIR");
    let run = tokio::process::Command::new(python)
        .arg(format!("{root}/tests/scdl/validate.py"))
        .arg(&file)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the validator finishes within 2 minutes")
        .expect("python runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (text, output.status.success())
}

async fn export(funder: &Projects, programme: &str) -> proto::ExportAwardsResponse {
    let request = proto::ExportAwardsRequest {
        name: programme.to_string(),
    };
    let mut client = funder.client.clone();
    client
        .export_awards(authed(request, &funder.token))
        .await
        .expect("export")
        .into_inner()
}

/// Over 60 lines: one programme's awards paid three ways, exported, validated, read
/// back; then a beneficiary without a SIRET, which the export names and the schema
/// checks refuse.
async fn the_scdl_export_passes_the_schema(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let funders = active_members(
        &platform,
        &members,
        vec![
            collectivity("Département du Puy-de-Dôme", mp::MemberKind::Departement),
            collectivity("Région Auvergne-Rhône-Alpes", mp::MemberKind::Region),
        ],
    )
    .await;
    let mut communes = open_data_communes(4);
    let without = communes.pop().expect("a fourth commune");
    let communes = active_members(
        &platform,
        &members,
        communes.into_iter().map(with_siret).collect(),
    )
    .await;
    let funder =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&funders[0]))).await;
    let programme = funder
        .programme(solaire_dome(&funders[1]))
        .await
        .expect("open");
    let mut awards = Vec::new();
    for commune in &communes {
        let client =
            Projects::connect(&platform, TestPlatform::member_token(&id_of(commune))).await;
        let a = client
            .apply(
                &programme.name,
                "Centrale photovoltaïque de 9 kWc sur l'école",
            )
            .await;
        awards.push(
            funder
                .approve(&a.expect("apply").name)
                .await
                .expect("approve"),
        );
    }
    // An advance and a balance; nothing paid yet; paid at once.
    use proto::PaymentKind::{Advance, Balance};
    funder
        .pay(&awards[0].name, Advance, 150_000)
        .await
        .expect("advance");
    funder
        .pay(&awards[0].name, Balance, 350_000)
        .await
        .expect("balance");
    let mut client = funder.client.clone();
    let pay = proto::PayApplicationRequest {
        name: awards[2].name.clone(),
    };
    client
        .pay_application(authed(pay, &funder.token))
        .await
        .expect("paid");
    // The Région pays its part of the first award at once, and less than its part: its
    // row follows its own payment, not the Département's.
    let region =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&funders[1]))).await;
    region
        .pay_part(&awards[0].name, Balance, 100_000, &funders[1])
        .await
        .expect("the Région's part");

    let file = export(&funder, &programme.name).await;
    assert_eq!(
        (file.rows, file.warnings.len()),
        (6, 0),
        "{:?}",
        file.warnings
    );
    let (report, valid) = validated(&file.csv).await;
    assert!(valid, "the export fails the SCDL schema:\n{report}");
    let mut reader = csv::Reader::from_reader(file.csv.as_slice());
    let rows: Vec<HashMap<String, String>> =
        reader.deserialize().map(|r| r.expect("a row")).collect();
    let of = |award: &proto::Application, funder: &str| {
        rows.iter()
            .find(|r| r["referenceDecision"] == award.name && r["nomAttribuant"] == funder)
            .unwrap_or_else(|| panic!("a row of {} by {funder}: {rows:?}", award.name))
    };
    let today = chrono::Utc::now().date_naive().to_string();
    let first = of(&awards[0], "Département du Puy-de-Dôme");
    assert_eq!(first["conditionsVersement"], "échelonné");
    assert_eq!(first["datesPeriodeVersement"], format!("{today}/{today}"));
    assert_eq!(first["montant"], "5000.00");
    assert_eq!(first["idBeneficiaire"].len(), 14);
    let part = of(&awards[0], "Région Auvergne-Rhône-Alpes");
    assert_eq!(
        (
            part["montant"].as_str(),
            part["conditionsVersement"].as_str(),
            part["datesPeriodeVersement"].as_str()
        ),
        ("1000.00", "unique", today.as_str())
    );
    let unpaid_part = of(&awards[2], "Région Auvergne-Rhône-Alpes");
    assert_eq!(unpaid_part["montant"], "1250.00");
    assert!(
        unpaid_part["datesPeriodeVersement"].starts_with(&format!("{today}/")),
        "the Département paid, the Région not yet: {unpaid_part:?}"
    );
    let unpaid = of(&awards[1], "Département du Puy-de-Dôme");
    assert_eq!(unpaid["conditionsVersement"], "unique");
    assert!(
        unpaid["datesPeriodeVersement"].starts_with(&format!("{today}/")),
        "{unpaid:?}"
    );
    assert_eq!(
        of(&awards[2], "Département du Puy-de-Dôme")["datesPeriodeVersement"],
        today
    );

    // A commune without its SIRET: the export says so, and the file fails the checks.
    let name = without.display_name.clone();
    let late = active_members(&platform, &members, vec![without])
        .await
        .remove(0);
    let client = Projects::connect(&platform, TestPlatform::member_token(&id_of(&late))).await;
    let a = client
        .apply(&programme.name, "Centrale")
        .await
        .expect("apply");
    funder.approve(&a.name).await.expect("approve");
    let file = export(&funder, &programme.name).await;
    assert_eq!(file.warnings.len(), 1, "{:?}", file.warnings);
    assert!(file.warnings[0].contains(&name), "{:?}", file.warnings);
    let (report, valid) = validated(&file.csv).await;
    assert!(!valid, "{report}");
    assert!(
        report.contains("neither idBeneficiaire nor rnaBeneficiaire"),
        "{report}"
    );
}

mod postgres {
    #[tokio::test]
    async fn the_scdl_export_passes_the_schema() {
        super::the_scdl_export_passes_the_schema(fabrique_testkit::Backend::Postgres).await;
    }
}

mod sqlite {
    #[tokio::test]
    async fn the_scdl_export_passes_the_schema() {
        super::the_scdl_export_passes_the_schema(fabrique_testkit::Backend::Sqlite).await;
    }
}
