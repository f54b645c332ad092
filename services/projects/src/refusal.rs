//! Why the projects service refuses a call that is well formed and allowed: its refusal
//! codes, listed in the proto as `fabrique.projects.v1.Refusal` (`proto.rs` maps them),
//! and each refusal's message, built here and nowhere else. Amounts in messages are
//! euros, formatted here by [`euros`] (which the domain and the SCDL export use too):
//! this module depends on no other of the crate.

use chrono::{DateTime, NaiveDate, Utc};
use fabrique_platform::refusal::Refusal as RefusalTrait;

fabrique_types::string_enum!(
    /// The codes `google.rpc.ErrorInfo.reason` carries for the projects service: its own
    /// and the platform's shared ones.
    RefusalCode {
        /// The call acts for a member and the caller's token names none.
        NotAMember => "NOT_A_MEMBER",
        /// A lead, funder, applicant, coordinator or team member is not ACTIVE, or not known here.
        MemberNotActive => "MEMBER_NOT_ACTIVE",
        /// The place hosting a project is closed.
        PlaceClosed => "PLACE_CLOSED",
        /// The place hosting a project is not known from place events.
        PlaceUnknown => "PLACE_UNKNOWN",
        /// A project state change that does not follow PROPOSED → ACTIVE → COMPLETED | ABANDONED.
        ProjectState => "PROJECT_STATE",
        /// Closing a programme that is already CLOSED.
        ProgrammeClosed => "PROGRAMME_CLOSED",
        /// Applying to a programme that is CLOSED, not yet open, or past its close date.
        ProgrammeNotOpen => "PROGRAMME_NOT_OPEN",
        /// The applicant's kind is not among those the programme is open to.
        Ineligible => "INELIGIBLE",
        /// The applicant already holds the most awards the programme gives one member.
        AwardLimitReached => "AWARD_LIMIT_REACHED",
        /// Moving an application that is not in a state the move starts from.
        ApplicationDecided => "APPLICATION_DECIDED",
        /// Approving would commit more than what remains of the programme's envelope.
        EnvelopeExhausted => "ENVELOPE_EXHAUSTED",
        /// Paying or cancelling an application that is not APPROVED.
        ApplicationNotApproved => "APPLICATION_NOT_APPROVED",
        /// Lowering an envelope below what its approvals have committed.
        EnvelopeBelowCommitted => "ENVELOPE_BELOW_COMMITTED",
        /// Cancelling an award of which a payment was recorded.
        AwardHasPayments => "AWARD_HAS_PAYMENTS",
        /// A payment above what remains to pay of the award (an advance must leave some).
        PaymentExceedsAward => "PAYMENT_EXCEEDS_AWARD",
        /// A co-funder paying for an application of which it pays no part.
        NotCoFunded => "NOT_CO_FUNDED",
        /// Joining or leaving a grouped purchase that is no longer OPEN.
        PurchaseClosed => "PURCHASE_CLOSED",
        /// Joining a grouped purchase after its deadline.
        DeadlinePassed => "DEADLINE_PASSED",
        /// Leaving a grouped purchase the member has not joined.
        NotJoined => "NOT_JOINED",
        /// Closing a grouped purchase that is not OPEN, or awarding one that is not CLOSED.
        PurchaseState => "PURCHASE_STATE",
        /// Recording attendance at, or a restitution of, a cancelled workshop session.
        SessionCancelled => "SESSION_CANCELLED",
        /// Recording attendance at a workshop session that has not begun.
        SessionNotStarted => "SESSION_NOT_STARTED",
        /// Scheduling a workshop session nobody would be expected at.
        NobodyExpected => "NOBODY_EXPECTED",
        /// Holding a workshop session in a place the registry has not published.
        PlaceNotListed => "PLACE_NOT_LISTED",
        /// The platform's: a stale etag.
        EtagMismatch => "ETAG_MISMATCH",
        /// The platform's: concurrent changes got in the way.
        ConcurrentChange => "CONCURRENT_CHANGE",
        /// The platform's: a request id another caller used.
        RequestIdReused => "REQUEST_ID_REUSED",
    }
);

