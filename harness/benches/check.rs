//! How long `rehook_harness::contract::check` takes against the in-process fake, as a ratio
//! against the same number of plain `POST /customers` calls through the same client, on the
//! same kind of fresh fake, measured in the same run.
//!
//! Run with `cargo bench -p rehook-harness --bench check`. Environment variables tune it:
//!
//! - `BENCH_CHECK_CASES`: random sequences of the random row (default 32, as `check`);
//! - `BENCH_CHECK_REPEAT`: how many times each row runs, each time on a fresh fake (default 5).
//!
//! The number of calls a check makes is counted at the server, from the one `request` event
//! its middleware writes per HTTP request (Rehook API, front door and admin API alike); the
//! baseline then makes exactly that many calls, one after another, as the check does. Every
//! check must pass, or the bench stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rehook_harness::Client;
use rehook_harness::contract::{self, CheckOptions};
use rehook_mock::MockRehook;
use serde_json::json;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

/// Counts the fake's per-request log events: one per HTTP request it answered.
struct RequestCounter(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for RequestCounter {
    fn on_event(&self, _event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// A fresh seeded fake and a harness client for its default application.
async fn fake(seed: u64) -> (MockRehook, Client) {
    let mock = MockRehook::builder().seed(seed).start().await;
    let client = Client::new(mock.base_url(), mock.api_key(), mock.api_secret()).expect("base URL");
    (mock, client)
}

/// `repeat` checks with `options` (seeds 1, 2, ...), each on a fresh fake and each followed by
/// as many plain creates as it made requests, so a change in the machine's load falls on both
/// alike: the checks' time, the number of requests they made, and the creates' time.
async fn time_check(
    options: &CheckOptions,
    repeat: usize,
    requests: &AtomicUsize,
) -> (Duration, usize, Duration) {
    let (mut elapsed, mut calls, mut plain) = (Duration::ZERO, 0, Duration::ZERO);
    for run in 0..repeat {
        let options = CheckOptions {
            seed: options.seed + run as u64,
            ..options.clone()
        };
        let (mock, client) = fake(options.seed).await;
        let before = requests.load(Ordering::Relaxed);
        let start = Instant::now();
        let report = contract::check(&client, &options).await;
        elapsed += start.elapsed();
        let made = requests.load(Ordering::Relaxed) - before;
        assert!(
            report.all_passed(),
            "the contract failed:\n{}",
            report.summary()
        );
        drop(mock);
        calls += made;
        plain += time_plain_creates(made).await;
    }
    (elapsed, calls, plain)
}

/// `calls` sequential `POST /customers` creates on a fresh fake.
async fn time_plain_creates(calls: usize) -> Duration {
    let (_mock, client) = fake(1).await;
    let start = Instant::now();
    for i in 0..calls {
        let answer = client
            .upsert_customer(&json!({"source_id": format!("plain-{i}"), "metadata": {"n": i}}))
            .await
            .expect("POST /customers");
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
    start.elapsed()
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let requests = Arc::new(AtomicUsize::new(0));
    let only_requests = Targets::new().with_target("rehook_mock::middleware", Level::INFO);
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(RequestCounter(requests.clone()).with_filter(only_requests)),
    )
    .expect("the bench's tracing subscriber");

    let cases = env_usize("BENCH_CHECK_CASES", 32);
    let repeat = env_usize("BENCH_CHECK_REPEAT", 5);
    let scenarios = CheckOptions {
        seed: 1,
        random: false,
        race: false,
        ..CheckOptions::default()
    };
    let random = CheckOptions {
        seed: 1,
        cases: u32::try_from(cases).unwrap_or(u32::MAX),
        scenarios: Some(Vec::new()),
        random: true,
        race: false,
        ..CheckOptions::default()
    };
    let rows = [
        (
            format!("check: {} scenarios", scenarios.selected().len()),
            scenarios,
        ),
        (format!("check: random, {cases} cases"), random),
    ];

    println!(
        "each row runs {repeat} times, each time on a fresh fake and followed by as many plain creates; calls one after another"
    );
    println!(
        "{:<28} {:>7} {:>10} {:>9} {:>12} {:>7}",
        "case", "calls", "total ms", "µs/call", "plain ms", "ratio"
    );
    for (name, options) in rows {
        let (elapsed, calls, plain) = time_check(&options, repeat, &requests).await;
        println!(
            "{:<28} {:>7} {:>10.1} {:>9.1} {:>12.1} {:>7.2}",
            name,
            calls,
            millis(elapsed),
            millis(elapsed) * 1000.0 / calls.max(1) as f64,
            millis(plain),
            elapsed.as_secs_f64() / plain.as_secs_f64()
        );
    }
}
