//! The services under test as separate `fabrique serve` processes, the way the
//! production overlay runs them: started, probed until SERVING (timed), sampled for
//! resident memory, stopped with SIGTERM.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::time::Instant;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// The gRPC service a `--services` selection answers for on the health service.
pub fn health_name(services: &str) -> &'static str {
    match services {
        "members" => "fabrique.members.v1.MembersService",
        "registry" => "fabrique.registry.v1.RegistryService",
        "sharing" => "fabrique.sharing.v1.SharingService",
        "projects" => "fabrique.projects.v1.ProjectsService",
        // `all`: the overall status (`web` has no gRPC server: its `/healthz` is polled).
        _ => "",
    }
}

/// A directory removed when dropped (logs, SQLite files).
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(label: &str) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "fabrique-bench-{label}-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One `fabrique serve --services <services>` process.
pub struct ServiceProcess {
    pub services: String,
    /// Its gRPC port; for `web` (the site alone), its HTTP port.
    pub port: u16,
    child: tokio::process::Child,
    log: PathBuf,
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl ServiceProcess {
    /// Starts it (without waiting for it to serve); its log goes to `dir`.
    pub fn spawn(
        bin: &Path,
        services: &str,
        env: &BTreeMap<String, String>,
        dir: &Path,
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log = dir.join(format!("{services}-{port}.log"));
        // `all` serves the site too: on a port of its own, never a fixed one. The site
        // alone listens on the port chosen for it.
        let web_listen = if services == "web" {
            format!("127.0.0.1:{port}")
        } else {
            "127.0.0.1:0".to_string()
        };
        let child = tokio::process::Command::new(bin)
            .args(["serve", "--services", services])
            .env_clear()
            .envs(env)
            .env("FABRIQUE_LISTEN", format!("127.0.0.1:{port}"))
            .env("FABRIQUE_WEB_LISTEN", web_listen)
            .env("FABRIQUE_DATA_DIR", dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        Ok(Self {
            services: services.to_string(),
            port,
            child,
            log,
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Polls the health service every 2 ms until SERVING (the site: its `/healthz`
    /// until 200); how long that took from now.
    pub async fn wait_serving(&mut self, timeout: Duration) -> anyhow::Result<Duration> {
        let began = Instant::now();
        if self.services == "web" {
            let site = crate::http::HttpPool::new(([127, 0, 0, 1], self.port).into());
            let answered = tokio::select! {
                answered = site.wait_ok("/healthz", timeout) => answered,
                status = self.child.wait() => Err(format!("exited with {status:?}")),
            };
            return match answered {
                Ok(()) => Ok(began.elapsed()),
                Err(error) => bail!("the site: {error}:\n{}", self.log_tail()),
            };
        }
        let name = health_name(&self.services).to_string();
        let endpoint = Channel::from_shared(self.endpoint())?;
        let mut client: Option<HealthClient<Channel>> = None;
        loop {
            if client.is_none() {
                client = endpoint.connect().await.ok().map(HealthClient::new);
            }
            if let Some(c) = client.as_mut() {
                match c
                    .check(HealthCheckRequest {
                        service: name.clone(),
                    })
                    .await
                {
                    Ok(r) if r.get_ref().status == ServingStatus::Serving as i32 => {
                        return Ok(began.elapsed());
                    }
                    Ok(_) => {}
                    Err(_) => client = None,
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!(
                    "{} exited with {status}:\n{}",
                    self.services,
                    self.log_tail()
                );
            }
            if began.elapsed() > timeout {
                bail!(
                    "{} did not serve within {timeout:?}:\n{}",
                    self.services,
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Resident memory now and at its peak so far (KiB), from /proc.
    pub fn memory_kib(&self) -> Option<(u64, u64)> {
        memory_kib(self.pid()?)
    }

    /// SIGTERM, then waits for it to exit (SIGKILL after 30 s).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                if !status.success() {
                    bail!(
                        "{} exited with {status}:\n{}",
                        self.services,
                        self.log_tail()
                    );
                }
            }
            Err(_) => {
                let _ = self.child.kill().await;
                bail!("{} ignored SIGTERM for 30 s", self.services);
            }
        }
        Ok(())
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// `VmRSS` and `VmHWM` of a process, in KiB.
pub fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Samples the resident memory of some processes every 50 ms while a scenario runs:
/// the peak under that scenario alone (VmHWM would carry the peak of earlier ones).
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<BTreeMap<u32, u64>>,
}

impl RssSampler {
    pub fn start(pids: Vec<u32>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut peaks: BTreeMap<u32, u64> = BTreeMap::new();
            loop {
                for &pid in &pids {
                    if let Some((rss, _)) = memory_kib(pid) {
                        let peak = peaks.entry(pid).or_default();
                        *peak = (*peak).max(rss);
                    }
                }
                if flag.load(Ordering::Relaxed) {
                    return peaks;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        Self { stop, task }
    }

    /// The peak resident memory of each process, in KiB.
    pub async fn finish(self) -> BTreeMap<u32, u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or_default()
    }
}

/// CPU time (user + system, seconds) a process has used so far, from /proc.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let fields = stat_fields(pid)?;
    Some(ticks(&fields, 11)? + ticks(&fields, 12)?)
}

/// CPU seconds of the children `pid` has waited for (`cutime` + `cstime`).
fn reaped_cpu_seconds(pid: u32) -> Option<f64> {
    let fields = stat_fields(pid)?;
    Some(ticks(&fields, 13)? + ticks(&fields, 14)?)
}

fn parent_of(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

/// The fields of `/proc/<pid>/stat` after the command name, which may itself hold
/// spaces and parentheses: `[0]` is field 3 (the state).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

fn ticks(fields: &[String], index: usize) -> Option<f64> {
    Some(fields.get(index)?.parse::<u64>().ok()? as f64 / clock_ticks())
}

/// CPU seconds used so far by PostgreSQL: each live process's own, plus what the
/// postmaster's ended children used. Backends end during a scenario (a pool closes
/// idle connections, a consumer lane its own); counting only the live ones made their
/// time vanish, and the difference could come out negative.
fn postgres_cpu_seconds(pids: &[u32]) -> f64 {
    let own: f64 = pids.iter().filter_map(|p| cpu_seconds(*p)).sum();
    let reaped: f64 = pids
        .iter()
        .filter(|p| parent_of(**p).is_none_or(|parent| !pids.contains(&parent)))
        .filter_map(|p| reaped_cpu_seconds(*p))
        .sum();
    own + reaped
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Processes whose command name is `comm` (PostgreSQL's backends, nats-server).
pub fn pids_named(comm: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == comm)
        })
        .collect()
}

fn group_cpu_seconds(name: &str, pids: &[u32]) -> f64 {
    match name {
        "postgres" => postgres_cpu_seconds(pids),
        _ => pids.iter().filter_map(|p| cpu_seconds(*p)).sum(),
    }
}

/// CPU used by groups of processes between `start` and `finish`: where the time of a
/// scenario goes (each service, PostgreSQL, nats-server, the load generator itself).
pub struct CpuMeter {
    groups: Vec<(String, Vec<u32>, f64)>,
    machine: Option<MachineTicks>,
}

/// What [`CpuMeter`] measured.
pub struct CpuUsed {
    /// CPU seconds of each group.
    pub groups: BTreeMap<String, f64>,
    /// Share of the machine's CPU time (every core) that anything used: how close to
    /// saturation a latency was measured.
    pub machine_busy_percent: Option<f64>,
}

/// The machine's CPU ticks so far, from the `cpu` line of `/proc/stat`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MachineTicks {
    pub busy: u64,
    pub total: u64,
}

impl MachineTicks {
    pub fn now() -> Option<Self> {
        Self::parse(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// `cpu  user nice system idle iowait irq softirq steal …`: idle and iowait are
    /// not busy; guest time is already inside user.
    pub fn parse(stat: &str) -> Option<Self> {
        let line = stat.lines().find(|l| l.starts_with("cpu "))?;
        let ticks: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .take(8)
            .map(|t| t.parse().ok())
            .collect::<Option<_>>()?;
        if ticks.len() < 8 {
            return None;
        }
        let idle = ticks[3] + ticks[4];
        let busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7];
        Some(Self {
            busy,
            total: busy + idle,
        })
    }

    /// Busy share between `self` and `later`, in percent.
    pub fn busy_percent_until(self, later: Self) -> Option<f64> {
        let total = later.total.checked_sub(self.total)?;
        let busy = later.busy.checked_sub(self.busy)?;
        (total > 0).then(|| busy as f64 * 100.0 / total as f64)
    }
}

impl CpuMeter {
    pub fn start(services: &[(String, u32)]) -> Self {
        let mut groups: Vec<(String, Vec<u32>)> = services
            .iter()
            .map(|(name, pid)| (name.clone(), vec![*pid]))
            .collect();
        groups.push(("postgres".into(), pids_named("postgres")));
        groups.push(("nats-server".into(), pids_named("nats-server")));
        groups.push(("bench".into(), vec![std::process::id()]));
        Self {
            groups: groups
                .into_iter()
                .map(|(name, pids)| {
                    let used = group_cpu_seconds(&name, &pids);
                    (name, pids, used)
                })
                .collect(),
            machine: MachineTicks::now(),
        }
    }

    /// CPU seconds of each group since `start` (PostgreSQL's backends that started or
    /// ended since are counted), and how busy the machine was meanwhile.
    pub fn finish(self) -> CpuUsed {
        let machine_busy_percent = self
            .machine
            .zip(MachineTicks::now())
            .and_then(|(before, after)| before.busy_percent_until(after));
        let groups = self
            .groups
            .into_iter()
            .map(|(name, pids, before)| {
                let pids = match name.as_str() {
                    "postgres" | "nats-server" => pids_named(&name),
                    _ => pids,
                };
                let now = group_cpu_seconds(&name, &pids);
                (name, (now - before).max(0.0))
            })
            .collect();
        CpuUsed {
            groups,
            machine_busy_percent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MachineTicks;

    #[test]
    fn machine_ticks_count_idle_and_iowait_as_not_busy() {
        let before = MachineTicks::parse(
            "cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 50 2 25 400 20 1 1 0 3 0\nintr 1 2\n",
        )
        .expect("parsed");
        assert_eq!(
            before,
            MachineTicks {
                busy: 160,
                total: 1000
            }
        );
        let after = MachineTicks::parse("cpu  250 5 100 850 40 3 2 0 7 0\n").expect("parsed");
        assert_eq!(before.busy_percent_until(after), Some(80.0));
        assert_eq!(after.busy_percent_until(before), None);
        assert_eq!(MachineTicks::parse("cpu0 1 2 3\n"), None);
    }
}
