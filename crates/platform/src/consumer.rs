//! Idempotent consumers of other services' events.
//!
//! A [`ConsumerRunner`] binds a durable consumer (explicit ack) and, for every event:
//! records its id in `fabrique_processed_events` and applies the handler's effect in one
//! transaction, then acks. A redelivered event finds its id and changes nothing.
//! A failing handler is retried in place (so one aggregate's events stay in order) up to
//! `max_deliver` deliveries, then the message goes to `fabrique.dlq.<service>` with the
//! error, and is acked: a poison message never blocks the stream. A message that can
//! never be handled (bad headers, wrong `ce-type`, undecodable payload) goes there at once.
//! An unreachable database is waited for, never dead-lettered.
//!
//! Events are handled in lanes: the events of one aggregate (`ce-subject`) always take
//! the same lane and are applied in order; other aggregates' events go on meanwhile.
//! What queues up on a lane is applied in one transaction, handed to the handler
//! together ([`EventHandler::handle_all`], so it can write the batch's rows in one
//! statement), falling back to one event at a time when any of them fails. On
//! PostgreSQL each lane has a connection of its own, and that first try sends the
//! transaction's start with the handler's first statement (`consumer/transaction.rs`);
//! the fallback, and every retry, records the event first and skips it if it was
//! already handled.
//!
//! Where things are: `handler.rs` what a service implements, `runner.rs` a delivery's
//! way from the subscription to its ack, `lanes.rs` the lanes, `apply.rs` a
//! transaction's first try and its fallback, `transaction.rs` the connection each lane
//! applies on, `dlq.rs` the dead letters, `replay.rs` a dead letter handled again on
//! request, `retention.rs` the purge of old ids.

use std::sync::Arc;
use std::time::Duration;

mod apply;
mod dlq;
mod handler;
mod lanes;
mod processed;
mod replay;
mod retention;
mod runner;
mod transaction;

pub use crate::config::DEFAULT_LANES;
pub use dlq::{DLQ_CONSUMER, DLQ_DELIVERIES, DLQ_REASON, DLQ_STREAM_SEQUENCE, DLQ_SUBJECT};
pub use handler::{EventHandler, HandlerError, Handling};
pub use replay::Replayed;
pub use retention::{DEFAULT_RETENTION, PURGE_CHUNK, PURGE_EVERY, purge_every, purge_processed};
pub use runner::ConsumerRunner;
pub use transaction::ConsumerTxn;

/// A consumer a service declares.
#[derive(Clone)]
pub struct ConsumerDef {
    /// Durable name, unique per stream: e.g. `registry-members`.
    pub name: String,
    /// Service whose stream is consumed, e.g. `members`.
    pub source_service: String,
    /// Subjects (without prefix) to receive, e.g. `fabrique.members.member.>`.
    pub subjects: Vec<String>,
    /// What the events do to the service's data.
    pub handler: Arc<dyn EventHandler>,
    /// Woken after a commit in which the handler wrote events to the outbox (with
    /// [`crate::outbox::enqueue`]): the platform sets it to the service's relay when it
    /// starts the consumer, so a service declares its consumers without it.
    pub outbox: Option<crate::outbox::OutboxSignal>,
}

impl ConsumerDef {
    /// The consumer `name` of `source_service`'s events on `subjects` (without prefix).
    pub fn new(
        name: &str,
        source_service: &str,
        subjects: &[&str],
        handler: Arc<dyn EventHandler>,
    ) -> Self {
        Self {
            name: name.to_string(),
            source_service: source_service.to_string(),
            subjects: subjects.iter().map(|s| s.to_string()).collect(),
            handler,
            outbox: None,
        }
    }
}

/// How a consumer reads and retries; every service's consumers share them.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// Deliveries of an event before it is dead-lettered.
    pub max_deliver: u32,
    /// An event neither acked nor handed back within this time is delivered again:
    /// a lane tells the bus it is still at work on each retry.
    pub ack_wait: Duration,
    /// First retry delay of a failing handler; doubles up to 5 s.
    pub retry_delay: Duration,
    /// Events handled at once, each lane in order: the events of one aggregate (same
    /// `ce-subject`) always take the same lane.
    pub lanes: usize,
}

impl Default for ConsumerSettings {
    fn default() -> Self {
        Self {
            max_deliver: 5,
            ack_wait: Duration::from_secs(30),
            retry_delay: Duration::from_millis(200),
            lanes: DEFAULT_LANES,
        }
    }
}

#[cfg(test)]
mod tests;
