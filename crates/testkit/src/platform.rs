//! A whole platform in the test process: chosen store and bus, a free port, a fresh
//! database and subject prefix, and the helpers to call it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use fabrique_platform::auth;
use fabrique_platform::bus::Bus;
use fabrique_platform::bus::memory::MemoryBus;
use fabrique_platform::bus::nats::NatsBus;
use fabrique_platform::config::{
    AuthSettings, BusSettings, DatabaseSettings, LogFormat, NatsSettings, Secret, Settings,
};
use fabrique_platform::server::Application;
use fabrique_platform::service::Service;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::{TempDir, TestDatabase};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

#[derive(Debug, Clone)]
pub enum BusChoice {
    /// The shared NATS server under a fresh subject prefix.
    SharedNats,
    /// This NATS URL (e.g. a private server).
    Nats(String),
    InProcess,
}

/// The JWT secret of this test process's platforms: drawn once per process, since a
/// service refuses a secret written in the repository.
pub fn secret() -> &'static str {
    static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SECRET.get_or_init(|| {
        format!(
            "test-{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        )
    })
}

pub struct TestPlatform {
    pub addr: SocketAddr,
    pub prefix: String,
    pub nats_url: Option<String>,
    pub database_url: String,
    pub bus: Arc<dyn Bus>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), String>>>,
    _database: Option<TestDatabase>,
    _dir: TempDir,
}

impl TestPlatform {
    /// Settings for a test platform; `prefix` empty gives a fresh one.
    pub fn settings(database_url: String, bus: BusSettings, prefix: &str) -> Settings {
        Settings {
            listen: "127.0.0.1:0".parse().expect("literal address"),
            database: DatabaseSettings {
                url: database_url,
                // Per service: with six services, two tests at once (one with a second
                // instance) stay under the shared PostgreSQL's 100 connections.
                max_connections: 4,
            },
            bus,
            subject_prefix: prefix.to_string(),
            auth: AuthSettings {
                jwt_secret: Some(Secret::new(secret())),
                public_key: None,
                jwks: None,
                issuer: None,
                audience: None,
                insecure_dev: false,
            },
            max_message_bytes: 8 * 1024 * 1024,
            max_concurrent_rpcs: 512,
            drain_timeout: Duration::from_secs(10),
            consumer_max_deliver: 3,
            consumer_lanes: fabrique_platform::consumer::DEFAULT_LANES,
            processed_retention: fabrique_platform::consumer::DEFAULT_RETENTION,
            log_format: LogFormat::Text,
        }
    }

    /// Starts `services` on `backend` and `bus`, and waits until they are SERVING.
    pub async fn spawn(services: Vec<Arc<dyn Service>>, backend: Backend, bus: BusChoice) -> Self {
        Self::spawn_with(services, backend, bus, |_| {}).await
    }

    /// Like [`spawn`](Self::spawn), letting the test adjust the settings.
    pub async fn spawn_with(
        services: Vec<Arc<dyn Service>>,
        backend: Backend,
        bus: BusChoice,
        adjust: impl FnOnce(&mut Settings),
    ) -> Self {
        let platform = Self::launch(services, backend, bus, adjust).await;
        platform.wait_serving("", Duration::from_secs(30)).await;
        platform
    }

