//! What the sharing service publishes — `fabrique.sharing.{resource,reservation,claim,
//! need}.<verb>` — and what it consumes: member events (a member that is suspended or
//! leaves has its resources withdrawn and its future reservations, as owner or
//! borrower, cancelled, each with its own event) and place events (resources at a
//! closed place become UNAVAILABLE). A withdrawn or unavailable resource's bookings
//! still to come end with it ([`ending`]).

mod ending;

pub use ending::end_bookings;

use async_trait::async_trait;
use fabrique_api::sharing as proto;
use fabrique_platform::consumer::{ConsumerTxn, EventHandler, HandlerError, Handling};
use fabrique_platform::event::{IncomingEvent, OutgoingEvent};
use fabrique_platform::outbox;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::timestamp;
use uuid::Uuid;

use crate::domain::{
    Claim, ClaimTransition, Milli, Need, Reservation, ReservationTransition, Resource,
    ResourceState, ResourceTransition, member_name, place_name, resource_name,
};
use crate::proto::quantity;
use crate::store;

/// A resource was offered.
pub const OFFERED: &str = "fabrique.sharing.resource.offered";
/// A resource's fields changed (`changed_fields` says which), or it moved with its place.
pub const UPDATED: &str = "fabrique.sharing.resource.updated";
/// A resource was withdrawn, by its owner or because the owner left.
pub const WITHDRAWN: &str = "fabrique.sharing.resource.withdrawn";
/// A resource is AVAILABLE again.
pub const RESTORED: &str = "fabrique.sharing.resource.restored";
/// A resource's place closed.
pub const UNAVAILABLE: &str = "fabrique.sharing.resource.unavailable";
/// A reservation was asked for.
pub const REQUESTED: &str = "fabrique.sharing.reservation.requested";
/// A reservation was confirmed by the owner.
pub const CONFIRMED: &str = "fabrique.sharing.reservation.confirmed";
/// A reservation was declined by the owner.
pub const DECLINED: &str = "fabrique.sharing.reservation.declined";
/// A reservation was cancelled, by either side or because one of them left.
pub const CANCELLED: &str = "fabrique.sharing.reservation.cancelled";
/// A reservation took place.
pub const COMPLETED: &str = "fabrique.sharing.reservation.completed";
/// A request its owner did not answer in time expired; the slot is free again.
pub const EXPIRED: &str = "fabrique.sharing.reservation.expired";
/// A quantity was claimed (the event carries what remains).
pub const CLAIM_MADE: &str = "fabrique.sharing.claim.made";
/// A claim was handed over.
pub const CLAIM_COLLECTED: &str = "fabrique.sharing.claim.collected";
/// A claim was cancelled; its quantity is back in the stock.
pub const CLAIM_CANCELLED: &str = "fabrique.sharing.claim.cancelled";
/// A claim not handed over in time expired; its quantity is back in the stock.
pub const CLAIM_EXPIRED: &str = "fabrique.sharing.claim.expired";
/// A need was posted.
pub const NEED_POSTED: &str = "fabrique.sharing.need.posted";
/// A need was closed.
pub const NEED_CLOSED: &str = "fabrique.sharing.need.closed";

/// The subject announcing a resource's `transition`.
pub fn resource_subject(transition: &ResourceTransition) -> &'static str {
    match transition {
        ResourceTransition::Withdraw { .. } => WITHDRAWN,
        ResourceTransition::Restore => RESTORED,
        ResourceTransition::MakeUnavailable { .. } => UNAVAILABLE,
    }
}

/// The subject announcing a reservation's `transition`.
pub fn reservation_subject(transition: ReservationTransition) -> &'static str {
    match transition {
        ReservationTransition::Confirm => CONFIRMED,
        ReservationTransition::Decline => DECLINED,
        ReservationTransition::Cancel => CANCELLED,
        ReservationTransition::Complete => COMPLETED,
        ReservationTransition::Expire => EXPIRED,
    }
}

/// The subject announcing a claim's `transition`.
pub fn claim_subject(transition: ClaimTransition) -> &'static str {
    match transition {
        ClaimTransition::Collect => CLAIM_COLLECTED,
        ClaimTransition::Cancel => CLAIM_CANCELLED,
        ClaimTransition::Expire => CLAIM_EXPIRED,
    }
}

/// `subject` about `r` as it now is; `reason`: why its state changed, if it did.
pub fn resource(
    subject: &str,
    r: &Resource,
    reason: &str,
    changed_fields: Vec<String>,
) -> OutgoingEvent {
    let message = proto::ResourceChanged {
        resource: Some(proto::ResourceSnapshot {
            id: r.id.to_string(),
            owner: member_name(r.owner),
            kind: r.kind.to_proto_i32(),
            title: r.title.clone(),
            place: r.place.map(place_name).unwrap_or_default(),
            state: r.state.to_proto_i32(),
            remaining: r
                .stock
                .map(|(_, remaining, unit)| quantity(remaining, unit)),
            version: r.version,
        }),
        occurred_at: Some(timestamp(r.updated_at)),
        reason: reason.to_string(),
        changed_fields,
    };
    OutgoingEvent::new(subject, r.name(), r.updated_at, &message)
}

