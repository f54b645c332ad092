//! Applications to a programme: what one asks and is worth, and its lifecycle —
//! SUBMITTED ⇄ TO_COMPLETE, then APPROVED | REJECTED | WITHDRAWN, APPROVED → CANCELLED |
//! PAID with advances on the way — decided by [`Application::next`] alone, the
//! instructors' opinion and notes recorded on the way.

use chrono::{DateTime, Utc};
use fabrique_types::Siret;
use uuid::Uuid;

use super::{
    ApplicationState, FundingLine, Installation, Instruction, Note, Payment, PaymentKind,
    Programme, Recommendation, Whereabouts, application_name,
};
use crate::refusal::Refusal;

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
    /// What the instructor last asked to complete.
    pub completion_request: Option<String>,
    /// The applicant's answer to it.
    pub completion_answer: Option<String>,
    /// The instructors' opinion and private notes.
    pub instruction: Instruction,
    /// What it finances, when given.
    pub installation: Option<Installation>,
    /// The grouping it was filed in, if any.
    pub grouping: Option<Uuid>,
    /// The member that filed it for its applicant (a grouping's filer), if not itself.
    pub filer: Option<Uuid>,
    /// Raised by every move; the store moves it only from the version it was read in.
    pub version: i64,
}

impl Application {
    /// Its resource name, `programmes/{p}/applications/{a}`.
    pub fn name(&self) -> String {
        application_name(self.programme, self.id)
    }

