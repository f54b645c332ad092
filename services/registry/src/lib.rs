//! The registry service: the places where transition work happens (incubators,
//! FabLabs, ressourceries, repair and recycling workshops, tiers-lieux, shared spaces,
//! training and research centres, participatory housing), their moderation and search
//! by distance, served as `fabrique.registry.v1.RegistryService`, announced on
//! `fabrique.registry.place.*`; it follows member events to know who may operate a place.
//!
//! - `domain` — places, kinds, capabilities, opening hours, moderation, duplicates;
//! - `refusal` — why a well-formed, allowed call is refused, as typed codes;
//! - `store` — tables, migrations, queries (and the member replica);
//! - `app` — the use cases; `import` — reading open-data CSV files;
//! - `proto` — conversions between the domain and the contract; `grpc` — the gRPC
//!   handlers; `events` — published and consumed events.

#![warn(missing_docs)]

pub mod app;
pub mod domain;
pub mod events;
pub mod grpc;
pub mod import;
pub mod proto;
pub mod refusal;
pub mod store;

use std::sync::Arc;

use fabrique_api::registry::registry_service_server::RegistryServiceServer;
use fabrique_platform::consumer::ConsumerDef;
use fabrique_platform::service::{Service, ServiceContext};
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use tonic::service::interceptor::InterceptedService;

/// The service's short name: its database schema, its event stream and dead-letter
/// subject, and what `fabrique serve --services` calls it.
pub const NAME: &str = "registry";
/// The fully qualified gRPC service name, as health checks and readiness ask for it.
pub const GRPC_NAME: &str = "fabrique.registry.v1.RegistryService";

/// The registry service, for the platform to run.
#[derive(Debug, Default, Clone, Copy)]
pub struct RegistryServiceModule;

impl Service for RegistryServiceModule {
    fn name(&self) -> &'static str {
        NAME
    }

    fn grpc_name(&self) -> &'static str {
        GRPC_NAME
    }

    fn migrate<'a>(&'a self, db: &'a DatabaseConnection) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(fabrique_platform::db::migrate::<store::migrations::Migrator>(db, NAME))
    }

    fn add_routes(&self, ctx: &ServiceContext, routes: &mut tonic::service::RoutesBuilder) {
        let registry = app::Registry::new(ctx.db.clone(), ctx.outbox.clone());
        let server = RegistryServiceServer::new(grpc::RegistryGrpc::new(registry))
            .max_decoding_message_size(ctx.max_message_bytes)
            .max_encoding_message_size(ctx.max_message_bytes);
        // Reads are public: a call without a token sees listed places only.
        routes.add_service(InterceptedService::new(
            // Inside the interceptor: its calls run with their caller, whom their events name.
            fabrique_platform::auth::ActorScope::new(server),
            fabrique_platform::auth::optional_interceptor(ctx.auth.clone()),
        ));
    }

    fn consumers(&self) -> Vec<ConsumerDef> {
        vec![ConsumerDef::new(
            "registry-members",
            "members",
            &["fabrique.members.member.>"],
            Arc::new(events::MemberEvents),
        )]
    }
}