/// The member a change is made by: the caller's, when it acts for one (an admin acting
/// for none, and the platform, are nobody).
pub fn made_by(caller: &fabrique_platform::auth::Caller) -> Option<Uuid> {
    caller.member_id.filter(|_| {
        caller
            .roles
            .contains(&fabrique_platform::auth::Role::Member)
    })
}

/// `subject` about `r` as it now is; `reason`: why its state changed, if given; `by`:
/// the member that made the change ([`made_by`]).
pub fn reservation(
    subject: &str,
    r: &Reservation,
    reason: &str,
    by: Option<Uuid>,
) -> OutgoingEvent {
    let message = proto::ReservationChanged {
        reservation: Some(proto::ReservationSnapshot {
            id: r.id.to_string(),
            resource: resource_name(r.resource),
            borrower: member_name(r.borrower),
            owner: member_name(r.owner),
            start_time: Some(timestamp(r.slot.start())),
            end_time: Some(timestamp(r.slot.end())),
            state: r.state.to_proto_i32(),
            version: r.version,
        }),
        occurred_at: Some(timestamp(r.updated_at)),
        reason: reason.to_string(),
        by: by.map(member_name).unwrap_or_default(),
    };
    OutgoingEvent::new(subject, r.name(), r.updated_at, &message)
}

/// `subject` about `c`, with what `remaining` of its material after it, made `by` a
/// member ([`made_by`]); `reason`: why the platform ended it, if it did.
pub fn claim(
    subject: &str,
    c: &Claim,
    remaining: Option<Milli>,
    by: Option<Uuid>,
    reason: &str,
) -> OutgoingEvent {
    let message = proto::ClaimChanged {
        claim: Some(proto::ClaimSnapshot {
            id: c.id.to_string(),
            resource: resource_name(c.resource),
            claimant: member_name(c.claimant),
            quantity: Some(quantity(c.quantity, c.unit)),
            state: c.state.to_proto_i32(),
            owner: member_name(c.owner),
        }),
        occurred_at: Some(timestamp(c.updated_at)),
        remaining: remaining.map(|r| quantity(r, c.unit)),
        by: by.map(member_name).unwrap_or_default(),
        reason: reason.to_string(),
    };
    // Claims change the stock of their resource: ordered with it.
    OutgoingEvent::new(subject, resource_name(c.resource), c.updated_at, &message)
}

/// `subject` about `n` as it now is.
pub fn need(subject: &str, n: &Need) -> OutgoingEvent {
    let message = proto::NeedChanged {
        need: Some(proto::NeedSnapshot {
            id: n.id.to_string(),
            member: member_name(n.member),
            kind: n.kind.map(ProtoMapped::to_proto_i32).unwrap_or_default(),
            description: n.description.clone(),
            state: n.state.to_proto_i32(),
        }),
        occurred_at: Some(timestamp(n.updated_at)),
    };
    OutgoingEvent::new(subject, n.name(), n.updated_at, &message)
}

/// Member events: keep `member_replica`; a member suspended or gone has its resources
/// withdrawn and its future reservations cancelled.
pub struct MemberEvents;

#[async_trait]
impl EventHandler for MemberEvents {
    async fn handle(&self, txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
        fabrique_replicas::members::handle(
            txn,
            event,
            fabrique_replicas::members::Change::removes,
            |member, change| end_engagements(txn, member, change),
        )
        .await
    }

