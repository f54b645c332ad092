//! `fabrique-bench`: how close Fabrique comes to the raw parts it is built on, measured
//! against baselines taken in the same run on the same machine (absolute numbers on a
//! shared 2-core machine drift from run to run; ratios much less).
//!
//! One run: creates its own PostgreSQL database and NATS subject prefix, applies the
//! migrations, times each service from process start to SERVING, starts the four
//! services as separate processes (as the production overlay does), then runs each
//! scenario (see [`SCENARIOS`]) and writes a table, a JSON report and an SVG chart of
//! `get-member` latency against offered load. The site's scenarios start one more
//! process, `serve --services web`, pointed at the four, and call it over HTTP/1.1
//! ([`http`]). Everything it created is removed at the end.

pub mod echo;
pub mod fleet;
pub mod http;
pub mod load;
pub mod report;
mod scenarios;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use fabrique_platform::db::with_database;
use sea_orm::{ConnectionTrait, Database};
use serde::Serialize;

pub use load::{Load, Outcome, Stats};

/// Every scenario, in the order a full run takes them.
pub const SCENARIOS: &[&str] = &[
    "startup",
    "baseline-echo",
    "get-member",
    "baseline-insert",
    "create-member",
    "create-and-consume",
    "list-places-near",
    "map-clusters",
    "web-map-data",
    "list-places-page",
    "web-places-list",
    "reserve",
    "apply",
    "web-apply-approve",
    "book-slot",
    "web-book-slot",
    "event-latency",
    "baseline-jetstream",
    "relay-drain",
];

/// What to run and how hard.
#[derive(Debug, Clone, Serialize)]
pub struct Options {
    /// The `fabrique` binary under test.
    pub fabrique: PathBuf,
    /// A PostgreSQL URL whose user may create databases.
    pub database_url: String,
    pub nats_url: String,
    /// Calls in flight in closed-loop scenarios.
    pub concurrency: usize,
    /// HTTP/2 connections the calls are spread over.
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Members created before `get-member`.
    pub members: usize,
    /// Places loaded before `list-places-near` and the map's and the site's scenarios.
    pub places: usize,
    pub radius_km: f64,
    /// Writes per second in `event-latency`.
    pub event_rate: f64,
    /// Pending outbox rows in `relay-drain` (and messages in `baseline-jetstream`).
    pub relay_rows: usize,
    /// Fractions of `get-member`'s closed-loop throughput offered for the chart.
    pub sweep: Vec<f64>,
    /// Process starts measured per service.
    pub startup_runs: usize,
    /// Run only these scenarios (empty: all).
    pub only: Vec<String>,
}

impl Options {
    /// The defaults of a full run, for the given binary and servers.
    pub fn new(fabrique: PathBuf, database_url: String, nats_url: String) -> Self {
        Self {
            fabrique,
            database_url,
            nats_url,
            concurrency: 64,
            connections: 4,
            warmup: Duration::from_secs(2),
            duration: Duration::from_secs(10),
            members: 1_000,
            places: 100_000,
            radius_km: 30.0,
            event_rate: 1_000.0,
            relay_rows: 100_000,
            sweep: vec![0.1, 0.25, 0.5, 0.75, 0.9, 1.0],
            startup_runs: 3,
            only: Vec::new(),
        }
    }

    fn runs(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == scenario)
    }

    fn load(&self) -> Load {
        Load {
            concurrency: self.concurrency,
            rate: None,
            warmup: self.warmup,
            duration: self.duration,
        }
    }
}

/// The machine the numbers were measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub postgres: String,
    pub nats: String,
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    /// `c=64` (closed loop) or `1000/s` (open loop), or what was drained.
    pub load: String,
    pub stats: Stats,
    /// The baseline this scenario is compared with, and throughput / its throughput.
    pub baseline: Option<String>,
    pub ratio: Option<f64>,
    /// CPU time per call of each service process, PostgreSQL, nats-server and the load
    /// generator (µs): where the time goes.
    pub cpu_us_per_call: BTreeMap<String, f64>,
    /// Share of the machine's CPU time (both cores) anything used meanwhile, in percent:
    /// a latency measured near 100 % is mostly queueing.
    pub machine_busy_percent: Option<f64>,
    /// Peak resident memory of each service process during the scenario (MiB).
    pub rss_mib: BTreeMap<String, f64>,
    pub note: Option<String>,
}

/// Start-up and idle memory of one kind of process.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessReport {
    /// `serve --services <services>`.
    pub services: String,
    pub store: String,
    /// From spawning the process to SERVING on its health service, migrations applied.
    pub start_to_serving_ms: Vec<f64>,
    pub start_to_serving_median_ms: f64,
    /// Resident memory 2 s after SERVING, before any load.
    pub idle_rss_mib: f64,
}

