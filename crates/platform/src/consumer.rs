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

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::{DatabaseConnection, DbErr};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::bus::{
    Bus, BusError, ConsumerSpec, Delivery, Headers, MSG_ID_HEADER, OutgoingMessage, Subjects,
};
use crate::event::IncomingEvent;
use crate::metrics;

mod processed;
mod retention;
mod transaction;

pub use retention::{DEFAULT_RETENTION, PURGE_CHUNK, PURGE_EVERY, purge_every, purge_processed};
pub use transaction::ConsumerTxn;
use transaction::LaneDb;

/// Header of a dead letter: why it could not be handled.
pub const DLQ_REASON: &str = "fabrique-dlq-reason";
/// Header of a dead letter: the subject it was published on.
pub const DLQ_SUBJECT: &str = "fabrique-dlq-subject";
/// Header of a dead letter: the durable consumer that gave up.
pub const DLQ_CONSUMER: &str = "fabrique-dlq-consumer";
/// Header of a dead letter: how many deliveries were attempted.
pub const DLQ_DELIVERIES: &str = "fabrique-dlq-deliveries";
/// Header of a dead letter: the stream sequence of the original message.
pub const DLQ_STREAM_SEQUENCE: &str = "fabrique-dlq-stream-sequence";

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Will never succeed (malformed or unexpected event): dead-lettered at once.
    #[error("{0}")]
    Permanent(String),
    /// May succeed later: retried, then dead-lettered after `max_deliver` deliveries.
    #[error("{0}")]
    Transient(String),
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

/// A consumer a service declares.
#[derive(Clone)]
pub struct ConsumerDef {
    /// Durable name, unique per stream: e.g. `registry-members`.
    pub name: String,
    /// Service whose stream is consumed, e.g. `members`.
    pub source_service: String,
    /// Subjects (without prefix) to receive, e.g. `fabrique.members.member.>`.
    pub subjects: Vec<String>,
    pub handler: Arc<dyn EventHandler>,
    /// Woken after a commit in which the handler wrote events to the outbox (with
    /// [`crate::outbox::enqueue`]).
    pub outbox: Option<crate::outbox::OutboxSignal>,
}

pub use crate::config::DEFAULT_LANES;

#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    pub max_deliver: u32,
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

pub struct ConsumerRunner {
    service: &'static str,
    def: ConsumerDef,
    db: DatabaseConnection,
    bus: Arc<dyn Bus>,
    subjects: Subjects,
    settings: ConsumerSettings,
}

enum Outcome {
    Applied,
    Duplicate,
}

enum Failure {
    Handler(HandlerError),
    Unavailable(DbErr),
}

impl ConsumerRunner {
    pub fn new(
        service: &'static str,
        def: ConsumerDef,
        db: DatabaseConnection,
        bus: Arc<dyn Bus>,
        subjects: Subjects,
        settings: ConsumerSettings,
    ) -> Self {
        Self {
            service,
            def,
            db,
            bus,
            subjects,
            settings,
        }
    }

    fn spec(&self) -> ConsumerSpec {
        ConsumerSpec {
            stream: self.subjects.stream_name(&self.def.source_service),
            durable_name: self.def.name.clone(),
            filter_subjects: self
                .def
                .subjects
                .iter()
                .map(|s| self.subjects.full(s))
                .collect(),
            ack_wait: self.settings.ack_wait,
        }
    }

