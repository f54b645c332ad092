//! What the projects service publishes — `fabrique.projects.{project,programme,
//! application,group_purchase,workshop}.<verb>` — and what it consumes: member events
//! (kept in `member_replica`, with kinds for eligibility and contact roles for workshop
//! teams; a member that leaves has its submitted applications withdrawn and leaves the
//! open grouped purchases, each with an event; awarded aid stays), place events, and
//! the citizens' proposals an organiser accepted (each becomes a project, once).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fabrique_api::projects as proto;
use fabrique_platform::consumer::{ConsumerTxn, EventHandler, HandlerError, Handling};
use fabrique_platform::event::{IncomingEvent, OutgoingEvent};
use fabrique_platform::outbox;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::timestamp;
use fabrique_replicas::members::Change;
use uuid::Uuid;

use crate::domain::{
    Application, ApplicationState, ApplicationTransition, GroupPurchase, GroupPurchaseTransition,
    Programme, Project, Restitution, Session, Venue, Workshop, member_name, session_name,
};
use crate::proto::lots_to_proto;
use crate::store;

/// A project was proposed.
pub const PROJECT_CREATED: &str = "fabrique.projects.project.created";
/// A project's fields changed; the event lists which.
pub const PROJECT_UPDATED: &str = "fabrique.projects.project.updated";
/// A project moved in its lifecycle.
pub const PROJECT_STATE_CHANGED: &str = "fabrique.projects.project.state_changed";
/// A programme was created, OPEN.
pub const PROGRAMME_OPENED: &str = "fabrique.projects.programme.opened";
/// A programme stopped taking applications.
pub const PROGRAMME_CLOSED: &str = "fabrique.projects.programme.closed";
/// A programme's envelope changed by a deliberation of its funder.
pub const PROGRAMME_ENVELOPE_CHANGED: &str = "fabrique.projects.programme.envelope_changed";
/// An application was submitted (its aid not yet committed).
pub const APPLICATION_SUBMITTED: &str = "fabrique.projects.application.submitted";
/// An application was approved: its aid is committed within the envelope.
pub const APPLICATION_APPROVED: &str = "fabrique.projects.application.approved";
/// An application was rejected, by the funder or by the envelope or award limit.
pub const APPLICATION_REJECTED: &str = "fabrique.projects.application.rejected";
/// An application was withdrawn, by its applicant or because it left the alliance.
pub const APPLICATION_WITHDRAWN: &str = "fabrique.projects.application.withdrawn";
/// An award was cancelled before any payment: its aid is back in the envelope.
pub const APPLICATION_CANCELLED: &str = "fabrique.projects.application.cancelled";
/// An advance of an award was paid; the award stays approved.
pub const APPLICATION_ADVANCE_PAID: &str = "fabrique.projects.application.advance_paid";
/// An award's balance was paid: it is paid, and what it left unpaid is back in the
/// envelope.
pub const APPLICATION_PAID: &str = "fabrique.projects.application.paid";
/// A co-funder paid (part of) its part of an award; the award's state is unchanged.
pub const APPLICATION_CO_FUNDER_PAID: &str = "fabrique.projects.application.co_funder_paid";
/// An instructor sent an application back to its applicant to complete.
pub const APPLICATION_COMPLETION_REQUESTED: &str =
    "fabrique.projects.application.completion_requested";
/// The applicant completed it: submitted again.
pub const APPLICATION_COMPLETED: &str = "fabrique.projects.application.completed";
/// An instructor recorded an opinion or a note (their texts stay out of events).
pub const APPLICATION_INSTRUCTED: &str = "fabrique.projects.application.instructed";
/// A grouped purchase was opened.
pub const PURCHASE_OPENED: &str = "fabrique.projects.group_purchase.opened";
/// A member put its sites in a grouped purchase (or replaced them).
pub const PURCHASE_JOINED: &str = "fabrique.projects.group_purchase.joined";
/// A member took its sites out of a grouped purchase, or left the alliance.
pub const PURCHASE_LEFT: &str = "fabrique.projects.group_purchase.left";
/// A grouped purchase stopped taking participations.
pub const PURCHASE_CLOSED: &str = "fabrique.projects.group_purchase.closed";
/// A grouped purchase was awarded to a supplier.
pub const PURCHASE_AWARDED: &str = "fabrique.projects.group_purchase.awarded";
/// A peer workshop was created.
pub const WORKSHOP_CREATED: &str = "fabrique.projects.workshop.created";
/// A lead set its team in a workshop.
pub const WORKSHOP_TEAM_SET: &str = "fabrique.projects.workshop.team_set";
/// An admin named who runs a workshop.
pub const WORKSHOP_CO_PILOTS_SET: &str = "fabrique.projects.workshop.co_pilots_set";
/// A co-pilot scheduled a session.
pub const SESSION_SCHEDULED: &str = "fabrique.projects.workshop.session_scheduled";
/// A co-pilot cancelled a session.
pub const SESSION_CANCELLED: &str = "fabrique.projects.workshop.session_cancelled";
/// A co-pilot recorded who attended a session.
pub const ATTENDANCE_RECORDED: &str = "fabrique.projects.workshop.attendance_recorded";
/// A team, a peer group or a co-pilot wrote what a session produced.
pub const RESTITUTION_ADDED: &str = "fabrique.projects.workshop.restitution_added";
/// A co-pilot made a restitution public.
pub const RESTITUTION_PUBLISHED: &str = "fabrique.projects.workshop.restitution_published";

