//! Funding programmes and their applications: the envelope, the aid per unit and each
//! co-funder's part in whole cents, who may apply and when, and two lifecycles — a
//! programme's OPEN → CLOSED ([`Programme::next`]) and an application's SUBMITTED →
//! APPROVED | REJECTED | WITHDRAWN, APPROVED → CANCELLED | PAID, with advances paid on
//! the way ([`Application::next`]). The envelope itself is held by the store, under
//! concurrency; here is what one award is worth and what it may still be paid.

mod application;
mod budget;
mod grouping;
mod installation;
mod instruction;

pub use application::{Application, ApplicationDraft, ApplicationTransition};
pub use budget::{
    CoFunder, EnvelopeChange, FundingLine, Payment, PaymentKind, Whereabouts, legal_entity,
};
pub use grouping::{Grouping, GroupingDraft, grouping_name, parse_grouping_name};
pub use installation::{Installation, parse_area_m2, parse_peak_kw, yearly_kwh};
pub use instruction::{Instruction, Note, Recommendation};

use chrono::{DateTime, Utc};
use fabrique_types::Siret;
use uuid::Uuid;

use super::{Invalid, name};
use crate::refusal::{NotOpen, Refusal};

fabrique_types::string_enum!(
    /// Whether a programme takes applications (its window aside).
    ProgrammeState {
        /// Takes applications, within its `opens_at`–`closes_at` window.
        Open => "open",
        /// Closed by its funder for good; approvals and payments go on.
        Closed => "closed",
    }
);

fabrique_types::string_enum!(
    /// Where an application stands: submitted, then decided (approved, rejected or
    /// withdrawn), and an approved one paid.
    ApplicationState {
        /// Waiting for the funder's decision; no aid committed yet.
        Submitted => "submitted",
        /// Its aid is committed against the envelope.
        Approved => "approved",
        /// Refused by the funder, or by the envelope or the award limit.
        Rejected => "rejected",
        /// Approved and its aid recorded as paid.
        Paid => "paid",
        /// Taken back by its applicant before a decision, or because it left the alliance.
        Withdrawn => "withdrawn",
        /// Approved, then given up before any payment: its aid went back to the envelope.
        Cancelled => "cancelled",
        /// Sent back to its applicant to complete; SUBMITTED again once completed.
        ToComplete => "to_complete",
    }
);

impl ApplicationState {
    /// Counted as an award (committed aid).
    pub fn is_award(&self) -> bool {
        matches!(self, Self::Approved | Self::Paid)
    }
}

/// An application's resource name: applications are named under their programme.
pub fn application_name(programme: Uuid, id: Uuid) -> String {
    format!("{}/applications/{id}", name("programmes", programme))
}

/// `programmes/{p}/applications/{a}` → (p, a).
pub fn parse_application_name(value: &str) -> Result<(Uuid, Uuid), Invalid> {
    let invalid = || Invalid::new("must be programmes/{id}/applications/{id} with UUID ids");
    let rest = value.strip_prefix("programmes/").ok_or_else(invalid)?;
    let (programme, rest) = rest.split_once('/').ok_or_else(invalid)?;
    let id = rest.strip_prefix("applications/").ok_or_else(invalid)?;
    Ok((
        Uuid::parse_str(programme).map_err(|_| invalid())?,
        Uuid::parse_str(id).map_err(|_| invalid())?,
    ))
}

// ---------------------------------------------------------------------------
// Programmes
// ---------------------------------------------------------------------------

