//! The bench as a smoke test: every scenario runs briefly against the real services on
//! PostgreSQL and NATS and must finish with zero errors. Speed is never asserted here;
//! the numbers are measured by `fabrique-bench` in release builds (docs/performance.md).
//! Its own binary, so that it runs alone (cargo runs test binaries one after another):
//! its fleet of four services and its baselines took PostgreSQL past a 100-connection
//! limit next to the end-to-end tests, and a service answered UNAVAILABLE.

#![allow(clippy::unwrap_used)] // a test that unwraps fails loudly, which is the point

use std::time::Duration;

use fabrique_bench::{Options, SCENARIOS, report};
use fabrique_testkit::postgres::admin_url;
use fabrique_testkit::shared_nats_url;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs_without_errors() {
    let mut options = Options::new(
        env!("CARGO_BIN_EXE_fabrique").into(),
        admin_url(),
        shared_nats_url(),
    );
    options.concurrency = 8;
    options.connections = 2;
    options.warmup = Duration::from_millis(200);
    // Only calls that start and end inside the window count. Under the whole suite a
    // debug-build `apply` call (eight callers queued on one envelope row) took longer
    // than half of a one-second window, and none counted.
    options.duration = Duration::from_secs(3);
    options.members = 50;
    options.places = 600;
    options.event_rate = 100.0;
    options.relay_rows = 2_000;
    options.sweep = vec![0.5];
    options.startup_runs = 1;

    let report = fabrique_bench::run(options).await.expect("the bench runs");

    assert!(report.errors().is_empty(), "errors: {:?}", report.errors());
    for name in SCENARIOS.iter().filter(|s| **s != "startup") {
        let scenario = report
            .scenario(name)
            .unwrap_or_else(|| panic!("{name} missing from the report"));
        assert!(
            scenario.stats.calls > 0,
            "{name} made no call: {scenario:?}"
        );
        assert!(
            scenario.stats.p50_ms > 0.0 || *name == "relay-drain",
            "{scenario:?}"
        );
        assert!(!scenario.rss_mib.is_empty(), "{name}: no memory sampled");
    }
    // The variants at half of the closed loop's throughput, which the map's and the
    // site's latency targets are taken at, run too.
    for name in [
        "list-places-near-half",
        "map-clusters-half",
        "web-map-data-half",
        "web-places-list-half",
    ] {
        let scenario = report
            .scenario(name)
            .unwrap_or_else(|| panic!("{name} missing from the report"));
        assert!(
            scenario.stats.calls > 0 && scenario.stats.offered_rate.is_some(),
            "{scenario:?}"
        );
    }
    // The site's process is measured like the services.
    let site = report.scenario("web-map-data").unwrap();
    assert!(
        site.cpu_us_per_call.get("web").is_some_and(|us| *us > 0.0)
            && site.rss_mib.contains_key("web"),
        "{site:?}"
    );
    // Contended scenarios finish with answers, and their ratios name a baseline.
    for (name, baseline) in [
        ("get-member", "baseline-echo"),
        ("create-member", "baseline-insert"),
        ("relay-drain", "baseline-jetstream"),
        ("web-map-data", "map-clusters"),
        ("web-places-list", "list-places-page"),
        ("web-book-slot", "book-slot"),
    ] {
        let scenario = report.scenario(name).unwrap();
        assert_eq!(scenario.baseline.as_deref(), Some(baseline));
        assert!(scenario.ratio.is_some_and(|r| r > 0.0), "{scenario:?}");
    }
    let drained = report.scenario("relay-drain").unwrap();
    assert_eq!(drained.stats.ok, 2_000);
    // Raw publishes of messages like the relay's, and the drain compared with them.
    let same = report.scenario("baseline-jetstream-ce").unwrap();
    assert_eq!((same.stats.ok, same.stats.error_count()), (2_000, 0));
    let note = drained.note.as_deref().unwrap_or_default();
    assert!(note.contains("of baseline-jetstream-ce"), "{note}");

    // Start-up of each service on PostgreSQL and of the all-in-one on SQLite.
    let processes: Vec<_> = report
        .processes
        .iter()
        .map(|p| p.services.as_str())
        .collect();
    assert_eq!(
        processes,
        ["members", "registry", "sharing", "projects", "all"]
    );
    for process in &report.processes {
        assert!(
            process.start_to_serving_median_ms > 0.0 && process.idle_rss_mib > 1.0,
            "{process:?}"
        );
    }

    assert_eq!(report.sweep.len(), 1);
    // Each point of the curve says what a call cost and how busy the machine was.
    let point = &report.sweep[0];
    assert!(
        point
            .cpu_us_per_call
            .get("members")
            .is_some_and(|us| *us > 0.0)
            && point.machine_busy_percent.is_some_and(|b| b > 0.0),
        "{point:?}"
    );
    assert_eq!(report.targets.len(), 15, "{:?}", report.targets);
    let table = report::table(&report);
    for name in SCENARIOS.iter().filter(|s| **s != "startup") {
        assert!(
            table.contains(name),
            "{name} missing from the table:\n{table}"
        );
    }
    // Event latency is also measured from each write's answer, and notes are printed.
    let events = report.scenario("event-latency").unwrap();
    let note = events.note.as_deref().unwrap_or_default();
    assert!(note.contains("from the write's answer"), "{note}");
    assert!(
        table.contains(note),
        "the note missing from the table:\n{table}"
    );
    let svg = report::chart(&report).expect("a chart");
    assert!(
        svg.starts_with("<svg") && svg.contains("<polyline"),
        "{svg}"
    );
    serde_json::to_string(&report).expect("the report serializes");
}
