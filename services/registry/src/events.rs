//! What the registry publishes — `fabrique.registry.place.<verb>`, each with a snapshot
//! of the place — and what it consumes: member events, kept in `member_replica`; when a
//! member is suspended or leaves, the listed places it operates are flagged for review,
//! each with a `review_needed` event.

use async_trait::async_trait;
use fabrique_api::registry as proto;
use fabrique_platform::consumer::{ConsumerTxn, EventHandler, HandlerError, Handling};
use fabrique_platform::event::{IncomingEvent, OutgoingEvent};
use fabrique_platform::outbox;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::timestamp;

use crate::domain::{Place, member_name};
use fabrique_replicas::members::{Change, ReplicaMember};

use crate::store;

/// A place was proposed, with its possible duplicates (`PlaceProposed`).
pub const PROPOSED: &str = "fabrique.registry.place.proposed";
/// A place became public: approved, reinstated, or created by an import
/// (`PlaceListed`).
pub const LISTED: &str = "fabrique.registry.place.listed";
/// Its description changed (by its operator, an admin or an import) or its review
/// flag was cleared, with the fields that did (`PlaceUpdated`).
pub const UPDATED: &str = "fabrique.registry.place.updated";
/// LISTED → SUSPENDED, with the reason (`PlaceSuspended`).
pub const SUSPENDED: &str = "fabrique.registry.place.suspended";
/// It closed, for good (`PlaceClosed`): sharing makes the resources there unavailable.
pub const CLOSED: &str = "fabrique.registry.place.closed";
/// Its operator was suspended or left: a moderator should look (`PlaceReviewNeeded`).
pub const REVIEW_NEEDED: &str = "fabrique.registry.place.review_needed";

/// The place as every event carries it; `version` lets consumers ignore a snapshot
/// older than the one they hold.
pub fn snapshot(place: &Place) -> proto::PlaceSnapshot {
    let d = &place.description;
    proto::PlaceSnapshot {
        id: place.id.uuid().to_string(),
        display_name: d.display_name.clone(),
        kinds: d.kinds.iter().map(|k| k.to_proto_i32()).collect(),
        insee_code: d
            .insee_code
            .as_ref()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        location: Some(proto::Location {
            latitude: d.location.latitude(),
            longitude: d.location.longitude(),
        }),
        capabilities: d
            .capabilities
            .iter()
            .map(|c| c.code().to_string())
            .collect(),
        operator: d.operator.map(member_name).unwrap_or_default(),
        state: place.state.to_proto_i32(),
        needs_review: place.needs_review,
        version: place.version,
    }
}

fn event<M: prost::Message + prost::Name>(
    subject: &str,
    place: &Place,
    message: &M,
) -> OutgoingEvent {
    OutgoingEvent::new(subject, place.id.name(), place.updated_at, message)
}

/// [`PROPOSED`], for a place just proposed.
pub fn proposed(place: &Place) -> OutgoingEvent {
    event(
        PROPOSED,
        place,
        &proto::PlaceProposed {
            place: Some(snapshot(place)),
            occurred_at: Some(timestamp(place.updated_at)),
            possible_duplicates: place.possible_duplicates.iter().map(|p| p.name()).collect(),
        },
    )
}

/// [`LISTED`], for a place now LISTED.
pub fn listed(place: &Place) -> OutgoingEvent {
    event(
        LISTED,
        place,
        &proto::PlaceListed {
            place: Some(snapshot(place)),
            occurred_at: Some(timestamp(place.updated_at)),
        },
    )
}

/// [`UPDATED`]: `changed_fields` names the fields whose value changed.
pub fn updated(place: &Place, changed_fields: Vec<String>) -> OutgoingEvent {
    event(
        UPDATED,
        place,
        &proto::PlaceUpdated {
            place: Some(snapshot(place)),
            occurred_at: Some(timestamp(place.updated_at)),
            changed_fields,
        },
    )
}

/// [`SUSPENDED`], with the moderator's reason.
pub fn suspended(place: &Place, reason: Option<&str>) -> OutgoingEvent {
    event(
        SUSPENDED,
        place,
        &proto::PlaceSuspended {
            place: Some(snapshot(place)),
            occurred_at: Some(timestamp(place.updated_at)),
            reason: reason.unwrap_or_default().to_string(),
        },
    )
}

/// [`CLOSED`], with the reason if one was given.
pub fn closed(place: &Place, reason: Option<&str>) -> OutgoingEvent {
    event(
        CLOSED,
        place,
        &proto::PlaceClosed {
            place: Some(snapshot(place)),
            occurred_at: Some(timestamp(place.updated_at)),
            reason: reason.unwrap_or_default().to_string(),
        },
    )
}

/// [`REVIEW_NEEDED`], saying what happened to the operator.
pub fn review_needed(place: &Place, reason: &str) -> OutgoingEvent {
    event(
        REVIEW_NEEDED,
        place,
        &proto::PlaceReviewNeeded {
            place: Some(snapshot(place)),
            occurred_at: Some(timestamp(place.updated_at)),
            reason: reason.to_string(),
        },
    )
}

/// Keeps `member_replica` and flags the places of members that leave or are suspended.
pub struct MemberEvents;

#[async_trait]
impl EventHandler for MemberEvents {
    async fn handle(&self, txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
        // Nothing when the event is older than what the replica holds (redelivered or
        // late): its consequences already followed, once.
        fabrique_replicas::members::handle(txn, event, Change::removes, |member, change| {
            flag_places(txn, member, change)
        })
        .await
    }

    async fn handle_all(
        &self,
        txn: &ConsumerTxn,
        events: &[Handling<'_>],
    ) -> Result<(), HandlerError> {
        fabrique_replicas::members::handle_all(txn, events, Change::removes, |member, change| {
            flag_places(txn, member, change)
        })
        .await
    }
}

/// When the member was suspended or left: its listed places are flagged for review.
async fn flag_places(
    txn: &ConsumerTxn,
    member: ReplicaMember,
    change: Change,
) -> Result<(), HandlerError> {
    let reason = match change {
        Change::Suspended { reason } => format!("its operator was suspended: {reason}"),
        Change::Left { .. } => "its operator left the alliance".to_string(),
        _ => return Ok(()),
    };
    let id = member.id;
    let places = store::listed_unflagged_of(txn, id)
        .await
        .map_err(|e| HandlerError::Transient(e.to_string()))?;
    let mut events = Vec::with_capacity(places.len());
    for current in places {
        let mut flagged = current.clone();
        flagged.needs_review = true;
        flagged.review_reason = Some(reason.clone());
        flagged.version += 1;
        flagged.updated_at = fabrique_platform::time::now();
        if store::update_versioned(txn, &current, &flagged).await? {
            events.push(review_needed(&flagged, &reason));
        } else {
            return Err(HandlerError::Transient(format!(
                "{} changed meanwhile",
                current.id.name()
            )));
        }
    }
    if !events.is_empty() {
        tracing::info!(member = %member_name(id), places = events.len(), "places flagged for review");
    }
    outbox::enqueue(txn, events).await?;
    Ok(())
}
