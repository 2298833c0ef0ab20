//! How the replay reads answers that are not the fake's: 5xx, no server at all.

use rehook_harness::input;
use rehook_harness::replay::{Outcome, replay};
use rehook_harness::{Client, ClientError};

use crate::support::{Served, closed_port_url, example_file};

fn example() -> Vec<input::InputMessage> {
    input::read_file(&example_file())
        .expect("the example reads")
        .messages
}

#[tokio::test]
async fn a_server_answering_500_makes_every_mapped_call_an_error() {
    let server = Served::fixed_answer(
        "500 Internal Server Error",
        r#"{"code":"INTERNAL","message":"boom","details":null,"request_id":"req_standin"}"#,
    )
    .await;
    let client = Client::new(&server.base_url(), "rk_test_key", "rk_test_secret").expect("url");
    let report = replay(&client, &example(), |_| {}).await;

    // 16 messages: one duplicate, one anonymous-only, one page and one track without an event
    // never reach the server; the other 12 calls all fail.
    assert_eq!(report.summary.errors, 12);
    assert_eq!(report.summary.filtered, 1);
    assert_eq!(report.summary.dropped, 3);
    assert_eq!(report.summary.delivered, 0);
    assert!(!report.all_answered());
    let first = &report.messages[0];
    assert_eq!(
        (first.outcome, first.status, first.reason.as_deref()),
        (Outcome::Error, Some(500), Some("INTERNAL"))
    );
    // Ingestion still marked the ids of the failed calls as seen.
    assert_eq!(
        report.messages[5].reason.as_deref(),
        Some("duplicate_message_id")
    );
}

#[tokio::test]
async fn a_server_that_is_not_there_is_a_transport_error_for_each_call() {
    let url = closed_port_url().await;
    let client = Client::new(&url, "rk_test_key", "rk_test_secret").expect("url");
    let report = replay(&client, &example()[..3], |_| {}).await;
    assert_eq!(report.summary.errors, 3);
    // The root cause, as the operating system words it, once; reqwest's own URL left out.
    let refused = std::net::TcpStream::connect(url.trim_start_matches("http://"))
        .expect_err("nothing listens");
    let reason = |path: &str| {
        format!(
            "POST {url}{path}: error sending request: client error (Connect): \
             tcp connect error: {refused}"
        )
    };
    let got: Vec<_> = report
        .messages
        .iter()
        .map(|d| (d.outcome, d.status, d.reason.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (Outcome::Error, None, Some(reason("/customers"))),
            (Outcome::Error, None, Some(reason("/customers"))),
            (Outcome::Error, None, Some(reason("/events/invoke"))),
        ]
    );
    let direct = client.check_auth().await;
    assert!(matches!(direct, Err(ClientError::Transport { .. })));
}

#[tokio::test]
async fn a_4xx_without_a_json_code_is_dropped_with_its_status() {
    let server = Served::fixed_answer("404 Not Found", "{}").await;
    let client = Client::new(&server.base_url(), "k", "s").expect("url");
    let report = replay(&client, &example()[..1], |_| {}).await;
    let d = &report.messages[0];
    assert_eq!(
        (d.outcome, d.status, d.reason.as_deref()),
        (Outcome::Dropped, Some(404), Some("HTTP_404"))
    );
    assert!(report.all_answered());
}

#[tokio::test]
async fn wrong_credentials_are_dropped_as_unauthorized() {
    let (mock, _) = crate::support::seeded_fake(1).await;
    let client = Client::new(mock.base_url(), "rk_test_key", "wrong").expect("url");
    let report = replay(&client, &example()[..1], |_| {}).await;
    let d = &report.messages[0];
    assert_eq!(
        (d.outcome, d.status, d.reason.as_deref()),
        (Outcome::Dropped, Some(401), Some("UNAUTHORIZED"))
    );
}
