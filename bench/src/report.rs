//! What a run reports: the targets of issue 8 checked against the measurements, a text
//! table, and the SVG chart of `get-member` latency against offered load.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::{Report, Target};

/// Each target this run has the measurements for.
pub fn targets(report: &Report) -> Vec<Target> {
    let mut targets = Vec::new();
    let mut push = |what: &str, target: &str, measured: String, met: bool| {
        targets.push(Target {
            what: what.into(),
            target: target.into(),
            measured,
            met,
        })
    };
    if let Some(s) = report.scenario("get-member") {
        if let Some(ratio) = s.ratio {
            push(
                "get-member throughput",
                "≥ 35 % of baseline-echo, 0 errors",
                format!(
                    "{:.0} % ({:.0}/s), {} errors",
                    ratio * 100.0,
                    s.stats.throughput,
                    s.stats.error_count()
                ),
                ratio >= 0.35 && s.stats.error_count() == 0,
            );
        }
        if let Some(half) = report
            .sweep
            .iter()
            .filter(|p| p.stats.offered_rate.is_some())
            .min_by(|a, b| {
                let d = |p: &crate::SweepPoint| {
                    (p.stats.offered_rate.unwrap_or(0.0) - s.stats.throughput / 2.0).abs()
                };
                d(a).total_cmp(&d(b))
            })
        {
            let busy = half
                .machine_busy_percent
                .map(|b| format!(", machine {b:.0} % busy"))
                .unwrap_or_default();
            let point = &half.stats;
            push(
                "get-member p99 at half of its max throughput",
                "≤ 5 ms",
                format!(
                    "{:.2} ms at {:.0}/s{busy}",
                    point.p99_ms,
                    point.offered_rate.unwrap_or(0.0)
                ),
                point.p99_ms <= 5.0
                    && point.error_count() == 0
                    && !point.refused.contains_key(crate::load::UNSENT),
            );
        }
    }
    if let Some(s) = report.scenario("create-member")
        && let Some(ratio) = s.ratio
    {
        push(
            "create-member throughput",
            "≥ 50 % of a single-row INSERT + COMMIT loop",
            format!("{:.0} % ({:.0}/s)", ratio * 100.0, s.stats.throughput),
            ratio >= 0.5 && s.stats.error_count() == 0,
        );
    }
    if let Some(s) = report.scenario("list-places-near-half") {
        push(
            "list-places-near p99 (at half its max throughput)",
            "≤ 20 ms",
            format!("{:.2} ms at {}", s.stats.p99_ms, s.load),
            s.stats.p99_ms <= 20.0 && s.stats.error_count() == 0,
        );
    }
    if let Some(s) = report.scenario("map-clusters-half") {
        push(
            "map-clusters p99 (at half its max throughput)",
            "≤ 20 ms",
            format!("{:.2} ms at {}", s.stats.p99_ms, s.load),
            s.stats.p99_ms <= 20.0
                && s.stats.error_count() == 0
                && !s.stats.refused.contains_key(crate::load::UNSENT),
        );
    }
    // A page costs at most twice its gRPC calls: its throughput is at least half of
    // theirs, in the same run (the ratio every scenario is compared by).
    for page in ["web-map-data", "web-places-list"] {
        if let Some(s) = report.scenario(page)
            && let Some(ratio) = s.ratio
        {
            push(
                &format!("{page} throughput"),
                "≥ 50 % of its gRPC calls' (costs ≤ 2×)",
                format!(
                    "{:.0} % ({:.0}/s against {})",
                    ratio * 100.0,
                    s.stats.throughput,
                    s.baseline.as_deref().unwrap_or_default()
                ),
                ratio >= 0.5 && s.stats.error_count() == 0,
            );
        }
        if let Some(s) = report.scenario(&format!("{page}-half")) {
            let busy = s
                .machine_busy_percent
                .map(|b| format!(", machine {b:.0} % busy"))
                .unwrap_or_default();
            push(
                &format!("{page} p99 (at half its max throughput)"),
                "≤ 50 ms",
                format!("{:.2} ms at {}{busy}", s.stats.p99_ms, s.load),
                s.stats.p99_ms <= 50.0
                    && s.stats.error_count() == 0
                    && !s.stats.refused.contains_key(crate::load::UNSENT),
            );
        }
    }
    if let Some(s) = report.scenario("event-latency") {
        push(
            "event-latency p50 / p99",
            "≤ 5 ms / ≤ 25 ms at 1,000 events/s",
            format!(
                "{:.2} ms / {:.2} ms at {}",
                s.stats.p50_ms, s.stats.p99_ms, s.load
            ),
            s.stats.p50_ms <= 5.0
                && s.stats.p99_ms <= 25.0
                && s.stats.error_count() == 0
                && !s.stats.refused.contains_key(crate::load::UNSENT),
        );
    }
    if let Some(s) = report.scenario("event-latency-half") {
        push(
            "(for reference) event latency at half the flow's capacity",
            "(none)",
            format!(
                "{:.2} ms / {:.2} ms at {}",
                s.stats.p50_ms, s.stats.p99_ms, s.load
            ),
            s.stats.error_count() == 0 && !s.stats.refused.contains_key(crate::load::UNSENT),
        );
    }
    if let Some(s) = report.scenario("relay-drain")
        && let Some(ratio) = s.ratio
    {
        push(
            "relay-drain",
            "≥ 50 % of baseline-jetstream",
            format!("{:.0} % ({:.0} rows/s)", ratio * 100.0, s.stats.throughput),
            ratio >= 0.5 && s.stats.error_count() == 0,
        );
    }
    let services: Vec<_> = report
        .processes
        .iter()
        .filter(|p| p.services != "all")
        .collect();
    if !services.is_empty() {
        let worst = services.iter().map(|p| p.idle_rss_mib).fold(0.0, f64::max);
        push(
            "RSS of one idle service process",
            "≤ 30 MiB",
            format!("{worst:.1} MiB (largest of the four)"),
            worst <= 30.0,
        );
        let slowest = services
            .iter()
            .map(|p| p.start_to_serving_median_ms)
            .fold(0.0, f64::max);
        push(
            "start to SERVING, migrations applied",
            "≤ 500 ms",
            format!("{slowest:.0} ms (median, slowest service)"),
            slowest <= 500.0,
        );
    }
    if let Some(all) = report.processes.iter().find(|p| p.services == "all") {
        push(
            "RSS of the idle all-in-one process",
            "≤ 60 MiB",
            format!("{:.1} MiB", all.idle_rss_mib),
            all.idle_rss_mib <= 60.0,
        );
    }
    targets
}

