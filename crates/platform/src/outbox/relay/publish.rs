//! How a batch of rows reaches the bus: in waves (wave `n` holds the `n`-th pending event
//! of every aggregate of the batch), each wave's publishes pipelined and its
//! acknowledgements awaited before the next, so that one aggregate's events keep their
//! order while many aggregates are in flight at once.

use std::collections::HashMap;

use super::Relay;
use crate::bus::{BusError, OutgoingMessage, PendingAck};
use crate::event::{CE_AUTHID, CE_AUTHTYPE, TRACEPARENT, TRACESTATE, event_headers};
use crate::metrics;
use crate::outbox::entity;

impl Relay {
    /// Publishes rows wave by wave; returns the ids acknowledged, and the first error.
    /// The rows' payloads are moved into the messages (the rows are not sent again).
    pub(super) async fn publish_rows(
        &self,
        rows: &mut [entity::Model],
    ) -> (Vec<i64>, Option<BusError>) {
        let mut payloads: Vec<Option<bytes::Bytes>> = rows
            .iter_mut()
            .map(|row| Some(std::mem::take(&mut row.payload).into()))
            .collect();
        let rows = &*rows;
        // Without an exporter the publish span would be built and dropped for every
        // event (a sixth of the relay's CPU); the message then carries the writer's
        // trace context, so a consumer's span still joins the call's trace.
        let traced = crate::telemetry::spans_exported();
        let mut published = Vec::with_capacity(rows.len());
        // Acknowledged events per subject, counted once per batch: a few subjects
        // share a batch, and the counter's labels cost an allocation each time.
        let mut counts: Vec<(&str, u64)> = Vec::new();
        let mut error = None;
        for wave in waves(rows) {
            let mut in_flight: Vec<(i64, &str, tracing::Span, PendingAck)> =
                Vec::with_capacity(wave.len());
            for (index, row) in wave {
                let payload = payloads[index].take().unwrap_or_default();
                let (span, message) = self.traced_message(row, payload, traced);
                match self.bus.publish(message).await {
                    Ok(ack) => in_flight.push((row.id, row.subject.as_str(), span, ack)),
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            for (id, subject, span, ack) in in_flight {
                match ack.await {
                    Ok(_) => {
                        match counts.iter_mut().find(|(s, _)| *s == subject) {
                            Some((_, count)) => *count += 1,
                            None => counts.push((subject, 1)),
                        }
                        published.push(id);
                    }
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
                drop(span);
            }
            if error.is_some() {
                break;
            }
        }
        for (subject, count) in counts {
            metrics::events_published(self.service, subject, count);
        }
        (published, error)
    }

    /// The message of a row, and the span of its publish when spans are exported. The
    /// span lasts from the publish to the acknowledgement; it is current only while the
    /// message is built, so that its traceparent is the one sent (polling futures inside
    /// it would cost an enter and an exit each).
    fn traced_message(
        &self,
        row: &entity::Model,
        payload: bytes::Bytes,
        traced: bool,
    ) -> (tracing::Span, OutgoingMessage) {
        if traced {
            let span = publish_span(row);
            let message = {
                let _entered = span.enter();
                self.message(row, payload, crate::telemetry::current_trace_headers())
            };
            (span, message)
        } else {
            (
                tracing::Span::none(),
                self.message(row, payload, (None, None)),
            )
        }
    }

    /// `context`: the publish span's W3C headers, when there is one.
    fn message(
        &self,
        row: &entity::Model,
        payload: bytes::Bytes,
        context: (Option<String>, Option<String>),
    ) -> OutgoingMessage {
        let mut headers = event_headers(
            row.event_id,
            &self.source,
            &row.ce_type,
            &row.ce_subject,
            row.occurred_at,
        );
        // The publish span is the parent the consumer continues from, or else the span
        // that wrote the event.
        let (traceparent, tracestate) = context;
        if let Some(traceparent) = traceparent.or_else(|| row.traceparent.clone()) {
            headers.insert(TRACEPARENT, traceparent);
        }
        if let Some(tracestate) = tracestate.or_else(|| row.tracestate.clone()) {
            headers.insert(TRACESTATE, tracestate);
        }
        if let Some(auth_type) = &row.auth_type {
            headers.insert(CE_AUTHTYPE, auth_type.clone());
        }
        if let Some(auth_id) = &row.auth_id {
            headers.insert(CE_AUTHID, auth_id.clone());
        }
        OutgoingMessage {
            subject: self.subjects.full(&row.subject),
            headers,
            payload,
        }
    }
}

/// The rows in waves: wave `n` holds, in outbox order, the `n`-th row of each aggregate
/// (`ce-subject`), with its index in `rows`.
fn waves(rows: &[entity::Model]) -> Vec<Vec<(usize, &entity::Model)>> {
    let mut waves: Vec<Vec<(usize, &entity::Model)>> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (index, row) in rows.iter().enumerate() {
        let wave = seen.entry(row.ce_subject.as_str()).or_insert(0);
        if waves.len() <= *wave {
            waves.push(Vec::new());
        }
        waves[*wave].push((index, row));
        *wave += 1;
    }
    waves
}

fn publish_span(row: &entity::Model) -> tracing::Span {
    let span = tracing::info_span!(
        target: crate::telemetry::TRACE_ONLY,
        "publish",
        otel.name = format!("publish {}", row.subject),
        otel.kind = "producer",
        messaging.system = "nats",
        messaging.operation.type = "send",
        messaging.destination.name = %row.subject,
        messaging.message.id = %row.event_id,
    );
    crate::telemetry::set_parent(&span, row.traceparent.as_deref(), row.tracestate.as_deref());
    span
}
