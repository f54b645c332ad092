//! A client in another language: the Python script in `tests/interop/` generates its
//! gRPC stubs from `proto/`, creates a member over gRPC and receives the event with
//! nats-py from JetStream, decoding it with the same protos.

use std::time::Duration;

use fabrique_testkit::{Backend, TestPlatform};

use crate::support::platform;

#[tokio::test]
async fn a_python_client_creates_a_member_and_receives_its_event() {
    let python = std::env::var("FABRIQUE_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "FABRIQUE_TEST_PYTHON is not set: run the suite with ./scripts/test, which prepares a \
             virtualenv with grpcio and nats-py"
        )
    });
    let platform = platform(Backend::Postgres).await;
    let root = env!("CARGO_MANIFEST_DIR");
    let run = tokio::process::Command::new(python)
        .arg(format!("{root}/tests/interop/interop_test.py"))
        .args(["--target", &platform.addr.to_string()])
        .args(["--nats", platform.nats_url.as_deref().expect("NATS")])
        .args(["--prefix", &platform.prefix])
        .args(["--token", &TestPlatform::admin_token()])
        .args(["--proto-dir", &format!("{root}/proto")])
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the Python client finishes within 2 minutes")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("interop ok: members/"), "{stdout}");
}
