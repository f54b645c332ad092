//! The awards of a programme in the SCDL "subventions" format 2.1 (socle commun des
//! données locales, schema.data.gouv.fr `scdl/subventions`), which public funders must
//! publish: comma-separated UTF-8 with its header line, one row per award and funder —
//! the programme's funder, then each co-funder for its part — amounts in euros with a
//! decimal point.
//!
//! `idAttribuant` is the programme's `funder_siret` when given, else the funder's head
//! office SIRET from the member register; a co-funder's and `idBeneficiaire` likewise
//! (the application's `beneficiary_siret`, else the applicant's). A blank one is named
//! in the export's warnings: the file would not pass the schema.
//!
//! Each funder's row has its own payments (a co-funder pays its part on its own
//! calendar): `conditionsVersement` is `unique` for a part paid (or to be paid) at once
//! and `échelonné` once an advance of it was paid; `datesPeriodeVersement` is the day of a single
//! payment, else a period: from the first payment to the balance, or, while the award
//! is not paid, from its decision (or first payment) to three years after the decision,
//! the validity a grant decision usually has.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use fabrique_replicas::members::ReplicaMember;
use fabrique_types::Siret;
use uuid::Uuid;

use crate::domain::{Application, FundingLine, PaymentKind, Programme, euros, member_name};

/// The SCDL 2.1 columns, in the order the format fixes.
pub const COLUMNS: &[&str] = &[
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
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

/// `objet` is at most 256 characters in the format.
const MAX_OBJET: usize = 256;

/// How long an unpaid award may still be paid, for its payment period.
const VALIDITY: Months = Months::new(36);

/// The file and what a reader should know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The CSV, header first.
    pub csv: Vec<u8>,
    /// Its rows (award × funder).
    pub rows: usize,
    /// Why some cells are blank that the format requires, one line per member.
    pub warnings: Vec<String>,
}

/// The awards of `programme` as SCDL CSV; `members` are the replica's records of the
/// funders and beneficiaries, for names and SIRETs.
pub fn write(
    programme: &Programme,
    awards: &[Application],
    members: &BTreeMap<Uuid, ReplicaMember>,
) -> Result<Export, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS).map_err(|e| e.to_string())?;
    let mut register = Register {
        members,
        missing: BTreeMap::new(),
    };
    let mut rows = 0;
    for award in awards {
        for line in &award.breakdown {
            let record = register.record(programme, award, line);
            writer.write_record(&record).map_err(|e| e.to_string())?;
            rows += 1;
        }
    }
    let warnings = register
        .missing
        .keys()
        .map(|member| {
            format!(
                "{} ({}) has no SIRET: its identifier cells are blank",
                register.name_of(*member),
                member_name(*member)
            )
        })
        .collect();
    let csv = writer.into_inner().map_err(|e| e.to_string())?;
    Ok(Export {
        csv,
        rows,
        warnings,
    })
}

/// The member register as the export reads it, noting whom it lacks a SIRET for.
struct Register<'a> {
    members: &'a BTreeMap<Uuid, ReplicaMember>,
    missing: BTreeMap<Uuid, ()>,
}

impl Register<'_> {
    fn name_of(&self, member: Uuid) -> String {
        self.members
            .get(&member)
            .map(|m| m.display_name.clone())
            .unwrap_or_else(|| member_name(member))
    }

    /// `given`, else the member's head office SIRET; blank (and noted) without one.
    fn siret_of(&mut self, member: Uuid, given: Option<&Siret>) -> String {
        let found = given
            .map(|s| s.as_str().to_string())
            .or_else(|| self.members.get(&member).and_then(|m| m.siret.clone()));
        found.unwrap_or_else(|| {
            self.missing.insert(member, ());
            String::new()
        })
    }

    /// The row of `award` for the funder of `line`, in [`COLUMNS`] order.
    fn record(
        &mut self,
        programme: &Programme,
        award: &Application,
        line: &FundingLine,
    ) -> [String; 16] {
        let funder_siret = (line.funder == programme.funder)
            .then_some(programme.funder_siret.as_ref())
            .flatten();
        let payer = (line.funder != programme.funder).then_some(line.funder);
        let (conditions, dates) = payment_terms(award, payer);
        [
            self.name_of(line.funder),
            self.siret_of(line.funder, funder_siret),
            award
                .decided_at
                .map(|d| d.date_naive().to_string())
                .unwrap_or_default(),
            award.name(),
            self.name_of(award.applicant),
            self.siret_of(award.applicant, award.beneficiary_siret.as_ref()),
            String::new(),
            award.purpose.chars().take(MAX_OBJET).collect(),
            euros(amount(programme, award, line)),
            "aide en numéraire".into(),
            conditions.into(),
            dates,
            String::new(),
            "non".into(),
            "1.00".into(),
            programme.title.clone(),
        ]
    }
}

/// Whether `payer` (`None`: the programme's funder) paid its balance of `award`.
fn settled(award: &Application, payer: Option<Uuid>) -> bool {
    award
        .payments
        .iter()
        .any(|p| p.co_funder == payer && p.kind == PaymentKind::Balance)
}

/// What `line`'s funder gives: what it paid once it paid its balance (a balance below
/// its part gives the rest back), its part as fixed on submission until then.
fn amount(programme: &Programme, award: &Application, line: &FundingLine) -> i64 {
    let payer = (line.funder != programme.funder).then_some(line.funder);
    if settled(award, payer) {
        award.paid_by(payer)
    } else {
        line.amount_cents
    }
}

/// `conditionsVersement` and `datesPeriodeVersement` of `payer`'s part of an award
/// (see the module).
fn payment_terms(award: &Application, payer: Option<Uuid>) -> (&'static str, String) {
    let days: Vec<NaiveDate> = award
        .payments
        .iter()
        .filter(|p| p.co_funder == payer)
        .map(|p| p.paid_on)
        .collect();
    let paid = settled(award, payer);
    let decided = award
        .decided_at
        .map(|d| d.date_naive())
        .unwrap_or_else(|| award.created_at.date_naive());
    let conditions = if days.len() > 1 || (days.len() == 1 && !paid) {
        "échelonné"
    } else {
        "unique"
    };
    let dates = match (paid, days.as_slice()) {
        (true, [day]) => day.to_string(),
        (true, [first, .., last]) => format!("{first}/{last}"),
        (_, days) => {
            let from = days.first().copied().unwrap_or(decided);
            let until = decided.checked_add_months(VALIDITY).unwrap_or(decided);
            format!("{from}/{}", until.max(from))
        }
    };
    (conditions, dates)
}
