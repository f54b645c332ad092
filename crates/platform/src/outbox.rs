//! The transactional outbox: a service writes its events into `fabrique_outbox` in the
//! same transaction as the change they describe ([`enqueue`]), then wakes the [`Relay`],
//! which publishes them to the bus, awaits each acknowledgement and deletes them.
//!
//! Guarantees: a committed change always gets its events published, at least once
//! (JetStream drops repeats by `Nats-Msg-Id`), in write order per aggregate; writes keep
//! succeeding while the bus is down.

pub(crate) mod entity;
mod relay;

pub use relay::{BATCH_SIZE, Relay, RelayError, health_name};

use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait, Set,
    Statement, TransactionTrait, Value,
};
use tokio::sync::Notify;

use crate::event::OutgoingEvent;

/// Wakes the relay after a commit, so an event leaves within milliseconds instead of
/// waiting for the next poll.
#[derive(Clone, Default, Debug)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    /// A signal for one service's relay, shared with everything that writes its outbox.
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

    /// Whether a commit was signalled since the last wait, taking the signal if so.
    pub(crate) fn take_pending(&self) -> bool {
        futures::FutureExt::now_or_never(self.0.notified()).is_some()
    }
}

/// A connection the outbox writes through. A consumer's transaction takes note that
/// events were written: only then does its commit wake the relay (most handlers write
/// none, and each needless wake-up was an empty relay pass, three round trips;
/// docs/performance.md, event-latency).
pub trait EventWriter: ConnectionTrait {
    /// Called once the events are written in this connection's transaction.
    fn events_written(&self) {}
}

impl EventWriter for DatabaseTransaction {}
impl EventWriter for DatabaseConnection {}
/// A migration's connection: data migrations may publish events (run once, in the
/// migration's transaction where the database has them).
impl EventWriter for sea_orm::DatabaseExecutor<'_> {}

/// Writes events to the outbox inside the caller's transaction, with the current trace
/// context so the trace continues through the bus.
pub async fn enqueue<C: EventWriter>(db: &C, events: Vec<OutgoingEvent>) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let (traceparent, tracestate) = crate::telemetry::current_trace_headers();
    let actor = crate::auth::Actor::current();
    let rows = events.into_iter().map(|event| entity::ActiveModel {
        event_id: Set(event.id),
        subject: Set(event.subject),
        ce_type: Set(event.ce_type),
        ce_subject: Set(event.ce_subject),
        payload: Set(event.payload),
        traceparent: Set(traceparent.clone()),
        tracestate: Set(tracestate.clone()),
        auth_type: Set(Some(actor.auth_type.to_string())),
        auth_id: Set(actor.auth_id.clone()),
        occurred_at: Set(event.occurred_at),
        ..Default::default()
    });
    entity::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    db.events_written();
    Ok(())
}

/// The `VALUES` rows of `events` for PostgreSQL, numbered after the `values` already
/// bound (the change's), their values appended: with the caller's trace context and
/// actor, as [`enqueue`] writes them.
fn outbox_rows(events: Vec<OutgoingEvent>, values: &mut Vec<Value>) -> String {
    let (traceparent, tracestate) = crate::telemetry::current_trace_headers();
    let actor = crate::auth::Actor::current();
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let first = values.len() + 1;
        let numbers: Vec<String> = (first..first + 10).map(|n| format!("${n}")).collect();
        rows.push(format!("({})", numbers.join(", ")));
        values.extend([
            Value::from(event.id),
            Value::from(event.subject),
            Value::from(event.ce_type),
            Value::from(event.ce_subject),
            Value::from(event.payload),
            Value::from(traceparent.clone()),
            Value::from(tracestate.clone()),
            Value::from(actor.auth_type),
            Value::from(actor.auth_id.clone()),
            Value::from(event.occurred_at),
        ]);
    }
    rows.join(", ")
}

/// Writes `change` (one INSERT or other statement whose result need not be read) and
/// its events atomically, in as few round trips as the database allows.
///
/// PostgreSQL: one statement, `WITH change AS (<change>) INSERT INTO fabrique_outbox …`,
/// committed on its own: one round trip where `BEGIN`, the change, the outbox insert
/// and `COMMIT` took four (the create path's cost was mostly those socket writes).
/// SQLite has no data-modifying `WITH`: a transaction.
pub async fn write_with_events<C>(
    db: &C,
    change: Statement,
    events: Vec<OutgoingEvent>,
) -> Result<(), DbErr>
where
    C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
{
    if events.is_empty() {
        db.execute_raw(change).await?;
        return Ok(());
    }
    if db.get_database_backend() != DbBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute_raw(change).await?;
        enqueue(&txn, events).await?;
        return txn.commit().await;
    }
    let mut values = change.values.map(|v| v.0).unwrap_or_default();
    let mut sql = format!(
        "WITH change AS ({}) INSERT INTO fabrique_outbox \
         (event_id, subject, ce_type, ce_subject, payload, traceparent, tracestate, \
         auth_type, auth_id, occurred_at) VALUES ",
        change.sql
    );
    sql.push_str(&outbox_rows(events, &mut values));
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await?;
    Ok(())
}
