//! Logs, traces and metrics, initialised once per process.
//!
//! Logs go to stderr (text or JSON), filtered by `RUST_LOG`. When the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set, spans carry W3C
//! trace context, so a trace continues from a gRPC call through the outbox and the bus
//! into consumers, and they are exported over OTLP/gRPC together with metrics. When it
//! is not, a received context is passed on unchanged through the outbox and the bus.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogFormat;

/// The target of spans that go to traces but not into log lines: one per published
/// event, where formatting their fields for the log layer cost the relay more than the
/// trace itself.
pub const TRACE_ONLY: &str = "fabrique::trace_only";

/// Whether the installed subscriber's spans reach an exporter.
static SPANS_EXPORTED: AtomicBool = AtomicBool::new(false);

/// Whether spans go anywhere. When they do not, the OpenTelemetry layer is not
/// installed (it built and dropped span data for every call and event: a tenth of a
/// service's CPU), and a received trace context is passed on unchanged instead
/// (see [`with_received_context`]).
pub fn spans_exported() -> bool {
    SPANS_EXPORTED.load(Ordering::Relaxed)
}

/// W3C headers received with a call or an event, kept for the work it starts when no
/// span of this process can continue them.
#[derive(Clone)]
struct Received {
    traceparent: String,
    tracestate: Option<String>,
}

tokio::task_local! {
    static RECEIVED: Received;
}

/// Runs `work`, the handling of a call or an event that came with these W3C headers.
///
/// With exported spans the handling span continues the trace (see [`set_parent`]) and
/// this only runs `work`. Without, a valid context is kept for `work`, so the events it
/// writes carry it on unchanged, as any hop that does not trace should: a consumer
/// that exports still joins the caller's trace.
pub fn with_received_context<F: Future>(
    traceparent: Option<&str>,
    tracestate: Option<&str>,
    work: F,
) -> impl Future<Output = F::Output> + use<F> {
    use futures::future::Either;
    let Some(traceparent) = traceparent.filter(|_| !spans_exported()) else {
        return Either::Left(work);
    };
    let carrier = W3cRef {
        traceparent,
        tracestate,
    };
    let context = TraceContextPropagator::new().extract(&carrier);
    if !context.span().span_context().is_valid() {
        return Either::Left(work);
    }
    let received = Received {
        traceparent: traceparent.to_string(),
        tracestate: tracestate.map(str::to_string),
    };
    Either::Right(RECEIVED.scope(received, work))
}

/// Used when `RUST_LOG` is unset: sqlx logs every statement at INFO.
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,async_nats=warn,h2=warn,tower=warn,hyper=warn";

/// What [`init`] needs besides the standard `OTEL_*` and `RUST_LOG` variables.
#[derive(Debug, Clone)]
pub struct TelemetryOptions {
    /// `service.name` of the resource, unless `OTEL_SERVICE_NAME` is set.
    pub service_name: String,
    /// How logs are written on stderr.
    pub log_format: LogFormat,
}

/// Flushes and stops the exporters when dropped (or on [`TelemetryGuard::shutdown`]).
pub struct TelemetryGuard {
    tracer_provider: Option<SdkTracerProvider>,
    meter_provider: Option<SdkMeterProvider>,
}

