//! `replay --via segment`: the messages posted to the target's front door in batches, each
//! outcome read from its delivery log; the corpus reaches the same final state as the
//! `--via rehook` replay that `corpus.rs` pins.

use rehook_harness::client::{Customer, DropEntry, Event};
use rehook_harness::input;
use rehook_harness::replay::{Delivery, Outcome, Report, replay};
use rehook_harness::via_segment::{DeliveryLog, find_delivery_log, replay_via_segment};
use rehook_harness::{Client, InputMessage};
use rehook_mock::{AppConfig, MockRehook};
use serde_json::Value;

use crate::corpus::expected_summary;
use crate::support::{FixedAnswerServer, client_for, fixture, run_harness, seeded_fake};

fn corpus() -> Vec<InputMessage> {
    input::read_file(&fixture("node-sdk-referrals.ndjson"))
        .expect("the corpus reads")
        .messages
}

async fn via_segment(client: &Client, write_key: &str) -> Report {
    let log = find_delivery_log(client, write_key).await;
    assert!(matches!(log, DeliveryLog::Admin(_)), "{log:?}");
    replay_via_segment(client, write_key, &log, &corpus(), |_| {}).await
}

/// Everything a delivery says except the referral status, which the delivery log does not
/// carry.
fn without_referral(d: &Delivery) -> Delivery {
    Delivery {
        referral: None,
        ..d.clone()
    }
}

/// The final state with the clocks taken out (the two runs happen at different times).
async fn final_state(
    client: &Client,
) -> (Vec<Customer>, Vec<Event>, Vec<(String, u16, String, Value)>) {
    let customers = client
        .admin_customers()
        .await
        .expect("customers")
        .into_iter()
        .map(|c| Customer {
            created_at: String::new(),
            updated_at: String::new(),
            ..c
        })
        .collect();
    let events = client
        .admin_events()
        .await
        .expect("events")
        .into_iter()
        .map(|e| Event {
            received_at: String::new(),
            ..e
        })
        .collect();
    let drops = client
        .admin_drops()
        .await
        .expect("drops")
        .into_iter()
        .map(|d: DropEntry| {
            assert_eq!(d.layer, "rehook");
            (d.reason, d.status, d.endpoint, d.body)
        })
        .collect();
    (customers, events, drops)
}

#[tokio::test]
async fn the_corpus_through_the_front_door_reaches_the_state_of_the_rehook_replay() {
    let (_rehook_mock, rehook_client) = seeded_fake(7).await;
    let by_rehook = replay(&rehook_client, &corpus(), |_| {}).await;
    let (_segment_mock, segment_client) = seeded_fake(7).await;
    let by_segment = via_segment(&segment_client, "wk_test").await;

    // The same outcome for every message, and the same counts.
    let expected: Vec<Delivery> = by_rehook.messages.iter().map(without_referral).collect();
    assert_eq!(by_segment.messages, expected);
    assert_eq!(by_segment.summary, expected_summary());
    assert_eq!(by_rehook.summary, expected_summary());

    // The same customers (ids and generated codes included: one seed, one order of calls),
    // events and drops.
    let state = final_state(&segment_client).await;
    assert_eq!(state, final_state(&rehook_client).await);
    assert_eq!(state.0.len(), 7);
    assert_eq!(state.1.len(), 5);
    assert_eq!(state.2.len(), 5);
}

#[tokio::test]
async fn the_outcomes_come_from_the_application_that_owns_the_write_key() {
    let mut other = AppConfig::new("rk_other", "other_secret");
    other.write_keys = vec!["wk_other".into()];
    let mock = MockRehook::builder()
        .seed(7)
        .app(AppConfig::default_app())
        .app(other)
        .start()
        .await;
    let client = client_for(&mock);
    let report = via_segment(&client, "wk_other").await;
    assert_eq!(report.summary, expected_summary());
    assert!(mock.store().customers(None).unwrap().is_empty());
    assert_eq!(mock.store().customers(Some("rk_other")).unwrap().len(), 7);
}

