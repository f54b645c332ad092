//! Why participation refuses a call that is well formed and allowed: its refusal codes,
//! listed in the proto as `fabrique.participation.v1.Refusal` (`proto.rs` maps them), and
//! each refusal's message, built here and nowhere else.

use fabrique_platform::refusal::Refusal as RefusalTrait;

fabrique_types::string_enum!(
    /// The codes `google.rpc.ErrorInfo.reason` carries for participation: its own and
    /// the platform's shared ones (each described in the proto and in the service's
    /// README.md).
    RefusalCode {
        /// The organiser is not an active member as this service knows it.
        OrganiserNotActive => "ORGANISER_NOT_ACTIVE",
        /// The caller has not registered as a participant.
        NotAParticipant => "NOT_A_PARTICIPANT",
        /// The active step does not open the action.
        StepClosed => "STEP_CLOSED",
        /// The process counts verified participants only.
        ParticipantNotVerified => "PARTICIPANT_NOT_VERIFIED",
        /// The caller supports as many proposals as the process allows.
        SupportLimitReached => "SUPPORT_LIMIT_REACHED",
        /// The proposal's state does not allow the call.
        ProposalState => "PROPOSAL_STATE",
        /// Withdrawing a proposal someone supports.
        ProposalHasSupports => "PROPOSAL_HAS_SUPPORTS",
        /// The meeting's place is not LISTED.
        PlaceNotListed => "PLACE_NOT_LISTED",
        /// The meeting was cancelled.
        MeetingCancelled => "MEETING_CANCELLED",
        /// The meeting has begun.
        MeetingStarted => "MEETING_STARTED",
        /// The meeting has not ended.
        MeetingNotEnded => "MEETING_NOT_ENDED",
        /// Too many comments in the window.
        CommentRateLimited => "COMMENT_RATE_LIMITED",
        /// The comment does not allow it.
        CommentState => "COMMENT_STATE",
        /// The budget is closed.
        BudgetClosed => "BUDGET_CLOSED",
        /// One ballot per participant and budget.
        AlreadyVoted => "ALREADY_VOTED",
        /// A ballot over the envelope.
        BallotOverEnvelope => "BALLOT_OVER_ENVELOPE",
        /// A ballot under the minimum share.
        BallotUnderMinimum => "BALLOT_UNDER_MINIMUM",
        /// The platform's: a stale etag.
        EtagMismatch => "ETAG_MISMATCH",
        /// The platform's: concurrent changes got in the way.
        ConcurrentChange => "CONCURRENT_CHANGE",
        /// The platform's: a request id another caller used.
        RequestIdReused => "REQUEST_ID_REUSED",
    }
);

