//! The `rehook-harness` binary: exit codes, human output and `--json`.

use serde_json::Value;

use std::io::Read as _;

use crate::support::{Served, TempDir, closed_port_url, example_file, gzip, run_harness};

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
            "identify: 3 customers created, 2 updated (customers created by track events are not counted)",
            "events stored: 4",
            "referrals attributed: 2",
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
            "identify_created": 3, "identify_updated": 2, "events_stored": 4,
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
    let server = Served::fixed_answer(
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
    let refused = std::net::TcpStream::connect(url.trim_start_matches("http://"))
        .expect_err("nothing listens");
    assert_eq!(
        doc["messages"][0]["reason"],
        format!(
            "POST {url}/customers: error sending request: client error (Connect): \
             tcp connect error: {refused}"
        )
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_url_with_a_wrong_path_exits_2_before_replaying() {
    let mock = rehook_mock::MockRehook::start().await;
    let url = format!("{}/wrongprefix", mock.base_url());
    exit_2_saying(
        &["replay", "--base-url", &url, &path_arg(&example_file())],
        &format!(
            "rehook-harness: error: {url} does not look like a Rehook API: \
             GET /events/segment/check-auth answered 404 NOT_FOUND \
             (a Rehook API answers 200 {{\"status\":\"ok\"}}); check --base-url\n"
        ),
    )
    .await;
    assert!(mock.store().customers(None).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_answering_404_or_403_to_everything_exits_2_before_replaying() {
    for (status_line, body, answered) in [
        (
            "404 Not Found",
            r#"{"code":"NOT_FOUND","message":"no such route"}"#,
            "404 NOT_FOUND",
        ),
        (
            "403 Forbidden",
            r#"{"code":"FORBIDDEN","message":"go away"}"#,
            "403 FORBIDDEN",
        ),
        ("404 Not Found", "{}", "404"),
        ("200 OK", r#"{"hello":"world"}"#, "200"),
    ] {
        let server = Served::fixed_answer(status_line, body).await;
        let url = server.base_url();
        exit_2_saying(
            &["replay", "--base-url", &url, &path_arg(&example_file())],
            &format!(
                "rehook-harness: error: {url} does not look like a Rehook API: \
                 GET /events/segment/check-auth answered {answered} \
                 (a Rehook API answers 200 {{\"status\":\"ok\"}}); check --base-url\n"
            ),
        )
        .await;
    }
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

/// The whole of stderr for an unusable run: one line, each cause once.
async fn exit_2_saying(list: &[&str], expected_stderr: &str) {
    let output = run_harness(args(list)).await;
    assert_eq!(output.status.code(), Some(2), "{list:?}");
    assert_eq!(stderr(&output), expected_stderr, "{list:?}");
    assert!(output.stdout.is_empty(), "{list:?}: nothing replayed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_input_errors_write_each_cause_once() {
    let dir = TempDir::new("cli-causes");
    let missing = dir.file("x", "").with_file_name("nope.ndjson");
    let not_found = std::fs::read(&missing).expect_err("the file does not exist");
    exit_2_saying(
        &["replay", &path_arg(&missing)],
        &format!(
            "rehook-harness: error: unusable input: {}: cannot read the file: {not_found}\n",
            path_arg(&missing)
        ),
    )
    .await;

    let packed = gzip(&std::fs::read(example_file()).expect("the example reads"));
    let cut = &packed[..packed.len() / 2];
    let mut unpacked = Vec::new();
    let broken = flate2::read::MultiGzDecoder::new(cut)
        .read_to_end(&mut unpacked)
        .expect_err("a gzip stream cut in half does not unpack");
    let truncated = dir.file("cut.ndjson.gz", cut);
    exit_2_saying(
        &["replay", &path_arg(&truncated)],
        &format!(
            "rehook-harness: error: unusable input: {}: broken gzip data: {broken}\n",
            path_arg(&truncated)
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_message_from_one_file_is_counted_in_the_singular() {
    let dir = TempDir::new("cli-one");
    let file = dir.file(
        "one.ndjson",
        r#"{"type":"identify","messageId":"m-1","userId":"ana","traits":{"plan":"free"}}"#,
    );
    let output = run_harness(args(&["replay", &path_arg(&file)])).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("replaying 1 message from 1 file against http://127.0.0.1:")
            && err.ends_with(" (in-process fake)\n"),
        "{err}"
    );
    let stdout = String::from_utf8(output.stdout.clone()).expect("utf-8");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "   1  m-1        identify  ana           identify_user  delivered  201",
            "",
            "1 message: 1 delivered, 0 dropped, 0 filtered, 0 errors",
            "identify: 1 customer created, 0 updated (customers created by track events are not counted)",
            "events stored: 0",
            "referrals attributed: 0",
            "drops by reason: none",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_help_says_message_ids_are_deduplicated_within_one_run_only() {
    let output = run_harness(args(&["replay", "--help"])).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stdout = String::from_utf8(output.stdout.clone()).expect("utf-8");
    assert!(
        stdout.lines().any(|line| line
            == "Repeated messageIds are dropped within one run only, as Segment's per-source \
                de-duplication window would: replaying the same file twice against a running \
                server sends (and stores) its messages twice."),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_credentials_without_a_base_url_go_to_the_in_process_fake() {
    let file = path_arg(&example_file());
    let output = run_harness(args(&[
        "replay",
        "--api-key",
        "rk_other",
        "--api-secret",
        "s3cret",
        &file,
    ]))
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(said.contains("(in-process fake)"), "{said}");
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(out.contains("identify_user  delivered  201"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_arguments_exit_2() {
    let good = path_arg(&example_file());
    exit_2(&["replay"], "FILE").await;
    exit_2(
        &["replay", "--via", "kafka", &good],
        "invalid value 'kafka'",
    )
    .await;
    exit_2(
        &["replay", "--base-url", "ftp://127.0.0.1:1", &good],
        "invalid base URL",
    )
    .await;
    exit_2(&["frobnicate"], "unrecognized subcommand").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_describes_replay_engage_and_check() {
    let output = run_harness(args(&["--help"])).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stdout = String::from_utf8(output.stdout.clone()).expect("utf-8");
    assert_eq!(
        stdout,
        "Replays Segment traffic against a Rehook-compatible server, playing Segment's \
         ingestion and the Rehook destination's mapping, and checks such a server against the \
         contract.\n\
         \n\
         Usage: rehook-harness <COMMAND>\n\
         \n\
         Commands:\n  \
         replay  Replay files of Segment messages (NDJSON, a JSON array or batch envelopes; \
         gzip too)\n  \
         engage  Play Segment Engage syncing an audience: identify calls to a front door's \
         /v1/batch\n  \
         check   Check the contract: the named scenarios, then randomised sequences against \
         the reference model and a concurrency race\n  \
         help    Print this message or the help of the given subcommand(s)\n\
         \n\
         Options:\n  \
         -h, --help     Print help\n  \
         -V, --version  Print version\n"
    );
}

/// Runs the harness with stdout piped and its read end closed after `keep` lines (0: at once,
/// before the harness writes anything); returns the exit code, the lines read and stderr.
async fn run_with_stdout_closed_after(
    list: &[&str],
    keep: usize,
) -> (Option<i32>, Vec<String>, String) {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};

    let list = args(list);
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rehook-harness"))
            .args(&list)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run rehook-harness");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = Vec::new();
        let mut reader = std::io::BufReader::new(stdout);
        for _ in 0..keep {
            let mut line = String::new();
            reader.read_line(&mut line).expect("read a line");
            lines.push(line);
        }
        // Closes the read end: the harness's next write meets a broken pipe.
        drop(reader);
        let output = child.wait_with_output().expect("wait for rehook-harness");
        (
            output.status.code(),
            lines,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
    .await
    .expect("the blocking task finished")
}

/// stderr of a replay against the in-process fake that wrote nothing else: the one line.
fn assert_only_the_replaying_line(stderr: &str, messages: &str) {
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("replaying {messages} from 1 file against http://"))
            && stderr.ends_with(" (in-process fake)\n"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdout_closed_at_once_ends_the_output_quietly_and_exits_0() {
    for json in [false, true] {
        let example = path_arg(&example_file());
        let list: &[&str] = if json {
            &["replay", "--json", &example]
        } else {
            &["replay", &example]
        };
        let (code, _, stderr) = run_with_stdout_closed_after(list, 0).await;
        assert_eq!(code, Some(0), "--json {json}: {stderr}");
        assert_only_the_replaying_line(&stderr, "16 messages");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdout_closed_after_the_first_line_exits_0_once_every_message_is_replayed() {
    // More output than a pipe holds (64 KiB), so the harness meets the closed pipe mid-run.
    let dir = TempDir::new("cli-head");
    let lines: Vec<String> = (1..=3000)
        .map(|i| format!(r#"{{"type":"page","messageId":"p-{i}","userId":"u-1"}}"#))
        .collect();
    let file = dir.file("pages.ndjson", lines.join("\n"));
    let (code, read, stderr) = run_with_stdout_closed_after(&["replay", &path_arg(&file)], 1).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        read,
        ["   1  p-1        page      u-1           -              filtered   -\n"]
    );
    assert_only_the_replaying_line(&stderr, "3000 messages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdout_closed_at_once_still_exits_1_when_calls_got_no_answer() {
    let server = Served::fixed_answer(
        "500 Internal Server Error",
        r#"{"code":"INTERNAL","message":"boom","details":null,"request_id":"req_standin"}"#,
    )
    .await;
    let url = server.base_url();
    let example = path_arg(&example_file());
    let (code, _, stderr) =
        run_with_stdout_closed_after(&["replay", "--base-url", &url, &example], 0).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        stderr,
        format!("replaying 16 messages from 1 file against {url}\n")
    );
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdout_that_cannot_be_written_is_said_once_on_stderr_and_exits_1() {
    let example = path_arg(&example_file());
    let output = tokio::task::spawn_blocking(move || {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full");
        std::process::Command::new(env!("CARGO_BIN_EXE_rehook-harness"))
            .args(["replay", &example])
            .stdout(full)
            .output()
            .expect("run rehook-harness")
    })
    .await
    .expect("the blocking task finished");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let no_space = std::io::Error::from_raw_os_error(28);
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("replaying 16 messages from 1 file against http://"));
    assert_eq!(
        lines[1],
        format!("rehook-harness: cannot write to stdout: {no_space}")
    );
}