/// The report as text tables.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let m = &report.machine;
    let _ = writeln!(
        out,
        "{} — {} cores, {:.0} GiB, Linux {}, PostgreSQL {}, nats-server {}\n",
        m.cpu, m.cores, m.memory_gib, m.kernel, m.postgres, m.nats
    );
    let _ = writeln!(
        out,
        "{:<22} {:>11} {:>9} {:>10} {:>8} {:>8} {:>8} {:>7} {:>8} {:>9}  peak RSS MiB",
        "scenario",
        "load",
        "calls",
        "per s",
        "p50 ms",
        "p99 ms",
        "p999 ms",
        "errors",
        "refused",
        "vs base"
    );
    for s in &report.scenarios {
        let refused: u64 = s.stats.refused.values().sum();
        let rss = s
            .rss_mib
            .iter()
            .map(|(k, v)| format!("{}={v:.0}", &k[..1]))
            .collect::<Vec<_>>()
            .join(" ");
        let _ = writeln!(
            out,
            "{:<22} {:>11} {:>9} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>8} {:>9}  {}",
            s.name,
            s.load,
            s.stats.calls,
            s.stats.throughput,
            s.stats.p50_ms,
            s.stats.p99_ms,
            s.stats.p999_ms,
            s.stats.error_count(),
            refused,
            s.ratio
                .map(|r| format!("{:.0} %", r * 100.0))
                .unwrap_or_default(),
            rss
        );
    }
    let groups = [
        "members",
        "registry",
        "sharing",
        "projects",
        "web",
        "postgres",
        "nats-server",
        "bench",
    ];
    let _ = writeln!(
        out,
        "\nCPU µs per call (where the time goes), and how busy the machine was\n{:<22} {}{:>9}",
        "scenario",
        groups.map(|g| format!("{g:>12}")).join(""),
        "busy %"
    );
    for s in &report.scenarios {
        let _ = writeln!(
            out,
            "{:<22} {}{}",
            s.name,
            cpu_cells(&s.cpu_us_per_call, &groups, 12),
            cell(s.machine_busy_percent, 9)
        );
    }
    if !report.sweep.is_empty() {
        // A call costs more at a fixed rate than in the closed loop: the CPU columns
        // and the busy share say how close to saturation each point was.
        let groups = ["members", "postgres", "bench"];
        let _ = writeln!(
            out,
            "\nget-member at fixed offered rates (open loop), CPU µs per call, busy share"
        );
        let _ = writeln!(
            out,
            "{:>10} {:>10} {:>8} {:>8} {:>8} {:>7} {} {:>7}",
            "offered/s",
            "done/s",
            "p50 ms",
            "p99 ms",
            "p999 ms",
            "errors",
            groups.map(|g| format!("{g:>9}")).join(""),
            "busy %"
        );
        for p in &report.sweep {
            let s = &p.stats;
            let _ = writeln!(
                out,
                "{:>10.0} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>7} {} {}",
                s.offered_rate.unwrap_or(0.0),
                s.throughput,
                s.p50_ms,
                s.p99_ms,
                s.p999_ms,
                s.error_count(),
                cpu_cells(&p.cpu_us_per_call, &groups, 9),
                cell(p.machine_busy_percent, 7),
            );
        }
    }
    if !report.processes.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<28} {:>22} {:>14}",
            "process", "start → SERVING (ms)", "idle RSS MiB"
        );
        for p in &report.processes {
            let runs = p
                .start_to_serving_ms
                .iter()
                .map(|t| format!("{t:.0}"))
                .collect::<Vec<_>>()
                .join(" ");
            let _ = writeln!(
                out,
                "{:<28} {:>22} {:>14.1}",
                format!("serve --services {} ({})", p.services, p.store),
                format!("{:.0} [{runs}]", p.start_to_serving_median_ms),
                p.idle_rss_mib
            );
        }
    }
    let notes: Vec<_> = report
        .scenarios
        .iter()
        .filter_map(|s| s.note.as_ref().map(|note| (&s.name, note)))
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "\nnotes");
        for (name, note) in notes {
            let _ = writeln!(out, "{name:<22} {note}");
        }
    }
    if !report.targets.is_empty() {
        let _ = writeln!(out, "\n{:<46} {:<44} measured", "target", "wanted");
        for t in &report.targets {
            let _ = writeln!(
                out,
                "{:<46} {:<44} {} {}",
                t.what,
                t.target,
                t.measured,
                if t.met { "✓" } else { "✗ missed" }
            );
        }
    }
    out
}

