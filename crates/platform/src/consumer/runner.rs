//! The [`ConsumerRunner`]: binds a durable consumer, hands its deliveries to the lanes,
//! and takes each delivery to its end — applied, a duplicate, dead-lettered, or (only at
//! shutdown) handed back to the bus — retrying a failing handler in place so that one
//! aggregate's events keep their order.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::apply::{Failure, Outcome};
use super::lanes::Lanes;
use super::transaction::LaneDb;
use super::{ConsumerDef, ConsumerSettings, HandlerError};
use crate::bus::{Bus, BusError, ConsumerSpec, Delivery, Subjects};
use crate::event::IncomingEvent;
use crate::metrics;

/// Runs one [`ConsumerDef`] of a service until shutdown (see the [module](super) doc).
pub struct ConsumerRunner {
    pub(super) service: &'static str,
    pub(super) def: ConsumerDef,
    pub(super) db: DatabaseConnection,
    pub(super) bus: Arc<dyn Bus>,
    pub(super) subjects: Subjects,
    pub(super) settings: ConsumerSettings,
}

impl ConsumerRunner {
    /// `service` is the consuming service: its database holds the processed ids, and
    /// its name the dead-letter subject.
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
        Arc::new(self).run_shared(shutdown).await;
    }

    /// [`Self::run`], for a runner the process also keeps to replay its dead letters.
    pub async fn run_shared(self: Arc<Self>, shutdown: CancellationToken) {
        let spec = self.spec();
        let this = self;
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
    pub(super) async fn process(
        &self,
        lane: &mut LaneDb,
        delivery: Delivery,
        shutdown: &CancellationToken,
    ) {
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
            let applied = self
                .attempt(lane, &event, &span, std::mem::take(&mut first))
                .await;
            match applied {
                Ok(outcome) => {
                    if let Err(error) = delivery.acker.ack().await {
                        // Redelivered later and recognised as a duplicate.
                        tracing::warn!(consumer = %self.def.name, %error, "ack failed");
                    }
                    metrics::event_consumed(&self.def.name, &subject, outcome.label());
                    return;
                }
                Err(failure) => {
                    if let Some(reason) = self.give_up_reason(failure, &span, &mut deliveries) {
                        self.dead_letter(&delivery, deliveries, &reason, shutdown)
                            .await;
                        return;
                    }
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

    /// Logs a failed try and decides what follows: `Some(reason)` to dead-letter the
    /// event (it can never be handled, or failed `max_deliver` times), else a retry,
    /// counted as a delivery unless the database was unreachable (waiting for it is
    /// not the event's fault).
    fn give_up_reason(
        &self,
        failure: Failure,
        span: &tracing::Span,
        deliveries: &mut u64,
    ) -> Option<String> {
        match failure {
            Failure::Handler(HandlerError::Permanent(reason)) => {
                let _entered = span.enter();
                tracing::warn!(consumer = %self.def.name, %reason, "event cannot be handled");
                Some(reason)
            }
            Failure::Handler(error) => {
                let _entered = span.enter();
                let deliveries_now = *deliveries;
                tracing::warn!(consumer = %self.def.name, %error, deliveries = deliveries_now, "handler failed");
                if deliveries_now >= u64::from(self.settings.max_deliver) {
                    return Some(format!(
                        "failed {deliveries_now} times; last error: {error}"
                    ));
                }
                *deliveries += 1;
                None
            }
            Failure::Unavailable(error) => {
                tracing::warn!(consumer = %self.def.name, %error, "database unavailable; waiting");
                None
            }
        }
    }

    /// One try of one event. The first, where the lane defers its `BEGIN`, goes the way
    /// of a batch ([`Self::apply_together`]), a round trip less; when that fails, and
    /// on every retry, the id is recorded first ([`Self::apply`]).
    async fn attempt(
        &self,
        lane: &mut LaneDb,
        event: &IncomingEvent,
        span: &tracing::Span,
        first: bool,
    ) -> Result<Outcome, Failure> {
        let deferred = if first && lane.defers() {
            self.apply_together(lane, &[(event, span)]).await
        } else {
            None
        };
        match deferred {
            Some(outcomes) => Ok(outcomes.into_iter().next().unwrap_or(Outcome::Applied)),
            None => {
                crate::telemetry::with_received_context(
                    event.headers.get(crate::event::TRACEPARENT),
                    event.headers.get(crate::event::TRACESTATE),
                    self.apply(lane, event).instrument(span.clone()),
                )
                .await
            }
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
    pub(super) async fn process_batch(
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
            metrics::event_consumed(&self.def.name, subject, outcome.label());
        }
    }
}
