//! The notify service: e-mail to the people of the alliance when something needs them,
//! written from the other services' events (a consumer like any bus subscriber), sent
//! through SMTP by a background sender with retries and dead letters, each address
//! choosing the kinds it receives. Served as `fabrique.notify.v1.NotifyService`.
//!
//! - `domain` — kinds, settings, deliveries, the retry rule;
//! - `letters` — who learns what of each event, in French; `render` — the e-mail's
//!   text and HTML;
//! - `store` — replicas (contacts, resources, programmes), settings, deliveries;
//! - `events` — the handlers; `sender` — the background sender; `transport` — SMTP or
//!   files; `config` — its flags;
//! - `app`, `proto`, `grpc` — the API (settings, deliveries, changes); `refusal` — the
//!   shared refusal codes.

#![warn(missing_docs)]

pub mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod grpc;
pub mod letters;
pub mod proto;
pub mod refusal;
pub mod render;
pub mod sender;
pub mod store;
pub mod transport;

use std::sync::Arc;

use fabrique_api::notify::notify_service_server::NotifyServiceServer;
use fabrique_platform::consumer::ConsumerDef;
use fabrique_platform::service::{BackgroundContext, Service, ServiceContext};
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use tonic::service::interceptor::InterceptedService;

pub use config::{NotifyArgs, NotifyConfig};

/// The service's short name: its database schema, stream and dead-letter subject.
pub const NAME: &str = "notify";
/// The fully qualified gRPC service name.
pub const GRPC_NAME: &str = "fabrique.notify.v1.NotifyService";

/// The notify service, for the platform to run.
#[derive(Clone, Default)]
pub struct NotifyServiceModule {
    config: Arc<NotifyConfig>,
}

impl NotifyServiceModule {
    /// The service sending as `config` says.
    pub fn new(config: NotifyConfig) -> Self {
        NotifyServiceModule {
            config: Arc::new(config),
        }
    }
}

impl Service for NotifyServiceModule {
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
        let server =
            NotifyServiceServer::new(grpc::NotifyGrpc::new(app::Notify::new(ctx.db.clone())))
                .max_decoding_message_size(ctx.max_message_bytes)
                .max_encoding_message_size(ctx.max_message_bytes);
        routes.add_service(InterceptedService::new(
            fabrique_platform::auth::ActorScope::new(server),
            fabrique_platform::auth::interceptor(ctx.auth.clone()),
        ));
    }

    fn consumers(&self) -> Vec<ConsumerDef> {
        use events::consumers::*;
        let handler = Arc::new(events::Notifications::new(self.config.clone()));
        vec![
            ConsumerDef::new(
                CONTACTS,
                "private_members",
                &["fabrique.private.members.contacts.>"],
                handler.clone(),
            ),
            ConsumerDef::new(
                MEMBERS,
                "members",
                &["fabrique.members.member.applied"],
                handler.clone(),
            ),
            ConsumerDef::new(
                SHARING,
                "sharing",
                &[
                    "fabrique.sharing.resource.>",
                    "fabrique.sharing.reservation.>",
                    "fabrique.sharing.claim.>",
                ],
                handler.clone(),
            ),
            ConsumerDef::new(
                PROJECTS,
                "projects",
                &[
                    "fabrique.projects.programme.>",
                    "fabrique.projects.application.>",
                    "fabrique.projects.workshop.session_scheduled",
                    "fabrique.projects.workshop.session_cancelled",
                ],
                handler.clone(),
            ),
            ConsumerDef::new(
                REGISTRY,
                "registry",
                &["fabrique.registry.place.review_needed"],
                handler.clone(),
            ),
            ConsumerDef::new(RETRIES, NAME, &[sender::GIVEN_UP], handler),
        ]
    }

    fn background(
        &self,
        ctx: &ServiceContext,
        background: &BackgroundContext,
    ) -> Vec<BoxFuture<'static, ()>> {
        if matches!(self.config.transport, transport::Transport::Hold) {
            tracing::warn!(
                "notify: no FABRIQUE_SMTP_URL; e-mails are kept, unsent, until one is set"
            );
            return Vec::new();
        }
        let sender = sender::Sender {
            db: ctx.db.clone(),
            transport: self.config.transport.clone(),
            from: self.config.from.clone(),
            retry: self.config.retry,
            bus: background.bus.clone(),
            subjects: background.subjects.clone(),
        };
        vec![Box::pin(sender.run(background.stop.clone()))]
    }
}
