//! What a service writes to consume events: the [`EventHandler`] it implements, the
//! [`Handling`] of each event of a lane's batch, and the [`HandlerError`] that decides
//! between a retry and the dead-letter stream.

use async_trait::async_trait;
use sea_orm::DbErr;
use tracing::Instrument;

use super::ConsumerTxn;
use crate::event::IncomingEvent;

/// Why a handler did not apply an event; the variant decides what the runner does next.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Will never succeed (malformed or unexpected event): dead-lettered at once.
    #[error("{0}")]
    Permanent(String),
    /// May succeed later: retried, then dead-lettered after `max_deliver` deliveries.
    #[error("{0}")]
    Transient(String),
    /// The database refused a statement: retried like `Transient`, unless the database
    /// is unreachable, which is waited for without counting deliveries.
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// The effect of one kind of event on a service's own data.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Applies the event inside `txn`; the runner commits it with the processed id.
    async fn handle(&self, txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError>;

    /// Applies the events that queued up on one lane, in order, inside one transaction:
    /// the effect must be that of [`Self::handle`] on each in turn. The default does
    /// just that. A handler overrides it to write a batch's rows in one statement, since
    /// PostgreSQL's cost is mostly per statement (docs/performance.md, event-latency);
    /// what follows from one event alone runs in [`Handling::traced`], so the events it
    /// writes carry that event's trace on. On an error nothing is committed, and the
    /// runner handles each event on its own with [`Self::handle`]. An override that
    /// calls [`ConsumerTxn::commit_with_next_statement`] does so for the batch's last
    /// statement, not an event's.
    async fn handle_all(
        &self,
        txn: &ConsumerTxn,
        events: &[Handling<'_>],
    ) -> Result<(), HandlerError> {
        for (i, handling) in events.iter().enumerate() {
            // What `handle` announces as its last statement is the transaction's only
            // for the last event.
            txn.hold_commit(i + 1 < events.len());
            handling.traced(self.handle(txn, handling.event)).await?;
        }
        Ok(())
    }
}

/// An event of a lane's batch, as [`EventHandler::handle_all`] sees it.
pub struct Handling<'a> {
    /// The event, decoded and checked.
    pub event: &'a IncomingEvent,
    span: &'a tracing::Span,
}

impl<'a> Handling<'a> {
    /// `span` is the event's `consume` span, child of its producer's.
    pub(crate) fn new(event: &'a IncomingEvent, span: &'a tracing::Span) -> Self {
        Self { event, span }
    }

    /// Runs `work`, what follows from this event alone, traced as its handling: events
    /// written meanwhile carry its trace on.
    pub fn traced<F: std::future::Future>(
        &self,
        work: F,
    ) -> impl std::future::Future<Output = F::Output> + use<F> {
        crate::telemetry::with_received_context(
            self.event.headers.get(crate::event::TRACEPARENT),
            self.event.headers.get(crate::event::TRACESTATE),
            work.instrument(self.span.clone()),
        )
    }
}