    async fn handle_all(
        &self,
        txn: &ConsumerTxn,
        events: &[Handling<'_>],
    ) -> Result<(), HandlerError> {
        fabrique_replicas::members::handle_all(
            txn,
            events,
            fabrique_replicas::members::Change::removes,
            |member, change| end_engagements(txn, member, change),
        )
        .await
    }
}

/// When the member was suspended or left: its resources are withdrawn and its future
/// reservations cancelled.
async fn end_engagements(
    txn: &ConsumerTxn,
    member: fabrique_replicas::members::ReplicaMember,
    change: fabrique_replicas::members::Change,
) -> Result<(), HandlerError> {
    if !change.removes() {
        return Ok(());
    }
    let reason = departure_reason(&change, member.id);
    let now = fabrique_platform::time::now();
    let mut events = Vec::new();
    let owned = store::resources_of(
        txn,
        member.id,
        &[ResourceState::Available, ResourceState::Unavailable],
    )
    .await
    .map_err(|e| HandlerError::Transient(e.to_string()))?;
    let withdraw = ResourceTransition::Withdraw {
        reason: Some(reason.clone()),
    };
    for stored in owned {
        // One already withdrawn has nothing to end.
        let Ok(next) = stored.resource.next(&withdraw, now) else {
            continue;
        };
        if !store::update_resource(
            txn,
            &next,
            stored.location_from_place,
            stored.resource.version,
        )
        .await?
        {
            return Err(changed_meanwhile(&next.name()));
        }
        events.push(resource(WITHDRAWN, &next, &reason, vec![]));
        events.extend(ended_with(txn, &next, &reason, now).await?);
    }
    let future = store::future_holding_of(txn, member.id, now)
        .await
        .map_err(|e| HandlerError::Transient(e.to_string()))?;
    for current in future {
        // Not started yet, so the domain lets it be cancelled.
        let cancel = ReservationTransition::Cancel;
        let Ok(next) = current.next(cancel, Some(reason.clone()), now) else {
            continue;
        };
        if !store::update_reservation(txn, &next, current.version).await? {
            return Err(changed_meanwhile(&next.name()));
        }
        events.push(reservation(CANCELLED, &next, &reason, None));
    }
    if !events.is_empty() {
        tracing::info!(member = %member_name(member.id), changes = events.len(), "member's offers and bookings ended");
    }
    outbox::enqueue(txn, events).await?;
    Ok(())
}

/// The reason written on what a member's departure ends.
fn departure_reason(change: &fabrique_replicas::members::Change, member: Uuid) -> String {
    match change {
        fabrique_replicas::members::Change::Suspended { .. } => {
            format!("{} was suspended", member_name(member))
        }
        _ => format!("{} left the alliance", member_name(member)),
    }
}

/// Place events: keep `place_replica`; resources at a closed place become UNAVAILABLE,
/// and resources located by their place follow it when it moves.
pub struct PlaceEvents;

#[async_trait]
impl EventHandler for PlaceEvents {
    async fn handle(&self, txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
        match fabrique_replicas::places::apply(txn, event).await? {
            Some((place, change)) => follow_place(txn, place, change).await,
            None => Ok(()),
        }
    }

    async fn handle_all(
        &self,
        txn: &ConsumerTxn,
        events: &[Handling<'_>],
    ) -> Result<(), HandlerError> {
        fabrique_replicas::places::handle_all(txn, events, |place, change| {
            follow_place(txn, place, change)
        })
        .await
    }
}

/// Resources at a place that closed become unavailable; those located by their place
/// move with it.
async fn follow_place(
    txn: &ConsumerTxn,
    place: fabrique_replicas::places::ReplicaPlace,
    change: fabrique_replicas::places::Change,
) -> Result<(), HandlerError> {
    let closed = matches!(change, fabrique_replicas::places::Change::Closed { .. });
    let location = fabrique_types::Location::parse(place.latitude, place.longitude).ok();
    let now = fabrique_platform::time::now();
    let mut events = Vec::new();
    let at_place = store::resources_at(txn, place.id)
        .await
        .map_err(|e| HandlerError::Transient(e.to_string()))?;
    let unavailable = ResourceTransition::MakeUnavailable {
        reason: format!("{} closed", place_name(place.id)),
    };
    for stored in at_place {
        let current = stored.resource;
        let (next, subject, reason, changed) =
            if closed && let Ok(next) = current.next(&unavailable, now) {
                let reason = next.state_reason.clone().unwrap_or_default();
                (next, UNAVAILABLE, reason, vec![])
            } else if stored.location_from_place
                && let Some(location) = location
                && Some(location) != current.location
            {
                let next = current.moved_to(location, now);
                (next, UPDATED, String::new(), vec!["location".to_string()])
            } else {
                continue;
            };
        if !store::update_resource(txn, &next, stored.location_from_place, current.version).await? {
            return Err(changed_meanwhile(&next.name()));
        }
        events.push(resource(subject, &next, &reason, changed));
        if subject == UNAVAILABLE {
            events.extend(ended_with(txn, &next, &reason, now).await?);
        }
    }
    outbox::enqueue(txn, events).await?;
    Ok(())
}

/// The events of what ends with `resource` ([`end_bookings`]); a booking changed
/// meanwhile makes the handler run again.
async fn ended_with(
    txn: &ConsumerTxn,
    resource: &Resource,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<OutgoingEvent>, HandlerError> {
    end_bookings(txn, resource.id, reason, now)
        .await
        .map_err(|e| HandlerError::Transient(e.to_string()))?
        .ok_or_else(|| changed_meanwhile(&resource.name()))
}

/// A row changed between reading and writing it: the handler runs again on fresh rows.
fn changed_meanwhile(name: &str) -> HandlerError {
    HandlerError::Transient(format!("{name} changed meanwhile"))
}
