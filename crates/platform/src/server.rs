//! The gRPC server bootstrap shared by every deployment shape: binds (port 0 allowed),
//! serves the services' routes with authentication, per-RPC metrics and load shedding,
//! `grpc.health.v1` (each service NOT_SERVING until its migrations ran and the bus is
//! reachable), and reflection v1 and v1alpha; then runs the outbox relays and consumers,
//! and on shutdown lets in-flight calls finish and the relays flush.

mod layer;
mod starter;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

pub use layer::{Readiness, RpcLayer};
use starter::Starter;

/// The health-check service name that answers SERVING while the process runs.
pub const LIVENESS: &str = "liveness";

use crate::auth::Authenticator;
use crate::bus::memory::MemoryBus;
use crate::bus::nats::NatsBus;
use crate::bus::{Bus, Subjects};
use crate::config::{BusSettings, Settings};
use crate::dead_letters::{DeadLetterGrpc, DeadLetters};
use crate::outbox::OutboxSignal;
use crate::service::{Service, ServiceContext};
use fabrique_api::operations::dead_letter_service_server::DeadLetterServiceServer;

/// Why the platform could not start or serve; each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address is taken or not this host's.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// A service's database could not even be opened (a bad URL; an unreachable
    /// database is waited for instead).
    #[error("database of {service}: {source}")]
    Database {
        /// The service whose database it is.
        service: &'static str,
        /// What the database driver said.
        source: sea_orm::DbErr,
    },
    /// The bus could not be set up.
    #[error("bus: {0}")]
    Bus(#[from] crate::bus::BusError),
    /// Settings the platform cannot run with (e.g. an unusable key file).
    #[error("{0}")]
    Config(String),
    /// The gRPC server failed while serving.
    #[error("server: {0}")]
    Serve(#[from] tonic::transport::Error),
}

/// A service and what its handlers were built with, waiting for its [`Starter`].
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
    dead_letters: Arc<DeadLetters>,
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
        let subjects = Subjects::new(settings.subject_prefix.clone());
        let dead_letters = dead_letter_route(&mut routes, &bus, &subjects, &services, &auth);
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

        let routes = with_reflection(routes.routes().add_service(health_service))?;
        let (listener, local_addr) = bind(settings.listen).await?;
        Ok(Self {
            subjects,
            dead_letters,
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

    /// The address bound: the one to call when `listen` asked for port 0.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The bus the services share (tests publish and read on it directly).
    pub fn bus(&self) -> Arc<dyn Bus> {
        self.bus.clone()
    }

    /// Serves until `shutdown` resolves, then stops taking calls, lets in-flight calls
    /// finish and the relays flush (each within the drain timeout), and returns. Over 60
    /// lines: the start, the serving and the stop in their order, a few calls each.
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
            dead_letters,
        } = self;
        let background = CancellationToken::new();
        let tasks = TaskTracker::new();
        let grpc_names: Vec<&'static str> =
            services.iter().map(|p| p.service.grpc_name()).collect();

        // Liveness: the process answers. Readiness is per service and may wait on the
        // database or the bus without the pod being restarted.
        health
            .set_service_status(LIVENESS, ServingStatus::Serving)
            .await;

        let starter = Starter {
            settings: settings.clone(),
            bus: bus.clone(),
            subjects,
            health: health.clone(),
            readiness: readiness.clone(),
            background: background.clone(),
            tasks: tasks.clone(),
            ready_count: Arc::new(AtomicUsize::new(0)),
            total: services.len(),
            dead_letters,
        };
        starter.spawn_all(services);

        tracing::info!(
            addr = %local_addr,
            bus = bus.kind(),
            services = ?grpc_names,
            "fabrique listening"
        );
        let served = serve(
            listener,
            routes,
            &readiness,
            &settings,
            &health,
            &grpc_names,
            shutdown,
        )
        .await;
        // The relays' last flush happens after the last call that could write.
        stop_background(background, tasks, bus.as_ref(), settings.drain_timeout).await;
        tracing::info!("fabrique stopped");
        served.map_err(StartError::from)
    }
}

/// Serves the routes until `shutdown`, then turns every service NOT_SERVING (probes
/// send traffic elsewhere), stops taking calls, and gives those in flight the drain
/// timeout.
async fn serve(
    listener: TcpListener,
    routes: tonic::service::Routes,
    readiness: &Readiness,
    settings: &Settings,
    health: &HealthReporter,
    grpc_names: &[&'static str],
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
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
    tokio::select! {
        result = &mut server => result,
        _ = shutdown => {
            tracing::info!("shutting down: finishing in-flight calls");
            for name in grpc_names {
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
    }
}

/// Every process serves the dead letters of the services it runs (admins only).
fn dead_letter_route(
    routes: &mut tonic::service::RoutesBuilder,
    bus: &Arc<dyn Bus>,
    subjects: &Subjects,
    services: &[Arc<dyn Service>],
    auth: &Arc<Authenticator>,
) -> Arc<DeadLetters> {
    let dead_letters = DeadLetters::new(
        bus.clone(),
        subjects.clone(),
        services.iter().map(|s| s.name()).collect(),
    );
    routes.add_service(tonic::service::interceptor::InterceptedService::new(
        DeadLetterServiceServer::new(DeadLetterGrpc(dead_letters.clone())),
        crate::auth::interceptor(auth.clone()),
    ));
    dead_letters
}

/// Adds gRPC reflection, v1 and v1alpha (grpcurl and older clients ask for the latter),
/// over every Fabrique API and the health service.
fn with_reflection(routes: tonic::service::Routes) -> Result<tonic::service::Routes, StartError> {
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
    Ok(routes
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha))
}

/// Binds now, so that a taken port fails the start rather than the first call.
async fn bind(listen: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: listen,
        source,
    })?;
    Ok((listener, local_addr))
}

/// Stops the relays and consumers (the relays flush first), then sends what the bus
/// client still buffers; each step bounded, so shutdown never hangs.
async fn stop_background(
    background: CancellationToken,
    tasks: TaskTracker,
    bus: &dyn Bus,
    drain_timeout: Duration,
) {
    background.cancel();
    tasks.close();
    if tokio::time::timeout(drain_timeout + Duration::from_secs(1), tasks.wait())
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
