//! The gRPC server bootstrap shared by every deployment shape: binds (port 0 allowed),
//! serves the services' routes with authentication, per-RPC metrics and load shedding,
//! `grpc.health.v1` (each service NOT_SERVING until its migrations ran and the bus is
//! reachable), and reflection v1 and v1alpha; then runs the outbox relays and consumers,
//! and on shutdown lets in-flight calls finish and the relays flush.

mod layer;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

pub use layer::{Readiness, RpcLayer};

/// The health-check service name that answers SERVING while the process runs.
pub const LIVENESS: &str = "liveness";

use crate::auth::Authenticator;
use crate::bus::memory::MemoryBus;
use crate::bus::nats::NatsBus;
use crate::bus::{Bus, Subjects};
use crate::config::{BusSettings, Settings};
use crate::consumer::{ConsumerRunner, ConsumerSettings};
use crate::outbox::{OutboxSignal, Relay};
use crate::service::{Service, ServiceContext};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("database of {service}: {source}")]
    Database {
        service: &'static str,
        source: sea_orm::DbErr,
    },
    #[error("bus: {0}")]
    Bus(#[from] crate::bus::BusError),
    #[error("{0}")]
    Config(String),
    #[error("server: {0}")]
    Serve(#[from] tonic::transport::Error),
}

struct Prepared {
    service: Arc<dyn Service>,
    ctx: ServiceContext,
}

/// A platform ready to serve: listener bound, databases opened, routes built.
pub struct Application {
    settings: Settings,
    listener: TcpListener,
    local_addr: SocketAddr,
    bus: Arc<dyn Bus>,
    subjects: Subjects,
    services: Vec<Prepared>,
    routes: tonic::service::Routes,
    health: HealthReporter,
    readiness: Readiness,
}

impl Application {
    /// Connects (lazily where possible) and binds; nothing is served until [`run`](Self::run).
    pub async fn build(
        settings: Settings,
        services: Vec<Arc<dyn Service>>,
    ) -> Result<Self, StartError> {
        let bus: Arc<dyn Bus> = match &settings.bus {
            BusSettings::InProcess => Arc::new(MemoryBus::new()),
            BusSettings::Nats(nats) => {
                let names: Vec<_> = services.iter().map(|s| s.name()).collect();
                Arc::new(NatsBus::connect(nats, &format!("fabrique-{}", names.join("-"))).await?)
            }
        };
        Self::build_with_bus(settings, services, bus).await
    }

    /// Like [`build`](Self::build), on a bus the caller made (tests share one in-process bus).
    pub async fn build_with_bus(
        settings: Settings,
        services: Vec<Arc<dyn Service>>,
        bus: Arc<dyn Bus>,
    ) -> Result<Self, StartError> {
        let auth = Arc::new(Authenticator::new(&settings.auth).map_err(StartError::Config)?);
        let (health, health_service) = tonic_health::server::health_reporter();
        let mut routes = tonic::service::RoutesBuilder::default();
        let mut prepared = Vec::new();
        let mut grpc_names = Vec::new();
        for service in services {
            let name = service.name();
            let db = crate::db::connect(&settings.database, name)
                .await
                .map_err(|source| StartError::Database {
                    service: name,
                    source,
                })?;
            let ctx = ServiceContext {
                name,
                db,
                outbox: OutboxSignal::new(),
                auth: auth.clone(),
                max_message_bytes: settings.max_message_bytes,
            };
            service.add_routes(&ctx, &mut routes);
            health
                .set_service_status(service.grpc_name(), ServingStatus::NotServing)
                .await;
            health
                .set_service_status(crate::outbox::health_name(name), ServingStatus::NotServing)
                .await;
            grpc_names.push(service.grpc_name().to_string());
            prepared.push(Prepared { service, ctx });
        }
        health
            .set_service_status("", ServingStatus::NotServing)
            .await;

        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(fabrique_api::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| StartError::Config(e.to_string()))?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(fabrique_api::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .map_err(|e| StartError::Config(e.to_string()))?;
        let routes = routes
            .routes()
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);

        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: settings.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: settings.listen,
            source,
        })?;
        Ok(Self {
            subjects: Subjects::new(settings.subject_prefix.clone()),
            readiness: Readiness::new(grpc_names),
            settings,
            listener,
            local_addr,
            bus,
            services: prepared,
            routes,
            health,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn bus(&self) -> Arc<dyn Bus> {
        self.bus.clone()
    }

    /// Serves until `shutdown` resolves, then stops taking calls, lets in-flight calls
    /// finish and the relays flush (each within the drain timeout), and returns.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), StartError> {
        let Application {
            settings,
            listener,
            local_addr,
            bus,
            subjects,
            services,
            routes,
            health,
            readiness,
        } = self;
        let background = CancellationToken::new();
        let tasks = TaskTracker::new();
        let ready_count = Arc::new(AtomicUsize::new(0));
        let total = services.len();
        let grpc_names: Vec<&'static str> =
            services.iter().map(|p| p.service.grpc_name()).collect();

        // Liveness: the process answers. Readiness is per service and may wait on the
        // database or the bus without the pod being restarted.
        health
            .set_service_status(LIVENESS, ServingStatus::Serving)
            .await;

        for prepared in services {
            let starter = Starter {
                settings: settings.clone(),
                bus: bus.clone(),
                subjects: subjects.clone(),
                health: health.clone(),
                readiness: readiness.clone(),
                background: background.clone(),
                tasks: tasks.clone(),
                ready_count: ready_count.clone(),
                total,
            };
            tasks.spawn(starter.start(prepared));
        }

        tracing::info!(
            addr = %local_addr,
            bus = bus.kind(),
            services = ?grpc_names,
            "fabrique listening"
        );
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tonic::transport::Server::builder()
            .layer(RpcLayer::new(
                readiness.clone(),
                settings.max_concurrent_rpcs,
            ))
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming(listener), async {
                let _ = stop_rx.await;
            });
        tokio::pin!(server);
        let served = tokio::select! {
            result = &mut server => result,
            _ = shutdown => {
                tracing::info!("shutting down: finishing in-flight calls");
                for name in &grpc_names {
                    health.set_service_status(*name, ServingStatus::NotServing).await;
                }
                health.set_service_status("", ServingStatus::NotServing).await;
                let _ = stop_tx.send(());
                match tokio::time::timeout(settings.drain_timeout, &mut server).await {
                    Ok(result) => result,
                    Err(_) => {
                        tracing::warn!("in-flight calls did not finish within the drain timeout");
                        Ok(())
                    }
                }
            }
        };
        // The relays' last flush happens after the last call that could write.
        background.cancel();
        tasks.close();
        if tokio::time::timeout(
            settings.drain_timeout + Duration::from_secs(1),
            tasks.wait(),
        )
        .await
        .is_err()
        {
            tracing::warn!("background tasks did not stop within the drain timeout");
        }
        // Consumers' last acks may still sit in the client's buffer.
        match tokio::time::timeout(Duration::from_secs(2), bus.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "could not flush the bus"),
            Err(_) => tracing::warn!("flushing the bus timed out"),
        }
        tracing::info!("fabrique stopped");
        served.map_err(StartError::from)
    }
}