/// A project's event: its state and version after the change, with the fields changed.
pub fn project(subject: &str, p: &Project, changed_fields: Vec<String>) -> OutgoingEvent {
    let message = proto::ProjectChanged {
        project: p.name(),
        lead: member_name(p.lead),
        title: p.title.clone(),
        state: p.state.to_proto_i32(),
        changed_fields,
        occurred_at: Some(timestamp(p.updated_at)),
        version: p.version,
    };
    OutgoingEvent::new(subject, p.name(), p.updated_at, &message)
}

/// A programme's event, with its envelope and what it has committed; an envelope
/// change's event carries the change.
pub fn programme(subject: &str, p: &Programme) -> OutgoingEvent {
    let envelope_change = (subject == PROGRAMME_ENVELOPE_CHANGED)
        .then(|| p.envelope_changes.last().map(Into::into))
        .flatten();
    let message = proto::ProgrammeChanged {
        envelope_change,
        programme: p.name(),
        funder: member_name(p.funder),
        envelope_cents: p.envelope_cents,
        committed_cents: p.committed_cents,
        state: p.state.to_proto_i32(),
        occurred_at: Some(timestamp(p.updated_at)),
        title: p.title.clone(),
    };
    OutgoingEvent::new(subject, p.name(), p.updated_at, &message)
}

/// An application's event, on the subject of the state it is in (submitted, approved,
/// rejected, withdrawn, cancelled or paid; `advance_paid` for an approved one with a
/// payment, which only an advance gives it), with its aid, breakdown, what was paid and
/// the programme's committed total, which the caller reads in the transaction that
/// writes the change.
pub fn application(a: &Application, programme_committed_cents: i64) -> OutgoingEvent {
    application_on(subject_of(a), a, programme_committed_cents)
}

/// The event of `a` after `transition`: a completion, an opinion or a note has its own
/// subject; the other moves, their state's.
pub fn application_after(
    transition: &ApplicationTransition,
    a: &Application,
    programme_committed_cents: i64,
) -> OutgoingEvent {
    let subject = match transition {
        ApplicationTransition::Complete { .. } => APPLICATION_COMPLETED,
        ApplicationTransition::Opinion { .. } | ApplicationTransition::Note(_) => {
            APPLICATION_INSTRUCTED
        }
        ApplicationTransition::Pay(payment) if payment.co_funder.is_some() => {
            APPLICATION_CO_FUNDER_PAID
        }
        _ => subject_of(a),
    };
    application_on(subject, a, programme_committed_cents)
}

/// The subject of the state `a` is in.
fn subject_of(a: &Application) -> &'static str {
    match a.state {
        ApplicationState::Submitted => APPLICATION_SUBMITTED,
        ApplicationState::Approved if a.paid_cents() == 0 => APPLICATION_APPROVED,
        ApplicationState::Approved => APPLICATION_ADVANCE_PAID,
        ApplicationState::Rejected => APPLICATION_REJECTED,
        ApplicationState::Withdrawn => APPLICATION_WITHDRAWN,
        ApplicationState::Cancelled => APPLICATION_CANCELLED,
        ApplicationState::Paid => APPLICATION_PAID,
        ApplicationState::ToComplete => APPLICATION_COMPLETION_REQUESTED,
    }
}

