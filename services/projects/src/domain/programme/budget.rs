//! Who pays what in a programme and how it moves after it opens: the co-funders' parts
//! (each possibly limited to a territory) and the breakdown of an award, the envelope changes its funder votes (each with its
//! deliberation), the payments of an award (an advance, then the balance), and the
//! legal entity an award is counted against.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A co-funder's part of each award.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoFunder {
    /// The member that pays the part, e.g. a Région co-funding a Département's aid.
    pub member: Uuid,
    /// Basis points of the programme's aid (2,500 = 25 %), or …
    pub share_basis_points: Option<u32>,
    /// … a fixed amount per unit.
    pub cents_per_unit: Option<i64>,
    /// How it pays, for people, e.g. through a regional nature park.
    pub note: Option<String>,
    /// Where its part applies: these communes (INSEE codes) …
    #[serde(default)]
    pub insee_codes: Vec<String>,
    /// … and these EPCIs (SIRENs: the EPCI itself and its communes); both empty:
    /// everywhere.
    #[serde(default)]
    pub epci_sirens: Vec<String>,
}

/// Where an applicant is, as the member register says: what a co-funder's territory
/// is matched against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Whereabouts {
    /// Its own SIREN (an EPCI's is matched against the EPCI list).
    pub siren: Option<String>,
    /// A commune's INSEE code.
    pub insee_code: Option<String>,
    /// The EPCI a commune belongs to.
    pub epci_siren: Option<String>,
}

impl CoFunder {
    /// Whether its part applies to an applicant at `place`.
    pub fn covers(&self, place: &Whereabouts) -> bool {
        if self.insee_codes.is_empty() && self.epci_sirens.is_empty() {
            return true;
        }
        let listed = |list: &[String], value: &Option<String>| {
            value.as_ref().is_some_and(|v| list.iter().any(|l| l == v))
        };
        listed(&self.insee_codes, &place.insee_code)
            || listed(&self.epci_sirens, &place.siren)
            || listed(&self.epci_sirens, &place.epci_siren)
    }

    /// The co-funder's part of one unit of aid, in whole cents; `None` when a share
    /// would leave a fraction of a cent (such a programme is refused).
    pub fn per_unit(&self, aid_per_unit: i64) -> Option<i64> {
        match (self.share_basis_points, self.cents_per_unit) {
            (Some(bp), None) => {
                let scaled = aid_per_unit.checked_mul(i64::from(bp))?;
                (scaled % 10_000 == 0).then_some(scaled / 10_000)
            }
            (None, Some(cents)) => Some(cents),
            _ => None,
        }
    }
}

/// One line of a breakdown: who pays how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundingLine {
    /// The programme's funder (first line) or one of its co-funders.
    pub funder: Uuid,
    /// What it pays for the application, in whole cents.
    pub amount_cents: i64,
    /// The co-funder's note; `None` on the funder's line.
    pub note: Option<String>,
}

fabrique_types::string_enum!(
    /// Which payment of an award: the advance (acompte) leaves a balance to pay; the
    /// balance (solde) is the last one.
    PaymentKind {
        /// A part paid before the work is done; the award stays APPROVED.
        Advance => "advance",
        /// The last payment; the award becomes PAID and what it leaves unpaid returns
        /// to the envelope.
        Balance => "balance",
    }
);

// Stored in JSON by its stable text, as every enum of the service is stored.
impl Serialize for PaymentKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PaymentKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(|e: fabrique_types::Invalid| serde::de::Error::custom(e.to_string()))
    }
}

/// One payment of an award, by its funder or by a co-funder for its part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The co-funder that paid its part; `None`: the programme's funder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub co_funder: Option<Uuid>,
    /// Advance or balance.
    pub kind: PaymentKind,
    /// What was paid, in cents, above 0.
    pub amount_cents: i64,
    /// The day the funder paid (its accounts' date, not when it was recorded here).
    pub paid_on: NaiveDate,
    /// When it was recorded here.
    pub recorded_at: DateTime<Utc>,
}

/// An envelope change the funder voted, as the programme keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeChange {
    /// The envelope before, in cents.
    pub previous_cents: i64,
    /// The envelope after, in cents.
    pub envelope_cents: i64,
    /// The deliberation that decided it, e.g. "DM2-2026-045".
    pub reference: String,
    /// The day of that deliberation.
    pub decided_on: NaiveDate,
    /// When it was recorded here.
    pub recorded_at: DateTime<Utc>,
}

/// The legal entity an award counts against for a programme's limit per member: its
/// SIREN when the member register gives one (a commune that leaves and joins again
/// under another record is still the same commune), the member record otherwise.
pub fn legal_entity(member: Uuid, siren: Option<&str>) -> String {
    match siren.map(str::trim).filter(|s| !s.is_empty()) {
        Some(siren) => format!("siren:{siren}"),
        None => format!("member:{member}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_co_funder_covers_its_communes_and_epcis() {
        let mut part = CoFunder {
            member: Uuid::now_v7(),
            share_basis_points: Some(2_500),
            cents_per_unit: None,
            note: None,
            insee_codes: Vec::new(),
            epci_sirens: Vec::new(),
        };
        let thiers = Whereabouts {
            siren: Some("216304303".into()),
            insee_code: Some("63430".into()),
            epci_siren: Some("200070712".into()),
        };
        assert!(part.covers(&thiers), "no territory: everywhere");
        part.insee_codes = vec!["63003".into()];
        assert!(!part.covers(&thiers));
        assert!(!part.covers(&Whereabouts::default()));
        part.epci_sirens = vec!["200070712".into()];
        assert!(part.covers(&thiers), "a commune of a listed EPCI");
        let epci = Whereabouts {
            siren: Some("200070712".into()),
            ..Whereabouts::default()
        };
        assert!(part.covers(&epci), "the listed EPCI itself");
        part.epci_sirens.clear();
        part.insee_codes.push("63430".into());
        assert!(part.covers(&thiers), "a listed commune");
    }

    #[test]
    fn an_award_counts_against_the_siren_when_known() {
        let member = Uuid::now_v7();
        assert_eq!(
            legal_entity(member, Some("216304303")),
            legal_entity(Uuid::now_v7(), Some("216304303"))
        );
        assert_eq!(legal_entity(member, Some(" ")), format!("member:{member}"));
        assert_eq!(legal_entity(member, None), format!("member:{member}"));
    }
}
