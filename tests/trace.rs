//! One trace across the platform: a CreateMember call's server span, the outbox relay's
//! publish span and a consumer's handling span share one trace id and chain as parent
//! and child — through the outbox table and NATS JetStream. Its own binary, because it
//! installs the process-wide tracing subscriber.

#![allow(clippy::unwrap_used)] // a test that unwraps fails loudly, which is the point

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use fabrique_api::members as proto;
use fabrique_platform::bus::Subjects;
use fabrique_platform::config::{DatabaseSettings, LogFormat};
use fabrique_platform::consumer::{
    ConsumerDef, ConsumerRunner, ConsumerSettings, EventHandler, HandlerError,
};
use fabrique_platform::event::IncomingEvent;
use fabrique_platform::telemetry::{self, TelemetryOptions};
use fabrique_testkit::{Backend, BusChoice, TempDir, TestPlatform, authed};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use sea_orm::DatabaseTransaction;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

#[derive(Debug, Clone, Default)]
struct Collected(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Collected {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(batch);
        std::future::ready(Ok(()))
    }
}

impl Collected {
    fn named(&self, name: &str) -> Option<SpanData> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|span| span.name == name)
            .cloned()
    }
}

struct Nothing;

#[async_trait]
impl EventHandler for Nothing {
    async fn handle(
        &self,
        _txn: &DatabaseTransaction,
        _event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        Ok(())
    }
}

struct PlatformTables;

impl MigratorTrait for PlatformTables {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        fabrique_platform::db::platform_migrations()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_its_event_and_its_consumption_share_one_trace() {
    let spans = Collected::default();
    let _telemetry = telemetry::init_with_span_exporter(
        &TelemetryOptions {
            service_name: "fabrique-trace-test".into(),
            log_format: LogFormat::Text,
        },
        spans.clone(),
    );
    let platform = TestPlatform::spawn(
        vec![Arc::new(fabrique_members::MembersService)],
        Backend::Postgres,
        BusChoice::SharedNats,
    )
    .await;

    // Another service's consumer of member events.
    let dir = TempDir::new("trace");
    let consumer_db = fabrique_platform::db::connect(
        &DatabaseSettings {
            url: format!("sqlite://{}/{{service}}.db", dir.path().display()),
            max_connections: 1,
        },
        "tracecheck",
    )
    .await
    .expect("consumer database");
    fabrique_platform::db::migrate::<PlatformTables>(&consumer_db, "tracecheck")
        .await
        .expect("migrate");
    let stop = tokio_util::sync::CancellationToken::new();
    let runner = ConsumerRunner::new(
        "tracecheck",
        ConsumerDef {
            name: "tracecheck-members".into(),
            source_service: "members".into(),
            subjects: vec!["fabrique.members.member.applied".into()],
            handler: Arc::new(Nothing),
        },
        consumer_db,
        platform.bus.clone(),
        Subjects::new(platform.prefix.clone()),
        ConsumerSettings::default(),
    );
    tokio::spawn(runner.run(stop.clone()));

    let mut client =
        proto::members_service_client::MembersServiceClient::new(platform.channel().await);
    client
        .create_member(authed(
            proto::CreateMemberRequest {
                member: Some(proto::Member {
                    display_name: "Aduhme".into(),
                    kind: proto::MemberKind::Association as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &TestPlatform::admin_token(),
        ))
        .await
        .expect("create");

    let consumed =
        fabrique_testkit::eventually("the consumer's span", Duration::from_secs(20), || async {
            spans.named("process fabrique.members.member.applied")
        })
        .await;
    let call = spans
        .named("fabrique.members.v1.MembersService/CreateMember")
        .expect("the server span of the call");
    let published = spans
        .named("publish fabrique.members.member.applied")
        .expect("the relay's publish span");

    let trace = call.span_context.trace_id();
    assert_eq!(
        published.span_context.trace_id(),
        trace,
        "publish continues the call's trace"
    );
    assert_eq!(
        consumed.span_context.trace_id(),
        trace,
        "consumption continues it through NATS"
    );
    assert_eq!(published.parent_span_id, call.span_context.span_id());
    assert_eq!(consumed.parent_span_id, published.span_context.span_id());
    assert_eq!(call.span_kind, opentelemetry::trace::SpanKind::Server);
    assert_eq!(
        published.span_kind,
        opentelemetry::trace::SpanKind::Producer
    );
    assert_eq!(consumed.span_kind, opentelemetry::trace::SpanKind::Consumer);
    stop.cancel();
}
