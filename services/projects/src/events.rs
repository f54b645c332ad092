//! What the projects service publishes — `fabrique.projects.{project,programme,
//! application,group_purchase,workshop}.<verb>` — and what it consumes: member events
//! (kept in `member_replica`, with kinds for eligibility and contact roles for workshop
//! teams; a member that leaves has its submitted applications withdrawn and leaves the
//! open grouped purchases, each with an event; awarded aid stays) and place events.

use async_trait::async_trait;
use fabrique_api::projects as proto;
use fabrique_platform::consumer::{ConsumerTxn, EventHandler, HandlerError, Handling};
use fabrique_platform::event::{IncomingEvent, OutgoingEvent};
use fabrique_platform::outbox;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::timestamp;
use fabrique_replicas::members::Change;
use uuid::Uuid;

use crate::domain::{
    Application, ApplicationState, ApplicationTransition, GroupPurchase, Programme, Project,
    Workshop, member_name,
};
use crate::proto::lots_to_proto;
use crate::store;

pub const PROJECT_CREATED: &str = "fabrique.projects.project.created";
pub const PROJECT_UPDATED: &str = "fabrique.projects.project.updated";
pub const PROJECT_STATE_CHANGED: &str = "fabrique.projects.project.state_changed";
pub const PROGRAMME_OPENED: &str = "fabrique.projects.programme.opened";
pub const PROGRAMME_CLOSED: &str = "fabrique.projects.programme.closed";
pub const APPLICATION_SUBMITTED: &str = "fabrique.projects.application.submitted";
pub const APPLICATION_APPROVED: &str = "fabrique.projects.application.approved";
pub const APPLICATION_REJECTED: &str = "fabrique.projects.application.rejected";
pub const APPLICATION_WITHDRAWN: &str = "fabrique.projects.application.withdrawn";
pub const APPLICATION_PAID: &str = "fabrique.projects.application.paid";
pub const PURCHASE_OPENED: &str = "fabrique.projects.group_purchase.opened";
pub const PURCHASE_JOINED: &str = "fabrique.projects.group_purchase.joined";
pub const PURCHASE_LEFT: &str = "fabrique.projects.group_purchase.left";
pub const PURCHASE_CLOSED: &str = "fabrique.projects.group_purchase.closed";
pub const PURCHASE_AWARDED: &str = "fabrique.projects.group_purchase.awarded";
pub const WORKSHOP_CREATED: &str = "fabrique.projects.workshop.created";
pub const WORKSHOP_TEAM_SET: &str = "fabrique.projects.workshop.team_set";

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

pub fn programme(subject: &str, p: &Programme) -> OutgoingEvent {
    let message = proto::ProgrammeChanged {
        programme: p.name(),
        funder: member_name(p.funder),
        envelope_cents: p.envelope_cents,
        committed_cents: p.committed_cents,
        state: p.state.to_proto_i32(),
        occurred_at: Some(timestamp(p.updated_at)),
    };
    OutgoingEvent::new(subject, p.name(), p.updated_at, &message)
}

pub fn application(
    subject: &str,
    a: &Application,
    programme_committed_cents: i64,
) -> OutgoingEvent {
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
    };
    OutgoingEvent::new(subject, a.name(), at, &message)
}

/// The event of an application that moved to its current state (approved, rejected,
/// withdrawn or paid), with the programme's committed total after the move.
pub fn application_moved(a: &Application, programme_committed_cents: i64) -> OutgoingEvent {
    let subject = match a.state {
        ApplicationState::Submitted => APPLICATION_SUBMITTED,
        ApplicationState::Approved => APPLICATION_APPROVED,
        ApplicationState::Rejected => APPLICATION_REJECTED,
        ApplicationState::Withdrawn => APPLICATION_WITHDRAWN,
        ApplicationState::Paid => APPLICATION_PAID,
    };
    application(subject, a, programme_committed_cents)
}

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

pub fn workshop(subject: &str, w: &Workshop, lead: Option<Uuid>) -> OutgoingEvent {
    let message = proto::WorkshopChanged {
        workshop: w.name(),
        theme: w.theme.clone(),
        lead: lead.map(member_name).unwrap_or_default(),
        occurred_at: Some(timestamp(fabrique_platform::time::now())),
    };
    OutgoingEvent::new(subject, w.name(), fabrique_platform::time::now(), &message)
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
/// open grouped purchases.
async fn end_engagements(
    txn: &ConsumerTxn,
    member: fabrique_replicas::members::ReplicaMember,
    change: Change,
) -> Result<(), HandlerError> {
    if !leaves(&change) {
        return Ok(());
    }
    let reason = format!("{} left the alliance", member_name(member.id));
    let transient = |e: fabrique_platform::Error| HandlerError::Transient(e.to_string());
    let mut events = Vec::new();
    let submitted = store::list_applications(
        txn,
        None,
        Some(member.id),
        &[ApplicationState::Submitted],
        None,
        None,
    )
    .await
    .map_err(transient)?;
    let now = fabrique_platform::time::now();
    for current in submitted {
        let withdraw = ApplicationTransition::Withdraw {
            reason: reason.clone(),
        };
        let Ok(next) = current.next(&withdraw, now) else {
            continue;
        };
        if let store::Applied::Done { committed_cents } =
            store::apply_application(txn, &current, &next, None).await?
        {
            events.push(application_moved(&next, committed_cents));
        }
    }
    for purchase in store::open_purchases_of(txn, member.id)
        .await
        .map_err(transient)?
    {
        if store::remove_participation(txn, purchase, member.id).await?
            && let Some(left) = store::get_group_purchase(txn, purchase)
                .await
                .map_err(transient)?
        {
            events.push(group_purchase(
                PURCHASE_LEFT,
                &left,
                Some(member.id),
                &reason,
            ));
        }
    }
    if !events.is_empty() {
        tracing::info!(member = %member_name(member.id), changes = events.len(), "departed member's engagements ended");
    }
    outbox::enqueue(txn, events).await?;
    Ok(())
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
