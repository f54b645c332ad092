//! The members service: the allies of the alliance (communes, EPCI, Départements,
//! Régions, associations, ESS enterprises, research and training centres) and their
//! lifecycle, served as `fabrique.members.v1.MembersService`, announced on
//! `fabrique.members.member.*`.
//!
//! - `domain` — the types and the lifecycle rules;
//! - `refusal` — why a well-formed, allowed call is refused, as typed codes;
//! - `store` — the table, its migrations and queries;
//! - `app` — the use cases, each one transaction with its event;
//! - `proto` — conversions between the domain and the contract;
//! - `grpc` — the gRPC handlers;
//! - `events` — what is published.

#![warn(missing_docs)]

pub mod app;
pub mod domain;
pub mod events;
pub mod grpc;
pub mod proto;
pub mod refusal;
pub mod store;

use fabrique_api::members::members_service_server::MembersServiceServer;
use fabrique_platform::service::{Service, ServiceContext};
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use tonic::service::interceptor::InterceptedService;

/// The service's short name: its database schema, its event stream and dead-letter
/// subject, and what `fabrique serve --services` calls it.
pub const NAME: &str = "members";
/// The fully qualified gRPC service name, as health checks and readiness ask for it.
pub const GRPC_NAME: &str = "fabrique.members.v1.MembersService";

/// The members service, for the platform to run.
#[derive(Debug, Default, Clone, Copy)]
pub struct MembersService;

impl Service for MembersService {
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
        let members = app::Members::new(ctx.db.clone(), ctx.outbox.clone());
        let server = MembersServiceServer::new(grpc::MembersGrpc::new(members))
            .max_decoding_message_size(ctx.max_message_bytes)
            .max_encoding_message_size(ctx.max_message_bytes);
        routes.add_service(InterceptedService::new(
            // Inside the interceptor: its calls run with their caller, whom their events name.
            fabrique_platform::auth::ActorScope::new(server),
            // Optional: the directory is public (public fields of active members);
            // every other call asks for its caller itself.
            fabrique_platform::auth::optional_interceptor(ctx.auth.clone()),
        ));
    }

    /// Contact e-mails go to the notify service on `fabrique.private.members.>` only.
    fn private_stream(&self) -> bool {
        true
    }
}
