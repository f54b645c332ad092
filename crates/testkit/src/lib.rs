//! Test support shared by every crate's tests: a fresh PostgreSQL database per test, the
//! shared NATS server (or a private one a test may stop and restart), a platform spawned
//! in the test process on a free port, tokens, reads of what reached JetStream, a real
//! SMTP server (aiosmtpd) and a real browser (Chromium through WebDriver, with axe-core).
//!
//! The servers come from the environment that `scripts/test` prepares:
//! `FABRIQUE_TEST_DATABASE_URL` (an admin URL of PostgreSQL), `FABRIQUE_TEST_NATS_URL`
//! (NATS 2.10+ with JetStream) and `FABRIQUE_TEST_NATS_SERVER` (the nats-server binary
//! for private servers). A missing server fails the test with a message saying so.

pub mod browser;
pub mod http;
pub mod nats;
pub mod oidc;
pub mod platform;
pub mod postgres;
pub mod smtp;

pub use nats::{NatsServer, shared_nats_url, stream_messages, unique_prefix};
pub use platform::{Backend, BusChoice, TestPlatform, authed, secret, token};
pub use postgres::{PostgresServer, TestDatabase, service_database};
pub use smtp::{ReceivedMail, SmtpServer};

/// A TCP port on 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> u16 {
    // Below the kernel's ephemeral range (32768–60999 on Linux): a port handed to a
    // process that binds it seconds later is then never taken meanwhile by the source
    // port of one of the suite's many outgoing connections, as one from bind(:0) can be.
    // A listening service already there fails the check; another test picking the same
    // port in that window is one chance in thousands.
    for _ in 0..1000 {
        let port = 20_000 + (uuid::Uuid::new_v4().as_u128() % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between 20000 and 32000")
}

/// A valid SIREN no other test is likely to use: collectivities need one, and the
/// members service allows one current member per SIREN.
pub fn a_siren() -> String {
    let number = (uuid::Uuid::new_v4().as_u128() % 100_000_000) as u32;
    fabrique_types::Siren::completing(number)
        .as_str()
        .to_string()
}

/// [`a_siren`] for a territorial collectivity (which must have one), blank otherwise.
pub fn siren_for(kind: fabrique_api::members::MemberKind) -> String {
    use fabrique_api::members::MemberKind::*;
    match kind {
        Commune | Epci | Departement | Region => a_siren(),
        _ => String::new(),
    }
}

/// A directory removed when dropped.
#[derive(Debug)]
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "fabrique-{label}-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        Self(path)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Polls `check` every 20 ms until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: std::time::Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
