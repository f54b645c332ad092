//! The transactional outbox: a service writes its events into `fabrique_outbox` in the
//! same transaction as the change they describe ([`enqueue`]), then wakes the [`Relay`],
//! which publishes them to the bus, awaits each acknowledgement and deletes them.
//!
//! Guarantees: a committed change always gets its events published, at least once
//! (JetStream drops repeats by `Nats-Msg-Id`), in write order per aggregate; writes keep
//! succeeding while the bus is down.

mod entity;
mod relay;

pub use relay::{Relay, RelayError};

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use tokio::sync::Notify;

use crate::event::OutgoingEvent;

/// Wakes the relay after a commit, so an event leaves within milliseconds instead of
/// waiting for the next poll.
#[derive(Clone, Default, Debug)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    pub fn new() -> Self {
        Self::default()
    }

    /// Call after committing a transaction that enqueued events.
    pub fn notify(&self) {
        self.0.notify_one();
    }

    pub(crate) async fn notified(&self) {
        self.0.notified().await;
    }
}

/// Writes events to the outbox inside the caller's transaction, with the current trace
/// context so the trace continues through the bus.
pub async fn enqueue<C: ConnectionTrait>(db: &C, events: Vec<OutgoingEvent>) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let (traceparent, tracestate) = crate::telemetry::current_trace_headers();
    let rows = events.into_iter().map(|event| entity::ActiveModel {
        event_id: Set(event.id),
        subject: Set(event.subject),
        ce_type: Set(event.ce_type),
        ce_subject: Set(event.ce_subject),
        payload: Set(event.payload),
        traceparent: Set(traceparent.clone()),
        tracestate: Set(tracestate.clone()),
        occurred_at: Set(event.occurred_at),
        ..Default::default()
    });
    entity::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}
