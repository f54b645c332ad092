//! The awards of a programme in the SCDL "subventions" format (socle commun des données
//! locales), which public funders must publish: one row per award, amounts in euros
//! with two decimals, comma-separated UTF-8 with a header line.
//!
//! `idAttribuant` is the programme's `funder_siret` when given, else the funder's SIREN;
//! `idBeneficiaire` the application's `beneficiary_siret`, else the applicant's SIREN —
//! the SCDL asks for SIRETs, which the member register does not hold.

use std::collections::BTreeMap;

use fabrique_replicas::members::ReplicaMember;
use fabrique_types::Siret;
use uuid::Uuid;

use crate::domain::{Application, ApplicationState, Programme, euros};

/// The SCDL columns, in the order the format fixes.
pub const COLUMNS: &[&str] = &[
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
];

/// The awards of `programme` as SCDL CSV; `funder` and `members` are the replica's
/// records of the funder and the beneficiaries, for names and SIRENs (blank when unknown).
pub fn write(
    programme: &Programme,
    funder: Option<&ReplicaMember>,
    awards: &[Application],
    members: &BTreeMap<Uuid, ReplicaMember>,
) -> Result<Vec<u8>, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS).map_err(|e| e.to_string())?;
    let funder_name = funder.map(|f| f.display_name.clone()).unwrap_or_default();
    let funder_id = programme
        .funder_siret
        .as_ref()
        .map(|siret| siret.as_str().to_string())
        .or_else(|| funder.and_then(|f| f.siren.clone()))
        .unwrap_or_default();
    for award in awards {
        let beneficiary = members.get(&award.applicant);
        let date = award
            .decided_at
            .map(|d| d.date_naive().to_string())
            .unwrap_or_default();
        let paid = match (award.state, award.paid_at) {
            (ApplicationState::Paid, Some(at)) => at.date_naive().to_string(),
            _ => String::new(),
        };
        writer
            .write_record([
                funder_name.as_str(),
                funder_id.as_str(),
                date.as_str(),
                award.name().as_str(),
                beneficiary
                    .map(|b| b.display_name.as_str())
                    .unwrap_or_default(),
                award
                    .beneficiary_siret
                    .as_ref()
                    .map(Siret::as_str)
                    .or_else(|| beneficiary.and_then(|b| b.siren.as_deref()))
                    .unwrap_or_default(),
                award.purpose.as_str(),
                euros(award.aid_cents).as_str(),
                "aide en numéraire",
                "unique",
                paid.as_str(),
                "",
                "non",
                "",
                programme.title.as_str(),
            ])
            .map_err(|e| e.to_string())?;
    }
    writer.into_inner().map_err(|e| e.to_string())
}
