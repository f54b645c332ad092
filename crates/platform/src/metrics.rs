//! The platform's metrics, recorded through the global OpenTelemetry meter (a no-op
//! until telemetry export is configured):
//!
//! | instrument | kind | attributes |
//! |---|---|---|
//! | `rpc.server.requests` | counter | `rpc.service`, `rpc.method`, `rpc.grpc.status_code` |
//! | `rpc.server.duration` | histogram (s) | same |
//! | `fabrique.events.published` | counter | `service`, `subject` |
//! | `fabrique.events.consumed` | counter | `consumer`, `subject`, `outcome` (applied, duplicate) |
//! | `fabrique.events.dead_lettered` | counter | `consumer`, `subject` |
//! | `fabrique.outbox.backlog` | gauge | `service` |
//! | `fabrique.outbox.relay_failures` | counter | `service`, `reason` (stream_full, bus_unavailable, bus_error, database) |

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, ObservableGauge};

struct Instruments {
    rpc_requests: Counter<u64>,
    rpc_duration: Histogram<f64>,
    published: Counter<u64>,
    consumed: Counter<u64>,
    dead_lettered: Counter<u64>,
    relay_failures: Counter<u64>,
    _backlog: ObservableGauge<u64>,
}

static BACKLOG: Mutex<Vec<(&'static str, u64)>> = Mutex::new(Vec::new());

fn instruments() -> &'static Instruments {
    static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();
    INSTRUMENTS.get_or_init(|| {
        let meter = opentelemetry::global::meter("fabrique");
        Instruments {
            rpc_requests: meter
                .u64_counter("rpc.server.requests")
                .with_description("gRPC calls handled, by method and status code")
                .build(),
            rpc_duration: meter
                .f64_histogram("rpc.server.duration")
                .with_unit("s")
                .with_description("Time to handle a gRPC call")
                .with_boundaries(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ])
                .build(),
            published: meter
                .u64_counter("fabrique.events.published")
                .with_description("Events published from the outbox and acknowledged by the bus")
                .build(),
            consumed: meter
                .u64_counter("fabrique.events.consumed")
                .with_description("Events handled by consumers")
                .build(),
            dead_lettered: meter
                .u64_counter("fabrique.events.dead_lettered")
                .with_description("Events sent to a dead-letter subject")
                .build(),
            relay_failures: meter
                .u64_counter("fabrique.outbox.relay_failures")
                .with_description(
                    "Relay passes that failed, by reason; events wait in the outbox meanwhile",
                )
                .build(),
            _backlog: meter
                .u64_observable_gauge("fabrique.outbox.backlog")
                .with_description("Outbox rows not yet published")
                .with_callback(|observer| {
                    let backlog = BACKLOG.lock().unwrap_or_else(|p| p.into_inner());
                    for (service, pending) in backlog.iter() {
                        observer.observe(*pending, &[KeyValue::new("service", *service)]);
                    }
                })
                .build(),
        }
    })
}

/// One call handled: its count and duration, by method and status code.
pub fn record_rpc(service: &str, method: &str, code: i32, elapsed: Duration) {
    let attributes = [
        KeyValue::new("rpc.system", "grpc"),
        KeyValue::new("rpc.service", service.to_string()),
        KeyValue::new("rpc.method", method.to_string()),
        KeyValue::new("rpc.grpc.status_code", i64::from(code)),
    ];
    let instruments = instruments();
    instruments.rpc_requests.add(1, &attributes);
    instruments
        .rpc_duration
        .record(elapsed.as_secs_f64(), &attributes);
}

/// `count` events on `subject` acknowledged by the bus (the relay counts a batch's
/// events per subject and reports each subject once).
pub fn events_published(service: &'static str, subject: &str, count: u64) {
    instruments().published.add(
        count,
        &[
            KeyValue::new("service", service),
            KeyValue::new("subject", subject.to_string()),
        ],
    );
}

/// One event taken to its end by a consumer; `outcome` is `applied` or `duplicate`.
pub fn event_consumed(consumer: &str, subject: &str, outcome: &'static str) {
    instruments().consumed.add(
        1,
        &[
            KeyValue::new("consumer", consumer.to_string()),
            KeyValue::new("subject", subject.to_string()),
            KeyValue::new("outcome", outcome),
        ],
    );
}

/// One event a consumer gave up on.
pub fn event_dead_lettered(consumer: &str, subject: &str) {
    instruments().dead_lettered.add(
        1,
        &[
            KeyValue::new("consumer", consumer.to_string()),
            KeyValue::new("subject", subject.to_string()),
        ],
    );
}

/// One relay pass that failed; its events wait in the outbox.
pub fn relay_failed(service: &'static str, reason: &'static str) {
    instruments().relay_failures.add(
        1,
        &[
            KeyValue::new("service", service),
            KeyValue::new("reason", reason),
        ],
    );
}

/// The rows a service's outbox holds, as last counted; the gauge reports it when read.
pub fn set_outbox_backlog(service: &'static str, pending: u64) {
    let _ = instruments();
    let mut backlog = BACKLOG.lock().unwrap_or_else(|p| p.into_inner());
    match backlog.iter_mut().find(|(s, _)| *s == service) {
        Some(entry) => entry.1 = pending,
        None => backlog.push((service, pending)),
    }
}

/// The backlog last recorded per service (for logs and tests).
pub fn outbox_backlog() -> HashMap<&'static str, u64> {
    BACKLOG
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .copied()
        .collect()
}
