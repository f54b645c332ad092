//! The projects service: what allies do together — projects and their participants,
//! funding programmes with a fixed envelope (a Département's Solaire Dôme aid, co-funded
//! by the Région) whose approvals never exceed it, grouped purchases with their volumes
//! per lot, and peer workshops whose teams must mix roles. Served as
//! `fabrique.projects.v1.ProjectsService`, announced on `fabrique.projects.*`; follows
//! member and place events.
//!
//! - `domain` — the rules and the exact arithmetic in cents;
//! - `store` — tables, migrations and queries (the envelope enforced there);
//! - `app` — the use cases; `scdl` — the open-data export of awards; `outcome` — the
//!   CSV of what an awarded grouped purchase obtained;
//! - `proto` — every conversion to and from the contract (enums mapped by name);
//! - `refusal` — why a call is refused: its codes and their messages;
//! - `grpc` — the handlers; `events` — in and out.

#![warn(missing_docs)]

pub mod app;
pub mod domain;
pub mod events;
pub mod grpc;
pub mod outcome;
pub mod proto;
pub mod refusal;
pub mod scdl;
pub mod store;

use std::sync::Arc;

use fabrique_api::projects::projects_service_server::ProjectsServiceServer;
use fabrique_platform::consumer::ConsumerDef;
use fabrique_platform::service::{Service, ServiceContext};
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use tonic::service::interceptor::InterceptedService;

/// The service's short name: its database schema, its stream `fabrique.projects.>`, its
/// `--services` name.
pub const NAME: &str = "projects";
/// The full gRPC service name, as health checks ask for it.
pub const GRPC_NAME: &str = "fabrique.projects.v1.ProjectsService";

/// The projects service as the `fabrique` binary wires it: migrations, gRPC routes and
/// event consumers.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProjectsServiceModule;

impl Service for ProjectsServiceModule {
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
        let projects = app::Projects::new(ctx.db.clone(), ctx.outbox.clone());
        let server = ProjectsServiceServer::new(grpc::ProjectsGrpc::new(projects))
            .max_decoding_message_size(ctx.max_message_bytes)
            .max_encoding_message_size(ctx.max_message_bytes);
        routes.add_service(InterceptedService::new(
            // Inside the interceptor: its calls run with their caller, whom their events name.
            fabrique_platform::auth::ActorScope::new(server),
            // Optional: programmes (a public funder publishes its rules and its
            // envelope), projects under way or done, grouped purchases and workshops are
            // public reads; every other call asks for its caller itself.
            fabrique_platform::auth::optional_interceptor(ctx.auth.clone()),
        ));
    }

    fn consumers(&self) -> Vec<ConsumerDef> {
        vec![
            ConsumerDef::new(
                "projects-members",
                "members",
                &["fabrique.members.member.>"],
                Arc::new(events::MemberEvents),
            ),
            ConsumerDef::new(
                "projects-places",
                "registry",
                &["fabrique.registry.place.>"],
                Arc::new(events::PlaceEvents),
            ),
            ConsumerDef::new(
                "projects-participation",
                "participation",
                &["fabrique.participation.proposal.accepted"],
                Arc::new(events::ParticipationEvents),
            ),
        ]
    }
}
