//! The load generator: runs one call shape at a fixed concurrency (closed loop, as fast as
//! answers come back) or at a fixed rate (open loop, latency counted from the moment a
//! call was due, so a slow server cannot hide its queueing), discards a warm-up, and
//! records every latency in an HDR histogram and every failure by gRPC code.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::time::Instant;

/// How one call ended, as the scenario judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// An answer the scenario expects under contention (a slot already taken, an
    /// envelope exhausted): counted apart from errors, with its reason.
    Refused(String),
    /// Anything else: the gRPC code (or what went wrong on the client side).
    Error(String),
}

impl Outcome {
    /// `Ok`, or an error named by its code: for calls where every refusal is a failure.
    pub fn of<T>(result: Result<T, tonic::Status>) -> Self {
        match result {
            Ok(_) => Outcome::Ok,
            Err(status) => Outcome::Error(format!("{:?}", status.code())),
        }
    }
}

/// Calls of an open loop not sent because too many were still in flight.
pub const UNSENT: &str = "unsent (backlog)";

/// Closed loop (`rate: None`) or open loop at `rate` calls per second.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub concurrency: usize,
    pub rate: Option<f64>,
    pub warmup: Duration,
    pub duration: Duration,
}

/// What a run measured, after the warm-up.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Calls that completed inside the measured window (ok and refused).
    pub calls: u64,
    pub ok: u64,
    pub refused: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
    pub seconds: f64,
    /// Completed calls per second.
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Open loop only: the offered rate.
    pub offered_rate: Option<f64>,
}

impl Stats {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub(crate) fn from_histogram(
        histogram: &Histogram<u64>,
        tally: Tally,
        seconds: f64,
        offered_rate: Option<f64>,
    ) -> Self {
        let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
        let calls = tally.ok + tally.refused.values().sum::<u64>();
        Stats {
            calls,
            ok: tally.ok,
            refused: tally.refused,
            errors: tally.errors,
            seconds,
            throughput: if seconds > 0.0 {
                calls as f64 / seconds
            } else {
                0.0
            },
            p50_ms: ms(0.50),
            p99_ms: ms(0.99),
            p999_ms: ms(0.999),
            max_ms: histogram.max() as f64 / 1000.0,
            offered_rate,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub ok: u64,
    pub refused: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
}

impl Tally {
    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Refused(reason) => *self.refused.entry(reason).or_default() += 1,
            Outcome::Error(code) => *self.errors.entry(code).or_default() += 1,
        }
    }

    fn merge(&mut self, other: Tally) {
        self.ok += other.ok;
        for (k, v) in other.refused {
            *self.refused.entry(k).or_default() += v;
        }
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }
}

/// Microseconds, 1 µs to 60 s, 3 significant digits.
pub(crate) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

fn record(histogram: &mut Histogram<u64>, elapsed: Duration) {
    let micros = (elapsed.as_micros() as u64).clamp(1, 60_000_000);
    histogram.saturating_record(micros);
}

/// Runs `call(i)` (i = 0, 1, 2…) under `load` and measures it.
pub async fn run<F, Fut>(load: Load, call: F) -> Stats
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    match load.rate {
        None => closed_loop(load, Arc::new(call)).await,
        Some(rate) => open_loop(load, rate, Arc::new(call)).await,
    }
}

async fn closed_loop<F, Fut>(load: Load, call: Arc<F>) -> Stats
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let start = Instant::now();
    let measure_from = start + load.warmup;
    let end = measure_from + load.duration;
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::with_capacity(load.concurrency);
    for _ in 0..load.concurrency.max(1) {
        let (call, next) = (call.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            // Each worker keeps its own histogram: no lock on the hot path.
            let mut histogram = histogram();
            let mut tally = Tally::default();
            loop {
                let began = Instant::now();
                if began >= end {
                    break;
                }
                let outcome = call(next.fetch_add(1, Ordering::Relaxed)).await;
                let done = Instant::now();
                if began >= measure_from && done <= end {
                    if !matches!(outcome, Outcome::Error(_)) {
                        record(&mut histogram, done - began);
                    }
                    tally.count(outcome);
                }
            }
            (histogram, tally)
        }));
    }
    let mut histogram = histogram();
    let mut tally = Tally::default();
    for worker in workers {
        let (h, t) = worker.await.expect("a load worker panicked");
        histogram.add(&h).expect("histograms of the same bounds");
        tally.merge(t);
    }
    Stats::from_histogram(&histogram, tally, load.duration.as_secs_f64(), None)
}

