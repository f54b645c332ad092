//! `fabrique-bench`: runs the scenarios against a release build of `fabrique` and prints
//! the table; `--json` and `--chart` write the report and the latency chart.
//! See docs/performance.md for the commands and the numbers.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fabrique_bench::{Options, SCENARIOS};

#[derive(Parser)]
#[command(
    name = "fabrique-bench",
    about = "Load generator and baselines for Fabrique"
)]
struct Cli {
    /// The `fabrique` binary; default: the one beside this program.
    #[arg(long)]
    fabrique: Option<PathBuf>,
    /// PostgreSQL URL of a user that may create databases (the run makes its own).
    #[arg(
        long,
        env = "FABRIQUE_BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
    )]
    database_url: String,
    /// NATS server with JetStream (the run uses its own subject prefix).
    #[arg(
        long,
        env = "FABRIQUE_BENCH_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    nats_url: String,
    /// Calls in flight in closed-loop scenarios.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// HTTP/2 connections per service.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Seconds of warm-up before each measurement.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Seconds measured per scenario.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    #[arg(long, default_value_t = 1_000)]
    members: usize,
    #[arg(long, default_value_t = 100_000)]
    places: usize,
    #[arg(long, default_value_t = 30.0)]
    radius_km: f64,
    /// Member writes per second in event-latency.
    #[arg(long, default_value_t = 1_000.0)]
    event_rate: f64,
    /// Pending outbox rows in relay-drain.
    #[arg(long, default_value_t = 100_000)]
    relay_rows: usize,
    /// Fractions of get-member's maximum offered for the chart, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.1,0.25,0.5,0.75,0.9,1.0"
    )]
    sweep: Vec<f64>,
    #[arg(long, default_value_t = 3)]
    startup_runs: usize,
    /// Only these scenarios, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(SCENARIOS))]
    only: Vec<String>,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the get-member latency chart (SVG) here.
    #[arg(long)]
    chart: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let fabrique = cli.fabrique.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("fabrique")))
            .unwrap_or_else(|| PathBuf::from("target/release/fabrique"))
    });
    let mut options = Options::new(fabrique, cli.database_url, cli.nats_url);
    options.concurrency = cli.concurrency;
    options.connections = cli.connections;
    options.warmup = Duration::from_secs_f64(cli.warmup);
    options.duration = Duration::from_secs_f64(cli.duration);
    options.members = cli.members;
    options.places = cli.places;
    options.radius_km = cli.radius_km;
    options.event_rate = cli.event_rate;
    options.relay_rows = cli.relay_rows;
    options.sweep = cli.sweep;
    options.startup_runs = cli.startup_runs;
    options.only = cli.only;

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("fabrique-bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    let report = match runtime.block_on(fabrique_bench::run(options)) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("fabrique-bench: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", fabrique_bench::report::table(&report));
    let written = (|| -> std::io::Result<()> {
        if let Some(path) = &cli.json {
            std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        }
        if let (Some(path), Some(svg)) = (&cli.chart, fabrique_bench::report::chart(&report)) {
            std::fs::write(path, svg)?;
        }
        Ok(())
    })();
    if let Err(error) = written {
        eprintln!("fabrique-bench: writing the report: {error}");
        return ExitCode::FAILURE;
    }
    // Errors fail the run; a missed target does not (the numbers are the output).
    if report.errors().is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("fabrique-bench: errors: {:?}", report.errors());
        ExitCode::from(2)
    }
}
