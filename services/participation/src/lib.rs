//! The participation service: citizen participation in the alliance's territories —
//! processes (démarches) with dated steps, proposals answered by their organiser,
//! supports within limits, meetings with seats and a waiting list — served as
//! `fabrique.participation.v1.ParticipationService`, announced on
//! `fabrique.participation.*`. Participants are people with the `citizen`
//! role, not members; it follows member events (who may organise) and place events
//! (where proposals and meetings may be).
//!
//! - `domain` — participants, processes and steps, proposals and their answers,
//!   meetings;
//! - `refusal` — why a well-formed, allowed call is refused, as typed codes;
//! - `store` — tables, migrations, queries, the support limit held in SQL;
//! - `app` — the use cases; `calendar` — meetings as iCalendar; `opendata` —
//!   proposals and budget results as CSV;
//! - `proto` — conversions between the domain and the contract; `grpc` — the gRPC
//!   handlers; `events` — published and consumed events.

#![warn(missing_docs)]

pub mod app;
pub mod calendar;
pub mod domain;
pub mod events;
pub mod grpc;
pub mod opendata;
pub mod proto;
pub mod refusal;
pub mod store;

use std::sync::Arc;

use fabrique_api::participation::participation_service_server::ParticipationServiceServer;
use fabrique_platform::consumer::ConsumerDef;
use fabrique_platform::service::{Service, ServiceContext};
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use tonic::service::interceptor::InterceptedService;

/// The service's short name: its database schema, its event stream and dead-letter
/// subject, and what `fabrique serve --services` calls it.
pub const NAME: &str = "participation";
/// The fully qualified gRPC service name, as health checks and readiness ask for it.
pub const GRPC_NAME: &str = "fabrique.participation.v1.ParticipationService";

/// The participation service, for the platform to run.
#[derive(Debug, Default, Clone, Copy)]
pub struct ParticipationServiceModule;

impl Service for ParticipationServiceModule {
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
        let participation = app::Participation::new(ctx.db.clone(), ctx.outbox.clone());
        let server = ParticipationServiceServer::new(grpc::ParticipationGrpc::new(participation))
            .max_decoding_message_size(ctx.max_message_bytes)
            .max_encoding_message_size(ctx.max_message_bytes);
        // Processes and proposals are public: a call without a token reads them.
        routes.add_service(InterceptedService::new(
            fabrique_platform::auth::ActorScope::new(server),
            fabrique_platform::auth::optional_interceptor(ctx.auth.clone()),
        ));
    }

    fn consumers(&self) -> Vec<ConsumerDef> {
        vec![
            ConsumerDef::new(
                "participation-members",
                "members",
                &["fabrique.members.member.>"],
                Arc::new(events::MemberEvents),
            ),
            ConsumerDef::new(
                "participation-places",
                "registry",
                &["fabrique.registry.place.>"],
                Arc::new(events::PlaceEvents),
            ),
        ]
    }
}
