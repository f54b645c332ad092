//! The tower layer in front of every service: refuses calls to a service that is not
//! ready yet (UNAVAILABLE), sheds calls beyond the concurrency limit at once
//! (RESOURCE_EXHAUSTED, instead of queueing without bound), opens the server span
//! (continuing the caller's W3C trace context), turns a panicking handler into INTERNAL
//! and records per-RPC metrics.
//! Health and reflection calls pass straight through, so probes answer under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use futures::FutureExt;
use futures::future::BoxFuture;
use http::{Request, Response};
use tokio::sync::Semaphore;
use tonic::Status;
use tracing::Instrument;

/// Which services finished starting.
#[derive(Clone, Debug)]
pub struct Readiness(Arc<Vec<(String, AtomicBool)>>);

impl Readiness {
    /// The services served, none of them ready yet.
    pub fn new(grpc_names: Vec<String>) -> Self {
        Self(Arc::new(
            grpc_names
                .into_iter()
                .map(|name| (name, AtomicBool::new(false)))
                .collect(),
        ))
    }

    /// Opens `grpc_name` to calls, once its migrations ran and the bus is reachable.
    pub fn set_ready(&self, grpc_name: &str) {
        for (name, ready) in self.0.iter() {
            if name == grpc_name {
                ready.store(true, Ordering::Release);
            }
        }
    }

    /// `None` when the service is not one of ours (health, reflection).
    fn is_ready(&self, grpc_name: &str) -> Option<bool> {
        self.0
            .iter()
            .find(|(name, _)| name == grpc_name)
            .map(|(_, ready)| ready.load(Ordering::Acquire))
    }
}

/// The layer in front of every service (see the module doc); clones share the permits.
#[derive(Clone)]
pub struct RpcLayer {
    readiness: Readiness,
    permits: Arc<Semaphore>,
}

impl RpcLayer {
    /// At most `max_concurrent` calls at once: shedding the rest at once keeps the
    /// latency of those taken.
    pub fn new(readiness: Readiness, max_concurrent: usize) -> Self {
        Self {
            readiness,
            permits: Arc::new(Semaphore::new(max_concurrent)),
        }
    }
}

impl<S> tower::Layer<S> for RpcLayer {
    type Service = RpcService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcService {
            inner,
            layer: self.clone(),
        }
    }
}

/// A service behind the [`RpcLayer`].
#[derive(Clone)]
pub struct RpcService<S> {
    inner: S,
    layer: RpcLayer,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, ReqBody> tower::Service<Request<ReqBody>> for RpcService<S>
where
    S: tower::Service<Request<ReqBody>, Response = Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError> + Send,
    ReqBody: Send + 'static,
{
    type Response = Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The clone that was polled ready serves this call (tower's contract).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);

        let path = request.uri().path().trim_start_matches('/');
        let (service, method) = path.split_once('/').unwrap_or((path, ""));
        let (service, method) = (service.to_string(), method.to_string());
        match self.layer.readiness.is_ready(&service) {
            None => return Box::pin(inner.call(request)),
            Some(false) => {
                let status = Status::unavailable(format!("{service} is starting; retry shortly"));
                return refused(&service, &method, status);
            }
            Some(true) => {}
        }
        let Ok(permit) = self.layer.permits.clone().try_acquire_owned() else {
            let status = Status::resource_exhausted(
                "the server is at its concurrency limit; retry with backoff",
            );
            return refused(&service, &method, status);
        };

        let span = rpc_span(path, &service, &method);
        let (traceparent, tracestate) = trace_context(&request);
        crate::telemetry::set_parent(&span, traceparent.as_deref(), tracestate.as_deref());
        let started = Instant::now();
        Box::pin(crate::telemetry::with_received_context(
            traceparent.as_deref(),
            tracestate.as_deref(),
            async move {
                // A panicking handler must not take the connection's stream down with a
                // bare reset: the caller gets INTERNAL, the panic is logged.
                let response = match std::panic::AssertUnwindSafe(inner.call(request))
                    .catch_unwind()
                    .await
                {
                    Ok(response) => response,
                    Err(panic) => {
                        tracing::error!(panic = %panic_message(panic.as_ref()), "handler panicked");
                        Ok(Status::internal("internal error; it has been logged").into_http())
                    }
                };
                drop(permit);
                if let Ok(response) = &response {
                    let code = grpc_status(response);
                    tracing::Span::current().record("rpc.grpc.status_code", code);
                    crate::metrics::record_rpc(&service, &method, code, started.elapsed());
                }
                response
            }
            .instrument(span),
        ))
    }
}

/// A call refused before it reached its service, counted like any other.
fn refused<E: Send + 'static>(
    service: &str,
    method: &str,
    status: Status,
) -> BoxFuture<'static, Result<Response<tonic::body::Body>, E>> {
    crate::metrics::record_rpc(service, method, status.code() as i32, Default::default());
    Box::pin(async move { Ok(status.into_http()) })
}

/// The server span of a call, named and attributed as OpenTelemetry's RPC conventions say.
fn rpc_span(path: &str, service: &str, method: &str) -> tracing::Span {
    tracing::info_span!(
        "rpc",
        otel.name = %path,
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
        rpc.grpc.status_code = tracing::field::Empty,
    )
}

/// The caller's W3C `traceparent` and `tracestate` headers, which the server span
/// continues from.
fn trace_context<B>(request: &Request<B>) -> (Option<String>, Option<String>) {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    (header("traceparent"), header("tracestate"))
}

/// What a handler panicked with, when it is text.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// The status code of a response: errors travel as trailers-only responses
/// (`grpc-status` in the headers); a success puts it in the trailers, after the body,
/// so a response without it in its headers is an OK.
fn grpc_status(response: &Response<tonic::body::Body>) -> i32 {
    response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(0)
}