/// CPU µs per call of each of `groups`, right-aligned in `width`, `-` where unmeasured.
fn cpu_cells(cpu: &BTreeMap<String, f64>, groups: &[&str], width: usize) -> String {
    groups
        .iter()
        .map(|g| cell(cpu.get(*g).copied(), width))
        .collect()
}

/// A whole number right-aligned in `width`, or `-`.
fn cell(value: Option<f64>, width: usize) -> String {
    match value {
        Some(v) => format!("{v:>width$.0}"),
        None => format!("{:>width$}", "-"),
    }
}

/// Latency (p50 and p99) of `get-member` against the offered rate, as an SVG image.
pub fn chart(report: &Report) -> Option<String> {
    let points: Vec<(f64, f64, f64)> = report
        .sweep
        .iter()
        .map(|p| &p.stats)
        .filter_map(|p| Some((p.offered_rate?, p.p50_ms, p.p99_ms)))
        .collect();
    if points.is_empty() {
        return None;
    }
    let (width, height) = (720.0, 420.0);
    let (left, right, top, bottom) = (70.0, 30.0, 40.0, 60.0);
    let max_x = points.iter().map(|p| p.0).fold(0.0, f64::max) * 1.05;
    let max_y = points.iter().map(|p| p.2).fold(5.0, f64::max).min(200.0) * 1.1;
    let x = |v: f64| left + v / max_x * (width - left - right);
    let y = |v: f64| height - bottom - v.min(max_y) / max_y * (height - top - bottom);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">get-member: latency against offered load ({} cores, {})</text>"#,
        width / 2.0,
        report.machine.cores,
        &report.date[..10.min(report.date.len())]
    );
    // Axes and grid.
    for i in 0..=5 {
        let v = max_y * i as f64 / 5.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" x2="{0}" y1="{1:.1}" y2="{1:.1}" stroke="#ddd"/><text x="{2}" y="{3:.1}" text-anchor="end">{v:.1}</text>"##,
            width - right,
            y(v),
            left - 6.0,
            y(v) + 4.0
        );
        let v = max_x * i as f64 / 5.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{top}" y2="{1}" stroke="#eee"/><text x="{0:.1}" y="{2}" text-anchor="middle">{v:.0}</text>"##,
            x(v),
            height - bottom,
            height - bottom + 18.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">offered load (calls/s, open loop)</text>"#,
        (left + width - right) / 2.0,
        height - 18.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="18" y="{}" text-anchor="middle" transform="rotate(-90 18 {})">latency (ms)</text>"#,
        (top + height - bottom) / 2.0,
        (top + height - bottom) / 2.0
    );
    // The 5 ms target.
    let _ = writeln!(
        svg,
        r##"<line x1="{left}" x2="{0}" y1="{1:.1}" y2="{1:.1}" stroke="#c33" stroke-dasharray="6 4"/><text x="{2}" y="{3:.1}" fill="#c33" text-anchor="end">5 ms target for p99 at half the maximum</text>"##,
        width - right,
        y(5.0),
        width - right - 4.0,
        y(5.0) - 5.0
    );
    for (label, colour, pick) in [("p50", "#1f77b4", 1usize), ("p99", "#ff7f0e", 2usize)] {
        let line: Vec<String> = points
            .iter()
            .map(|p| {
                let v = if pick == 1 { p.1 } else { p.2 };
                format!("{:.1},{:.1}", x(p.0), y(v))
            })
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            line.join(" ")
        );
        for point in &line {
            let (px, py) = point.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(
                svg,
                r#"<circle cx="{px}" cy="{py}" r="3" fill="{colour}"/>"#
            );
        }
        let ly = if pick == 1 { top + 10.0 } else { top + 28.0 };
        let _ = writeln!(
            svg,
            r#"<line x1="{0}" x2="{1}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"/><text x="{2}" y="{3}">{label}</text>"#,
            left + 12.0,
            left + 36.0,
            left + 42.0,
            ly + 4.0
        );
    }
    let _ = writeln!(svg, "</svg>");
    Some(svg)
}