/// Brings one service to SERVING, then keeps its relay and consumers running.
struct Starter {
    settings: Settings,
    bus: Arc<dyn Bus>,
    subjects: Subjects,
    health: HealthReporter,
    readiness: Readiness,
    background: CancellationToken,
    tasks: TaskTracker,
    ready_count: Arc<AtomicUsize>,
    total: usize,
}

impl Starter {
    async fn start(self, prepared: Prepared) {
        let Prepared { service, ctx } = prepared;
        let name = service.name();
        let migrated = retry(&self.background, "database", name, || {
            service.migrate(&ctx.db)
        })
        .await;
        if migrated.is_none() {
            return;
        }
        let (service_limits, dlq_limits) = match &self.settings.bus {
            BusSettings::Nats(nats) => (nats.stream_limits, nats.dlq_limits),
            BusSettings::InProcess => Default::default(),
        };
        let streams = [
            self.subjects
                .service_stream(name)
                .with_limits(service_limits),
            self.subjects.dlq_stream().with_limits(dlq_limits),
        ];
        let bus = self.bus.clone();
        let ready = retry(&self.background, "bus", name, || {
            let bus = bus.clone();
            let streams = streams.clone();
            async move {
                bus.ready(Duration::from_secs(5)).await?;
                for stream in &streams {
                    bus.ensure_stream(stream).await?;
                }
                Ok::<(), crate::bus::BusError>(())
            }
        })
        .await;
        if ready.is_none() {
            return;
        }

        let relay = Relay::new(
            name,
            ctx.db.clone(),
            self.bus.clone(),
            self.subjects.clone(),
            ctx.outbox.clone(),
        )
        .reporting_to(self.health.clone());
        self.tasks
            .spawn(relay.run(self.background.clone(), self.settings.drain_timeout));
        let consumer_settings = ConsumerSettings {
            max_deliver: self.settings.consumer_max_deliver,
            lanes: self.settings.consumer_lanes,
            ..ConsumerSettings::default()
        };
        let consumers = service.consumers(&ctx);
        if !consumers.is_empty() {
            // One purge per service: its consumers share the table.
            self.tasks.spawn(crate::consumer::purge_every(
                ctx.db.clone(),
                name,
                consumers.iter().map(|def| def.name.clone()).collect(),
                self.settings.processed_retention,
                crate::consumer::PURGE_EVERY,
                self.background.clone(),
            ));
        }
        for def in consumers {
            let runner = ConsumerRunner::new(
                name,
                def,
                ctx.db.clone(),
                self.bus.clone(),
                self.subjects.clone(),
                consumer_settings.clone(),
            );
            self.tasks.spawn(runner.run(self.background.clone()));
        }

        self.readiness.set_ready(service.grpc_name());
        self.health
            .set_service_status(service.grpc_name(), ServingStatus::Serving)
            .await;
        tracing::info!(service = name, "serving");
        if self.ready_count.fetch_add(1, Ordering::SeqCst) + 1 == self.total {
            self.health
                .set_service_status("", ServingStatus::Serving)
                .await;
        }
    }
}

/// Runs `attempt` until it succeeds (logging each failure) or `stop` is cancelled.
async fn retry<T, E, F, Fut>(
    stop: &CancellationToken,
    what: &str,
    service: &str,
    mut attempt: F,
) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let mut delay = Duration::from_millis(100);
    loop {
        match attempt().await {
            Ok(value) => return Some(value),
            Err(error) => {
                tracing::warn!(service, %error, retry_in = ?delay, "waiting for the {what}");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.cancelled() => return None,
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// The connections a listener accepts, with Nagle's algorithm off: tonic only sets
/// `TCP_NODELAY` on sockets it accepts itself, and with Nagle on, a small response
/// written after the client's delayed ACK waits up to 40 ms (measured: p99 of a bare
/// echo 46 ms with it on, see docs/performance.md).
pub fn incoming(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt;
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
}
