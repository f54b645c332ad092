//! How events are applied: each handler's effect and the record of the event's id in
//! one transaction, so that a redelivered event finds its id and changes nothing. A
//! lane's first try sends as few round trips as the database allows
//! ([`ConsumerRunner::apply_together`]); the fallback records first and is the one
//! that tells a duplicate from a failure ([`ConsumerRunner::apply`]).

use std::collections::HashSet;

use sea_orm::DbErr;
use uuid::Uuid;

use super::transaction::LaneDb;
use super::{ConsumerRunner, HandlerError, Handling};
use crate::event::IncomingEvent;

/// What became of an event that was handled.
pub(super) enum Outcome {
    Applied,
    /// Its id was recorded already: handled before, nothing changed.
    Duplicate,
}

impl Outcome {
    /// The `outcome` attribute of the `fabrique.events.consumed` metric.
    pub(super) fn label(&self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Duplicate => "duplicate",
        }
    }
}

/// Why an event was not applied: the handler's doing (counted against `max_deliver`),
/// or an unreachable database (waited for, never dead-lettered).
pub(super) enum Failure {
    Handler(HandlerError),
    Unavailable(DbErr),
}

impl ConsumerRunner {
    /// First try of events (one, or what queued on a lane): every handler applied in
    /// one transaction. On PostgreSQL its `BEGIN` and record of the events' ids go out
    /// with the first statement, a round trip less than [`Self::apply`]; elsewhere (or
    /// when an event came twice) the ids are recorded first, and events already handled
    /// skipped. `None` when anything failed, on PostgreSQL an event already handled
    /// included: nothing is then applied, and the caller goes on with [`Self::apply`],
    /// one event at a time.
    pub(super) async fn apply_together(
        &self,
        lane: &mut LaneDb,
        events: &[(&IncomingEvent, &tracing::Span)],
    ) -> Option<Vec<Outcome>> {
        let all: Vec<&IncomingEvent> = events.iter().map(|(event, _)| *event).collect();
        let (txn, new) = match lane.begin_deferred(&self.def.name, &all).await {
            Ok(Some(txn)) => (txn, None),
            Ok(None) => {
                let (txn, new) = lane.begin(&self.def.name, &all).await.ok()?;
                (txn, Some(new))
            }
            Err(_) => return None,
        };
        let handlings: Vec<Handling> = events
            .iter()
            .enumerate()
            .filter(|(i, _)| new.as_ref().is_none_or(|new| new[*i]))
            .map(|(_, (event, span))| Handling::new(event, span))
            .collect();
        let handled = match handlings.as_slice() {
            [] => Ok(()),
            [one] => one.traced(self.def.handler.handle(&txn, one.event)).await,
            all => self.def.handler.handle_all(&txn, all).await,
        };
        if let Err(error) = handled {
            // On PostgreSQL often an event already handled (a redelivery), which the
            // record-first retry tells apart.
            tracing::debug!(consumer = %self.def.name, %error, "first try rolled back");
            let _ = lane.rollback(txn).await;
            return None;
        }
        let wrote_events = txn.wrote_events();
        let recorded = match lane.commit(txn).await {
            Ok(recorded) => recorded,
            Err(error) => {
                tracing::debug!(consumer = %self.def.name, %error, "first try's commit failed");
                return None;
            }
        };
        self.committed(wrote_events);
        Some(outcomes(&all, new.as_deref(), recorded.as_ref()))
    }

    /// After a commit: the service's relay has events to publish only when a handler
    /// wrote some, and is woken only then.
    fn committed(&self, wrote_events: bool) {
        if wrote_events && let Some(outbox) = &self.def.outbox {
            outbox.notify();
        }
    }

    /// Records the event id (first: a concurrent replica handling the same event waits on
    /// the key, then finds it, instead of doing the work twice) and applies the handler,
    /// in one transaction.
    pub(super) async fn apply(
        &self,
        lane: &mut LaneDb,
        event: &IncomingEvent,
    ) -> Result<Outcome, Failure> {
        let unavailable_or = |error: DbErr| {
            if crate::db::is_unavailable(&error) {
                Failure::Unavailable(error)
            } else {
                Failure::Handler(HandlerError::Db(error))
            }
        };
        let (txn, new) = lane
            .begin(&self.def.name, &[event])
            .await
            .map_err(unavailable_or)?;
        if !new.first().copied().unwrap_or(false) {
            let _ = lane.rollback(txn).await;
            return Ok(Outcome::Duplicate);
        }
        match self.def.handler.handle(&txn, event).await {
            Ok(()) => {}
            Err(HandlerError::Db(error)) => {
                let _ = lane.rollback(txn).await;
                return Err(unavailable_or(error));
            }
            Err(error) => {
                let _ = lane.rollback(txn).await;
                return Err(Failure::Handler(error));
            }
        }
        let wrote_events = txn.wrote_events();
        lane.commit(txn).await.map_err(unavailable_or)?;
        self.committed(wrote_events);
        Ok(Outcome::Applied)
    }
}

/// The outcome of each event of a committed first try. `new`: for each event, whether
/// the record that went first found it new; `recorded`: the ids found new by a record
/// that went out with the commit. Neither: every event was new.
fn outcomes(
    all: &[&IncomingEvent],
    new: Option<&[bool]>,
    recorded: Option<&HashSet<Uuid>>,
) -> Vec<Outcome> {
    all.iter()
        .enumerate()
        .map(|(i, event)| {
            let handled_before = match (new, recorded) {
                (Some(new), _) => !new[i],
                (None, Some(recorded)) => !recorded.contains(&event.id),
                (None, None) => false,
            };
            if handled_before {
                Outcome::Duplicate
            } else {
                Outcome::Applied
            }
        })
        .collect()
}