/// `a`'s event on `subject`.
fn application_on(
    subject: &'static str,
    a: &Application,
    programme_committed_cents: i64,
) -> OutgoingEvent {
    let payment = match subject {
        APPLICATION_ADVANCE_PAID | APPLICATION_PAID | APPLICATION_CO_FUNDER_PAID => {
            a.payments.last().map(Into::into)
        }
        _ => None,
    };
    let at = fabrique_platform::time::now();
    let message = proto::ApplicationChanged {
        application: a.name(),
        programme: crate::domain::name("programmes", a.programme),
        applicant: member_name(a.applicant),
        aid_cents: a.aid_cents,
        breakdown: a.breakdown.iter().map(Into::into).collect(),
        state: a.state.to_proto_i32(),
        reason: a.state_reason.clone().unwrap_or_default(),
        programme_committed_cents,
        occurred_at: Some(timestamp(at)),
        paid_cents: a.paid_cents(),
        payment,
        grouping: a
            .grouping
            .map(|g| crate::domain::grouping_name(a.programme, g))
            .unwrap_or_default(),
        filer: a.filer.map(member_name).unwrap_or_default(),
    };
    OutgoingEvent::new(subject, a.name(), at, &message)
}

/// A grouped purchase's event, with its lots' total volumes; `member` and `reason` for
/// a join or a departure.
pub fn group_purchase(
    subject: &str,
    g: &GroupPurchase,
    member: Option<Uuid>,
    reason: &str,
) -> OutgoingEvent {
    let message = proto::GroupPurchaseChanged {
        group_purchase: g.name(),
        member: member.map(member_name).unwrap_or_default(),
        state: g.state.to_proto_i32(),
        lots: lots_to_proto(g),
        occurred_at: Some(timestamp(fabrique_platform::time::now())),
        reason: reason.to_string(),
    };
    OutgoingEvent::new(subject, g.name(), fabrique_platform::time::now(), &message)
}

/// A workshop's event; `lead` for a team set.
pub fn workshop(subject: &str, w: &Workshop, lead: Option<Uuid>) -> OutgoingEvent {
    let message = proto::WorkshopChanged {
        lead: lead.map(member_name).unwrap_or_default(),
        ..workshop_message(w)
    };
    OutgoingEvent::new(subject, w.name(), fabrique_platform::time::now(), &message)
}

/// A session's event: its title; when it begins and ends, where, and who is expected
/// when scheduled or cancelled (so that they can be told); who attended when attendance
/// is recorded. An online session's address stays out: events are read more widely.
pub fn session(subject: &str, w: &Workshop, s: &Session) -> OutgoingEvent {
    let members = |ids: &[Uuid]| ids.iter().map(|m| member_name(*m)).collect();
    let told = subject == SESSION_SCHEDULED || subject == SESSION_CANCELLED;
    let (place, online) = match &s.venue {
        Venue::Place(place) => (crate::domain::name("places", *place), false),
        Venue::Online(_) => (String::new(), true),
    };
    let message = proto::WorkshopChanged {
        session: s.name(),
        session_title: s.title.clone(),
        start_time: told.then(|| timestamp(s.start)),
        end_time: told.then(|| timestamp(s.end)),
        expected_members: if told {
            members(&s.expected_members)
        } else {
            Vec::new()
        },
        attendees: if subject == ATTENDANCE_RECORDED {
            members(&s.attendees)
        } else {
            Vec::new()
        },
        place: if told { place } else { String::new() },
        online: told && online,
        ..workshop_message(w)
    };
    OutgoingEvent::new(subject, s.name(), fabrique_platform::time::now(), &message)
}

/// A restitution's event, without its text.
pub fn restitution(subject: &str, w: &Workshop, r: &Restitution) -> OutgoingEvent {
    let message = proto::WorkshopChanged {
        session: session_name(r.workshop, r.session),
        restitution: r.name(),
        ..workshop_message(w)
    };
    OutgoingEvent::new(subject, r.name(), fabrique_platform::time::now(), &message)
}

/// What every workshop event says: which workshop, its theme and its co-pilots.
fn workshop_message(w: &Workshop) -> proto::WorkshopChanged {
    proto::WorkshopChanged {
        workshop: w.name(),
        theme: w.theme.clone(),
        co_pilots: w.co_pilots.iter().map(|m| member_name(*m)).collect(),
        occurred_at: Some(timestamp(fabrique_platform::time::now())),
        ..Default::default()
    }
}

/// Member events: keep the replica; a member that leaves has its submitted applications
/// withdrawn and leaves the open grouped purchases.
pub struct MemberEvents;

#[async_trait]
impl EventHandler for MemberEvents {
    async fn handle(&self, txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
        fabrique_replicas::members::handle(txn, event, leaves, |member, change| {
            end_engagements(txn, member, change)
        })
        .await
    }

