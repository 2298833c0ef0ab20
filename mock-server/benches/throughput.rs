//! Throughput of the fake's writing calls, as ratios against a baseline measured in the same
//! run: `GET /__admin/health`, the cheapest route through the same HTTP stack and middleware.
//!
//! Run with `cargo bench -p rehook-mock --bench throughput` (`BENCH_REQUESTS` sets the number
//! of requests per case, `BENCH_CONCURRENCY` the number of client tasks).

use std::time::{Duration, Instant};

use rehook_mock::MockRehook;
use serde_json::json;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy)]
enum Case {
    Health,
    CreateCustomer,
    UpdateCustomer,
    ConversionEvent,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::Health => "GET /__admin/health (baseline)",
            Case::CreateCustomer => "POST /customers (create)",
            Case::UpdateCustomer => "POST /customers (update, merge)",
            Case::ConversionEvent => "POST /events/invoke (signup, attribution)",
        }
    }
}

async fn run_case(mock: &MockRehook, case: Case, requests: usize, tasks: usize) -> Duration {
    let client = reqwest::Client::new();
    let base = mock.base_url().to_owned();
    let (key, secret) = (mock.api_key().to_owned(), mock.api_secret().to_owned());
    let start = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let (client, base, key, secret) =
            (client.clone(), base.clone(), key.clone(), secret.clone());
        handles.push(tokio::spawn(async move {
            for i in (task..requests).step_by(tasks) {
                let request = match case {
                    Case::Health => client.get(format!("{base}/__admin/health")),
                    Case::CreateCustomer => client
                        .post(format!("{base}/customers"))
                        .json(&json!({"source_id": format!("new-{i}"), "metadata": {"n": i}})),
                    Case::UpdateCustomer => client.post(format!("{base}/customers")).json(
                        &json!({"source_id": format!("u-{}", i % 100), "metadata": {"k": i}}),
                    ),
                    Case::ConversionEvent => client.post(format!("{base}/events/invoke")).json(
                        &json!({"source_id": format!("friend-{i}"), "event_name": "signup",
                                      "metadata": {"referral_code": "ADVOCATE"}}),
                    ),
                };
                let response = request
                    .basic_auth(&key, Some(&secret))
                    .send()
                    .await
                    .expect("request");
                assert!(response.status().is_success(), "{}", response.status());
            }
        }));
    }
    for handle in handles {
        handle.await.expect("client task");
    }
    start.elapsed()
}

#[tokio::main]
async fn main() {
    let requests = env_usize("BENCH_REQUESTS", 20_000);
    let tasks = env_usize("BENCH_CONCURRENCY", 16);
    let mock = MockRehook::builder().seed(1).start().await;
    let client = reqwest::Client::new();
    client
        .post(format!("{}/customers", mock.base_url()))
        .basic_auth(mock.api_key(), Some(mock.api_secret()))
        .json(&json!({"source_id": "advocate", "referral_code": "ADVOCATE"}))
        .send()
        .await
        .expect("seed advocate");

    println!("{requests} requests per case, {tasks} concurrent client tasks");
    let baseline = run_case(&mock, Case::Health, requests, tasks).await;
    let rate = |d: Duration| requests as f64 / d.as_secs_f64();
    println!(
        "{:<44} {:>10.0} req/s  ratio 1.00",
        Case::Health.name(),
        rate(baseline)
    );
    for case in [
        Case::CreateCustomer,
        Case::UpdateCustomer,
        Case::ConversionEvent,
    ] {
        let elapsed = run_case(&mock, case, requests, tasks).await;
        println!(
            "{:<44} {:>10.0} req/s  ratio {:.2}",
            case.name(),
            rate(elapsed),
            rate(elapsed) / rate(baseline)
        );
    }
}
