//! Throughput of the fake's writing calls and of its Segment front door, as ratios against a
//! baseline measured in the same run: `GET /__admin/health`, the cheapest route through the
//! same HTTP stack and middleware.
//!
//! Run with `cargo bench -p rehook-mock --bench throughput`. Environment variables tune it:
//!
//! - `BENCH_REQUESTS`: requests per case (default 20,000), and the most a front-door case sends;
//! - `BENCH_MESSAGES`: Segment messages per front-door case (default 100,000), so a batch of
//!   100 is 1,000 requests;
//! - `BENCH_CONCURRENCY`: client tasks sending at once (default 16).
//!
//! Every case starts from an empty application and is checked once its clock has stopped:
//! each answer must be a success and, for the front door, every message must have been
//! delivered (one delivery-log entry each, `delivered`), so a fast wrong answer cannot pass
//! for speed. Front-door request bodies are serialised (and gzip-compressed) before the clock
//! starts: what is measured is the server's work, not the client's.

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use rehook_mock::segment::MappingSet;
use rehook_mock::{DeliveryOutcome, MockRehook};
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE};
use serde_json::{Value, json};

/// In how many alternating rounds the default and the custom mappings are measured.
const MAPPING_ROUNDS: usize = 4;

/// The write key of the default application.
const WRITE_KEY: &str = "wk_test";

/// Ten custom mappings with triggers, one of them disabled. Each benchmark message fires
/// exactly one of them (`Identify User` or `Order Completed`), as with the defaults, so the
/// difference to the defaults is the cost of testing ten triggers and resolving the fields.
const CUSTOM_MAPPINGS: &str = r#"{"mappings": [
  {"name": "Identify User", "subscribe": "type = \"identify\"", "action": "identify_user",
   "mapping": {"source_id": {"@path": "$.userId"}, "metadata": {"@path": "$.traits"},
               "referral_code": {"@path": "$.traits.referral_code"}}},
  {"name": "Enterprise by email", "subscribe": "type = \"identify\" and traits.plan = \"enterprise\"",
   "action": "identify_user",
   "mapping": {"source_id": {"@path": "$.traits.email"}, "metadata": {"plan": {"@path": "$.traits.plan"}}}},
  {"name": "Order Completed", "subscribe": "type = \"track\" and event = \"Order Completed\"",
   "action": "track_event",
   "mapping": {"event_name": {"@path": "$.event"}, "source_id": {"@path": "$.userId"},
               "metadata": {"order": {"@path": "$.properties.order_id"},
                            "revenue": {"@path": "$.properties.revenue"},
                            "label": {"@template": "{{properties.currency}} {{properties.revenue}}"}}}},
  {"name": "Signup", "subscribe": "type = \"track\" and event = \"signup\"", "action": "track_event",
   "mapping": {"event_name": "signup", "source_id": {"@path": "$.userId"},
               "metadata": {"@path": "$.properties"}}},
  {"name": "Trial Started", "subscribe": "type = \"track\" and event = \"Trial Started\"",
   "action": "track_event",
   "mapping": {"event_name": {"@template": "trial_{{properties.plan}}"},
               "source_id": {"@path": "$.userId"}}},
  {"name": "Checkout", "subscribe": "type = \"track\" and (event = \"Checkout Started\" or event = \"Checkout Step Viewed\")",
   "action": "track_event",
   "mapping": {"event_name": {"@path": "$.event"}, "source_id": {"@path": "$.userId"}}},
  {"name": "Test events", "subscribe": "type = \"track\" and event contains \"Test\" and not (properties.env = \"production\")",
   "action": "track_event",
   "mapping": {"event_name": "test", "source_id": {"@path": "$.userId"}}},
  {"name": "Page views", "subscribe": "type = \"page\"", "action": "track_event",
   "mapping": {"event_name": {"@path": "$.type"}, "source_id": {"@path": "$.userId"},
               "metadata": {"name": {"@path": "$.name"}, "url": {"@path": "$.properties.url"}}}},
  {"name": "Screens", "subscribe": "type = \"screen\" and name != \"Splash\"", "action": "track_event",
   "mapping": {"event_name": {"@path": "$.name"}, "source_id": {"@path": "$.userId"}}},
  {"name": "Refunds", "enabled": false,
   "subscribe": "type = \"track\" and event = \"Order Refunded\" and properties.currency = \"EUR\"",
   "action": "track_event",
   "mapping": {"event_name": {"@path": "$.event"}, "source_id": {"@path": "$.userId"}}}
]}"#;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// A Rehook API case: its name, its path and the body of request `i`.
type RehookCase = (&'static str, &'static str, fn(usize) -> Value);