/// A funding programme: a funder's fixed envelope, given as a fixed aid per unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Programme {
    /// Named `programmes/{id}` in the contract and the events.
    pub id: Uuid,
    /// The member that funds it and decides on its applications.
    pub funder: Uuid,
    /// The member that instructs its applications for the funder, if not the funder.
    pub operator: Option<Uuid>,
    /// Yearly production per kWc installed, in kWh, for its report; `None`: none.
    pub yield_kwh_per_kwp: Option<u32>,
    /// The SIRET the SCDL export names as the funder, when its SIREN is not enough.
    pub funder_siret: Option<Siret>,
    /// What applicants see of it in lists.
    pub title: String,
    /// Who it is for and what it funds, in free text; `None` when blank.
    pub description: Option<String>,
    /// The most the approvals may commit, in cents (the store holds it).
    pub envelope_cents: i64,
    /// The funder's aid for one unit, in cents: an award is worth units × this.
    pub aid_per_unit_cents: i64,
    /// What one unit is ("installation de 9 kWc").
    pub unit_label: String,
    /// `None`: no limit (as for `max_awards_per_member`).
    pub max_units_per_application: Option<u32>,
    /// Member kinds (the members service's texts); empty: any.
    pub eligible_kinds: Vec<String>,
    /// Awards (approved or paid applications) one member may hold.
    pub max_awards_per_member: Option<u32>,
    /// Who pays a part on top of the funder's aid (the envelope counts the aid only).
    pub co_funders: Vec<CoFunder>,
    /// Applications are taken from this instant, included …
    pub opens_at: Option<DateTime<Utc>>,
    /// … until this one, excluded.
    pub closes_at: Option<DateTime<Utc>>,
    /// Whether it takes applications; changed only by [`Programme::next`].
    pub state: ProgrammeState,
    /// The aid of its approved and paid applications, in cents.
    pub committed_cents: i64,
    /// The part of the committed aid recorded as paid.
    pub paid_cents: i64,
    /// The token subject that created it (a replayed create must come from it).
    pub created_by: String,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When its state last changed; committed and paid amounts move without it.
    pub updated_at: DateTime<Utc>,
    /// The envelope changes voted since it opened, oldest first.
    pub envelope_changes: Vec<EnvelopeChange>,
}

/// What can happen to a programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgrammeTransition {
    /// The funder stops taking applications; approvals and payments go on.
    Close,
}

impl ProgrammeTransition {
    /// The only state it starts from.
    pub fn from(&self) -> ProgrammeState {
        match self {
            ProgrammeTransition::Close => ProgrammeState::Open,
        }
    }

    /// Why `programme` cannot go through it (or could not: a concurrent call moved it
    /// first).
    pub fn refused(&self, programme: &Programme) -> Refusal {
        match self {
            ProgrammeTransition::Close => Refusal::ProgrammeClosed {
                programme: programme.name(),
            },
        }
    }
}

impl Programme {
    /// Its resource name, `programmes/{id}`.
    pub fn name(&self) -> String {
        name("programmes", self.id)
    }

    /// A new programme made of `draft`, OPEN, funded by `funder`, nothing committed.
    pub fn open(
        draft: ProgrammeDraft,
        funder: Uuid,
        created_by: String,
        now: DateTime<Utc>,
    ) -> Self {
        Programme {
            id: Uuid::now_v7(),
            funder,
            operator: draft.operator,
            yield_kwh_per_kwp: draft.yield_kwh_per_kwp,
            funder_siret: draft.funder_siret,
            title: draft.title,
            description: draft.description,
            envelope_cents: draft.envelope_cents,
            aid_per_unit_cents: draft.aid_per_unit_cents,
            unit_label: draft.unit_label,
            max_units_per_application: draft.max_units_per_application,
            eligible_kinds: draft.eligible_kinds,
            max_awards_per_member: draft.max_awards_per_member,
            co_funders: draft.co_funders,
            opens_at: draft.opens_at,
            closes_at: draft.closes_at,
            state: ProgrammeState::Open,
            committed_cents: 0,
            paid_cents: 0,
            created_by,
            created_at: now,
            updated_at: now,
            envelope_changes: Vec::new(),
        }
    }

