//! Telemetry across the platform. One trace: a CreateMember call's server span, the
//! outbox relay's publish span and a consumer's handling span share one trace id and
//! chain as parent and child — through the outbox table and NATS JetStream. And the
//! metrics: per-RPC requests and durations, events published, consumed and
//! dead-lettered, the outbox backlog. Its own binary, because it installs the
//! process-wide tracing subscriber and meter provider.

#![allow(clippy::unwrap_used)] // a test that unwraps fails loudly, which is the point

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use fabrique_api::members as proto;
use fabrique_platform::bus::Subjects;
use fabrique_platform::config::{DatabaseSettings, LogFormat};
use fabrique_platform::consumer::{
    ConsumerDef, ConsumerRunner, ConsumerSettings, ConsumerTxn, EventHandler, HandlerError,
};
use fabrique_platform::event::IncomingEvent;
use fabrique_platform::telemetry::{self, TelemetryOptions};
use fabrique_testkit::{Backend, BusChoice, TempDir, TestPlatform, authed};
use opentelemetry::KeyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use sea_orm_migration::{MigrationTrait, MigratorTrait};

#[derive(Debug, Clone, Default)]
struct Collected(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Collected {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(batch);
        std::future::ready(Ok(()))
    }
}

impl Collected {
    fn named(&self, name: &str) -> Option<SpanData> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|span| span.name == name)
            .cloned()
    }
}

/// One data point: metric name, attributes, value (a histogram's count).
type Point = (String, Vec<KeyValue>, f64);

#[derive(Debug, Clone, Default)]
struct Metrics(Arc<Mutex<Vec<Point>>>);

impl Metrics {
    /// The latest cumulative value of `name` at the point whose attributes include `with`.
    fn value(&self, name: &str, with: &[(&str, &str)]) -> Option<f64> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .rev()
            .find(|(n, attributes, _)| {
                n == name
                    && with.iter().all(|(key, value)| {
                        attributes
                            .iter()
                            .any(|kv| kv.key.as_str() == *key && kv.value.as_str() == *value)
                    })
            })
            .map(|(_, _, value)| *value)
    }
}

trait AsF64: Copy {
    fn as_f64(self) -> f64;
}

