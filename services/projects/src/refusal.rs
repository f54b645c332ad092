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
        NotAMember => "NOT_A_MEMBER",
        MemberNotActive => "MEMBER_NOT_ACTIVE",
        PlaceClosed => "PLACE_CLOSED",
        PlaceUnknown => "PLACE_UNKNOWN",
        ProjectState => "PROJECT_STATE",
        ProgrammeClosed => "PROGRAMME_CLOSED",
        ProgrammeNotOpen => "PROGRAMME_NOT_OPEN",
        Ineligible => "INELIGIBLE",
        AwardLimitReached => "AWARD_LIMIT_REACHED",
        ApplicationDecided => "APPLICATION_DECIDED",
        EnvelopeExhausted => "ENVELOPE_EXHAUSTED",
        ApplicationNotApproved => "APPLICATION_NOT_APPROVED",
        PurchaseClosed => "PURCHASE_CLOSED",
        DeadlinePassed => "DEADLINE_PASSED",
        NotJoined => "NOT_JOINED",
        PurchaseState => "PURCHASE_STATE",
        EtagMismatch => "ETAG_MISMATCH",
        ConcurrentChange => "CONCURRENT_CHANGE",
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
        role: &'static str,
        member: String,
        state: Option<String>,
    },
    /// The host place is closed.
    PlaceClosed { place: String },
    /// The host place is not known from place events.
    PlaceUnknown { place: String },
    /// A project state change its current state does not allow.
    ProjectState {
        project: String,
        state: &'static str,
        to: &'static str,
    },
    /// Closing a programme that is already closed.
    ProgrammeClosed { programme: String },
    /// Applying to a programme that takes no application now.
    ProgrammeNotOpen { programme: String, why: NotOpen },
    /// The applicant's kind is not among those the programme is open to.
    Ineligible {
        applicant: String,
        kind: String,
        programme: String,
        eligible: Vec<String>,
    },
    /// The member already holds the most awards a programme gives one member. Also the
    /// reason stored when an approval is refused for it ([`Refusal::stored_reason`]).
    AwardLimitReached {
        member: String,
        max: u32,
        programme: String,
    },
    /// Only a submitted application can be `action` (approved, rejected, withdrawn):
    /// `state` is the application's, `None` when a concurrent call decided it meanwhile.
    ApplicationDecided {
        application: String,
        state: Option<&'static str>,
        action: &'static str,
    },
    /// Approving would commit more than the programme's envelope. Also the reason stored
    /// for the application, rejected for it ([`Refusal::stored_reason`]).
    EnvelopeExhausted {
        programme: String,
        aid_cents: i64,
        envelope_cents: i64,
    },
    /// Only an approved application is paid.
    ApplicationNotApproved {
        application: String,
        state: &'static str,
    },
    /// Joining or leaving a grouped purchase that is no longer open.
    PurchaseClosed {
        purchase: String,
        state: &'static str,
    },
    /// Joining a grouped purchase after its deadline.
    DeadlinePassed {
        purchase: String,
        deadline: DateTime<Utc>,
    },
    /// Leaving a grouped purchase the member has not joined.
    NotJoined { member: String, purchase: String },
    /// Closing a grouped purchase that is not OPEN, or awarding one that is not CLOSED.
    PurchaseState {
        purchase: String,
        state: &'static str,
        expected: &'static str,
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
            Refusal::PurchaseClosed { .. } => RefusalCode::PurchaseClosed,
            Refusal::DeadlinePassed { .. } => RefusalCode::DeadlinePassed,
            Refusal::NotJoined { .. } => RefusalCode::NotJoined,
            Refusal::PurchaseState { .. } => RefusalCode::PurchaseState,
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
                max,
                programme,
            } => format!("{member} already holds {max} award(s) of {programme}"),
            Refusal::ApplicationDecided {
                application,
                state,
                action,
            } => {
                let now = match state {
                    Some(state) => format!("is {}", state.to_uppercase()),
                    None => "was decided meanwhile".into(),
                };
                format!("{application} {now}: only a submitted application can be {action}")
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
            Refusal::ApplicationNotApproved { application, state } => format!(
                "{application} is {}: only an approved application is paid",
                state.to_uppercase()
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
mod tests {
    use super::*;

    #[test]
    fn the_platform_s_codes_are_listed() {
        let codes: Vec<&str> = RefusalCode::ALL.iter().map(|c| c.as_str()).collect();
        fabrique_platform::refusal::assert_lists_shared(&codes);
    }

    /// One of each refusal (and of each case its message distinguishes); over 60 lines
    /// because it is that list.
    fn one_of_each() -> Vec<Refusal> {
        let day = NaiveDate::from_ymd_opt(2027, 3, 1).expect("a date");
        vec![
            Refusal::NotAMember,
            Refusal::MemberNotActive {
                role: "applicant",
                member: "members/1".into(),
                state: Some("suspended".into()),
            },
            Refusal::MemberNotActive {
                role: "lead",
                member: "members/1".into(),
                state: None,
            },
            Refusal::PlaceClosed {
                place: "places/1".into(),
            },
            Refusal::PlaceUnknown {
                place: "places/1".into(),
            },
            Refusal::ProjectState {
                project: "projects/1".into(),
                state: "completed",
                to: "active",
            },
            Refusal::ProgrammeClosed {
                programme: "programmes/1".into(),
            },
            Refusal::ProgrammeNotOpen {
                programme: "programmes/1".into(),
                why: NotOpen::Closed,
            },
            Refusal::ProgrammeNotOpen {
                programme: "programmes/1".into(),
                why: NotOpen::OpensOn(day),
            },
            Refusal::ProgrammeNotOpen {
                programme: "programmes/1".into(),
                why: NotOpen::ClosedOn(day),
            },
            Refusal::Ineligible {
                applicant: "members/1".into(),
                kind: "association".into(),
                programme: "programmes/1".into(),
                eligible: vec!["commune".into(), "epci".into()],
            },
            Refusal::AwardLimitReached {
                member: "members/1".into(),
                max: 1,
                programme: "programmes/1".into(),
            },
            Refusal::ApplicationDecided {
                application: "programmes/1/applications/2".into(),
                state: Some("approved"),
                action: "withdrawn",
            },
            Refusal::ApplicationDecided {
                application: "programmes/1/applications/2".into(),
                state: None,
                action: "approved",
            },
            Refusal::EnvelopeExhausted {
                programme: "programmes/1".into(),
                aid_cents: 500_000,
                envelope_cents: 50_000_000,
            },
            Refusal::ApplicationNotApproved {
                application: "programmes/1/applications/2".into(),
                state: "submitted",
            },
            Refusal::PurchaseClosed {
                purchase: "groupPurchases/1".into(),
                state: "closed",
            },
            Refusal::DeadlinePassed {
                purchase: "groupPurchases/1".into(),
                deadline: DateTime::from_timestamp(1_800_000_000, 0).expect("a time"),
            },
            Refusal::NotJoined {
                member: "members/1".into(),
                purchase: "groupPurchases/1".into(),
            },
            Refusal::PurchaseState {
                purchase: "groupPurchases/1".into(),
                state: "open",
                expected: "closed",
            },
        ]
    }

    #[test]
    fn each_refusal_sends_a_listed_code_and_names_its_resource() {
        for refusal in one_of_each() {
            assert!(
                RefusalCode::ALL
                    .iter()
                    .any(|c| c.as_str() == refusal.code()),
                "{refusal:?}"
            );
            let message = refusal.message();
            assert!(
                refusal == Refusal::NotAMember || message.contains("s/1"),
                "{message}"
            );
        }
    }

    #[test]
    fn every_listed_code_is_sent_by_a_refusal() {
        let sent: Vec<&str> = one_of_each().iter().map(|r| r.code()).collect();
        for code in RefusalCode::ALL {
            let shared = fabrique_platform::refusal::Shared::CODES.contains(&code.as_str());
            assert!(
                shared || sent.contains(&code.as_str()),
                "{code:?} is listed but no refusal sends it"
            );
        }
    }

    #[test]
    fn an_exhausted_envelope_gives_the_amounts_and_is_stored_with_its_code() {
        let refusal = Refusal::EnvelopeExhausted {
            programme: "programmes/1".into(),
            aid_cents: 500_000,
            envelope_cents: 50_000_000,
        };
        assert_eq!(
            refusal.stored_reason(),
            "ENVELOPE_EXHAUSTED: the envelope of programmes/1 is exhausted: \
             5000.00 € would exceed 500000.00 €"
        );
    }

    #[test]
    fn a_decided_application_says_its_state_or_that_it_was_decided_meanwhile() {
        let decided = |state| Refusal::ApplicationDecided {
            application: "programmes/1/applications/2".into(),
            state,
            action: "withdrawn",
        };
        assert_eq!(
            decided(Some("paid")).message(),
            "programmes/1/applications/2 is PAID: only a submitted application can be withdrawn"
        );
        assert!(decided(None).message().contains("was decided meanwhile"),);
    }

    #[test]
    fn euros_have_two_decimals() {
        assert_eq!(euros(500_000), "5000.00");
        assert_eq!(euros(5), "0.05");
        assert_eq!(euros(-125), "-1.25");
    }
}
