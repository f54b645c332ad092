//! What participation publishes — `fabrique.participation.process.<verb>` and
//! `fabrique.participation.proposal.<verb>`, each with a snapshot and no personal data
//! (not even authors' pseudonyms) — and what it consumes: member events (who may organise) and
//! place events (where meetings and proposals may be), kept in replicas.

use async_trait::async_trait;
use fabrique_api::participation as proto;
use fabrique_platform::consumer::{ConsumerTxn, EventHandler, HandlerError, Handling};
use fabrique_platform::event::{IncomingEvent, OutgoingEvent};
use fabrique_platform::time::timestamp;

use crate::domain::budget::Budget;
use crate::domain::comment::Comment;
use crate::domain::meeting::Meeting;
use crate::domain::{
    Process, Proposal, ProposalState, Seen, member_name, process_name, proposal_name,
};
use crate::proto::{
    Reader, budget_to_proto, comment_to_proto, meeting_to_proto, process_to_proto,
    proposal_to_proto,
};

/// A process was created (`ProcessChanged`).
pub const PROCESS_CREATED: &str = "fabrique.participation.process.created";
/// Another step became the active one (`ProcessChanged`).
pub const STEP_ACTIVATED: &str = "fabrique.participation.process.step_activated";
/// A participant published a proposal (`ProposalChanged`).
pub const PROPOSAL_PUBLISHED: &str = "fabrique.participation.proposal.published";
/// Its author withdrew it (`ProposalChanged`).
pub const PROPOSAL_WITHDRAWN: &str = "fabrique.participation.proposal.withdrawn";
/// The organiser studies it (`ProposalChanged`).
pub const PROPOSAL_EVALUATING: &str = "fabrique.participation.proposal.evaluating";
/// The organiser accepted it, with its answer (`ProposalChanged`): a consumer may turn
/// it into a project of the territory.
pub const PROPOSAL_ACCEPTED: &str = "fabrique.participation.proposal.accepted";
/// The organiser rejected it, with its answer (`ProposalChanged`).
pub const PROPOSAL_REJECTED: &str = "fabrique.participation.proposal.rejected";
/// Its supports reached the process's threshold, once (`ProposalChanged`).
pub const THRESHOLD_REACHED: &str = "fabrique.participation.proposal.threshold_reached";

/// A meeting was scheduled (`MeetingChanged`).
pub const MEETING_SCHEDULED: &str = "fabrique.participation.meeting.scheduled";
/// A meeting was cancelled (`MeetingChanged`).
pub const MEETING_CANCELLED: &str = "fabrique.participation.meeting.cancelled";
/// A meeting's minutes were published (`MeetingChanged`).
pub const MINUTES_PUBLISHED: &str = "fabrique.participation.meeting.minutes_published";

/// `subject` for `meeting` of `process`: its counts as of the change, no registrant.
pub fn meeting_changed(subject: &str, process: &Process, meeting: &Meeting) -> OutgoingEvent {
    OutgoingEvent::new(
        subject,
        meeting.name(),
        meeting.updated_at,
        &proto::MeetingChanged {
            meeting: Some(meeting_to_proto(meeting, None)),
            process: process_name(process.id),
            organiser: member_name(process.organiser),
            occurred_at: Some(timestamp(meeting.updated_at)),
        },
    )
}

/// A participant commented (`CommentChanged`).
pub const COMMENT_PUBLISHED: &str = "fabrique.participation.comment.published";
/// Reports hid a comment until the organiser decides (`CommentChanged`).
pub const COMMENT_HIDDEN: &str = "fabrique.participation.comment.hidden";
/// The organiser restored it (`CommentChanged`).
pub const COMMENT_RESTORED: &str = "fabrique.participation.comment.restored";
/// The organiser removed it (`CommentChanged`).
pub const COMMENT_REMOVED: &str = "fabrique.participation.comment.removed";

