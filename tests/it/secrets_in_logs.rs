//! Secrets stay out of the logs: a `fabrique serve` process at the most verbose log
//! level, given a JWT secret, a database password and a NATS password, called with
//! valid, forged and malformed tokens, never writes any of them (nor the tokens) to its
//! output.

use std::process::Stdio;
use std::time::Duration;

use fabrique_api::members as proto;
use fabrique_testkit::{TempDir, TestDatabase, authed};
use tokio::io::AsyncReadExt;

const BIN: &str = env!("CARGO_BIN_EXE_fabrique");
const DB_PASSWORD: &str = "db-password-that-must-never-be-logged";
const NATS_PASSWORD: &str = "nats-password-that-must-never-be-logged";

fn free_port() -> u16 {
    fabrique_testkit::free_port()
}

/// `postgres://user@host/db` → `postgres://user:PASSWORD@host/db` (the test server
/// trusts local connections, so any password is accepted).
fn with_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user, host) = rest
        .split_once('@')
        .expect("a user in the test database URL");
    let user = user.split(':').next().unwrap_or(user);
    format!("{scheme}://{user}:{DB_PASSWORD}@{host}")
}

fn token(secret: &str, sub: &str, roles: &[&str]) -> String {
    fabrique_platform::auth::mint(
        &fabrique_platform::config::Secret::new(secret),
        &fabrique_platform::auth::claims(sub, roles, chrono::Duration::hours(1)),
    )
    .expect("token")
}

#[tokio::test]
async fn secrets_and_tokens_never_reach_the_logs() {
    // Fresh: a secret written in the repository is refused (tests/it/published_secrets.rs).
    let jwt_secret = format!(
        "jwt-secret-that-must-never-be-logged-{}",
        uuid::Uuid::new_v4().simple()
    );
    let database = TestDatabase::create().await;
    let data = TempDir::new("secrets-logs");
    let listen = format!("127.0.0.1:{}", free_port());
    let prefix = fabrique_testkit::unique_prefix();
    let mut server = tokio::process::Command::new(BIN)
        .args(["serve", "--services", "members"])
        .env_clear()
        .env("FABRIQUE_LISTEN", &listen)
        .env("FABRIQUE_DATA_DIR", data.path())
        .env("FABRIQUE_DATABASE_URL", with_password(&database.url))
        .env("FABRIQUE_NATS_URL", fabrique_testkit::shared_nats_url())
        .env("FABRIQUE_NATS_USER", "members")
        .env("FABRIQUE_NATS_PASSWORD", NATS_PASSWORD)
        .env("FABRIQUE_SUBJECT_PREFIX", &prefix)
        .env("FABRIQUE_JWT_SECRET", &jwt_secret)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("serve starts");
    let mut stderr = server.stderr.take().expect("stderr");
    let mut stdout = server.stdout.take().expect("stdout");
    // Read as it comes, so that a full pipe never blocks the server.
    let err_reader = tokio::spawn(async move {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text).await;
        text
    });
    let out_reader = tokio::spawn(async move {
        let mut text = Vec::new();
        let _ = stdout.read_to_end(&mut text).await;
        text
    });

    let endpoint = format!("http://{listen}");
    let channel = fabrique_testkit::eventually("the server", Duration::from_secs(60), || {
        let endpoint = endpoint.clone();
        async move {
            let channel = tonic::transport::Channel::from_shared(endpoint)
                .ok()?
                .connect()
                .await
                .ok()?;
            let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
            let serving = health
                .check(tonic_health::pb::HealthCheckRequest {
                    service: "fabrique.members.v1.MembersService".into(),
                })
                .await
                .ok()?
                .into_inner()
                .status
                == tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
            serving.then_some(channel)
        }
    })
    .await;
    let mut members = proto::members_service_client::MembersServiceClient::new(channel);
    let admin = token(&jwt_secret, "admin", &["admin"]);
    let forged = token("another-secret-another-secret-0123456", "admin", &["admin"]);
    let created = members
        .create_member(authed(
            proto::CreateMemberRequest {
                member: Some(proto::Member {
                    display_name: "Atelier Paysan".into(),
                    kind: proto::MemberKind::Association as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("a valid token works")
        .into_inner();
    let refused = members
        .get_member(authed(
            proto::GetMemberRequest {
                name: created.name.clone(),
            },
            &forged,
        ))
        .await
        .expect_err("a forged token is refused");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    assert!(
        !refused.message().contains(&forged),
        "the error echoes the token"
    );
    let garbage = "not.a.token-but-a-secret-looking-string";
    let refused = members
        .get_member(authed(
            proto::GetMemberRequest {
                name: created.name.clone(),
            },
            garbage,
        ))
        .await
        .expect_err("garbage is refused");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);

    let pid = server.id().expect("running").to_string();
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(stopped.success());
    let status = tokio::time::timeout(Duration::from_secs(30), server.wait())
        .await
        .expect("stops")
        .expect("status");
    assert!(status.success(), "{status}");
    let mut logs = err_reader.await.expect("stderr read");
    logs.extend(out_reader.await.expect("stdout read"));
    let logs = String::from_utf8_lossy(&logs);
    assert!(
        logs.contains("CreateMember") && logs.lines().count() > 50,
        "the logs were captured at trace level ({} lines)",
        logs.lines().count()
    );
    // stderr is a pipe here, as in a container: plain text, no colour codes.
    assert!(
        !logs.contains('\u{1b}'),
        "escape codes in logs written to a pipe: {:?}",
        logs.lines().find(|line| line.contains('\u{1b}'))
    );
    let signature = |t: &str| t.rsplit('.').next().unwrap_or_default().to_string();
    for (what, secret) in [
        ("the JWT secret", jwt_secret.clone()),
        ("the database password", DB_PASSWORD.to_string()),
        ("the NATS password", NATS_PASSWORD.to_string()),
        ("a valid token", admin.clone()),
        ("a valid token's signature", signature(&admin)),
        ("a forged token", forged.clone()),
        ("a forged token's signature", signature(&forged)),
        ("a malformed token", garbage.to_string()),
    ] {
        if let Some(line) = logs.lines().find(|line| line.contains(&secret)) {
            panic!("{what} is in the logs: {line}");
        }
    }
}