    /// A new application of `applicant` (at `place`) to `programme`, SUBMITTED, with
    /// the aid of its units and their breakdown; `None` when the amounts overflow.
    pub fn submit(
        programme: &Programme,
        applicant: Uuid,
        place: &Whereabouts,
        draft: ApplicationDraft,
        created_by: String,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let (aid_cents, breakdown) = programme.breakdown(draft.units, place)?;
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
            completion_request: None,
            completion_answer: None,
            instruction: Instruction::default(),
            installation: draft.installation,
            grouping: None,
            filer: None,
            version: 1,
        })
    }

    /// What the programme's funder paid of its aid, in cents.
    pub fn paid_cents(&self) -> i64 {
        self.paid_by(None)
    }

    /// What `co_funder` (`None`: the programme's funder) paid, in cents.
    pub fn paid_by(&self, co_funder: Option<Uuid>) -> i64 {
        self.payments
            .iter()
            .filter(|p| p.co_funder == co_funder)
            .map(|p| p.amount_cents)
            .sum()
    }

    /// `co_funder`'s part of its aid, when it pays one.
    pub fn part_of(&self, co_funder: Uuid) -> Option<i64> {
        self.breakdown
            .iter()
            .skip(1)
            .find(|line| line.funder == co_funder)
            .map(|line| line.amount_cents)
    }

    /// What `co_funder` still has to pay of its part: nothing once it paid its balance,
    /// or when the award was cancelled.
    pub fn co_unpaid_cents(&self, co_funder: Uuid) -> i64 {
        let settled = self
            .payments
            .iter()
            .any(|p| p.co_funder == Some(co_funder) && p.kind == PaymentKind::Balance);
        match (self.state.is_award(), settled, self.part_of(co_funder)) {
            (true, false, Some(part)) => part - self.paid_by(Some(co_funder)),
            _ => 0,
        }
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
    /// Over 60 lines: one arm per transition, so that every move reads in one place.
    pub fn next(
        &self,
        transition: &ApplicationTransition,
        now: DateTime<Utc>,
    ) -> Result<Application, Refusal> {
        use ApplicationState::*;
        if !transition.starts_from(self.state) {
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
            ApplicationTransition::RequestCompletion { message } => {
                next.state = ToComplete;
                next.completion_request = Some(message.clone());
                next.completion_answer = None;
            }
            ApplicationTransition::Complete { answer, purpose } => {
                next.state = Submitted;
                next.completion_answer = Some(answer.clone());
                if let Some(purpose) = purpose {
                    next.purpose = purpose.clone();
                }
            }
            ApplicationTransition::Opinion {
                recommendation,
                opinion,
                instructor,
            } => {
                next.instruction.recommendation = Some(*recommendation);
                next.instruction.opinion = Some(opinion.clone());
                next.instruction.instructor = *instructor;
                next.instruction.opinion_at = Some(now);
            }
            ApplicationTransition::Note(note) => next.instruction.notes.push(note.clone()),
            ApplicationTransition::Pay(payment) => {
                if let Some(co_funder) = payment.co_funder {
                    // A co-funder pays its own part on its own calendar; the award's
                    // state is the funder's.
                    self.check_co_payment(co_funder, payment)?;
                    next.payments.push(payment.clone());
                    return Ok(next);
                }
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

    /// Whether `co_funder`'s `payment` fits what remains of its part, as
    /// [`Self::check_payment`] for the funder.
    fn check_co_payment(&self, co_funder: Uuid, payment: &Payment) -> Result<(), Refusal> {
        if self.part_of(co_funder).is_none() {
            return Err(Refusal::NotCoFunded {
                application: self.name(),
                co_funder: crate::domain::member_name(co_funder),
            });
        }
        let unpaid = self.co_unpaid_cents(co_funder);
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

    /// What a move from `self` to `next` does to each co-funder's committed part, in
    /// cents: an approval commits the parts, a cancellation returns them, a co-funder's
    /// balance returns what it leaves unpaid of its part.
    pub fn co_committed_changes(&self, next: &Application) -> Vec<(Uuid, i64)> {
        use ApplicationState::*;
        let parts = next.breakdown.iter().skip(1);
        match (self.state, next.state) {
            (Submitted, Approved) => parts.map(|l| (l.funder, l.amount_cents)).collect(),
            (Approved, Cancelled) => parts.map(|l| (l.funder, -l.amount_cents)).collect(),
            _ => next.payments[self.payments.len().min(next.payments.len())..]
                .iter()
                .filter(|p| p.kind == PaymentKind::Balance)
                .filter_map(|p| {
                    let co_funder = p.co_funder?;
                    let part = next.part_of(co_funder)?;
                    Some((co_funder, -(part - next.paid_by(Some(co_funder)))))
                })
                .filter(|(_, change)| *change != 0)
                .collect(),
        }
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
    /// The funder records a payment, an advance or the balance; or a co-funder one of
    /// its part (the award APPROVED or PAID, its state unchanged).
    Pay(Payment),
    /// An instructor sends it back to its applicant to complete.
    RequestCompletion {
        /// What the applicant must add or correct.
        message: String,
    },
    /// The applicant completes it.
    Complete {
        /// Its answer to the request.
        answer: String,
        /// Its purpose as completed; `None` keeps it.
        purpose: Option<String>,
    },
    /// An instructor gives its opinion (the state stays).
    Opinion {
        /// What it recommends the funder to decide.
        recommendation: Recommendation,
        /// Why, in words.
        opinion: String,
        /// The instructor's member; `None` for an admin.
        instructor: Option<Uuid>,
    },
    /// An instructor adds a private note (the state stays).
    Note(Note),
}

impl ApplicationTransition {
    /// Whether it may start from `state`.
    pub fn starts_from(&self, state: ApplicationState) -> bool {
        use ApplicationState::*;
        match self {
            ApplicationTransition::Approve { .. }
            | ApplicationTransition::RequestCompletion { .. } => state == Submitted,
            ApplicationTransition::Reject { .. }
            | ApplicationTransition::Withdraw { .. }
            | ApplicationTransition::Opinion { .. } => matches!(state, Submitted | ToComplete),
            ApplicationTransition::Complete { .. } => state == ToComplete,
            ApplicationTransition::Pay(payment) if payment.co_funder.is_some() => {
                matches!(state, Approved | Paid)
            }
            ApplicationTransition::Pay(_) | ApplicationTransition::Cancel { .. } => {
                state == Approved
            }
            ApplicationTransition::Note(_) => true,
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
                    ApplicationTransition::RequestCompletion { .. } => "sent back to complete",
                    ApplicationTransition::Complete { .. } => "completed",
                    ApplicationTransition::Opinion { .. } => "given an opinion",
                    ApplicationTransition::Note(_) => "noted",
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
    /// What it finances, when given.
    pub installation: Option<Installation>,
}