/// Builds request `i` of a case.
type MakeRequest = Arc<dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync>;

/// One measured case.
struct Row {
    name: String,
    requests: usize,
    messages_per_request: usize,
    elapsed: Duration,
}

impl Row {
    /// Two measurements of one case as one.
    fn plus(self, other: &Row) -> Row {
        Row {
            requests: self.requests + other.requests,
            elapsed: self.elapsed + other.elapsed,
            ..self
        }
    }

    fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn messages_per_second(&self) -> f64 {
        self.requests_per_second() * self.messages_per_request as f64
    }
}

/// Sends `requests` requests from `tasks` client tasks and times them; every answer must be a
/// success (its body is read, so connections are reused as a client's would be).
async fn timed(
    client: &reqwest::Client,
    requests: usize,
    tasks: usize,
    make: MakeRequest,
) -> Duration {
    let start = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks.min(requests) {
        let (client, make) = (client.clone(), make.clone());
        handles.push(tokio::spawn(async move {
            for i in (task..requests).step_by(tasks) {
                let response = make(&client, i).send().await.expect("request");
                let status = response.status();
                let body = response.bytes().await.expect("answer body");
                assert!(
                    status.is_success(),
                    "{status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
        }));
    }
    for handle in handles {
        handle.await.expect("client task");
    }
    start.elapsed()
}

/// Empties every application and stores the advocate the conversion events refer to.
async fn fresh(mock: &MockRehook, client: &reqwest::Client) {
    mock.store().reset(None, true).expect("reset");
    let response = client
        .post(format!("{}/customers", mock.base_url()))
        .basic_auth(mock.api_key(), Some(mock.api_secret()))
        .json(&json!({"source_id": "advocate", "referral_code": "ADVOCATE"}))
        .send()
        .await
        .expect("seed advocate");
    assert!(response.status().is_success(), "{}", response.status());
}

/// A Rehook API case: `POST path` with `body(i)`, with the default application's credentials.
fn rehook_case(mock: &MockRehook, body: fn(usize) -> Value, path: &'static str) -> MakeRequest {
    let url = format!("{}{path}", mock.base_url());
    let (key, secret) = (mock.api_key().to_owned(), mock.api_secret().to_owned());
    Arc::new(move |client, i| {
        client
            .post(&url)
            .basic_auth(&key, Some(&secret))
            .json(&body(i))
    })
}

/// Message `n` of a front-door case: identifies and `Order Completed` tracks in turn, each
/// with its own messageId and user, shaped as Segment's Node SDK sends them.
fn message(case: &str, n: usize) -> Value {
    let user = format!("{case}-u{n}");
    let common = json!({
        "messageId": format!("{case}-m{n}"),
        "timestamp": "2026-01-01T00:00:00.000Z",
        "context": {"library": {"name": "@segment/analytics-node", "version": "3.1.0"}},
        "_metadata": {"jsRuntime": "node"},
    });
    let mut message = if n % 2 == 0 {
        json!({
            "type": "identify",
            "userId": user,
            "traits": {"email": format!("{user}@example.com"), "plan": if n % 4 == 0 { "pro" } else { "free" }},
        })
    } else {
        json!({
            "type": "track",
            "userId": user,
            "event": "Order Completed",
            "properties": {"order_id": format!("o-{n}"), "revenue": 42.5, "currency": "EUR"},
        })
    };
    if let (Some(message), Some(common)) = (message.as_object_mut(), common.as_object()) {
        message.extend(common.clone());
    }
    message
}

/// The bodies of a front-door case: `requests` batches of `size` messages, serialised (and
/// gzip-compressed when asked) ahead of time.
fn batches(case: &str, requests: usize, size: usize, gzip: bool) -> Arc<Vec<Vec<u8>>> {
    let bodies = (0..requests)
        .map(|r| {
            let batch: Vec<Value> = (0..size).map(|j| message(case, r * size + j)).collect();
            let body =
                serde_json::to_vec(&json!({"batch": batch, "sentAt": "2026-01-01T00:00:00.100Z"}))
                    .expect("JSON");
            if !gzip {
                return body;
            }
            let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(&body).expect("gzip");
            encoder.finish().expect("gzip")
        })
        .collect();
    Arc::new(bodies)
}

/// `POST /v1/batch` with the write key in `Authorization`, as the SDKs send it.
fn batch_case(mock: &MockRehook, bodies: Arc<Vec<Vec<u8>>>, gzip: bool) -> MakeRequest {
    let url = format!("{}/v1/batch", mock.base_url());
    Arc::new(move |client, i| {
        let request = client
            .post(&url)
            .basic_auth(WRITE_KEY, None::<&str>)
            .header(CONTENT_TYPE, "application/json")
            .body(bodies[i].clone());
        if gzip {
            request.header(CONTENT_ENCODING, "gzip")
        } else {
            request
        }
    })
}

/// Every message of a front-door case was delivered, once.
fn assert_all_delivered(mock: &MockRehook, name: &str, messages: usize) {
    let log = mock.store().deliveries(None).expect("delivery log");
    assert_eq!(
        log.len(),
        messages,
        "{name}: one delivery-log entry per message"
    );
    if let Some(entry) = log.iter().find(|e| e.outcome != DeliveryOutcome::Delivered) {
        panic!("{name}: a message was not delivered: {entry:?}");
    }
}

/// A front-door case on `mock`: `BENCH_MESSAGES` messages in batches of `size`.
async fn front_door_row(
    mock: &MockRehook,
    client: &reqwest::Client,
    name: &str,
    size: usize,
    gzip: bool,
    (max_requests, messages, tasks): (usize, usize, usize),
) -> Row {
    let requests = messages.div_ceil(size).min(max_requests);
    let case = name.split_whitespace().collect::<Vec<_>>().join("-");
    let bodies = batches(&case, requests, size, gzip);
    fresh(mock, client).await;
    let elapsed = timed(client, requests, tasks, batch_case(mock, bodies, gzip)).await;
    assert_all_delivered(mock, name, requests * size);
    Row {
        name: name.to_owned(),
        requests,
        messages_per_request: size,
        elapsed,
    }
}

fn print_row(row: &Row, baseline: &Row) {
    let msg_rate = if row.messages_per_request == 0 {
        "-".to_owned()
    } else {
        format!("{:.0}", row.messages_per_second())
    };
    let msgs = if row.messages_per_request == 0 {
        "-".to_owned()
    } else {
        row.messages_per_request.to_string()
    };
    println!(
        "{:<46} {:>8} {:>7} {:>10.0} {:>10} {:>6.3}",
        row.name,
        row.requests,
        msgs,
        row.requests_per_second(),
        msg_rate,
        row.requests_per_second() / baseline.requests_per_second()
    );
}

#[tokio::main]
async fn main() {
    let requests = env_usize("BENCH_REQUESTS", 20_000);
    let messages = env_usize("BENCH_MESSAGES", 100_000);
    let tasks = env_usize("BENCH_CONCURRENCY", 16);
    let mock = MockRehook::builder().seed(1).start().await;
    let custom = MappingSet::from_json_str(CUSTOM_MAPPINGS).expect("the custom mappings are valid");
    assert_eq!(custom.mappings().len(), 10);
    let custom_mock = MockRehook::builder().seed(1).mappings(custom).start().await;
    let client = reqwest::Client::new();

    println!(
        "{requests} requests per Rehook API case; {messages} messages (at most {requests} requests) per front-door case; {tasks} concurrent client tasks"
    );
    println!(
        "{:<46} {:>8} {:>7} {:>10} {:>10} {:>6}",
        "case", "requests", "msg/req", "req/s", "msg/s", "ratio"
    );
    fresh(&mock, &client).await;
    let health_url = format!("{}/__admin/health", mock.base_url());
    let health: MakeRequest = Arc::new(move |client, _| client.get(&health_url));
    let baseline = Row {
        name: "GET /__admin/health (baseline)".to_owned(),
        requests,
        messages_per_request: 0,
        elapsed: timed(&client, requests, tasks, health).await,
    };
    print_row(&baseline, &baseline);

    let rehook_cases: [RehookCase; 3] = [
        (
            "POST /customers (create)",
            "/customers",
            |i| json!({"source_id": format!("new-{i}"), "metadata": {"n": i}}),
        ),
        (
            "POST /customers (update, merge)",
            "/customers",
            |i| json!({"source_id": format!("u-{}", i % 100), "metadata": {"k": i}}),
        ),
        (
            "POST /events/invoke (signup, attribution)",
            "/events/invoke",
            |i| {
                json!({"source_id": format!("friend-{i}"), "event_name": "signup",
                       "metadata": {"referral_code": "ADVOCATE"}})
            },
        ),
    ];
    for (name, path, body) in rehook_cases {
        fresh(&mock, &client).await;
        let elapsed = timed(&client, requests, tasks, rehook_case(&mock, body, path)).await;
        let row = Row {
            name: name.to_owned(),
            requests,
            messages_per_request: 0,
            elapsed,
        };
        print_row(&row, &baseline);
    }

    let limits = (requests, messages, tasks);
    for size in [1, 20, 100] {
        let name = format!("POST /v1/batch ({size} identify/track)");
        let row = front_door_row(&mock, &client, &name, size, false, limits).await;
        print_row(&row, &baseline);
    }
    let gzipped = front_door_row(
        &mock,
        &client,
        "POST /v1/batch (100, gzip)",
        100,
        true,
        limits,
    )
    .await;
    print_row(&gzipped, &baseline);
    // Default and custom mappings in alternating rounds (D C, C D, ...), each a quarter of
    // the messages, so a change in the machine's load falls on both alike.
    let quarter = (requests, messages.div_ceil(MAPPING_ROUNDS), tasks);
    let (mut defaults, mut custom) = (None::<Row>, None::<Row>);
    for round in 0..MAPPING_ROUNDS {
        for custom_first in [round % 2 == 1, round % 2 == 0] {
            let (target, into, name) = if custom_first {
                (
                    &custom_mock,
                    &mut custom,
                    "POST /v1/batch (100, 10 custom mappings)",
                )
            } else {
                (
                    &mock,
                    &mut defaults,
                    "POST /v1/batch (100, default mappings)",
                )
            };
            let row = front_door_row(target, &client, name, 100, false, quarter).await;
            *into = Some(match into.take() {
                Some(sum) => sum.plus(&row),
                None => row,
            });
        }
    }
    let (defaults, custom) = (defaults.expect("rounds ran"), custom.expect("rounds ran"));
    print_row(&defaults, &baseline);
    print_row(&custom, &baseline);
    println!(
        "10 custom mappings vs the defaults (msg/s): {:.3}",
        custom.messages_per_second() / defaults.messages_per_second()
    );
}
