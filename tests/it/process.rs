//! `fabrique serve` as separate processes on loopback, for tests that kill, stop and
//! restart them: each keeps its port and environment across restarts, and its log.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fabrique_testkit::{TempDir, secret};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

const BIN: &str = env!("CARGO_BIN_EXE_fabrique");

pub fn free_port() -> u16 {
    fabrique_testkit::free_port()
}

/// The environment of a process on PostgreSQL and NATS: the database (a schema per
/// service), the NATS server, a subject prefix, the test JWT secret.
pub fn environment(database_url: &str, nats_url: &str, prefix: &str) -> Vec<(String, String)> {
    [
        ("FABRIQUE_DATABASE_URL", database_url),
        ("FABRIQUE_NATS_URL", nats_url),
        ("FABRIQUE_SUBJECT_PREFIX", prefix),
        ("FABRIQUE_JWT_SECRET", secret()),
        ("FABRIQUE_DRAIN_SECONDS", "5"),
        (
            "RUST_LOG",
            "info,sqlx=warn,sea_orm=warn,h2=warn,tower=warn,hyper=warn",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// One `fabrique serve --services <services>` process.
pub struct ServiceProcess {
    services: String,
    env: BTreeMap<String, String>,
    port: u16,
    child: Option<tokio::process::Child>,
    dir: TempDir,
    starts: usize,
}

impl ServiceProcess {
    /// Starts it (not waiting for it to serve).
    pub fn start(services: &str, env: &[(String, String)]) -> Self {
        let mut process = Self {
            services: services.to_string(),
            env: env.iter().cloned().collect(),
            port: free_port(),
            child: None,
            dir: TempDir::new("process"),
            starts: 0,
        };
        process.spawn();
        process
    }

    fn log_path(&self, start: usize) -> PathBuf {
        self.dir
            .path()
            .join(format!("{}-{start}.log", self.services))
    }

    fn spawn(&mut self) {
        self.starts += 1;
        let log = std::fs::File::create(self.log_path(self.starts)).expect("log file");
        let child = tokio::process::Command::new(BIN)
            .args(["serve", "--services", &self.services])
            .env_clear()
            .envs(&self.env)
            .env("FABRIQUE_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("FABRIQUE_DATA_DIR", self.dir.path())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("fabrique serve starts");
        self.child = Some(child);
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A channel that reconnects by itself when the process comes back.
    pub fn channel(&self) -> Channel {
        Channel::from_shared(self.endpoint())
            .expect("endpoint")
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .connect_lazy()
    }

    /// Until the health service says `grpc_service` is SERVING.
    pub async fn wait_serving(&self, grpc_service: &str, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let status = async {
                let channel = Channel::from_shared(self.endpoint())
                    .ok()?
                    .connect()
                    .await
                    .ok()?;
                let response = tonic_health::pb::health_client::HealthClient::new(channel)
                    .check(tonic_health::pb::HealthCheckRequest {
                        service: grpc_service.to_string(),
                    })
                    .await
                    .ok()?;
                Some(response.into_inner().status)
            }
            .await;
            if status == Some(ServingStatus::Serving as i32) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} did not serve {grpc_service} within {timeout:?}:\n{}",
                self.services,
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no drain, no flush, nothing.
    pub async fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }

    /// Starts it again on the same port with the same environment.
    pub fn restart(&mut self) {
        assert!(
            self.child.is_none() || self.exited(),
            "restart a stopped process"
        );
        self.child = None;
        self.spawn();
    }

    /// Whether it has exited by itself.
    pub fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| c.try_wait().ok().flatten().is_some())
    }

    /// SIGTERM; it must stop cleanly.
    pub async fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id().expect("running").to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .expect("stops within 30 s of SIGTERM")
            .expect("exit status");
        assert!(
            status.success(),
            "{} exited with {status}:\n{}",
            self.services,
            self.logs()
        );
    }

    /// The last lines of every run's log.
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for start in 1..=self.starts {
            let text = std::fs::read_to_string(self.log_path(start)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(30);
            all.push_str(&format!("--- {} run {start}\n", self.services));
            for line in &lines[from..] {
                all.push_str(line);
                all.push('\n');
            }
        }
        all
    }

    /// Peak resident memory so far (KiB), from /proc.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id()?;
        fabrique_bench::fleet::memory_kib(pid).map(|(_, peak)| peak)
    }
}
