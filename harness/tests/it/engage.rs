//! `rehook-harness engage` end to end: audience syncs through a fake's front door leave
//! exactly the audience trait on each customer after every sync, and nothing of `context`.

use rehook_harness::client::Client;
use rehook_harness::engage::{self, Engage, Membership};
use rehook_mock::MockRehook;
use serde_json::{Value, json};

use crate::support::{TempDir, run_harness};

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// `source_id → metadata` of every customer of `mock`.
fn traits(mock: &MockRehook) -> Vec<(String, Value)> {
    mock.store()
        .customers(None)
        .expect("the default application")
        .into_iter()
        .map(|c| (c.source_id, Value::Object(c.metadata)))
        .collect()
}

fn expect(pairs: &[(&str, bool)]) -> Vec<(String, Value)> {
    pairs
        .iter()
        .map(|(u, m)| ((*u).to_owned(), json!({ "power_users": m })))
        .collect()
}

#[tokio::test]
async fn each_sync_leaves_exactly_the_audience_trait_on_each_customer() {
    let syncs = [
        ids(&["u-1", "u-2"]),
        ids(&["u-2", "u-3"]),
        ids(&["u-2", "u-3"]),
        ids(&[]),
        ids(&["u-1"]),
    ];
    let expected = [
        expect(&[("u-1", true), ("u-2", true)]),
        expect(&[("u-1", false), ("u-2", true), ("u-3", true)]),
        expect(&[("u-1", false), ("u-2", true), ("u-3", true)]),
        expect(&[("u-1", false), ("u-2", false), ("u-3", false)]),
        expect(&[("u-1", true), ("u-2", false), ("u-3", false)]),
    ];
    let sent = [2, 2, 0, 2, 1];
    // One fresh fake per prefix of the syncs: the state after sync n is what syncs 1..=n left.
    for n in 1..=syncs.len() {
        let mock = MockRehook::builder().seed(1).start().await;
        let membership = Membership {
            audience: None,
            syncs: syncs[..n].to_vec(),
        };
        let mut run = Engage::new("Power Users").expect("a key");
        let mut lines = Vec::new();
        let client = Client::new(mock.base_url(), "", "").expect("a base URL");
        let reports =
            engage::run(&mut run, &membership, &client, "wk_test", |l| lines.push(l)).await;
        assert_eq!(traits(&mock), expected[n - 1], "after sync {n}");
        assert_eq!(reports[n - 1].messages.len(), sent[n - 1], "sync {n}");
        assert!(reports.iter().all(|r| r.answered()));
        let deliveries: Vec<&'static str> = mock
            .store()
            .deliveries(None)
            .expect("app")
            .iter()
            .map(|d| d.outcome.as_str())
            .collect();
        assert!(
            deliveries.iter().all(|d| *d == "delivered"),
            "{deliveries:?}"
        );
        assert_eq!(deliveries.len(), sent[..n].iter().sum::<usize>());
        assert_eq!(mock.store().events(None).expect("app"), vec![]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_syncs_a_csv_file_into_a_running_front_door_and_prints_what_it_sent() {
    let mock = MockRehook::builder().seed(1).start().await;
    let dir = TempDir::new("engage");
    let file = dir.file("members.csv", "sync,user_id\n1,u-1\n1,u-2\n2,u-2\n2,u-3\n");
    let output = run_harness(vec![
        "engage".into(),
        file.display().to_string(),
        "--audience".into(),
        "Power Users".into(),
        "--base-url".into(),
        mock.base_url().to_owned(),
        "--write-key".into(),
        "wk_test".into(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let shown: Vec<String> = stdout
        .lines()
        .map(|l| match l.rfind("  engage-") {
            // The messageIds are fresh each run: keep all but them.
            Some(at) => l[..at].trim_end().to_owned(),
            None => l.to_owned(),
        })
        .collect();
    assert_eq!(
        shown,
        [
            "sync   1  identify  u-1                   power_users=true",
            "sync   1  identify  u-2                   power_users=true",
            "sync   1: 2 members, 2 joined, 0 left; POST /v1/batch: 200",
            "sync   2  identify  u-3                   power_users=true",
            "sync   2  identify  u-1                   power_users=false",
            "sync   2: 2 members, 1 joined, 1 left; POST /v1/batch: 200",
            "",
            "4 identify calls sent over 2 syncs",
        ]
    );
    assert_eq!(
        traits(&mock),
        expect(&[("u-1", false), ("u-2", true), ("u-3", true)])
    );
    assert!(
        stderr.contains("syncing audience \"Power Users\" (key power_users)"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_exits_2_without_an_audience_name_and_1_when_nobody_answers() {
    let dir = TempDir::new("engage-exit");
    let file = dir.file("members.json", r#"[["u-1"]]"#);
    let output = run_harness(vec!["engage".into(), file.display().to_string()]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("no audience name: give --audience NAME or \"audience\" in the file")
    );
    let output = run_harness(vec![
        "engage".into(),
        file.display().to_string(),
        "--audience".into(),
        "x".into(),
        "--base-url".into(),
        crate::support::closed_port_url().await,
    ])
    .await;
    assert_eq!(output.status.code(), Some(1));
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/engage/power-users.json"
    );
    let output = run_harness(vec!["engage".into(), example.into(), "--json".into()]).await;
    assert_eq!(output.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(doc["key"], "power_users");
    let sent: Vec<usize> = doc["syncs"]
        .as_array()
        .expect("syncs")
        .iter()
        .map(|s| s["messages"].as_array().expect("messages").len())
        .collect();
    assert_eq!(sent, [2, 2, 0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_says_when_no_application_owns_the_write_key_with_the_admin_token() {
    let mock = MockRehook::builder().admin_token("t0ken").start().await;
    let dir = TempDir::new("engage-owner");
    let file = dir.file("members.json", r#"{"audience": "A", "syncs": [["u-1"]]}"#);
    let engage = |extra: &[&str]| {
        let mut args: Vec<String> = vec![
            "engage".into(),
            file.display().to_string(),
            "--base-url".into(),
            mock.base_url().to_owned(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        run_harness(args)
    };
    let stderr = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
    // The owner found: nothing said.
    let output = engage(&["--admin-token", "t0ken"]).await;
    assert_eq!(output.status.code(), Some(0));
    assert!(!stderr(&output).contains("note:"), "{}", stderr(&output));
    // Nobody owns wk_nobody: said, and the calls go out all the same.
    let output = engage(&["--write-key", "wk_nobody", "--admin-token", "t0ken"]).await;
    assert_eq!(output.status.code(), Some(0));
    let err = stderr(&output);
    assert!(
        err.contains("no application of the target owns the write key \"wk_nobody\""),
        "{err}"
    );
    // Without the token the admin API refuses, and the note says what to give.
    let output = engage(&[]).await;
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains("--admin-token"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_runs_csv_syncs_in_the_order_of_their_labels_gaps_and_all() {
    let mock = MockRehook::builder().seed(1).start().await;
    let dir = TempDir::new("engage-labels");
    let file = dir.file("members.csv", "sync,user_id\n3,u1\n1,u2\n3,u3\n");
    let output = run_harness(vec![
        "engage".into(),
        file.display().to_string(),
        "--audience".into(),
        "Power Users".into(),
        "--base-url".into(),
        mock.base_url().to_owned(),
        "--json".into(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let doc: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    let sent: Vec<Vec<(Value, Value)>> = doc["syncs"]
        .as_array()
        .expect("syncs")
        .iter()
        .map(|s| {
            s["messages"]
                .as_array()
                .expect("messages")
                .iter()
                .map(|m| (m["userId"].clone(), m["traits"]["power_users"].clone()))
                .collect()
        })
        .collect();
    assert_eq!(
        sent,
        [
            vec![(json!("u2"), json!(true))],
            vec![
                (json!("u1"), json!(true)),
                (json!("u3"), json!(true)),
                (json!("u2"), json!(false)),
            ],
        ]
    );
    assert_eq!(
        traits(&mock),
        expect(&[("u1", true), ("u2", false), ("u3", true)])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_exits_2_naming_the_line_of_a_bad_label_or_a_repeated_member() {
    let mock = MockRehook::builder().seed(1).start().await;
    let dir = TempDir::new("engage-refused");
    for (name, text, message) in [
        (
            "label.csv",
            "sync,user_id\n1,u0\nx,u1\n",
            "line 3: the sync label `x` is not a number",
        ),
        (
            "negative.csv",
            "sync,user_id\n-1,u1\n",
            "line 2: the sync label `-1` is not a number",
        ),
        (
            "twice.csv",
            "sync,user_id\n1,u1\n1,u2\n1,u1\n",
            "line 4: the user id \"u1\" is already in sync 1 (line 2)",
        ),
        (
            "twice.json",
            r#"{"audience": "A", "syncs": [["u1", "u1"]]}"#,
            "sync 1: the user id \"u1\" is listed twice",
        ),
    ] {
        let file = dir.file(name, text);
        let output = run_harness(vec![
            "engage".into(),
            file.display().to_string(),
            "--audience".into(),
            "A".into(),
            "--base-url".into(),
            mock.base_url().to_owned(),
        ])
        .await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(message), "{name}: {stderr}");
    }
    assert!(
        mock.store().deliveries(None).expect("app").is_empty(),
        "a refused file sends nothing"
    );
}
