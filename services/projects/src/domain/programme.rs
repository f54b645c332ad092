//! Funding programmes and their applications: the envelope, the aid per unit and each
//! co-funder's part in whole cents, who may apply and when, and two lifecycles — a
//! programme's OPEN → CLOSED ([`Programme::next`]) and an application's SUBMITTED →
//! APPROVED | REJECTED | WITHDRAWN, APPROVED → CANCELLED | PAID, with advances paid on
//! the way ([`Application::next`]). The envelope itself is held by the store, under
//! concurrency; here is what one award is worth and what it may still be paid.

mod budget;

pub use budget::{CoFunder, EnvelopeChange, FundingLine, Payment, PaymentKind, legal_entity};

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

    /// The aid of `units` and who pays it: the programme's funder, then each co-funder,
    /// in whole cents; `None` on overflow.
    pub fn breakdown(&self, units: u32) -> Option<(i64, Vec<FundingLine>)> {
        let units = i64::from(units);
        let aid = self.aid_per_unit_cents.checked_mul(units)?;
        let mut lines = vec![FundingLine {
            funder: self.funder,
            amount_cents: aid,
            note: None,
        }];
        for co in &self.co_funders {
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

// ---------------------------------------------------------------------------
// Applications
// ---------------------------------------------------------------------------

/// A member's application to a programme, with the aid it would receive.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    /// Named `programmes/{programme}/applications/{id}` in the contract.
    pub id: Uuid,
    /// The programme it applies to, whose envelope its aid is committed against.
    pub programme: Uuid,
    /// The member that applies (the caller's own: no one applies for another).
    pub applicant: Uuid,
    /// A project of this service the aid is for.
    pub project: Option<Uuid>,
    /// How many units of the programme's aid it asks for, at least 1.
    pub units: u32,
    /// What the aid is for, in words; the SCDL export's `objet`.
    pub purpose: String,
    /// The SIRET the SCDL export names as the beneficiary, when its SIREN is not enough.
    pub beneficiary_siret: Option<Siret>,
    /// The programme's aid for `units`, fixed when submitted.
    pub aid_cents: i64,
    /// Who pays what: the funder's aid, then each co-funder's part.
    pub breakdown: Vec<FundingLine>,
    /// Where it stands; changed only by [`Application::next`].
    pub state: ApplicationState,
    /// Why it was rejected or withdrawn.
    pub state_reason: Option<String>,
    /// The token subject that created it (a replayed create must come from it).
    pub created_by: String,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When it was approved or rejected (a withdrawal is not a decision).
    pub decided_at: Option<DateTime<Utc>>,
    /// When the funder recorded the balance; `None` until PAID.
    pub paid_at: Option<DateTime<Utc>>,
    /// The legal entity its award counts against ([`legal_entity`]), set on approval.
    pub legal_entity: Option<String>,
    /// What was paid of its aid, oldest first: advances, then the balance.
    pub payments: Vec<Payment>,
    /// Raised by every move; the store moves it only from the version it was read in.
    pub version: i64,
}

impl Application {
    /// Its resource name, `programmes/{p}/applications/{a}`.
    pub fn name(&self) -> String {
        application_name(self.programme, self.id)
    }

    /// A new application of `applicant` to `programme`, SUBMITTED, with the aid of its
    /// units and their breakdown; `None` when the amounts overflow.
    pub fn submit(
        programme: &Programme,
        applicant: Uuid,
        draft: ApplicationDraft,
        created_by: String,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let (aid_cents, breakdown) = programme.breakdown(draft.units)?;
        Some(Application {
            id: Uuid::now_v7(),
            programme: programme.id,
            applicant,
            project: draft.project,
            units: draft.units,
            purpose: draft.purpose,
            beneficiary_siret: draft.beneficiary_siret,
            aid_cents,
            breakdown,
            state: ApplicationState::Submitted,
            state_reason: None,
            created_by,
            created_at: now,
            decided_at: None,
            paid_at: None,
            legal_entity: None,
            payments: Vec::new(),
            version: 1,
        })
    }

    /// What its payments add up to, in cents.
    pub fn paid_cents(&self) -> i64 {
        self.payments.iter().map(|p| p.amount_cents).sum()
    }

    /// What remains to pay of its aid, in cents (nothing once PAID or CANCELLED).
    pub fn unpaid_cents(&self) -> i64 {
        match self.state {
            ApplicationState::Approved => self.aid_cents - self.paid_cents(),
            _ => 0,
        }
    }

    /// The application after `transition` at `now`, or why its state does not allow it:
    /// the one place an application's lifecycle is decided (SUBMITTED → APPROVED |
    /// REJECTED | WITHDRAWN, APPROVED → CANCELLED | PAID, advances keeping it APPROVED).
    pub fn next(
        &self,
        transition: &ApplicationTransition,
        now: DateTime<Utc>,
    ) -> Result<Application, Refusal> {
        use ApplicationState::*;
        let from = transition.from();
        if self.state != from {
            return Err(transition.refused(self, false));
        }
        let mut next = self.clone();
        next.version += 1;
        match transition {
            ApplicationTransition::Approve { legal_entity } => {
                next.state = Approved;
                next.decided_at = Some(now);
                next.legal_entity = Some(legal_entity.clone());
            }
            ApplicationTransition::Reject { reason } => {
                next.state = Rejected;
                next.state_reason = Some(reason.clone());
                next.decided_at = Some(now);
            }
            ApplicationTransition::Withdraw { reason } => {
                next.state = Withdrawn;
                next.state_reason = Some(reason.clone());
            }
            ApplicationTransition::Cancel { reason } => {
                if !self.payments.is_empty() {
                    return Err(Refusal::AwardHasPayments {
                        application: self.name(),
                        paid_cents: self.paid_cents(),
                    });
                }
                next.state = Cancelled;
                next.state_reason = Some(reason.clone());
            }
            ApplicationTransition::Pay(payment) => {
                self.check_payment(payment)?;
                next.payments.push(payment.clone());
                if payment.kind == PaymentKind::Balance {
                    next.state = Paid;
                    next.paid_at = Some(now);
                }
            }
        }
        Ok(next)
    }

    /// Whether `payment` fits what remains to pay: an advance leaves something (the last
    /// payment is the balance), a balance pays at most what remains.
    fn check_payment(&self, payment: &Payment) -> Result<(), Refusal> {
        let unpaid = self.unpaid_cents();
        let fits = match payment.kind {
            PaymentKind::Advance => payment.amount_cents < unpaid,
            PaymentKind::Balance => payment.amount_cents <= unpaid,
        };
        if fits {
            return Ok(());
        }
        Err(Refusal::PaymentExceedsAward {
            application: self.name(),
            kind: payment.kind.as_str(),
            amount_cents: payment.amount_cents,
            unpaid_cents: unpaid,
        })
    }

    /// What a move from `self` to `next` does to the programme's committed total, in
    /// cents: an approval commits the aid; a cancellation returns it, and a balance
    /// returns what the award leaves unpaid.
    pub fn committed_change(&self, next: &Application) -> i64 {
        use ApplicationState::*;
        match (self.state, next.state) {
            (Submitted, Approved) => next.aid_cents,
            (Approved, Cancelled) => -self.unpaid_cents(),
            (Approved, Paid) => -(self.aid_cents - next.paid_cents()),
            _ => 0,
        }
    }
}

/// What can happen to an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplicationTransition {
    /// The funder commits the aid, counted against the applicant's legal entity.
    Approve {
        /// [`legal_entity`] of the applicant as the member register gives it now.
        legal_entity: String,
    },
    /// The funder refuses it, or the envelope or the member's limit did.
    Reject {
        /// Kept as its state reason: the funder's words, or the refusal's code and message.
        reason: String,
    },
    /// The applicant takes it back, or it left the alliance.
    Withdraw {
        /// Kept as its state reason and sent with the event.
        reason: String,
    },
    /// The funder gives up an award before paying any of it (the applicant renounced,
    /// the work will not be done): its aid returns to the envelope.
    Cancel {
        /// Kept as its state reason and sent with the event.
        reason: String,
    },
    /// The funder records a payment: an advance, or the balance.
    Pay(Payment),
}

