//! Each service's way to SERVING, run beside the server: migrations, then the bus and
//! its streams, each waited for (a service is NOT_SERVING meanwhile, never restarted);
//! then its relay, its consumers and the purge of their processed ids, kept running
//! until shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use super::{Prepared, Readiness};
use crate::bus::{Bus, Subjects};
use crate::config::{BusSettings, Settings};
use crate::consumer::{ConsumerRunner, ConsumerSettings};
use crate::dead_letters::DeadLetters;
use crate::outbox::Relay;
use crate::service::{BackgroundContext, Service, ServiceContext};

/// Brings one service to SERVING, then keeps its relay and consumers running.
#[derive(Clone)]
pub(super) struct Starter {
    pub(super) settings: Settings,
    pub(super) bus: Arc<dyn Bus>,
    pub(super) subjects: Subjects,
    pub(super) health: HealthReporter,
    pub(super) readiness: Readiness,
    /// Cancelled at shutdown, after the last call: stops the waits and the tasks.
    pub(super) background: CancellationToken,
    pub(super) tasks: TaskTracker,
    /// Services SERVING so far: the last one sets the overall status.
    pub(super) ready_count: Arc<AtomicUsize>,
    pub(super) total: usize,
    /// Where each consumer started is kept to replay its dead letters.
    pub(super) dead_letters: Arc<DeadLetters>,
}

impl Starter {
    /// One task per service, so that a service waiting for its database does not hold
    /// up the others.
    pub(super) fn spawn_all(self, services: Vec<Prepared>) {
        for prepared in services {
            self.tasks.spawn(self.clone().start(prepared));
        }
    }

    /// Migrations, then the streams, then the relay and consumers: each step waits for
    /// what it needs, and only shutdown ends the wait.
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
        if self
            .streams_ready(name, service.private_stream())
            .await
            .is_none()
        {
            return;
        }
        self.spawn_relay(name, &ctx);
        self.spawn_consumers(service.as_ref(), &ctx);
        let background = BackgroundContext {
            bus: self.bus.clone(),
            subjects: self.subjects.clone(),
            stop: self.background.clone(),
        };
        for task in service.background(&ctx, &background) {
            self.tasks.spawn(task);
        }
        self.serving(service.as_ref()).await;
    }

    /// Waits for the bus, and makes sure the service's stream (and its private one, if
    /// it has one) and the dead letters' exist with their limits; `None` at shutdown.
    async fn streams_ready(&self, name: &'static str, private: bool) -> Option<()> {
        let (service_limits, dlq_limits) = match &self.settings.bus {
            BusSettings::Nats(nats) => (nats.stream_limits, nats.dlq_limits),
            BusSettings::InProcess => Default::default(),
        };
        let mut streams = vec![
            self.subjects
                .service_stream(name)
                .with_limits(service_limits),
            self.subjects.dlq_stream().with_limits(dlq_limits),
        ];
        if private {
            // No byte limit: one message per aggregate bounds it (a few hundred members),
            // and a limit would be reserved in the JetStream store, where the service
            // streams' limits are the ones to size.
            streams.push(self.subjects.private_stream(name));
        }
        let bus = self.bus.clone();
        retry(&self.background, "bus", name, || {
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
        .await
    }

    fn spawn_relay(&self, name: &'static str, ctx: &ServiceContext) {
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
    }

    fn spawn_consumers(&self, service: &dyn Service, ctx: &ServiceContext) {
        let name = service.name();
        let consumer_settings = ConsumerSettings {
            max_deliver: self.settings.consumer_max_deliver,
            lanes: self.settings.consumer_lanes,
            ..ConsumerSettings::default()
        };
        // The service's relay is woken after a handler's commit that wrote events.
        let consumers: Vec<_> = service
            .consumers()
            .into_iter()
            .map(|mut def| {
                def.outbox.get_or_insert_with(|| ctx.outbox.clone());
                def
            })
            .collect();
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
            let runner = Arc::new(ConsumerRunner::new(
                name,
                def,
                ctx.db.clone(),
                self.bus.clone(),
                self.subjects.clone(),
                consumer_settings.clone(),
            ));
            self.dead_letters.register(name, runner.clone());
            self.tasks.spawn(runner.run_shared(self.background.clone()));
        }
    }

    /// Opens the service to calls; the overall health entry (`""`) turns SERVING with
    /// the last service.
    async fn serving(&self, service: &dyn Service) {
        self.readiness.set_ready(service.grpc_name());
        self.health
            .set_service_status(service.grpc_name(), ServingStatus::Serving)
            .await;
        tracing::info!(service = service.name(), "serving");
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
