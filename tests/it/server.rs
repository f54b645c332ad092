//! The server around the services: reflection (v1 and v1alpha, for grpcurl and Python's
//! grpcio-reflection), and load shedding — beyond the concurrency limit a call is
//! refused at once with RESOURCE_EXHAUSTED while health checks still answer.

use std::time::Duration;

use fabrique_api::members as proto;
use fabrique_platform::config::DatabaseSettings;
use fabrique_testkit::{Backend, BusChoice, TestPlatform};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_reflection::pb::{v1, v1alpha};

use crate::support::{Members, association, id_of, platform, services};

#[tokio::test]
async fn reflection_lists_the_services_in_both_versions() {
    let platform = platform(Backend::Sqlite).await;
    let channel = platform.channel().await;

    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut stream = v1::server_reflection_client::ServerReflectionClient::new(channel.clone())
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("v1 reflection")
        .into_inner();
    let response = stream
        .message()
        .await
        .expect("answer")
        .expect("one response");
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("not a service list: {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&fabrique_members::GRPC_NAME.to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_string()),
        "{names:?}"
    );

    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
                "fabrique.members.v1.MemberJoined".into(),
            ),
        ),
    };
    let mut stream = v1alpha::server_reflection_client::ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("v1alpha reflection")
        .into_inner();
    let response = stream
        .message()
        .await
        .expect("answer")
        .expect("one response");
    assert!(
        matches!(
            response.message_response,
            Some(v1alpha::server_reflection_response::MessageResponse::FileDescriptorResponse(_))
        ),
        "events are described too: {response:?}"
    );
}

#[tokio::test]
async fn calls_beyond_the_concurrency_limit_are_shed_at_once() {
    let platform = TestPlatform::spawn_with(
        services(),
        Backend::Postgres,
        BusChoice::SharedNats,
        |settings| {
            settings.max_concurrent_rpcs = 1;
        },
    )
    .await;
    let admin = Members::connect(&platform, TestPlatform::admin_token()).await;
    let member = admin.create(association("Aduhme")).await.expect("create");

    // Hold the member's row so that an update waits, keeping the only slot busy.
    let db = fabrique_platform::db::connect(
        &DatabaseSettings {
            url: platform.database_url.clone(),
            max_connections: 1,
        },
        "members",
    )
    .await
    .expect("database");
    let lock = db.begin().await.expect("begin");
    lock.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT id FROM members WHERE id = $1 FOR UPDATE",
        [uuid::Uuid::parse_str(&id_of(&member.name))
            .expect("uuid")
            .into()],
    ))
    .await
    .expect("lock the row");
    let mut renamed = member.clone();
    renamed.display_name = "Aduhme, agence locale".into();
    let slow = tokio::spawn({
        let admin = admin.clone();
        async move { admin.update(renamed, &["display_name"]).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = std::time::Instant::now();
    let shed = admin.get(&member.name).await.unwrap_err();
    assert_eq!(shed.code(), Code::ResourceExhausted, "{shed:?}");
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "refused at once, not queued"
    );
    let mut health = tonic_health::pb::health_client::HealthClient::new(platform.channel().await);
    let status = health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health answers under load")
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);

    lock.rollback().await.expect("release");
    let updated = slow
        .await
        .expect("task")
        .expect("the waiting call completes");
    assert_eq!(updated.display_name, "Aduhme, agence locale");
    assert_eq!(
        admin.get(&member.name).await.expect("served again").state,
        proto::MemberState::Pending as i32
    );
}
