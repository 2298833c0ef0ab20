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
use crate::support::{Served, client_for, fixture, run_harness, seeded_fake};

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
    let server = Served::fixed_answer("200 OK", r#"{"success":true}"#).await;
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
    let server = Served::fixed_answer("200 OK", r#"{"success":true}"#).await;
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

/// A loose message (one NDJSON line of `file`).
fn loose(file: &str, line: usize, value: Value) -> InputMessage {
    InputMessage {
        location: rehook_harness::input::Location {
            file: file.to_owned(),
            line,
            item: None,
        },
        value,
    }
}

/// The items of one batch envelope at `line` of `file`.
fn envelope(file: &str, line: usize, values: Vec<Value>) -> Vec<InputMessage> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| InputMessage {
            location: rehook_harness::input::Location {
                file: file.to_owned(),
                line,
                item: Some(i + 1),
            },
            value,
        })
        .collect()
}

/// What a delivery says, but its place in the run.
fn outcome_of(d: &Delivery) -> (Option<String>, Outcome, Option<u16>, Option<String>) {
    (d.message_id.clone(), d.outcome, d.status, d.reason.clone())
}

/// `n` identify calls of users `<prefix>-<i>`, with messageIds `<prefix>-m<i>` (every third
/// one without a messageId, which the harness then gives one).
fn identifies(prefix: &str, n: usize) -> Vec<InputMessage> {
    (0..n)
        .map(|i| {
            let mut value =
                serde_json::json!({"type": "identify", "userId": format!("{prefix}-{i}")});
            if i % 3 != 0 {
                value["messageId"] = format!("{prefix}-m{i}").into();
            }
            loose(prefix, i + 1, value)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replays_racing_on_one_application_each_get_exactly_their_own_outcomes() {
    // Regression: entries were paired with messages by position, so the other run's
    // traffic was taken for this run's outcomes.
    let mock = MockRehook::builder().seed(7).start().await;
    let client = client_for(&mock);
    let log = find_delivery_log(&client, "wk_test").await;
    assert!(matches!(log, DeliveryLog::Admin(_)), "{log:?}");
    let (a, b) = (identifies("a", 300), identifies("b", 300));
    let (ra, rb) = tokio::join!(
        replay_via_segment(&client, "wk_test", &log, &a, |_| {}),
        replay_via_segment(&client, "wk_test", &log, &b, |_| {}),
    );
    for (report, prefix) in [(&ra, "a"), (&rb, "b")] {
        assert_eq!(report.messages.len(), 300);
        for (i, d) in report.messages.iter().enumerate() {
            assert_eq!(d.user_id.as_deref(), Some(format!("{prefix}-{i}").as_str()));
            assert_eq!(
                (d.outcome, d.status, d.reason.as_deref()),
                (Outcome::Delivered, Some(201), None),
                "{d:?}"
            );
            let id = d
                .message_id
                .as_deref()
                .expect("every message has a messageId");
            if i % 3 != 0 {
                assert_eq!(id, format!("{prefix}-m{i}"));
            } else {
                assert!(id.starts_with("rehook-harness-"), "{id}");
            }
        }
    }
    assert_eq!(mock.store().customers(None).unwrap().len(), 600);
    // Run again: the fake remembers the messageIds, the fresh ones are new.
    let again = replay_via_segment(&client, "wk_test", &log, &a, |_| {}).await;
    for (i, d) in again.messages.iter().enumerate() {
        let expected = if i % 3 != 0 {
            (Outcome::Dropped, None, Some("duplicate_message_id"))
        } else {
            (Outcome::Delivered, Some(200), None)
        };
        assert_eq!(
            (d.outcome, d.status, d.reason.as_deref()),
            expected,
            "{d:?}"
        );
    }
}

#[tokio::test]
async fn the_delivery_log_is_found_by_the_write_key_whatever_the_api_key() {
    // Regression: with `--app rk_a:sa --write-key wk_a --app rk_b:sb --write-key wk_b`, the
    // config was asked for with `?app=rk_test_key` and answered 404 APP_NOT_FOUND.
    let mut a = AppConfig::new("rk_a", "sa");
    a.write_keys = vec!["wk_a".into()];
    let mut b = AppConfig::new("rk_b", "sb");
    b.write_keys = vec!["wk_b".into()];
    let mock = MockRehook::builder().app(a).app(b).start().await;
    let client = Client::new(mock.base_url(), "rk_test_key", "rk_test_secret").expect("url");
    let log = find_delivery_log(&client, "wk_b").await;
    assert!(matches!(log, DeliveryLog::Admin(_)), "{log:?}");
    let messages = identifies("u", 4);
    let report = replay_via_segment(&client, "wk_b", &log, &messages, |_| {}).await;
    assert_eq!(report.summary.delivered, 4);
    assert_eq!(mock.store().customers(Some("rk_b")).unwrap().len(), 4);
    let DeliveryLog::Unavailable(why) = find_delivery_log(&client, "wk_c").await else {
        panic!("nobody owns wk_c")
    };
    assert!(
        why.contains("\"wk_c\"") && why.contains("rk_a, rk_b"),
        "{why}"
    );
}

#[tokio::test]
async fn an_admin_token_opens_the_delivery_log_and_its_absence_is_named() {
    let mock = MockRehook::builder().admin_token("t0ken").start().await;
    let client = client_for(&mock);
    let DeliveryLog::Unavailable(why) = find_delivery_log(&client, "wk_test").await else {
        panic!("the admin API needs the token")
    };
    assert!(
        why.contains("401") && why.contains("--admin-token"),
        "{why}"
    );
    let client = client.with_admin_token("t0ken");
    let log = find_delivery_log(&client, "wk_test").await;
    assert!(matches!(log, DeliveryLog::Admin(_)), "{log:?}");
    let report = replay_via_segment(&client, "wk_test", &log, &identifies("u", 2), |_| {}).await;
    assert_eq!(report.summary.delivered, 2);
}

/// A track whose properties nest so deep that the message has `depth` levels.
fn deep_track(id: &str, depth: usize) -> Value {
    let mut nested = serde_json::json!({});
    for _ in 0..depth - 2 {
        nested = serde_json::json!({ "a": nested });
    }
    serde_json::json!({"type": "track", "userId": id, "event": "deep", "messageId": id,
                       "properties": nested})
}

#[tokio::test]
async fn a_message_nested_127_levels_is_delivered_through_both_doors_and_spares_its_neighbours() {
    // Regression: the answer to it ("recursion limit exceeded") was an error, and through the
    // front door it was wrapped in a batch (+2 levels) and refused with its neighbours.
    let messages = vec![
        loose(
            "f",
            1,
            serde_json::json!({"type": "identify", "userId": "n1", "messageId": "n1"}),
        ),
        loose("f", 2, deep_track("deep", 127)),
        loose(
            "f",
            3,
            serde_json::json!({"type": "identify", "userId": "n2", "messageId": "n2"}),
        ),
    ];
    let (_m1, rehook_client) = seeded_fake(7).await;
    let by_rehook = replay(&rehook_client, &messages, |_| {}).await;
    let (_m2, segment_client) = seeded_fake(7).await;
    let log = find_delivery_log(&segment_client, "wk_test").await;
    let by_segment = replay_via_segment(&segment_client, "wk_test", &log, &messages, |_| {}).await;
    for report in [&by_rehook, &by_segment] {
        let outcomes: Vec<_> = report.messages.iter().map(outcome_of).collect();
        assert_eq!(
            outcomes,
            [
                (Some("n1".into()), Outcome::Delivered, Some(201), None),
                (Some("deep".into()), Outcome::Delivered, Some(200), None),
                (Some("n2".into()), Outcome::Delivered, Some(201), None),
            ]
        );
        assert!(report.all_answered());
    }
    assert_eq!(
        final_state(&segment_client).await,
        final_state(&rehook_client).await
    );
}

#[tokio::test]
async fn the_same_file_through_both_doors_gives_the_same_outcomes_and_final_state() {
    // Regression: `--via rehook` ignored the 32 KiB message limit and the 2,500-message
    // envelope limit, and no door knew `integrations`.
    let big = serde_json::json!({"type": "identify", "userId": "big", "messageId": "big",
                                 "traits": {"p": "x".repeat(32 * 1024)}});
    let mut messages = vec![
        loose(
            "f",
            1,
            serde_json::json!({"type": "identify", "userId": "u1", "messageId": "u1"}),
        ),
        loose("f", 2, big),
        loose(
            "f",
            3,
            serde_json::json!({"type": "identify", "userId": "off", "messageId": "off",
                                         "integrations": {"All": false}}),
        ),
        loose(
            "f",
            4,
            serde_json::json!({"type": "identify", "userId": "on", "messageId": "on",
                                         "integrations": {"All": false, "Rehook": true}}),
        ),
    ];
    let crowd: Vec<Value> = (0..2_501)
        .map(|i| serde_json::json!({"type": "identify", "userId": format!("c{i}"), "messageId": format!("c{i}")}))
        .collect();
    messages.extend(envelope("f", 5, crowd));
    messages.extend(envelope(
        "f",
        6,
        vec![serde_json::json!({"type": "identify", "userId": "u2", "messageId": "u2"})],
    ));
    let (_m1, rehook_client) = seeded_fake(7).await;
    let by_rehook = replay(&rehook_client, &messages, |_| {}).await;
    let (_m2, segment_client) = seeded_fake(7).await;
    let log = find_delivery_log(&segment_client, "wk_test").await;
    let by_segment = replay_via_segment(&segment_client, "wk_test", &log, &messages, |_| {}).await;
    let expected_head = [
        (Some("u1".into()), Outcome::Delivered, Some(201), None),
        (
            Some("big".into()),
            Outcome::Dropped,
            Some(400),
            Some("MESSAGE_TOO_LARGE".into()),
        ),
        (
            Some("off".into()),
            Outcome::Filtered,
            None,
            Some("integrations_disabled".into()),
        ),
        (Some("on".into()), Outcome::Delivered, Some(201), None),
    ];
    for report in [&by_rehook, &by_segment] {
        let outcomes: Vec<_> = report.messages.iter().map(outcome_of).collect();
        assert_eq!(outcomes[..4], expected_head);
        assert!(
            outcomes[4..4 + 2_501]
                .iter()
                .all(|o| o.1 == Outcome::Dropped
                    && o.2 == Some(400)
                    && o.3.as_deref() == Some("TOO_MANY_MESSAGES")),
            "every message of the envelope is refused"
        );
        assert_eq!(
            outcomes[4 + 2_501],
            (Some("u2".into()), Outcome::Delivered, Some(201), None)
        );
        assert!(report.all_answered());
    }
    let plain = |r: &Report| r.messages.iter().map(without_referral).collect::<Vec<_>>();
    assert_eq!(plain(&by_segment), plain(&by_rehook));
    assert_eq!(by_segment.summary, by_rehook.summary);
    assert_eq!(
        final_state(&segment_client).await,
        final_state(&rehook_client).await
    );
    assert_eq!(final_state(&segment_client).await.0.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_takes_an_admin_token_and_names_a_missing_one() {
    let mut a = AppConfig::new("rk_a", "sa");
    a.write_keys = vec!["wk_a".into()];
    let mut b = AppConfig::new("rk_b", "sb");
    b.write_keys = vec!["wk_b".into()];
    let mock = MockRehook::builder()
        .app(a)
        .app(b)
        .admin_token("t0ken")
        .start()
        .await;
    let corpus = fixture("node-sdk-referrals.ndjson").display().to_string();
    let args = |extra: &[&str]| {
        let mut args: Vec<String> = ["replay", "--via", "segment", "--base-url", mock.base_url()]
            .into_iter()
            .chain(["--write-key", "wk_b"])
            .chain(extra.iter().copied())
            .map(str::to_owned)
            .collect();
        args.push(corpus.clone());
        args
    };
    let output = run_harness(args(&[])).await;
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        err.contains("401") && err.contains("--admin-token"),
        "{err}"
    );
    assert!(!err.contains("APP_NOT_FOUND"), "{err}");
    // The front door took the messages all the same: start again from empty.
    assert_eq!(mock.store().customers(Some("rk_b")).unwrap().len(), 7);
    mock.store().reset(Some("rk_b"), false).expect("reset");

    let output = run_harness(args(&["--admin-token", "t0ken"])).await;
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(!err.contains("no delivery log"), "{err}");
    assert_eq!(
        stdout_lines(&output)[32],
        "31 messages: 13 delivered, 14 dropped, 4 filtered, 0 errors"
    );
    assert_eq!(mock.store().customers(Some("rk_b")).unwrap().len(), 7);
}
