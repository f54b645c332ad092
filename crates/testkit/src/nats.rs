//! NATS for tests: the shared server (each test under its own subject prefix), private
//! servers a test may stop and restart on the same port and store, and reads of the
//! messages a stream holds.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use async_nats::jetstream;

use crate::TempDir;

/// `FABRIQUE_TEST_NATS_URL`: the NATS server (2.10+, JetStream) tests share.
pub fn shared_nats_url() -> String {
    std::env::var("FABRIQUE_TEST_NATS_URL").unwrap_or_else(|_| {
        panic!(
            "FABRIQUE_TEST_NATS_URL is not set: run the suite with ./scripts/test, which starts a \
             NATS server with JetStream, or set it to nats://host:port of one (2.10 or later)"
        )
    })
}

/// A subject prefix no other test uses, e.g. `t0192ab….`.
pub fn unique_prefix() -> String {
    format!("t{}.", uuid::Uuid::now_v7().simple())
}

fn nats_server_bin() -> PathBuf {
    std::env::var_os("FABRIQUE_TEST_NATS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "FABRIQUE_TEST_NATS_SERVER is not set: run the suite with ./scripts/test, which installs \
                 a current nats-server, or point it at a nats-server binary (2.10 or later)"
            )
        })
}

/// A nats-server process of this test alone.
#[derive(Debug)]
pub struct NatsServer {
    port: u16,
    store: TempDir,
    /// A config file (`-c`), for servers with TLS or authentication.
    config: Option<std::path::PathBuf>,
    child: Option<tokio::process::Child>,
}

impl NatsServer {
    pub async fn start() -> Self {
        let mut server = Self::unstarted();
        server.restart().await;
        server
    }

    /// A server with its port and store chosen, not running yet (clients see NATS down).
    pub fn unstarted() -> Self {
        Self {
            port: crate::free_port(),
            store: TempDir::new("nats"),
            config: None,
            child: None,
        }
    }

    /// A server reading `config` (TLS, accounts, users…); the port, the loopback address
    /// and JetStream with its store come from the command line, so the config must not
    /// set them. `ready` says when it serves (its clients need the config's credentials).
    pub async fn start_with_config<F, Fut>(config: &str, ready: F) -> Self
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let mut server = Self::unstarted();
        let path = server.store.path().join("nats.conf");
        std::fs::write(&path, config).unwrap_or_else(|e| panic!("cannot write nats.conf: {e}"));
        server.config = Some(path);
        server.spawn();
        let url = server.url();
        crate::eventually("the private nats-server", Duration::from_secs(15), || {
            let attempt = ready(url.clone());
            async move { attempt.await.then_some(()) }
        })
        .await;
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Stops the server (SIGKILL): clients see the connection drop.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }

    /// Starts it (again) on the same port and store (messages kept).
    pub async fn restart(&mut self) {
        self.stop().await;
        self.spawn();
        let url = self.url();
        crate::eventually("the private nats-server", Duration::from_secs(15), || {
            let url = url.clone();
            async move {
                let client = async_nats::connect(&url).await.ok()?;
                jetstream::new(client)
                    .query_account()
                    .await
                    .ok()
                    .map(|_| ())
            }
        })
        .await;
    }

    fn spawn(&mut self) {
        let mut command = tokio::process::Command::new(nats_server_bin());
        if let Some(config) = &self.config {
            command.arg("-c").arg(config);
        }
        let child = command
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path().join("jetstream"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start nats-server: {e}"));
        self.child = Some(child);
    }
}

/// Every message a stream holds, in stream order (empty when it does not exist).
pub async fn stream_messages(
    nats_url: &str,
    stream: &str,
) -> Vec<jetstream::message::StreamMessage> {
    let client = async_nats::connect(nats_url)
        .await
        .unwrap_or_else(|e| panic!("NATS at {nats_url}: {e}"));
    let js = jetstream::new(client);
    let Ok(mut stream) = js.get_stream(stream).await else {
        return Vec::new();
    };
    let state = match stream.info().await {
        Ok(info) => info.state.clone(),
        Err(_) => return Vec::new(),
    };
    let mut messages = Vec::new();
    if state.messages == 0 {
        return messages;
    }
    for seq in state.first_sequence..=state.last_sequence {
        if let Ok(message) = stream.get_raw_message(seq).await {
            messages.push(message);
        }
    }
    messages
}