    /// Consumes until `shutdown`. Waits for the source stream to exist, and binds again
    /// whenever the subscription ends.
    pub async fn run(self, shutdown: CancellationToken) {
        let spec = self.spec();
        let this = Arc::new(self);
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            let mut subscription = match this.bus.subscribe(&spec).await {
                Ok(subscription) => {
                    tracing::info!(consumer = %spec.durable_name, stream = %spec.stream, "consuming");
                    backoff = Duration::from_millis(100);
                    subscription
                }
                Err(error) => {
                    if matches!(error, BusError::StreamNotFound(_)) {
                        tracing::debug!(consumer = %spec.durable_name, %error, "waiting for the stream");
                    } else {
                        tracing::warn!(consumer = %spec.durable_name, %error, "cannot bind the consumer");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            let lanes = Lanes::start(&this, &shutdown);
            loop {
                let next = tokio::select! {
                    next = subscription.next() => next,
                    _ = shutdown.cancelled() => break,
                };
                match next {
                    None => break,
                    Some(Err(error)) => {
                        // E.g. missed heartbeats while NATS is away; the stream recovers.
                        tracing::debug!(consumer = %spec.durable_name, %error, "subscription error");
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                            _ = shutdown.cancelled() => break,
                        }
                    }
                    Some(Ok(delivery)) => lanes.dispatch(delivery, &shutdown).await,
                }
            }
            // Before binding again: a redelivered event must not overtake its
            // predecessor still in a lane.
            lanes.finish().await;
        }
    }

    /// Handles one delivery to the end: applied, duplicate, dead-lettered, or (only on
    /// shutdown) handed back to the bus.
    async fn process(&self, lane: &mut LaneDb, delivery: Delivery, shutdown: &CancellationToken) {
        let subject = self.subjects.strip(&delivery.subject).to_string();
        let event =
            match IncomingEvent::parse(&subject, &delivery.headers, delivery.payload.clone()) {
                Ok(event) => event,
                Err(reason) => {
                    self.dead_letter(&delivery, delivery.delivered, &reason, shutdown)
                        .await;
                    return;
                }
            };
        let span = self.span(&subject, &event, delivery.delivered);

        let mut deliveries = delivery.delivered.max(1);
        let mut retry = self.settings.retry_delay;
        let mut first = true;
        loop {
            let deferred = if std::mem::take(&mut first) && lane.defers() {
                self.apply_together(lane, &[(&event, &span)]).await
            } else {
                None
            };
            let applied = match deferred {
                Some(outcomes) => Ok(outcomes.into_iter().next().unwrap_or(Outcome::Applied)),
                None => {
                    crate::telemetry::with_received_context(
                        event.headers.get(crate::event::TRACEPARENT),
                        event.headers.get(crate::event::TRACESTATE),
                        self.apply(lane, &event).instrument(span.clone()),
                    )
                    .await
                }
            };
            match applied {
                Ok(outcome) => {
                    if let Err(error) = delivery.acker.ack().await {
                        // Redelivered later and recognised as a duplicate.
                        tracing::warn!(consumer = %self.def.name, %error, "ack failed");
                    }
                    let outcome = match outcome {
                        Outcome::Applied => "applied",
                        Outcome::Duplicate => "duplicate",
                    };
                    metrics::event_consumed(&self.def.name, &subject, outcome);
                    return;
                }
                Err(Failure::Handler(HandlerError::Permanent(reason))) => {
                    let _entered = span.enter();
                    tracing::warn!(consumer = %self.def.name, %reason, "event cannot be handled");
                    drop(_entered);
                    self.dead_letter(&delivery, deliveries, &reason, shutdown)
                        .await;
                    return;
                }
                Err(Failure::Handler(error)) => {
                    let _entered = span.enter();
                    tracing::warn!(consumer = %self.def.name, %error, deliveries, "handler failed");
                    drop(_entered);
                    if deliveries >= u64::from(self.settings.max_deliver) {
                        let reason = format!("failed {deliveries} times; last error: {error}");
                        self.dead_letter(&delivery, deliveries, &reason, shutdown)
                            .await;
                        return;
                    }
                    deliveries += 1;
                }
                Err(Failure::Unavailable(error)) => {
                    tracing::warn!(consumer = %self.def.name, %error, "database unavailable; waiting");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(retry) => {}
                _ = shutdown.cancelled() => {
                    let _ = delivery.acker.nak(Duration::ZERO).await;
                    return;
                }
            }
            retry = (retry * 2).min(Duration::from_secs(5));
            let _ = delivery.acker.in_progress().await;
        }
    }

    fn span(&self, subject: &str, event: &IncomingEvent, delivered: u64) -> tracing::Span {
        let span = tracing::info_span!(
            "consume",
            otel.name = format!("process {subject}"),
            otel.kind = "consumer",
            messaging.system = "nats",
            messaging.operation.type = "process",
            messaging.destination.name = %subject,
            messaging.consumer.group.name = %self.def.name,
            messaging.message.id = %event.id,
            messaging.message.delivery_count = delivered,
        );
        crate::telemetry::set_parent(
            &span,
            event.headers.get(crate::event::TRACEPARENT),
            event.headers.get(crate::event::TRACESTATE),
        );
        span
    }

    /// Handles deliveries that queued up on a lane together: all applied in one
    /// transaction (one commit instead of one per event), then acked. If anything goes
    /// wrong (a malformed event, a failing handler, the database), each is handled on
    /// its own instead, with the retries and dead-lettering of [`Self::process`].
    async fn process_batch(
        &self,
        lane: &mut LaneDb,
        batch: Vec<Delivery>,
        shutdown: &CancellationToken,
    ) {
        if batch.len() == 1 {
            for delivery in batch {
                self.process(lane, delivery, shutdown).await;
            }
            return;
        }
        let mut events = Vec::with_capacity(batch.len());
        for delivery in &batch {
            let subject = self.subjects.strip(&delivery.subject).to_string();
            match IncomingEvent::parse(&subject, &delivery.headers, delivery.payload.clone()) {
                Ok(event) => {
                    let span = self.span(&subject, &event, delivery.delivered);
                    events.push((subject, event, span));
                }
                Err(_) => break,
            }
        }
        let applied = if events.len() == batch.len() {
            let events: Vec<_> = events
                .iter()
                .map(|(_, event, span)| (event, span))
                .collect();
            self.apply_together(lane, &events).await
        } else {
            None
        };
        let Some(outcomes) = applied else {
            for delivery in batch {
                self.process(lane, delivery, shutdown).await;
            }
            return;
        };
        // Acked together: each ack waits for the server's confirmation.
        let acks = futures::future::join_all(batch.iter().map(|d| d.acker.ack())).await;
        for ((ack, (subject, _, _)), outcome) in acks.into_iter().zip(&events).zip(outcomes) {
            if let Err(error) = ack {
                tracing::warn!(consumer = %self.def.name, %error, "ack failed");
            }
            let outcome = match outcome {
                Outcome::Applied => "applied",
                Outcome::Duplicate => "duplicate",
            };
            metrics::event_consumed(&self.def.name, subject, outcome);
        }
    }

    /// First try of events (one, or what queued on a lane): every handler applied in
    /// one transaction. On PostgreSQL its `BEGIN` and record of the events' ids go out
    /// with the first statement, a round trip less than [`Self::apply`]; elsewhere (or
    /// when an event came twice) the ids are recorded first, and events already handled
    /// skipped. `None` when anything failed, on PostgreSQL an event already handled
    /// included: nothing is then applied, and the caller goes on with [`Self::apply`],
    /// one event at a time.
    async fn apply_together(
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
        Some(
            all.iter()
                .enumerate()
                .map(|(i, event)| {
                    let handled_before = match (&new, &recorded) {
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
                .collect(),
        )
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
    async fn apply(&self, lane: &mut LaneDb, event: &IncomingEvent) -> Result<Outcome, Failure> {
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

    /// Publishes the message to `fabrique.dlq.<service>` with the reason, then acks it.
    /// Retries until the bus takes it (or shutdown, when the message is handed back).
    async fn dead_letter(
        &self,
        delivery: &Delivery,
        deliveries: u64,
        reason: &str,
        shutdown: &CancellationToken,
    ) {
        let mut headers = Headers::new();
        for (name, value) in delivery.headers.iter() {
            if name != MSG_ID_HEADER {
                headers.insert(name.to_string(), value);
            }
        }
        headers.insert(DLQ_REASON, header_safe(reason));
        headers.insert(DLQ_SUBJECT, delivery.subject.as_str());
        headers.insert(DLQ_CONSUMER, self.def.name.as_str());
        headers.insert(DLQ_DELIVERIES, deliveries.to_string());
        headers.insert(DLQ_STREAM_SEQUENCE, delivery.stream_sequence.to_string());
        headers.insert(
            MSG_ID_HEADER,
            format!("dlq-{}-{}", self.def.name, delivery.stream_sequence),
        );
        let message = OutgoingMessage {
            subject: self.subjects.dlq_subject(self.service),
            headers,
            payload: delivery.payload.clone(),
        };
        let mut retry = Duration::from_millis(100);
        loop {
            let published = match self.bus.publish(message.clone()).await {
                Ok(ack) => ack.await,
                Err(error) => Err(error),
            };
            match published {
                Ok(_) => {
                    tracing::warn!(consumer = %self.def.name, subject = %delivery.subject, reason, "event dead-lettered");
                    metrics::event_dead_lettered(
                        &self.def.name,
                        self.subjects.strip(&delivery.subject),
                    );
                    let _ = delivery.acker.ack().await;
                    return;
                }
                Err(error) => {
                    tracing::warn!(consumer = %self.def.name, %error, "cannot publish to the DLQ; retrying");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(retry) => {}
                _ = shutdown.cancelled() => {
                    let _ = delivery.acker.nak(Duration::ZERO).await;
                    return;
                }
            }
            retry = (retry * 2).min(Duration::from_secs(5));
        }
    }
}

/// Header values are one line of printable text, of bounded size.
fn header_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(1000)
        .collect()
}

/// Events applied in one transaction at most.
const MAX_BATCH: usize = 32;

/// A lane that received nothing for this long closes its database connection.
const LANE_IDLE: Duration = Duration::from_secs(60);

/// The lanes of one subscription: tasks that each handle their deliveries in order.
struct Lanes {
    senders: Vec<tokio::sync::mpsc::Sender<Delivery>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Lanes {
    fn start(runner: &Arc<ConsumerRunner>, shutdown: &CancellationToken) -> Self {
        let count = runner.settings.lanes.max(1);
        let mut senders = Vec::with_capacity(count);
        let mut tasks = Vec::with_capacity(count);
        for _ in 0..count {
            // A short queue: what waits here is not yet being handled, and its ack wait
            // is running.
            let (sender, mut receiver) = tokio::sync::mpsc::channel::<Delivery>(16);
            let (runner, shutdown) = (runner.clone(), shutdown.clone());
            tasks.push(tokio::spawn(async move {
                let mut db = LaneDb::new(runner.db.clone());
                loop {
                    let first = match tokio::time::timeout(LANE_IDLE, receiver.recv()).await {
                        Ok(Some(first)) => first,
                        Ok(None) => break,
                        Err(_) => {
                            // A quiet lane holds no connection.
                            db.release().await;
                            continue;
                        }
                    };
                    // What queued up meanwhile goes in the same transaction; nothing
                    // waits for a batch to fill.
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match receiver.try_recv() {
                            Ok(delivery) => batch.push(delivery),
                            Err(_) => break,
                        }
                    }
                    if shutdown.is_cancelled() {
                        // Handed back at once rather than after the ack wait.
                        for delivery in batch {
                            let _ = delivery.acker.nak(Duration::ZERO).await;
                        }
                        continue;
                    }
                    runner.process_batch(&mut db, batch, &shutdown).await;
                }
                db.release().await;
            }));
            senders.push(sender);
        }
        Self { senders, tasks }
    }

    /// Queues a delivery on its aggregate's lane (waits while that lane is full).
    async fn dispatch(&self, delivery: Delivery, shutdown: &CancellationToken) {
        let key = delivery
            .headers
            .get(crate::event::CE_SUBJECT)
            .unwrap_or(&delivery.subject);
        let lane = (crate::hash::fnv1a64(key.as_bytes()) % self.senders.len() as u64) as usize;
        tokio::select! {
            sent = self.senders[lane].send(delivery) => {
                if let Err(tokio::sync::mpsc::error::SendError(delivery)) = sent {
                    let _ = delivery.acker.nak(Duration::ZERO).await;
                }
            }
            _ = shutdown.cancelled() => {}
        }
    }

    /// Lets every lane finish what it holds.
    async fn finish(self) {
        drop(self.senders);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::EntityTrait;
    use sea_orm_migration::{MigrationTrait, MigratorTrait};

    use super::*;
    use crate::bus::memory::MemoryBus;
    use crate::event::OutgoingEvent;

    /// Writes one event to the outbox for a payload "emit", nothing otherwise.
    struct Emitting;

    #[async_trait]
    impl EventHandler for Emitting {
        async fn handle(
            &self,
            txn: &ConsumerTxn,
            event: &IncomingEvent,
        ) -> Result<(), HandlerError> {
            if event.payload == "emit" {
                let echo = OutgoingEvent {
                    id: uuid::Uuid::now_v7(),
                    subject: "fabrique.tests.thing.echoed".into(),
                    ce_type: "fabrique.tests.v1.Echoed".into(),
                    ce_subject: event.subject.clone(),
                    payload: Vec::new(),
                    occurred_at: chrono::Utc::now(),
                };
                crate::outbox::enqueue(txn, vec![echo]).await?;
            }
            Ok(())
        }
    }

    struct PlatformTables;

    impl MigratorTrait for PlatformTables {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            crate::db::platform_migrations()
        }
    }

    /// What a batch-aware handler runs for one event carries that event's trace on,
    /// not its neighbour's (here without exported spans, as the received headers).
    #[tokio::test]
    async fn each_event_of_a_batch_is_traced_as_its_own() {
        let parents = [
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ];
        let events: Vec<IncomingEvent> = parents
            .iter()
            .map(|parent| {
                let mut headers = crate::event::event_headers(
                    uuid::Uuid::now_v7(),
                    "/fabrique/source",
                    "fabrique.source.v1.Thing",
                    "things/1",
                    chrono::Utc::now(),
                );
                headers.insert(crate::event::TRACEPARENT, *parent);
                IncomingEvent::parse("fabrique.source.thing.happened", &headers, "".into())
                    .expect("event")
            })
            .collect();
        let span = tracing::Span::none();
        for (event, parent) in events.iter().zip(parents) {
            let (traceparent, _) = Handling::new(event, &span)
                .traced(async { crate::telemetry::current_trace_headers() })
                .await;
            assert_eq!(traceparent.as_deref(), Some(parent));
        }
        let (outside, _) = crate::telemetry::current_trace_headers();
        assert_eq!(outside, None);
    }

    // The decision is the runner's, the same over every database and bus; the
    // embedded ones keep this a unit test (relay wake-ups are not visible outside).
    #[tokio::test]
    async fn only_a_commit_that_wrote_events_wakes_the_relay() {
        let dir =
            std::env::temp_dir().join(format!("fabrique-wakes-{}", uuid::Uuid::now_v7().simple()));
        let settings = crate::config::DatabaseSettings {
            url: format!("sqlite://{}/tests.db", dir.display()),
            max_connections: 4,
        };
        let db = crate::db::connect(&settings, "tests").await.expect("db");
        crate::db::migrate::<PlatformTables>(&db, "tests")
            .await
            .expect("migrate");
        let bus: Arc<dyn Bus> = Arc::new(MemoryBus::new());
        let subjects = Subjects::new("wakes");
        bus.ensure_stream(&subjects.service_stream("source"))
            .await
            .expect("stream");
        let signal = crate::outbox::OutboxSignal::new();
        let runner = ConsumerRunner::new(
            "tests",
            ConsumerDef {
                name: "tests-source".into(),
                source_service: "source".into(),
                subjects: vec!["fabrique.source.>".into()],
                handler: Arc::new(Emitting),
                outbox: Some(signal.clone()),
            },
            db.clone(),
            bus.clone(),
            subjects.clone(),
            ConsumerSettings::default(),
        );
        let stop = CancellationToken::new();
        let running = tokio::spawn(runner.run(stop.clone()));

        for (handled, payload) in [(1, "quiet"), (2, "emit"), (3, "quiet")] {
            let id = uuid::Uuid::now_v7();
            let mut headers = crate::event::event_headers(
                id,
                "/fabrique/source",
                "fabrique.source.v1.Thing",
                "things/1",
                chrono::Utc::now(),
            );
            headers.insert(MSG_ID_HEADER, id.to_string().as_str());
            bus.publish(OutgoingMessage {
                subject: subjects.full("fabrique.source.thing.happened"),
                headers,
                payload: payload.into(),
            })
            .await
            .expect("sent")
            .await
            .expect("stored");
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while processed::Entity::find()
                .all(&db)
                .await
                .expect("read")
                .len()
                < handled
            {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{payload} not handled"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert_eq!(
                signal.take_pending(),
                payload == "emit",
                "relay woken after the {payload} event"
            );
        }
        let outbox = crate::outbox::entity::Entity::find()
            .all(&db)
            .await
            .expect("outbox");
        assert_eq!(outbox.len(), 1, "the emitted event waits in the outbox");

        stop.cancel();
        running.await.expect("runner stops");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