    /// Starts the platform without waiting for it to be SERVING.
    pub async fn launch(
        services: Vec<Arc<dyn Service>>,
        backend: Backend,
        bus: BusChoice,
        adjust: impl FnOnce(&mut Settings),
    ) -> Self {
        let dir = TempDir::new("platform");
        let (database, database_url) = match backend {
            Backend::Postgres => {
                let database = TestDatabase::create().await;
                let url = database.url.clone();
                (Some(database), url)
            }
            Backend::Sqlite => (
                None,
                format!("sqlite://{}/{{service}}.db", dir.path().display()),
            ),
        };
        let prefix = crate::unique_prefix();
        let (bus_settings, nats_url) = match bus {
            BusChoice::SharedNats => {
                let url = crate::shared_nats_url();
                (nats_settings(&url), Some(url))
            }
            BusChoice::Nats(url) => (nats_settings(&url), Some(url)),
            BusChoice::InProcess => (BusSettings::InProcess, None),
        };
        let mut settings = Self::settings(database_url.clone(), bus_settings, &prefix);
        adjust(&mut settings);
        let bus: Arc<dyn Bus> = match &settings.bus {
            BusSettings::Nats(nats) => Arc::new(
                NatsBus::connect(nats, "fabrique-test")
                    .await
                    .unwrap_or_else(|e| panic!("NATS: {e}")),
            ),
            BusSettings::InProcess => Arc::new(MemoryBus::new()),
        };
        let application = Application::build_with_bus(settings, services, bus.clone())
            .await
            .unwrap_or_else(|e| panic!("platform does not build: {e}"));
        let addr = application.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            application
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .map_err(|e| e.to_string())
        });
        Self {
            addr,
            prefix,
            nats_url,
            database_url,
            bus,
            stop: Some(stop),
            handle: Some(handle),
            _database: database,
            _dir: dir,
        }
    }

    /// A second instance of the platform on the same database, bus and subject prefix:
    /// another replica, as on a second Kubernetes pod.
    pub async fn another_instance(&self, services: Vec<Arc<dyn Service>>) -> TestPlatform {
        self.another_instance_with(services, |_| {}).await
    }

    /// Like [`another_instance`](Self::another_instance), letting the test adjust its
    /// settings (a replica started with another configuration).
    pub async fn another_instance_with(
        &self,
        services: Vec<Arc<dyn Service>>,
        adjust: impl FnOnce(&mut Settings),
    ) -> TestPlatform {
        let bus_settings = match &self.nats_url {
            Some(url) => nats_settings(url),
            None => panic!("another instance needs NATS: the in-process bus lives in one process"),
        };
        let mut settings = Self::settings(self.database_url.clone(), bus_settings, &self.prefix);
        adjust(&mut settings);
        let bus: Arc<dyn Bus> = match &settings.bus {
            BusSettings::Nats(nats) => Arc::new(
                NatsBus::connect(nats, "fabrique-test-replica")
                    .await
                    .unwrap_or_else(|e| panic!("NATS: {e}")),
            ),
            BusSettings::InProcess => Arc::new(MemoryBus::new()),
        };
        let application = Application::build_with_bus(settings, services, bus.clone())
            .await
            .unwrap_or_else(|e| panic!("second instance does not build: {e}"));
        let addr = application.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            application
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .map_err(|e| e.to_string())
        });
        let replica = Self {
            addr,
            prefix: self.prefix.clone(),
            nats_url: self.nats_url.clone(),
            database_url: self.database_url.clone(),
            bus,
            stop: Some(stop),
            handle: Some(handle),
            _database: None,
            _dir: TempDir::new("replica"),
        };
        replica.wait_serving("", Duration::from_secs(30)).await;
        replica
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.endpoint())
            .expect("valid endpoint")
            .connect()
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the platform: {e}"))
    }

    /// Waits until health reports `service` (empty: the whole server) SERVING.
    pub async fn wait_serving(&self, service: &str, timeout: Duration) {
        let endpoint = self.endpoint();
        crate::eventually(&format!("{service:?} to be SERVING"), timeout, || {
            let endpoint = endpoint.clone();
            async move {
                let channel = Channel::from_shared(endpoint).ok()?.connect().await.ok()?;
                let response = HealthClient::new(channel)
                    .check(HealthCheckRequest {
                        service: service.to_string(),
                    })
                    .await
                    .ok()?;
                (response.get_ref().status == ServingStatus::Serving as i32).then_some(())
            }
        })
        .await;
    }

    pub fn admin_token() -> String {
        token("admin", &["admin"])
    }

    /// A token acting for member `id` (a UUID).
    pub fn member_token(id: &str) -> String {
        token(id, &["member"])
    }

    /// The stream name of `service` under this platform's prefix.
    pub fn stream(&self, service: &str) -> String {
        fabrique_platform::bus::Subjects::new(self.prefix.clone()).stream_name(service)
    }

    /// Graceful stop, as on SIGTERM; returns once the platform has stopped.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            match handle.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => panic!("platform stopped with an error: {error}"),
                Err(error) => panic!("platform task failed: {error}"),
            }
        }
    }
}

impl Drop for TestPlatform {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}

fn nats_settings(url: &str) -> BusSettings {
    BusSettings::Nats(NatsSettings {
        url: url.to_string(),
        ..Default::default()
    })
}

/// A token for `sub` with `roles`, signed with the test secret, valid one hour.
pub fn token(sub: &str, roles: &[&str]) -> String {
    auth::mint(
        &Secret::new(secret()),
        &auth::claims(sub, roles, chrono::Duration::hours(1)),
    )
    .unwrap_or_else(|e| panic!("cannot sign: {e}"))
}

/// A request carrying `authorization: Bearer <token>`.
pub fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii token"),
    );
    request
}
