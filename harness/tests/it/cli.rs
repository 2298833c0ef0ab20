//! The `rehook-harness` binary: exit codes, human output and `--json`.

use serde_json::Value;

use crate::support::{FixedAnswerServer, TempDir, closed_port_url, example_file, run_harness};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn path_arg(path: &std::path::Path) -> String {
    path.display().to_string()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_the_example_exits_0_with_a_line_per_message_and_a_summary() {
    let output = run_harness(args(&["replay", &path_arg(&example_file())])).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stdout = String::from_utf8(output.stdout.clone()).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "   1  ex-01      identify  ana           identify_user  delivered  201"
    );
    assert_eq!(
        lines[5],
        "   6  ex-05      track     cleo          -              dropped    duplicate_message_id"
    );
    assert_eq!(
        lines[12],
        "  13  ex-12      track     anon:anon-7   track_event    dropped    anonymous_only"
    );
    assert_eq!(lines[16], "");
    assert_eq!(
        lines[17..].to_vec(),
        [
            "16 messages: 9 delivered, 6 dropped, 1 filtered, 0 errors",
            "customers created: 3, updated: 2",
            "events stored: 4",
            "referrals attributed: 2",
            "filtered: 1",
            "drops by reason:",
            "  REFERRAL_CODE_TAKEN    1",
            "  REFERRAL_CODE_UNKNOWN  1",
            "  SELF_REFERRAL          1",
            "  anonymous_only         1",
            "  duplicate_message_id   1",
            "  missing_event_name     1",
        ]
    );
    assert!(stderr(&output).contains("(in-process fake)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_is_one_document_of_messages_and_summary() {
    let output = run_harness(args(&["replay", "--json", &path_arg(&example_file())])).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc: Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    let top: Vec<&str> = doc
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(top, ["messages", "summary"]);

    let messages = doc["messages"].as_array().expect("array");
    assert_eq!(messages.len(), 16);
    let mut keys: Vec<&str> = messages[2]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "action",
            "anonymous_id",
            "file",
            "index",
            "item",
            "line",
            "message_id",
            "outcome",
            "reason",
            "referral",
            "status",
            "type",
            "user_id",
        ]
    );
    assert_eq!(
        messages[2],
        serde_json::json!({
            "index": 3, "file": path_arg(&example_file()), "line": 3, "item": null,
            "message_id": "ex-03", "type": "track", "user_id": "cleo", "anonymous_id": null,
            "action": "track_event", "outcome": "delivered", "status": 200, "reason": null,
            "referral": "attributed",
        })
    );
    assert_eq!(messages[11]["user_id"], "4021");
    assert_eq!(
        doc["summary"],
        serde_json::json!({
            "messages": 16, "delivered": 9, "dropped": 6, "filtered": 1, "errors": 0,
            "customers_created": 3, "customers_updated": 2, "events_stored": 4,
            "referrals_attributed": 2,
            "drops_by_reason": {
                "REFERRAL_CODE_TAKEN": 1, "REFERRAL_CODE_UNKNOWN": 1, "SELF_REFERRAL": 1,
                "anonymous_only": 1, "duplicate_message_id": 1, "missing_event_name": 1,
            },
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_answering_500_exits_1() {
    let server = FixedAnswerServer::start(
        "500 Internal Server Error",
        r#"{"code":"INTERNAL","message":"boom","details":null,"request_id":"req_standin"}"#,
    )
    .await;
    let output = run_harness(args(&[
        "replay",
        "--base-url",
        &server.base_url(),
        &path_arg(&example_file()),
    ]))
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let stdout = String::from_utf8(output.stdout.clone()).expect("utf-8");
    assert!(
        stdout
            .lines()
            .next()
            .expect("a first line")
            .ends_with("error      500 INTERNAL"),
        "{stdout}"
    );
    assert!(stdout.contains("16 messages: 0 delivered, 3 dropped, 1 filtered, 12 errors"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_at_the_base_url_exits_1() {
    let url = closed_port_url().await;
    let output = run_harness(args(&[
        "replay",
        "--json",
        "--base-url",
        &url,
        "--api-key",
        "k",
        "--api-secret",
        "s",
        &path_arg(&example_file()),
    ]))
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let doc: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(doc["summary"]["errors"], 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_the_server_refuses_exit_2_before_replaying() {
    let mock = rehook_mock::MockRehook::start().await;
    exit_2(
        &[
            "replay",
            "--base-url",
            mock.base_url(),
            "--api-key",
            "rk_test_key",
            "--api-secret",
            "wrong",
            &path_arg(&example_file()),
        ],
        "refused the credentials",
    )
    .await;
    assert!(mock.store().customers(None).unwrap().is_empty());
}

async fn exit_2(list: &[&str], expected_in_stderr: &str) {
    let output = run_harness(args(list)).await;
    assert_eq!(
        output.status.code(),
        Some(2),
        "{list:?}: {}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains(expected_in_stderr),
        "{list:?}: {}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty(), "{list:?}: nothing replayed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_input_exits_2_naming_the_file_and_line() {
    let dir = TempDir::new("cli-bad-input");
    let good = path_arg(&example_file());
    let bad_json = dir.file(
        "bad.ndjson",
        "{\"type\":\"page\",\"userId\":\"u\"}\n{oops\n",
    );
    exit_2(
        &["replay", &good, &path_arg(&bad_json)],
        &format!("{}:2: invalid JSON", path_arg(&bad_json)),
    )
    .await;
    let not_object = dir.file("array.json", "[\n{\"type\":\"page\"},\n\"x\"\n]");
    exit_2(
        &["replay", &path_arg(&not_object)],
        &format!(
            "{}:3: item 2 of the array is a string",
            path_arg(&not_object)
        ),
    )
    .await;
    let missing = dir.file("x", "").with_file_name("nope.ndjson");
    exit_2(
        &["replay", &path_arg(&missing)],
        &format!("{}: cannot read the file", path_arg(&missing)),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_arguments_exit_2() {
    let good = path_arg(&example_file());
    exit_2(&["replay"], "FILE").await;
    exit_2(
        &["replay", "--via", "segment", &good],
        "invalid value 'segment'",
    )
    .await;
    exit_2(&["replay", "--api-key", "k", &good], "--base-url").await;
    exit_2(
        &["replay", "--base-url", "ftp://127.0.0.1:1", &good],
        "invalid base URL",
    )
    .await;
    exit_2(&["frobnicate"], "unrecognized subcommand").await;
}