async fn open_loop<F, Fut>(load: Load, rate: f64, call: Arc<F>) -> Stats
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let start = Instant::now();
    let measure_from = start + load.warmup;
    let end = measure_from + load.duration;
    // More calls in flight than this means the server fell far behind the offered rate:
    // the calls due meanwhile are not sent, and counted apart (not server errors).
    let in_flight = Arc::new(tokio::sync::Semaphore::new(load.concurrency.max(1)));
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<(Duration, Outcome)>();
    let mut histogram = histogram();
    let mut tally = Tally::default();
    let mut i = 0u64;
    loop {
        let due = start + interval.mul_f64(i as f64);
        if due >= end {
            break;
        }
        tokio::time::sleep_until(due).await;
        while let Ok((elapsed, outcome)) = receiver.try_recv() {
            if !matches!(outcome, Outcome::Error(_)) {
                record(&mut histogram, elapsed);
            }
            tally.count(outcome);
        }
        let measured = due >= measure_from;
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            if measured {
                tally.count(Outcome::Refused(UNSENT.into()));
            }
            i += 1;
            continue;
        };
        let (call, sender) = (call.clone(), sender.clone());
        tokio::spawn(async move {
            let outcome = call(i).await;
            let done = Instant::now();
            drop(permit);
            if measured && done <= end + Duration::from_secs(5) {
                // Measured from when the call was due, not from when it was sent.
                let _ = sender.send((done - due, outcome));
            }
        });
        i += 1;
    }
    drop(sender);
    while let Some((elapsed, outcome)) = receiver.recv().await {
        if !matches!(outcome, Outcome::Error(_)) {
            record(&mut histogram, elapsed);
        }
        tally.count(outcome);
    }
    Stats::from_histogram(&histogram, tally, load.duration.as_secs_f64(), Some(rate))
}

/// Statistics of latencies measured elsewhere (event latency read from the databases).
pub fn stats_of(latencies: &[Duration], seconds: f64, offered_rate: Option<f64>) -> Stats {
    let mut histogram = histogram();
    for latency in latencies {
        record(&mut histogram, *latency);
    }
    let tally = Tally {
        ok: latencies.len() as u64,
        ..Default::default()
    };
    Stats::from_histogram(&histogram, tally, seconds, offered_rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_loop_counts_outcomes_and_latencies() {
        let load = Load {
            concurrency: 4,
            rate: None,
            warmup: Duration::from_millis(20),
            duration: Duration::from_millis(200),
        };
        let stats = run(load, |i| async move {
            tokio::time::sleep(Duration::from_millis(2)).await;
            match i % 3 {
                0 => Outcome::Ok,
                1 => Outcome::Refused("SLOT_TAKEN".into()),
                _ => Outcome::Error("Unavailable".into()),
            }
        })
        .await;
        assert!(stats.calls > 50, "{stats:?}");
        assert!(stats.ok > 0 && stats.refused["SLOT_TAKEN"] > 0);
        assert!(stats.errors["Unavailable"] > 0);
        assert!(stats.p50_ms >= 2.0, "{stats:?}");
        // 4 workers each sleeping ≥ 2 ms: at most 2,000 calls/s.
        assert!(stats.throughput <= 2_000.0 * 1.05, "{stats:?}");
    }

    #[tokio::test]
    async fn an_open_loop_keeps_its_rate_and_charges_queueing_to_latency() {
        let load = Load {
            concurrency: 1,
            rate: Some(200.0),
            warmup: Duration::ZERO,
            duration: Duration::from_millis(500),
        };
        // One call at a time, each 20 ms, against 200 calls/s offered: most are refused
        // by the in-flight cap, and the admitted ones take at least their own time.
        let stats = run(load, |_| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Outcome::Ok
        })
        .await;
        assert_eq!(stats.offered_rate, Some(200.0));
        assert!(
            stats.refused.get(UNSENT).copied().unwrap_or(0) > 50,
            "{stats:?}"
        );
        assert!(stats.ok >= 10 && stats.ok <= 30, "{stats:?}");
        assert!(stats.p50_ms >= 20.0, "{stats:?}");
    }
}
