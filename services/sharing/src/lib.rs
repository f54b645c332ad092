//! The sharing service: what allies offer one another — equipment, spaces, vehicles and
//! expertise booked by time slot (never double-booked), reusable materials claimed by
//! quantity (never below zero), methods and documents — and the needs they post, matched
//! against what is on offer. Served as `fabrique.sharing.v1.SharingService`, announced
//! on `fabrique.sharing.*`; follows member and place events.
//!
//! - `domain` — resources, slots and booking rules, reservations, claims, needs, scores;
//! - `store` — tables, migrations (with the no-overlap constraint) and queries;
//! - `refusal` — the codes and messages of the calls it refuses;
//! - `app` — the use cases; `events` — in and out;
//! - `proto` — every conversion to and from the contract; `grpc` — the handlers.
//!
//! `domain`, `app`, `store` and `proto` keep one file per aggregate (resource,
//! reservation, claim, need). Dependencies point one way: grpc → app → domain, app →
//! store and events, proto used by grpc and events; only the wiring below uses grpc.

#![warn(missing_docs)]

pub mod app;
pub mod domain;
pub mod events;
pub mod grpc;
pub mod proto;
pub mod refusal;
pub mod store;

use std::sync::Arc;

use fabrique_api::sharing::sharing_service_server::SharingServiceServer;
use fabrique_platform::consumer::ConsumerDef;
use fabrique_platform::service::{BackgroundContext, Service, ServiceContext};
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use tonic::service::interceptor::InterceptedService;

/// The service's short name: its database schema, its event stream and dead-letter
/// subject, and what `fabrique serve --services` calls it.
pub const NAME: &str = "sharing";
/// The fully qualified gRPC service name, as health checks and readiness ask for it.
pub const GRPC_NAME: &str = "fabrique.sharing.v1.SharingService";

/// How often each replica expires the requests not answered in time.
const EXPIRY_SWEEP: std::time::Duration = std::time::Duration::from_secs(60);

/// The sharing service, for the platform to run: its migrations, its routes, its
/// event consumers and its sweep of unanswered requests.
#[derive(Debug, Default, Clone, Copy)]
pub struct SharingServiceModule;

impl Service for SharingServiceModule {
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
        let sharing = app::Sharing::new(ctx.db.clone(), ctx.outbox.clone());
        let server = SharingServiceServer::new(grpc::SharingGrpc::new(sharing))
            .max_decoding_message_size(ctx.max_message_bytes)
            .max_encoding_message_size(ctx.max_message_bytes);
        routes.add_service(InterceptedService::new(
            // Inside the interceptor: its calls run with their caller, whom their events name.
            fabrique_platform::auth::ActorScope::new(server),
            // Optional: resources, their free slots and needs are public reads (what
            // is on offer and sought, to be found); every other call asks for its caller
            // itself.
            fabrique_platform::auth::optional_interceptor(ctx.auth.clone()),
        ));
    }

    fn consumers(&self) -> Vec<ConsumerDef> {
        vec![
            ConsumerDef::new(
                "sharing-members",
                "members",
                &["fabrique.members.member.>"],
                Arc::new(events::MemberEvents),
            ),
            ConsumerDef::new(
                "sharing-places",
                "registry",
                &["fabrique.registry.place.>"],
                Arc::new(events::PlaceEvents),
            ),
        ]
    }

    fn background(
        &self,
        ctx: &ServiceContext,
        background: &BackgroundContext,
    ) -> Vec<BoxFuture<'static, ()>> {
        let sharing = app::Sharing::new(ctx.db.clone(), ctx.outbox.clone());
        vec![Box::pin(
            sharing.expire_until(EXPIRY_SWEEP, background.stop.clone()),
        )]
    }
}