impl ApplicationTransition {
    /// The only state it starts from.
    pub fn from(&self) -> ApplicationState {
        match self {
            ApplicationTransition::Pay(_) | ApplicationTransition::Cancel { .. } => {
                ApplicationState::Approved
            }
            _ => ApplicationState::Submitted,
        }
    }

    /// Why `application` cannot go through it: its state, or, when it still reads as
    /// allowed (`raced`), a concurrent call that moved it first.
    pub fn refused(&self, application: &Application, raced: bool) -> Refusal {
        match self {
            ApplicationTransition::Pay(_) | ApplicationTransition::Cancel { .. } => {
                Refusal::ApplicationNotApproved {
                    application: application.name(),
                    state: (!raced).then_some(application.state.as_str()),
                    action: match self {
                        ApplicationTransition::Cancel { .. } => "cancelled",
                        _ => "paid",
                    },
                }
            }
            other => Refusal::ApplicationDecided {
                application: application.name(),
                state: (!raced).then_some(application.state.as_str()),
                action: match other {
                    ApplicationTransition::Approve { .. } => "approved",
                    ApplicationTransition::Reject { .. } => "rejected",
                    _ => "withdrawn",
                },
            },
        }
    }
}

/// What a new application is made of (its programme and applicant come from the
/// request's parent and the caller).
#[derive(Debug, Clone)]
pub struct ApplicationDraft {
    /// A project of this service the aid is for, if any.
    pub project: Option<Uuid>,
    /// How many units of the programme's aid it asks for, at least 1.
    pub units: u32,
    /// What the aid is for; 1 to 500 characters.
    pub purpose: String,
    /// For the SCDL export, when the applicant's SIREN is not enough.
    pub beneficiary_siret: Option<Siret>,
}

#[cfg(test)]
mod tests;