impl AsF64 for u64 {
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl AsF64 for f64 {
    fn as_f64(self) -> f64 {
        self
    }
}

fn points<T: AsF64>(name: &str, data: &MetricData<T>, out: &mut Vec<Point>) {
    match data {
        MetricData::Sum(sum) => {
            for p in sum.data_points() {
                out.push((
                    name.to_string(),
                    p.attributes().cloned().collect(),
                    p.value().as_f64(),
                ));
            }
        }
        MetricData::Gauge(gauge) => {
            for p in gauge.data_points() {
                out.push((
                    name.to_string(),
                    p.attributes().cloned().collect(),
                    p.value().as_f64(),
                ));
            }
        }
        MetricData::Histogram(histogram) => {
            for p in histogram.data_points() {
                out.push((
                    name.to_string(),
                    p.attributes().cloned().collect(),
                    p.count() as f64,
                ));
            }
        }
        MetricData::ExponentialHistogram(_) => {}
    }
}

impl PushMetricExporter for Metrics {
    fn export(
        &self,
        metrics: &ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let mut out = Vec::new();
        for scope in metrics.scope_metrics() {
            for metric in scope.metrics() {
                match metric.data() {
                    AggregatedMetrics::F64(data) => points(metric.name(), data, &mut out),
                    AggregatedMetrics::U64(data) => points(metric.name(), data, &mut out),
                    AggregatedMetrics::I64(_) => {}
                }
            }
        }
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend(out);
        std::future::ready(Ok(()))
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

struct Nothing;

#[async_trait]
impl EventHandler for Nothing {
    async fn handle(&self, _txn: &ConsumerTxn, _event: &IncomingEvent) -> Result<(), HandlerError> {
        Ok(())
    }
}

struct PlatformTables;

impl MigratorTrait for PlatformTables {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        fabrique_platform::db::platform_migrations()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_and_the_metrics_follow_a_call_through_the_bus() {
    let spans = Collected::default();
    let _telemetry = telemetry::init_with_span_exporter(
        &TelemetryOptions {
            service_name: "fabrique-trace-test".into(),
            log_format: LogFormat::Text,
        },
        spans.clone(),
    );
    let metrics = Metrics::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(
            PeriodicReader::builder(metrics.clone())
                .with_interval(Duration::from_secs(3600))
                .build(),
        )
        .build();
    opentelemetry::global::set_meter_provider(meter_provider.clone());
    let platform = TestPlatform::spawn(
        vec![Arc::new(fabrique_members::MembersService)],
        Backend::Postgres,
        BusChoice::SharedNats,
    )
    .await;

    // Another service's consumer of member events.
    let dir = TempDir::new("trace");
    let consumer_db = fabrique_platform::db::connect(
        &DatabaseSettings {
            url: format!("sqlite://{}/{{service}}.db", dir.path().display()),
            max_connections: 1,
        },
        "tracecheck",
    )
    .await
    .expect("consumer database");
    fabrique_platform::db::migrate::<PlatformTables>(&consumer_db, "tracecheck")
        .await
        .expect("migrate");
    let stop = tokio_util::sync::CancellationToken::new();
    let subjects = Subjects::new(platform.prefix.clone());
    let runner = ConsumerRunner::new(
        "tracecheck",
        ConsumerDef {
            name: "tracecheck-members".into(),
            source_service: "members".into(),
            subjects: vec!["fabrique.members.member.applied".into()],
            handler: Arc::new(Nothing),
            outbox: None,
        },
        consumer_db,
        platform.bus.clone(),
        subjects.clone(),
        ConsumerSettings::default(),
    );
    tokio::spawn(runner.run(stop.clone()));

    let mut client =
        proto::members_service_client::MembersServiceClient::new(platform.channel().await);
    client
        .create_member(authed(
            proto::CreateMemberRequest {
                member: Some(proto::Member {
                    display_name: "Aduhme".into(),
                    kind: proto::MemberKind::Association as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &TestPlatform::admin_token(),
        ))
        .await
        .expect("create");

    let consumed =
        fabrique_testkit::eventually("the consumer's span", Duration::from_secs(20), || async {
            spans.named("process fabrique.members.member.applied")
        })
        .await;
    // Spans are exported as they end, and the server span ends when the response's
    // trailers are written: the event can be consumed before that.
    let call = fabrique_testkit::eventually(
        "the server span of the call",
        Duration::from_secs(20),
        || async { spans.named("fabrique.members.v1.MembersService/CreateMember") },
    )
    .await;
    let published = spans
        .named("publish fabrique.members.member.applied")
        .expect("the relay's publish span");

    let trace = call.span_context.trace_id();
    assert_eq!(
        published.span_context.trace_id(),
        trace,
        "publish continues the call's trace"
    );
    assert_eq!(
        consumed.span_context.trace_id(),
        trace,
        "consumption continues it through NATS"
    );
    assert_eq!(published.parent_span_id, call.span_context.span_id());
    assert_eq!(consumed.parent_span_id, published.span_context.span_id());
    assert_eq!(call.span_kind, opentelemetry::trace::SpanKind::Server);
    assert_eq!(
        published.span_kind,
        opentelemetry::trace::SpanKind::Producer
    );
    assert_eq!(consumed.span_kind, opentelemetry::trace::SpanKind::Consumer);

    // A message no consumer can handle, for the dead-letter counter.
    let mut garbage = fabrique_platform::bus::Headers::new();
    garbage.insert(fabrique_platform::bus::MSG_ID_HEADER, "garbage");
    platform
        .bus
        .publish(fabrique_platform::bus::OutgoingMessage {
            subject: subjects.full("fabrique.members.member.applied"),
            headers: garbage,
            payload: bytes::Bytes::from_static(b"garbage"),
        })
        .await
        .expect("sent")
        .await
        .expect("stored");
    fabrique_testkit::eventually("the dead-letter counter", Duration::from_secs(20), || {
        let (provider, metrics) = (meter_provider.clone(), metrics.clone());
        async move {
            provider.force_flush().ok()?;
            metrics.value(
                "fabrique.events.dead_lettered",
                &[("consumer", "tracecheck-members")],
            )
        }
    })
    .await;
    meter_provider.force_flush().expect("flush");
    let create = [
        ("rpc.method", "CreateMember"),
        ("rpc.service", fabrique_members::GRPC_NAME),
    ];
    assert_eq!(metrics.value("rpc.server.requests", &create), Some(1.0));
    assert_eq!(
        metrics.value("rpc.server.duration", &create),
        Some(1.0),
        "one duration recorded"
    );
    let applied = [("subject", "fabrique.members.member.applied")];
    assert!(metrics.value("fabrique.events.published", &applied) >= Some(1.0));
    let handled = [("consumer", "tracecheck-members"), ("outcome", "applied")];
    assert!(metrics.value("fabrique.events.consumed", &handled) >= Some(1.0));
    assert_eq!(
        metrics.value("fabrique.outbox.backlog", &[("service", "members")]),
        Some(0.0)
    );
    stop.cancel();
}
