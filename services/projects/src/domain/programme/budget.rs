//! Who pays what in a programme and how it moves after it opens: the co-funders' parts
//! and the breakdown of an award, the envelope changes its funder votes (each with its
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
}

impl CoFunder {
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

/// One payment of an award.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
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