impl TelemetryGuard {
    /// Flushes and stops now, where dropping would do it at the end of the scope.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(provider) = self.tracer_provider.take() {
            let _ = provider.force_flush();
            let _ = provider.shutdown();
        }
        if let Some(provider) = self.meter_provider.take() {
            let _ = provider.force_flush();
            let _ = provider.shutdown();
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Telemetry could not start: the OTLP exporters refused their `OTEL_*` settings.
#[derive(Debug, thiserror::Error)]
#[error("telemetry: {0}")]
pub struct TelemetryError(String);

/// Whether the standard OTLP environment asks for export.
pub fn otlp_configured() -> bool {
    let set = |name: &str| {
        std::env::var(name)
            .map(|v| !v.trim().is_empty())
            .unwrap_or(false)
    };
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    !disabled && (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
}

fn resource(service_name: &str) -> Resource {
    let builder = Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").is_ok_and(|v| !v.is_empty()) {
        builder.build()
    } else {
        builder.with_service_name(service_name.to_string()).build()
    }
}

/// Installs logging, tracing and (with OTLP) metrics for the process.
pub fn init(options: &TelemetryOptions) -> Result<TelemetryGuard, TelemetryError> {
    let resource = resource(&options.service_name);
    let mut tracer = SdkTracerProvider::builder().with_resource(resource.clone());
    let mut meter_provider = None;
    let exporting = otlp_configured();
    if exporting {
        let spans = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
            .map_err(|e| TelemetryError(e.to_string()))?;
        tracer = tracer.with_batch_exporter(spans);
        let metrics = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .build()
            .map_err(|e| TelemetryError(e.to_string()))?;
        meter_provider = Some(
            SdkMeterProvider::builder()
                .with_periodic_exporter(metrics)
                .with_resource(resource)
                .build(),
        );
    }
    Ok(install(options, tracer.build(), meter_provider, exporting))
}

/// Like [`init`], exporting spans to `exporter` as each ends (tests read them back).
pub fn init_with_span_exporter<E: SpanExporter + 'static>(
    options: &TelemetryOptions,
    exporter: E,
) -> TelemetryGuard {
    let tracer = SdkTracerProvider::builder()
        .with_resource(resource(&options.service_name))
        .with_simple_exporter(exporter)
        .build();
    install(options, tracer, None, true)
}

fn install(
    options: &TelemetryOptions,
    tracer_provider: SdkTracerProvider,
    meter_provider: Option<SdkMeterProvider>,
    exporting: bool,
) -> TelemetryGuard {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(tracer_provider.clone());
    if let Some(meter_provider) = &meter_provider {
        opentelemetry::global::set_meter_provider(meter_provider.clone());
    }
    let tracer = tracer_provider.tracer("fabrique");
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let logs = match options.log_format {
        // Colours only on a terminal: in a container they reached the log collector as
        // escape codes, and styling every request span's fields cost a few percent of
        // a small call's CPU.
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    // A second init (several platforms in one test process) keeps the first subscriber.
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(
            logs.with_filter(tracing_subscriber::filter::filter_fn(|metadata| {
                metadata.target() != TRACE_ONLY
            })),
        )
        .with(exporting.then(|| tracing_opentelemetry::layer().with_tracer(tracer)))
        .try_init();
    if installed.is_ok() {
        SPANS_EXPORTED.store(exporting, Ordering::Relaxed);
    }
    TelemetryGuard {
        tracer_provider: Some(tracer_provider),
        meter_provider,
    }
}

/// The W3C `traceparent` and `tracestate` to send on: the current span's, or without
/// exported spans the ones received (see [`with_received_context`]).
pub fn current_trace_headers() -> (Option<String>, Option<String>) {
    if !spans_exported() {
        return RECEIVED
            .try_with(|received| {
                (
                    Some(received.traceparent.clone()),
                    received.tracestate.clone(),
                )
            })
            .unwrap_or((None, None));
    }
    let context = tracing::Span::current().context();
    if !context.span().span_context().is_valid() {
        return (None, None);
    }
    let mut carrier = W3cHeaders::default();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    (carrier.traceparent, carrier.tracestate)
}

/// Makes `span` a child of the remote span described by these W3C headers.
/// Nothing without exported spans.
pub fn set_parent(span: &tracing::Span, traceparent: Option<&str>, tracestate: Option<&str>) {
    let Some(traceparent) = traceparent.filter(|_| spans_exported()) else {
        return;
    };
    let carrier = W3cRef {
        traceparent,
        tracestate,
    };
    let context = TraceContextPropagator::new().extract(&carrier);
    if context.span().span_context().is_valid() {
        let _ = span.set_parent(context);
    }
}

// The two W3C headers as carriers of their own: these run once per event, where a map
// of owned strings cost four allocations for two values.
#[derive(Default)]
struct W3cHeaders {
    traceparent: Option<String>,
    tracestate: Option<String>,
}

impl Injector for W3cHeaders {
    fn set(&mut self, key: &str, value: String) {
        match key {
            "traceparent" => self.traceparent = Some(value),
            "tracestate" => self.tracestate = Some(value),
            _ => {}
        }
    }
}

struct W3cRef<'a> {
    traceparent: &'a str,
    tracestate: Option<&'a str>,
}

impl Extractor for W3cRef<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => Some(self.traceparent),
            "tracestate" => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}