/// `subject` for `comment` of `process`, as the public reads it but for its author's
/// pseudonym: a stream keeps its events for weeks, and an erased participant's
/// pseudonym must not outlive the erasure there.
pub fn comment_changed(subject: &str, process: &Process, comment: &Comment) -> OutgoingEvent {
    OutgoingEvent::new(
        subject,
        comment.name(),
        comment.updated_at,
        &proto::CommentChanged {
            comment: Some(proto::Comment {
                author_display_name: String::new(),
                ..comment_to_proto(comment, Reader::default())
            }),
            proposal: proposal_name(comment.process, comment.proposal),
            organiser: member_name(process.organiser),
            occurred_at: Some(timestamp(comment.updated_at)),
        },
    )
}

/// A participatory budget opened (`BudgetChanged`).
pub const BUDGET_OPENED: &str = "fabrique.participation.budget.opened";
/// Its vote closed: the results, winners selected (`BudgetChanged`).
pub const BUDGET_CLOSED: &str = "fabrique.participation.budget.closed";

/// `subject` for `budget` of `process`, as of `at`.
pub fn budget_changed(
    subject: &str,
    process: &Process,
    budget: &Budget,
    at: chrono::DateTime<chrono::Utc>,
) -> OutgoingEvent {
    OutgoingEvent::new(
        subject,
        budget.name(),
        at,
        &proto::BudgetChanged {
            budget: Some(budget_to_proto(budget)),
            process: process_name(process.id),
            organiser: member_name(process.organiser),
            occurred_at: Some(timestamp(at)),
        },
    )
}

/// `subject` for `process`.
pub fn process_changed(subject: &str, process: &Process) -> OutgoingEvent {
    OutgoingEvent::new(
        subject,
        process_name(process.id),
        process.updated_at,
        &proto::ProcessChanged {
            process: Some(process_to_proto(process)),
            occurred_at: Some(timestamp(process.updated_at)),
        },
    )
}

/// `subject` for `proposal` of `process`, as of `at`, without its author's pseudonym
/// (as `comment_changed`).
pub fn proposal_changed(
    subject: &str,
    process: &Process,
    proposal: &Proposal,
    at: chrono::DateTime<chrono::Utc>,
) -> OutgoingEvent {
    OutgoingEvent::new(
        subject,
        proposal.name(),
        at,
        &proto::ProposalChanged {
            proposal: Some(proto::Proposal {
                author_display_name: String::new(),
                ..proposal_to_proto(proposal, process.support_threshold, Seen::default())
            }),
            process: process_name(process.id),
            organiser: member_name(process.organiser),
            territory: process.territory.clone(),
            occurred_at: Some(timestamp(at)),
        },
    )
}

/// The subject of an answer moving a proposal to `state`.
pub fn answered(state: ProposalState) -> &'static str {
    match state {
        ProposalState::Accepted => PROPOSAL_ACCEPTED,
        ProposalState::Rejected => PROPOSAL_REJECTED,
        _ => PROPOSAL_EVALUATING,
    }
}

/// Keeps the member replica: organisers must be active members.
pub struct MemberEvents;

#[async_trait]
impl EventHandler for MemberEvents {
    async fn handle(&self, txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
        fabrique_replicas::members::handle(txn, event, |_| false, |_, _| async { Ok(()) }).await
    }

    async fn handle_all(
        &self,
        txn: &ConsumerTxn,
        events: &[Handling<'_>],
    ) -> Result<(), HandlerError> {
        fabrique_replicas::members::handle_all(txn, events, |_| false, |_, _| async { Ok(()) })
            .await
    }
}

/// Keeps the place replica: proposals and meetings name listed, open places.
pub struct PlaceEvents;

#[async_trait]
impl EventHandler for PlaceEvents {
    async fn handle(&self, txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
        fabrique_replicas::places::keep(txn, &[event]).await
    }

    async fn handle_all(
        &self,
        txn: &ConsumerTxn,
        events: &[Handling<'_>],
    ) -> Result<(), HandlerError> {
        let all: Vec<&IncomingEvent> = events.iter().map(|h| h.event).collect();
        fabrique_replicas::places::keep(txn, &all).await
    }
}