/// A refusal of participation, with what its message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The organiser named in `field` is not an active member: `state` is its state,
    /// `None` when this service does not know it.
    OrganiserNotActive {
        /// The request field naming it.
        field: String,
        /// `members/{id}`.
        organiser: String,
        /// Its state in the member replica, if there.
        state: Option<String>,
    },
    /// The caller has no participant record.
    NotAParticipant,
    /// The active step (its title, if one is active) does not open `action`.
    StepClosed {
        /// `processes/{id}`.
        process: String,
        /// `propose`, `support`, `comment`, `vote`.
        action: &'static str,
        /// The active step's title.
        step: Option<String>,
    },
    /// Only participants `organiser` verified take part in supports and votes.
    NotVerified {
        /// `processes/{id}`.
        process: String,
        /// `members/{id}`.
        organiser: String,
    },
    /// The caller supports `limit` proposals of `process` already.
    SupportLimit {
        /// `processes/{id}`.
        process: String,
        /// The process's limit.
        limit: u32,
    },
    /// The proposal's state does not allow it.
    ProposalState {
        /// Its name.
        proposal: String,
        /// Its state.
        state: &'static str,
        /// The rule, in words.
        rule: &'static str,
    },
    /// A meeting's place is not LISTED: `state` as place events told it, `None` when
    /// unknown.
    PlaceNotListed {
        /// `places/{id}`.
        place: String,
        /// Its state.
        state: Option<String>,
    },
    /// The meeting was cancelled.
    MeetingCancelled {
        /// Its name.
        meeting: String,
    },
    /// The meeting has begun.
    MeetingStarted {
        /// Its name.
        meeting: String,
    },
    /// Minutes come after the meeting ends.
    MeetingNotEnded {
        /// Its name.
        meeting: String,
        /// When it ends.
        end: chrono::DateTime<chrono::Utc>,
    },
    /// The caller commented as often as the window allows, until `retry_after`.
    CommentRateLimited {
        /// When they may comment again.
        retry_after: chrono::DateTime<chrono::Utc>,
    },
    /// The comment (or its proposal) does not allow it.
    CommentState {
        /// The comment's (or proposal's) name.
        comment: String,
        /// The rule, in words.
        rule: &'static str,
    },
    /// The budget is closed.
    BudgetClosed {
        /// Its name.
        budget: String,
    },
    /// The caller voted already.
    AlreadyVoted {
        /// The budget's name.
        budget: String,
    },
    /// The items cost more than the envelope.
    OverEnvelope {
        /// The budget's name.
        budget: String,
        /// What they cost.
        total_cents: i64,
        /// The envelope.
        envelope_cents: i64,
    },
    /// The items cost less than the minimum share.
    UnderMinimum {
        /// The budget's name.
        budget: String,
        /// What they cost.
        total_cents: i64,
        /// The minimum.
        minimum_cents: i64,
    },
    /// A supported proposal is not withdrawn: its supporters would lose what they
    /// backed.
    HasSupports {
        /// Its name.
        proposal: String,
        /// How many support it.
        supports: u32,
    },
}

impl RefusalTrait for Refusal {
    fn status(&self) -> tonic::Code {
        match self {
            Refusal::CommentRateLimited { .. } => tonic::Code::ResourceExhausted,
            Refusal::AlreadyVoted { .. } => tonic::Code::AlreadyExists,
            _ => tonic::Code::FailedPrecondition,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Refusal::OrganiserNotActive { .. } => RefusalCode::OrganiserNotActive,
            Refusal::NotAParticipant => RefusalCode::NotAParticipant,
            Refusal::StepClosed { .. } => RefusalCode::StepClosed,
            Refusal::NotVerified { .. } => RefusalCode::ParticipantNotVerified,
            Refusal::SupportLimit { .. } => RefusalCode::SupportLimitReached,
            Refusal::ProposalState { .. } => RefusalCode::ProposalState,
            Refusal::HasSupports { .. } => RefusalCode::ProposalHasSupports,
            Refusal::PlaceNotListed { .. } => RefusalCode::PlaceNotListed,
            Refusal::MeetingCancelled { .. } => RefusalCode::MeetingCancelled,
            Refusal::MeetingStarted { .. } => RefusalCode::MeetingStarted,
            Refusal::MeetingNotEnded { .. } => RefusalCode::MeetingNotEnded,
            Refusal::CommentRateLimited { .. } => RefusalCode::CommentRateLimited,
            Refusal::CommentState { .. } => RefusalCode::CommentState,
            Refusal::BudgetClosed { .. } => RefusalCode::BudgetClosed,
            Refusal::AlreadyVoted { .. } => RefusalCode::AlreadyVoted,
            Refusal::OverEnvelope { .. } => RefusalCode::BallotOverEnvelope,
            Refusal::UnderMinimum { .. } => RefusalCode::BallotUnderMinimum,
        }
        .as_str()
    }