    async fn handle_all(
        &self,
        txn: &ConsumerTxn,
        events: &[Handling<'_>],
    ) -> Result<(), HandlerError> {
        fabrique_replicas::members::handle_all(txn, events, leaves, |member, change| {
            end_engagements(txn, member, change)
        })
        .await
    }
}

/// The only member change with consequences here: leaving (a suspension keeps
/// applications and purchases as they are).
fn leaves(change: &Change) -> bool {
    matches!(change, Change::Left { .. })
}

/// When the member left: its submitted applications are withdrawn and it leaves the
/// open grouped purchases, each with its event, in the consumer's transaction.
async fn end_engagements(
    txn: &ConsumerTxn,
    member: fabrique_replicas::members::ReplicaMember,
    change: Change,
) -> Result<(), HandlerError> {
    if !leaves(&change) {
        return Ok(());
    }
    let reason = format!("{} left the alliance", member_name(member.id));
    let now = fabrique_platform::time::now();
    let mut events = withdraw_applications(txn, member.id, &reason, now).await?;
    events.extend(leave_purchases(txn, member.id, &reason, now).await?);
    if !events.is_empty() {
        tracing::info!(member = %member_name(member.id), changes = events.len(), "departed member's engagements ended");
    }
    outbox::enqueue(txn, events).await?;
    Ok(())
}

/// A store failure may pass: the event is retried (its transaction rolled back), then
/// dead-lettered.
fn transient(e: fabrique_platform::Error) -> HandlerError {
    HandlerError::Transient(e.to_string())
}

/// Withdraws the member's submitted applications (awarded aid stays): the events.
async fn withdraw_applications(
    txn: &ConsumerTxn,
    member: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<OutgoingEvent>, HandlerError> {
    let submitted = store::list_applications(
        txn,
        None,
        Some(member),
        &[ApplicationState::Submitted, ApplicationState::ToComplete],
        None,
        None,
    )
    .await
    .map_err(transient)?;
    let withdraw = ApplicationTransition::Withdraw {
        reason: reason.to_string(),
    };
    let mut events = Vec::new();
    for current in submitted {
        let Ok(next) = current.next(&withdraw, now) else {
            continue;
        };
        if let store::Applied::Done { committed_cents } =
            store::apply_application(txn, &current, &next, None).await?
        {
            events.push(application(&next, committed_cents));
        }
    }
    Ok(events)
}

/// Takes the member out of the open grouped purchases it joined: the events.
async fn leave_purchases(
    txn: &ConsumerTxn,
    member: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<OutgoingEvent>, HandlerError> {
    let leave = GroupPurchaseTransition::Leave { member };
    let mut events = Vec::new();
    for purchase in store::open_purchases_of(txn, member)
        .await
        .map_err(transient)?
    {
        let current = store::get_group_purchase(txn, purchase)
            .await
            .map_err(transient)?;
        if current.is_none_or(|current| current.next(&leave, now).is_err()) {
            continue;
        }
        if store::remove_participation(txn, purchase, member).await?
            && let Some(left) = store::get_group_purchase(txn, purchase)
                .await
                .map_err(transient)?
        {
            events.push(group_purchase(PURCHASE_LEFT, &left, Some(member), reason));
        }
    }
    Ok(events)
}

/// Place events: keep `place_replica` (host places of projects).
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

/// Accepted citizens' proposals (`fabrique.participation.proposal.accepted`): each
/// becomes a PROPOSED project led by its organiser, linking back to the proposal, once
/// — however often the event arrives (a unique `origin_proposal`).
pub struct ParticipationEvents;

#[async_trait]
impl EventHandler for ParticipationEvents {
    async fn handle(&self, txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
        let accepted: fabrique_api::participation::ProposalChanged =
            event.decode().map_err(HandlerError::Permanent)?;
        let Some(proposal) = accepted.proposal else {
            return Err(HandlerError::Permanent(
                "an accepted proposal without its proposal".into(),
            ));
        };
        if store::project_from_proposal(txn, &proposal.name)
            .await
            .map_err(|e| HandlerError::Transient(e.to_string()))?
            .is_some()
        {
            return Ok(());
        }
        let lead = fabrique_types::resource::parse_name("members", &accepted.organiser)
            .map_err(|invalid| HandlerError::Permanent(format!("organiser: {invalid}")))?;
        let at = accepted
            .occurred_at
            .as_ref()
            .and_then(fabrique_platform::time::from_timestamp)
            .unwrap_or_else(fabrique_platform::time::now);
        let answer = proposal.answer.map(|a| a.text).unwrap_or_default();
        let made = Project::from_proposal(
            proposal.name.clone(),
            &proposal.title,
            &proposal.body,
            &answer,
            lead,
            at,
        );
        store::insert_project(txn, &made, None).await?;
        tracing::info!(project = %made.name(), proposal = %proposal.name, "project made from an accepted proposal");
        outbox::enqueue(txn, vec![project(PROJECT_CREATED, &made, vec![])]).await?;
        Ok(())
    }
}