    /// The programme with its envelope changed to `envelope_cents` by the deliberation
    /// `reference` of `decided_on`; refused below what its approvals have committed.
    pub fn change_envelope(
        &self,
        envelope_cents: i64,
        reference: String,
        decided_on: chrono::NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Programme, Refusal> {
        if envelope_cents < self.committed_cents {
            return Err(Refusal::EnvelopeBelowCommitted {
                programme: self.name(),
                envelope_cents,
                committed_cents: self.committed_cents,
            });
        }
        let mut next = self.clone();
        next.envelope_changes.push(EnvelopeChange {
            previous_cents: self.envelope_cents,
            envelope_cents,
            reference,
            decided_on,
            recorded_at: now,
        });
        next.envelope_cents = envelope_cents;
        next.updated_at = now;
        Ok(next)
    }

    /// Whether `member` instructs its applications: its funder or its operator.
    pub fn instructed_by(&self, member: Uuid) -> bool {
        self.funder == member || self.operator == Some(member)
    }

    /// What is left of the envelope, in cents.
    pub fn remaining_cents(&self) -> i64 {
        self.envelope_cents - self.committed_cents
    }

    /// The programme after `transition` at `now`, or why its state does not allow it:
    /// the one place a programme's lifecycle is decided (OPEN → CLOSED).
    pub fn next(
        &self,
        transition: ProgrammeTransition,
        now: DateTime<Utc>,
    ) -> Result<Programme, Refusal> {
        if self.state != transition.from() {
            return Err(transition.refused(self));
        }
        let mut next = self.clone();
        match transition {
            ProgrammeTransition::Close => next.state = ProgrammeState::Closed,
        }
        next.updated_at = now;
        Ok(next)
    }

    /// Whether applications are taken at `now`.
    pub fn accepts(&self, now: DateTime<Utc>) -> Result<(), Refusal> {
        let not_open = |why| Refusal::ProgrammeNotOpen {
            programme: self.name(),
            why,
        };
        if self.state != ProgrammeState::Open {
            return Err(not_open(NotOpen::Closed));
        }
        if let Some(opens) = self.opens_at
            && now < opens
        {
            return Err(not_open(NotOpen::OpensOn(opens.date_naive())));
        }
        if let Some(closes) = self.closes_at
            && now >= closes
        {
            return Err(not_open(NotOpen::ClosedOn(closes.date_naive())));
        }
        Ok(())
    }

    /// Whether a member of `kind` (the members service's text) may apply.
    pub fn admits(&self, applicant: Uuid, kind: &str) -> Result<(), Refusal> {
        if self.eligible_kinds.is_empty() || self.eligible_kinds.iter().any(|k| k == kind) {
            return Ok(());
        }
        Err(Refusal::Ineligible {
            applicant: super::member_name(applicant),
            kind: kind.to_string(),
            programme: self.name(),
            eligible: self.eligible_kinds.clone(),
        })
    }

    /// The aid of `units` for an applicant at `place` and who pays it: the programme's
    /// funder, then each co-funder whose territory covers it, in whole cents; `None` on
    /// overflow.
    pub fn breakdown(&self, units: u32, place: &Whereabouts) -> Option<(i64, Vec<FundingLine>)> {
        let units = i64::from(units);
        let aid = self.aid_per_unit_cents.checked_mul(units)?;
        let mut lines = vec![FundingLine {
            funder: self.funder,
            amount_cents: aid,
            note: None,
        }];
        for co in self.co_funders.iter().filter(|co| co.covers(place)) {
            lines.push(FundingLine {
                funder: co.member,
                amount_cents: co.per_unit(self.aid_per_unit_cents)?.checked_mul(units)?,
                note: co.note.clone(),
            });
        }
        Some((aid, lines))
    }
}

/// What a new programme is made of.
#[derive(Debug, Clone)]
pub struct ProgrammeDraft {
    /// `None`: the caller's own member.
    pub funder: Option<Uuid>,
    /// The member that instructs the applications, if any.
    pub operator: Option<Uuid>,
    /// Yearly production per kWc installed, in kWh; `None`: no production reported.
    pub yield_kwh_per_kwp: Option<u32>,
    /// For the SCDL export, when the funder's SIREN is not enough.
    pub funder_siret: Option<Siret>,
    /// What applicants will see of it in lists.
    pub title: String,
    /// Who it is for and what it funds; `None` when blank.
    pub description: Option<String>,
    /// The most its approvals may commit, in cents.
    pub envelope_cents: i64,
    /// The funder's aid for one unit, in cents.
    pub aid_per_unit_cents: i64,
    /// What one unit is, e.g. a 9 kWc solar installation.
    pub unit_label: String,
    /// The most units one application may ask for; `None`: no limit.
    pub max_units_per_application: Option<u32>,
    /// Member kinds that may apply (the members service's texts); empty: any.
    pub eligible_kinds: Vec<String>,
    /// Approved or paid applications one member may hold; `None`: no limit.
    pub max_awards_per_member: Option<u32>,
    /// Who pays a part on top of the aid; each part must come to whole cents.
    pub co_funders: Vec<CoFunder>,
    /// Applications are taken from this instant, included; `None`: at once.
    pub opens_at: Option<DateTime<Utc>>,
    /// Applications are taken until this instant, excluded; `None`: until closed.
    pub closes_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests;