/// A target of issue 8 and whether this run met it.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub what: String,
    pub target: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub date: String,
    pub machine: Machine,
    pub options: Options,
    pub processes: Vec<ProcessReport>,
    pub scenarios: Vec<ScenarioReport>,
    /// `get-member` at fixed offered rates: the latency/load curve.
    pub sweep: Vec<SweepPoint>,
    pub targets: Vec<Target>,
}

/// `get-member` at one fixed offered rate, and what it cost.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    #[serde(flatten)]
    pub stats: Stats,
    /// CPU time per call of each process group (µs), over the warm-up and the
    /// measurement (both at the offered rate). At a fixed rate a call costs more than
    /// in the closed loop, where many calls share each system call and wake-up: this
    /// is what says how close to saturation a point of the curve was.
    pub cpu_us_per_call: BTreeMap<String, f64>,
    /// Share of the machine's CPU time (both cores) anything used meanwhile, in percent.
    pub machine_busy_percent: Option<f64>,
}

impl Report {
    pub fn scenario(&self, name: &str) -> Option<&ScenarioReport> {
        self.scenarios.iter().find(|s| s.name == name)
    }

    /// Errors of every scenario, by scenario.
    pub fn errors(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        self.scenarios
            .iter()
            .filter(|s| s.stats.error_count() > 0)
            .map(|s| (s.name.clone(), s.stats.errors.clone()))
            .chain(
                self.sweep
                    .iter()
                    .map(|p| &p.stats)
                    .filter(|s| s.error_count() > 0)
                    .map(|s| {
                        (
                            format!("get-member at {:.0}/s", s.offered_rate.unwrap_or(0.0)),
                            s.errors.clone(),
                        )
                    }),
            )
            .collect()
    }
}

/// Runs the bench: sets up, measures, cleans up (also when a scenario fails).
pub async fn run(options: Options) -> anyhow::Result<Report> {
    if !options.fabrique.is_file() {
        bail!(
            "{} is not a file: build it first (cargo build --release) or pass --fabrique",
            options.fabrique.display()
        );
    }
    for name in &options.only {
        if !SCENARIOS.contains(&name.as_str()) {
            bail!(
                "--only: unknown scenario {name:?}; known: {}",
                SCENARIOS.join(", ")
            );
        }
    }
    let id = uuid::Uuid::now_v7().simple().to_string();
    let database = format!("fabrique_bench_{id}");
    let admin = Database::connect(&options.database_url)
        .await
        .with_context(|| format!("PostgreSQL at {}", options.database_url))?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{database}\""))
        .await?;
    let nats = async_nats::connect(&options.nats_url)
        .await
        .with_context(|| format!("NATS at {}", options.nats_url))?;
    let prefix = format!("bench{}.", &id[id.len() - 12..]);

    let env = scenarios::Env {
        options: options.clone(),
        database_url: with_database(&options.database_url, &database),
        prefix: prefix.clone(),
        nats: nats.clone(),
    };
    let result = scenarios::run_all(&env).await;

    // Clean up whatever happened.
    let jetstream = async_nats::jetstream::new(nats.clone());
    let subjects = fabrique_platform::bus::Subjects::new(prefix);
    for service in ["members", "registry", "sharing", "projects", "dlq", "bench"] {
        let _ = jetstream.delete_stream(subjects.stream_name(service)).await;
    }
    let _ = admin
        .execute_unprepared(&format!(
            "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
        ))
        .await;

    let measured = result?;
    let machine = machine(&admin, &nats).await;
    let mut report = Report {
        date: chrono::Utc::now().to_rfc3339(),
        machine,
        options,
        processes: measured.processes,
        scenarios: measured.scenarios,
        sweep: measured.sweep,
        targets: Vec::new(),
    };
    report.targets = report::targets(&report);
    Ok(report)
}

async fn machine(db: &sea_orm::DatabaseConnection, nats: &async_nats::Client) -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    let postgres = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SHOW server_version",
        ))
        .await
        .ok()
        .flatten()
        .and_then(|row| row.try_get_by_index::<String>(0).ok())
        .unwrap_or_default();
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_gib: memory_kib / 1024.0 / 1024.0,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_string(),
        postgres,
        nats: nats.server_info().version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_filter_selects() {
        let mut options = Options::new("x".into(), String::new(), String::new());
        assert!(options.runs("relay-drain"));
        options.only = vec!["get-member".into()];
        assert!(options.runs("get-member") && !options.runs("relay-drain"));
    }
}