/// Why a programme takes no application now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotOpen {
    /// Its state is CLOSED.
    Closed,
    /// Its `opens_at` is still to come.
    OpensOn(NaiveDate),
    /// Its `closes_at` has passed.
    ClosedOn(NaiveDate),
}

/// A refusal of the projects service, with what its message needs. Every one is a
/// FAILED_PRECONDITION.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The call acts for a member and the caller's token names none.
    NotAMember,
    /// A member the call names is not an active member as this service knows it from
    /// member events: `role` is what it would be (lead, funder, applicant…), `state` its
    /// state, `None` when the service does not know it.
    MemberNotActive {
        /// What the member would be to the call: lead, funder, applicant…
        role: &'static str,
        /// `members/{id}`.
        member: String,
        /// Its state as member events last gave it; `None` if it never heard of it.
        state: Option<String>,
    },
    /// The host place is closed.
    PlaceClosed {
        /// `places/{id}`.
        place: String,
    },
    /// The host place is not known from place events.
    PlaceUnknown {
        /// `places/{id}`.
        place: String,
    },
    /// A project state change its current state does not allow.
    ProjectState {
        /// `projects/{id}`.
        project: String,
        /// The state it is in.
        state: &'static str,
        /// The state asked for, which cannot follow it.
        to: &'static str,
    },
    /// Closing a programme that is already closed.
    ProgrammeClosed {
        /// `programmes/{id}`.
        programme: String,
    },
    /// Applying to a programme that takes no application now.
    ProgrammeNotOpen {
        /// `programmes/{id}`.
        programme: String,
        /// Closed for good, or outside its dates: the message says when it opens.
        why: NotOpen,
    },
    /// The applicant's kind is not among those the programme is open to.
    Ineligible {
        /// `members/{id}`.
        applicant: String,
        /// The applicant's kind of member, as member events gave it.
        kind: String,
        /// `programmes/{id}`.
        programme: String,
        /// The kinds of member the programme is open to.
        eligible: Vec<String>,
    },
    /// The member already holds the most awards a programme gives one member. Also the
    /// reason stored when an approval is refused for it ([`Refusal::stored_reason`]).
    AwardLimitReached {
        /// `members/{id}`, the applicant.
        member: String,
        /// What the awards are counted against: `siren:{siren}`, or `member:{id}` for a
        /// member without a SIREN.
        legal_entity: String,
        /// The programme's most awards per member.
        max: u32,
        /// `programmes/{id}`.
        programme: String,
    },
    /// The application cannot be `action` (approved, rejected, withdrawn, completed…) in
    /// its state: `state` is it, `None` when a concurrent call moved it meanwhile.
    ApplicationDecided {
        /// `programmes/{id}/applications/{id}`.
        application: String,
        /// The state it is in; `None` when a concurrent call decided it meanwhile.
        state: Option<&'static str>,
        /// What the call tried, as a past participle: approved, rejected, withdrawn.
        action: &'static str,
    },
    /// Approving would commit more than the programme's envelope. Also the reason stored
    /// for the application, rejected for it ([`Refusal::stored_reason`]).
    EnvelopeExhausted {
        /// `programmes/{id}`.
        programme: String,
        /// The aid the application asks for.
        aid_cents: i64,
        /// The programme's whole envelope, which approvals never exceed.
        envelope_cents: i64,
    },
    /// Only an approved application is paid or cancelled.
    ApplicationNotApproved {
        /// `programmes/{id}/applications/{id}`.
        application: String,
        /// The state it is in instead; `None` when a concurrent call moved it meanwhile.
        state: Option<&'static str>,
        /// What the call tried, as a past participle: paid, cancelled.
        action: &'static str,
    },
    /// An envelope may not go below what is committed.
    EnvelopeBelowCommitted {
        /// `programmes/{id}`.
        programme: String,
        /// The envelope asked for.
        envelope_cents: i64,
        /// What its approvals have committed.
        committed_cents: i64,
    },
    /// An award partly paid is not cancelled here (the funder recovers what it paid).
    AwardHasPayments {
        /// `programmes/{id}/applications/{id}`.
        application: String,
        /// What was paid of it.
        paid_cents: i64,
    },
    /// A payment above what remains to pay of the award.
    PaymentExceedsAward {
        /// `programmes/{id}/applications/{id}`.
        application: String,
        /// `advance` or `balance`.
        kind: &'static str,
        /// The payment asked for.
        amount_cents: i64,
        /// What remains to pay of the award.
        unpaid_cents: i64,
    },
    /// A co-funder paying for an application of which it pays no part (not a co-funder
    /// of the programme, or the applicant outside its territory).
    NotCoFunded {
        /// `programmes/{id}/applications/{id}`.
        application: String,
        /// `members/{id}`.
        co_funder: String,
    },
    /// Joining or leaving a grouped purchase that is no longer open.
    PurchaseClosed {
        /// `groupPurchases/{id}`.
        purchase: String,
        /// The state it is in instead of OPEN.
        state: &'static str,
    },
    /// Joining a grouped purchase after its deadline.
    DeadlinePassed {
        /// `groupPurchases/{id}`.
        purchase: String,
        /// When joining closed.
        deadline: DateTime<Utc>,
    },
    /// Leaving a grouped purchase the member has not joined.
    NotJoined {
        /// `members/{id}`.
        member: String,
        /// `groupPurchases/{id}`.
        purchase: String,
    },
    /// Closing a grouped purchase that is not OPEN, or awarding one that is not CLOSED.
    PurchaseState {
        /// `groupPurchases/{id}`.
        purchase: String,
        /// The state it is in.
        state: &'static str,
        /// The state the call needs: OPEN to close, CLOSED to award.
        expected: &'static str,
    },
    /// Recording attendance at, or a restitution of, a cancelled session.
    SessionCancelled {
        /// `workshops/{id}/sessions/{id}`.
        session: String,
    },
    /// Recording attendance before the session begins.
    SessionNotStarted {
        /// `workshops/{id}/sessions/{id}`.
        session: String,
        /// When it begins.
        start: DateTime<Utc>,
    },
    /// A session nobody would be expected at: the workshop has no team, or no team's
    /// people hold the peer group's role.
    NobodyExpected {
        /// `workshops/{id}`.
        workshop: String,
        /// The peer group's role, if the session was for one.
        peer_group: Option<String>,
    },
    /// A session place the registry has not published (proposed or suspended).
    PlaceNotListed {
        /// `places/{id}`.
        place: String,
        /// Its state, as place events last gave it.
        state: String,
    },
}