#[tokio::test]
async fn without_a_delivery_log_each_message_is_accepted_with_its_batch_answer() {
    let server = FixedAnswerServer::start("200 OK", r#"{"success":true}"#).await;
    let client = Client::new(&server.base_url(), "k", "s").expect("a client");
    let log = find_delivery_log(&client, "wk_test").await;
    let DeliveryLog::Unavailable(why) = &log else {
        panic!("a server whose config is not a config has no delivery log: {log:?}")
    };
    assert!(why.contains("owns the write key"), "{why}");
    let report = replay_via_segment(&client, "wk_test", &log, &corpus(), |_| {}).await;
    assert!(
        report
            .messages
            .iter()
            .all(|d| d.outcome == Outcome::Accepted && d.status == Some(200) && d.reason.is_none())
    );
    assert_eq!(report.summary.accepted, 31);
    assert!(report.all_answered());
}

#[tokio::test]
async fn a_front_door_fault_is_an_error_for_its_batch_only() {
    let mock = MockRehook::builder()
        .seed(7)
        .fail_front_door_requests(1)
        .start()
        .await;
    let client = client_for(&mock);
    let report = via_segment(&client, "wk_test").await;
    // The first envelope (4 identifies) got the 500; the rest went through.
    let first: Vec<(Outcome, Option<u16>, Option<&str>)> = report.messages[..4]
        .iter()
        .map(|d| (d.outcome, d.status, d.reason.as_deref()))
        .collect();
    assert_eq!(
        first,
        vec![(Outcome::Error, Some(500), Some("INJECTED_FAULT")); 4]
    );
    assert_eq!(report.summary.errors, 4);
    assert!(!report.all_answered());
    assert_eq!(report.summary.messages, 31);
}

fn stdout_lines(output: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_replays_through_the_front_door_of_an_in_process_fake() {
    let corpus = fixture("node-sdk-referrals.ndjson").display().to_string();
    let output = run_harness(
        ["replay", "--via", "segment", &corpus]
            .map(str::to_owned)
            .to_vec(),
    )
    .await;
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(
        err.ends_with("(in-process fake), through its Segment front door with write key wk_test\n"),
        "{err}"
    );
    let lines = stdout_lines(&output);
    assert_eq!(
        lines[3],
        "   4  …d6d1bbb8  identify  u-010         identify_user  dropped    409 REFERRAL_CODE_TAKEN"
    );
    assert_eq!(
        lines[32],
        "31 messages: 13 delivered, 14 dropped, 4 filtered, 0 errors"
    );
    assert_eq!(lines[35], "referrals attributed: 3");

    // Another write key: the in-process fake's default application owns it.
    let output = run_harness(
        [
            "replay",
            "--via",
            "segment",
            "--write-key",
            "wk_mine",
            &corpus,
        ]
        .map(str::to_owned)
        .to_vec(),
    )
    .await;
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout_lines(&output)[32],
        "31 messages: 13 delivered, 14 dropped, 4 filtered, 0 errors"
    );

    // --write-key without --via segment is an unusable argument.
    let output = run_harness(
        ["replay", "--write-key", "wk_mine", &corpus]
            .map(str::to_owned)
            .to_vec(),
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_without_a_delivery_log_is_said_on_stderr_and_counted_as_accepted() {
    let server = FixedAnswerServer::start("200 OK", r#"{"success":true}"#).await;
    let corpus = fixture("node-sdk-referrals.ndjson").display().to_string();
    let output = run_harness(
        [
            "replay",
            "--via",
            "segment",
            "--base-url",
            &server.base_url(),
            &corpus,
        ]
        .map(str::to_owned)
        .to_vec(),
    )
    .await;
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(err.contains("no delivery log to read"), "{err}");
    let lines = stdout_lines(&output);
    assert_eq!(
        lines[0],
        "   1  …182c4c77  identify  u-001         -              accepted   200"
    );
    assert_eq!(
        lines[32],
        "31 messages: 0 delivered, 0 dropped, 0 filtered, 0 errors"
    );
    assert_eq!(
        lines[33],
        "accepted by the front door with no delivery log to read: 31"
    );
}
