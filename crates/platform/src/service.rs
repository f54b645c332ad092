//! The contract between the platform and a service: what a service crate provides (its
//! name, migrations, gRPC routes, consumers) and what the platform hands it to run
//! ([`ServiceContext`]).

use std::sync::Arc;

use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};

use tokio_util::sync::CancellationToken;

use crate::auth::Authenticator;
use crate::bus::{Bus, Subjects};
use crate::consumer::ConsumerDef;
use crate::outbox::OutboxSignal;

/// What a service gets from the platform.
#[derive(Clone)]
pub struct ServiceContext {
    /// The service's [`Service::name`].
    pub name: &'static str,
    /// The service's own database.
    pub db: DatabaseConnection,
    /// Call [`OutboxSignal::notify`] after committing events.
    pub outbox: OutboxSignal,
    /// Verifies callers: one per process, shared by every service it runs.
    pub auth: Arc<Authenticator>,
    /// Largest gRPC message decoded or encoded.
    pub max_message_bytes: usize,
}

/// What a service's [`Service::background`] work gets besides its context: the bus (to
/// dead-letter what it gives up on), the environment's subjects, and the signal to stop.
#[derive(Clone)]
pub struct BackgroundContext {
    /// The process's bus.
    pub bus: Arc<dyn Bus>,
    /// Subjects and stream names, with the environment's prefix.
    pub subjects: Subjects,
    /// Cancelled at shutdown: each task returns soon after.
    pub stop: CancellationToken,
}

/// What a service crate provides; the binary runs any set of them in one process.
pub trait Service: Send + Sync + 'static {
    /// Short name: database schema or file, stream `fabrique.<name>.>`, DLQ
    /// `fabrique.dlq.<name>`, `fabrique serve --services <name>`.
    fn name(&self) -> &'static str;

    /// Full gRPC service name, as health checks ask for it
    /// (e.g. `fabrique.members.v1.MembersService`).
    fn grpc_name(&self) -> &'static str;

    /// Applies pending migrations, the platform's tables included
    /// (see [`crate::db::migrate`]).
    fn migrate<'a>(&'a self, db: &'a DatabaseConnection) -> BoxFuture<'a, Result<(), DbErr>>;

    /// Adds the gRPC services to serve, authenticated with [`crate::auth::interceptor`].
    fn add_routes(&self, ctx: &ServiceContext, routes: &mut tonic::service::RoutesBuilder);

    /// Consumers of other services' events; started once migrations ran.
    fn consumers(&self) -> Vec<ConsumerDef> {
        Vec::new()
    }

    /// Whether it also publishes personal data on `fabrique.private.<name>.>`, a stream
    /// of its own that only the consumers that need it may read
    /// ([`Subjects::private_stream`]).
    fn private_stream(&self) -> bool {
        false
    }

    /// Work it runs beside its consumers once migrations ran and its streams exist (the
    /// notify service's e-mail sender), until `background.stop` is cancelled.
    fn background(
        &self,
        _ctx: &ServiceContext,
        _background: &BackgroundContext,
    ) -> Vec<BoxFuture<'static, ()>> {
        Vec::new()
    }
}