impl Refusal {
    /// The text stored as the reason of an application rejected because of this refusal
    /// (and published in its event): `CODE: message`.
    pub fn stored_reason(&self) -> String {
        format!("{}: {}", self.code(), self.message())
    }
}

impl RefusalTrait for Refusal {
    fn code(&self) -> &'static str {
        let code = match self {
            Refusal::NotAMember => RefusalCode::NotAMember,
            Refusal::MemberNotActive { .. } => RefusalCode::MemberNotActive,
            Refusal::PlaceClosed { .. } => RefusalCode::PlaceClosed,
            Refusal::PlaceUnknown { .. } => RefusalCode::PlaceUnknown,
            Refusal::ProjectState { .. } => RefusalCode::ProjectState,
            Refusal::ProgrammeClosed { .. } => RefusalCode::ProgrammeClosed,
            Refusal::ProgrammeNotOpen { .. } => RefusalCode::ProgrammeNotOpen,
            Refusal::Ineligible { .. } => RefusalCode::Ineligible,
            Refusal::AwardLimitReached { .. } => RefusalCode::AwardLimitReached,
            Refusal::ApplicationDecided { .. } => RefusalCode::ApplicationDecided,
            Refusal::EnvelopeExhausted { .. } => RefusalCode::EnvelopeExhausted,
            Refusal::ApplicationNotApproved { .. } => RefusalCode::ApplicationNotApproved,
            Refusal::EnvelopeBelowCommitted { .. } => RefusalCode::EnvelopeBelowCommitted,
            Refusal::AwardHasPayments { .. } => RefusalCode::AwardHasPayments,
            Refusal::PaymentExceedsAward { .. } => RefusalCode::PaymentExceedsAward,
            Refusal::NotCoFunded { .. } => RefusalCode::NotCoFunded,
            Refusal::PurchaseClosed { .. } => RefusalCode::PurchaseClosed,
            Refusal::DeadlinePassed { .. } => RefusalCode::DeadlinePassed,
            Refusal::NotJoined { .. } => RefusalCode::NotJoined,
            Refusal::PurchaseState { .. } => RefusalCode::PurchaseState,
            Refusal::SessionCancelled { .. } => RefusalCode::SessionCancelled,
            Refusal::SessionNotStarted { .. } => RefusalCode::SessionNotStarted,
            Refusal::NobodyExpected { .. } => RefusalCode::NobodyExpected,
            Refusal::PlaceNotListed { .. } => RefusalCode::PlaceNotListed,
        };
        code.as_str()
    }

    /// Over 60 lines: one arm per refusal, so that every message is written here and
    /// nowhere else, and read side by side.
    fn message(&self) -> String {
        match self {
            Refusal::NotAMember => {
                "this acts for a member: use a token whose subject is the member's id".into()
            }
            Refusal::MemberNotActive {
                role,
                member,
                state: Some(state),
            } => format!(
                "the {role} {member} is {}, not an active member",
                state.to_uppercase()
            ),
            Refusal::MemberNotActive {
                role,
                member,
                state: None,
            } => format!("the {role} {member} is not a member known to this service"),
            Refusal::PlaceClosed { place } => format!("{place} is closed"),
            Refusal::PlaceUnknown { place } => {
                format!("{place} is not a place known to this service")
            }
            Refusal::ProjectState { project, state, to } => format!(
                "{project} is {}: it cannot become {}",
                state.to_uppercase(),
                to.to_uppercase()
            ),
            Refusal::ProgrammeClosed { programme } => format!("{programme} is already closed"),
            Refusal::ProgrammeNotOpen { programme, why } => match why {
                NotOpen::Closed => format!("{programme} is closed"),
                NotOpen::OpensOn(day) => format!("{programme} opens on {day}"),
                NotOpen::ClosedOn(day) => format!("{programme} closed on {day}"),
            },
            Refusal::Ineligible {
                applicant,
                kind,
                programme,
                eligible,
            } => format!(
                "{applicant} is a {kind}; {programme} is open to: {}",
                eligible.join(", ")
            ),
            Refusal::AwardLimitReached {
                member,
                legal_entity,
                max,
                programme,
            } => format!(
                "{member} already holds {max} award(s) of {programme}, counted per legal \
                 entity ({legal_entity})"
            ),
            Refusal::ApplicationDecided {
                application,
                state,
                action,
            } => {
                let now = match state {
                    Some(state) => format!("is {}", state.to_uppercase()),
                    None => "was decided meanwhile".into(),
                };
                format!("{application} {now}: it cannot be {action} in that state")
            }
            Refusal::EnvelopeExhausted {
                programme,
                aid_cents,
                envelope_cents,
            } => format!(
                "the envelope of {programme} is exhausted: {} € would exceed {} €",
                euros(*aid_cents),
                euros(*envelope_cents)
            ),
            Refusal::ApplicationNotApproved {
                application,
                state,
                action,
            } => {
                let now = match state {
                    Some(state) => format!("is {}", state.to_uppercase()),
                    None => "was moved meanwhile".into(),
                };
                format!("{application} {now}: only an approved application is {action}")
            }
            Refusal::EnvelopeBelowCommitted {
                programme,
                envelope_cents,
                committed_cents,
            } => format!(
                "the envelope of {programme} cannot be {} €: {} € are committed",
                euros(*envelope_cents),
                euros(*committed_cents)
            ),
            Refusal::AwardHasPayments {
                application,
                paid_cents,
            } => format!(
                "{application} was paid {} €: an award partly paid is not cancelled",
                euros(*paid_cents)
            ),
            Refusal::PaymentExceedsAward {
                application,
                kind,
                amount_cents,
                unpaid_cents,
            } => {
                let limit = if *kind == "advance" {
                    "an advance must leave part of it for the balance"
                } else {
                    "a balance pays at most what remains"
                };
                format!(
                    "{application} has {} € left to pay: {limit}, not {} €",
                    euros(*unpaid_cents),
                    euros(*amount_cents)
                )
            }
            Refusal::NotCoFunded {
                application,
                co_funder,
            } => format!(
                "{co_funder} pays no part of {application} (not its co-funder, or the \
                 applicant is outside its territory)"
            ),
            Refusal::PurchaseClosed { purchase, state } => format!(
                "{purchase} is {}: it is no longer open",
                state.to_uppercase()
            ),
            Refusal::DeadlinePassed { purchase, deadline } => {
                format!("joining {purchase} closed at {}", deadline.to_rfc3339())
            }
            Refusal::NotJoined { member, purchase } => {
                format!("{member} has not joined {purchase}")
            }
            Refusal::PurchaseState {
                purchase,
                state,
                expected,
            } => format!(
                "{purchase} is {}, not {}",
                state.to_uppercase(),
                expected.to_uppercase()
            ),
            Refusal::SessionCancelled { session } => format!("{session} was cancelled"),
            Refusal::SessionNotStarted { session, start } => format!(
                "{session} begins at {}: attendance is recorded once it has begun",
                start.to_rfc3339()
            ),
            Refusal::NobodyExpected {
                workshop,
                peer_group: Some(role),
            } => format!("no team of {workshop} has a contact person with the role {role}"),
            Refusal::NobodyExpected {
                workshop,
                peer_group: None,
            } => format!("{workshop} has no team yet"),
            Refusal::PlaceNotListed { place, state } => format!(
                "{place} is {}: sessions are held in places the registry lists",
                state.to_uppercase()
            ),
        }
    }

    /// The facts a client shows: the aid and the envelope of an exhausted one, the
    /// limit of awards reached.
    fn metadata(&self) -> Vec<(&'static str, String)> {
        match self {
            Refusal::EnvelopeExhausted {
                aid_cents,
                envelope_cents,
                ..
            } => vec![
                ("aid_cents", aid_cents.to_string()),
                ("envelope_cents", envelope_cents.to_string()),
            ],
            Refusal::AwardLimitReached {
                max, legal_entity, ..
            } => vec![
                ("max_awards_per_member", max.to_string()),
                ("legal_entity", legal_entity.clone()),
            ],
            Refusal::EnvelopeBelowCommitted {
                envelope_cents,
                committed_cents,
                ..
            } => vec![
                ("envelope_cents", envelope_cents.to_string()),
                ("committed_cents", committed_cents.to_string()),
            ],
            Refusal::PaymentExceedsAward {
                amount_cents,
                unpaid_cents,
                ..
            } => vec![
                ("amount_cents", amount_cents.to_string()),
                ("unpaid_cents", unpaid_cents.to_string()),
            ],
            _ => Vec::new(),
        }
    }
}

/// Cents as euros with two decimals: `500000` → `"5000.00"`.
pub fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests;