    /// Over 60 lines: one message per refusal, in one `match`.
    fn message(&self) -> String {
        match self {
            Refusal::OrganiserNotActive {
                field,
                organiser,
                state: Some(state),
            } => format!(
                "{field}: {organiser} is {}, not an active member",
                state.to_uppercase()
            ),
            Refusal::OrganiserNotActive {
                field,
                organiser,
                state: None,
            } => format!("{field}: {organiser} is not a member known to participation"),
            Refusal::NotAParticipant => {
                "register as a participant first (RegisterParticipant)".into()
            }
            Refusal::StepClosed {
                process,
                action,
                step: Some(step),
            } => format!("{process}: its active step \"{step}\" does not open {action}"),
            Refusal::StepClosed {
                process, action, ..
            } => format!("{process} has no active step yet: {action} is not open"),
            Refusal::NotVerified { process, organiser } => {
                format!("{process} counts only participants whose residence {organiser} verified")
            }
            Refusal::SupportLimit { process, limit } => format!(
                "{process} lets each participant support {limit} proposals: withdraw a support first"
            ),
            Refusal::ProposalState {
                proposal,
                state,
                rule,
            } => format!("{proposal} is {}: {rule}", state.to_uppercase()),
            Refusal::HasSupports { proposal, supports } => {
                format!("{proposal} has {supports} supports: a supported proposal is not withdrawn")
            }
            Refusal::PlaceNotListed {
                place,
                state: Some(state),
            } => format!(
                "{place} is {}: a meeting takes place in a LISTED place",
                state.to_uppercase()
            ),
            Refusal::PlaceNotListed { place, state: None } => {
                format!("{place} is not a place known from the registry's events")
            }
            Refusal::MeetingCancelled { meeting } => format!("{meeting} was cancelled"),
            Refusal::MeetingStarted { meeting } => {
                format!("{meeting} has begun: registrations are closed")
            }
            Refusal::CommentRateLimited { retry_after } => format!(
                "at most 5 comments in 10 minutes: comment again from {}",
                retry_after.to_rfc3339()
            ),
            Refusal::CommentState { comment, rule } => format!("{comment}: {rule}"),
            Refusal::BudgetClosed { budget } => format!("{budget} is CLOSED: its vote is over"),
            Refusal::AlreadyVoted { budget } => {
                format!("one ballot per participant: yours in {budget} is cast")
            }
            Refusal::OverEnvelope {
                budget,
                total_cents,
                envelope_cents,
            } => format!(
                "{budget}: the items chosen cost {total_cents} cents, over the envelope of {envelope_cents}"
            ),
            Refusal::UnderMinimum {
                budget,
                total_cents,
                minimum_cents,
            } => format!(
                "{budget}: the items chosen cost {total_cents} cents; a ballot reaches at least {minimum_cents}"
            ),
            Refusal::MeetingNotEnded { meeting, end } => {
                format!(
                    "{meeting} ends at {}: its minutes come after",
                    end.to_rfc3339()
                )
            }
        }
    }

    fn metadata(&self) -> Vec<(&'static str, String)> {
        match self {
            Refusal::StepClosed { action, .. } => vec![("action", action.to_string())],
            Refusal::SupportLimit { limit, .. } => vec![("limit", limit.to_string())],
            Refusal::ProposalState { state, .. } => vec![("state", state.to_uppercase())],
            Refusal::CommentRateLimited { retry_after } => {
                vec![("retry_after", retry_after.to_rfc3339())]
            }
            Refusal::OverEnvelope {
                total_cents,
                envelope_cents,
                ..
            } => vec![
                ("total_cents", total_cents.to_string()),
                ("envelope_cents", envelope_cents.to_string()),
            ],
            Refusal::UnderMinimum {
                total_cents,
                minimum_cents,
                ..
            } => vec![
                ("total_cents", total_cents.to_string()),
                ("minimum_cents", minimum_cents.to_string()),
            ],
            Refusal::PlaceNotListed { state, .. } => vec![(
                "state",
                state.as_deref().unwrap_or("unknown").to_uppercase(),
            )],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_s_codes_are_listed() {
        let codes: Vec<&str> = RefusalCode::ALL.iter().map(|c| c.as_str()).collect();
        fabrique_platform::refusal::assert_lists_shared(&codes);
    }
}
