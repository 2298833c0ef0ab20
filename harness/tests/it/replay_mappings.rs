//! `replay --mappings FILE`: the harness plays Segment with custom mappings, as the fake's
//! front door does with the same file.

use rehook_harness::replay::replay_with;
use rehook_harness::{InputMessage, Location, Outcome};
use rehook_mock::segment::MappingSet;
use serde_json::{Value, json};

use crate::support::{TempDir, example_file, run_harness, seeded_fake};

fn messages(values: Vec<Value>) -> Vec<InputMessage> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| InputMessage {
            location: Location {
                file: "test".into(),
                line: i + 1,
                item: None,
            },
            value,
        })
        .collect()
}

#[tokio::test]
async fn a_message_that_fires_two_mappings_gets_a_delivery_for_each() {
    let (mock, client) = seeded_fake(5).await;
    let set = MappingSet::from_json(&json!({"mappings": [
        {"name": "All", "subscribe": "type = \"track\"", "action": "track_event",
         "mapping": {"event_name": {"@path": "$.event"}, "source_id": {"@path": "$.userId"}}},
        {"name": "Tagged", "subscribe": "properties.tag contains \"x\"", "action": "track_event",
         "mapping": {"event_name": {"@template": "tagged-{{properties.tag}}"},
                     "source_id": {"@path": "$.userId"}}},
    ]}))
    .expect("valid");
    let input = messages(vec![
        json!({"type": "track", "userId": "u-1", "event": "e", "properties": {"tag": "xy"}}),
        json!({"type": "identify", "userId": "u-1"}),
    ]);
    let report = replay_with(&client, Some(&set), &input, |_| {}).await;
    let shown: Vec<(usize, Option<&str>, Outcome)> = report
        .messages
        .iter()
        .map(|d| (d.index, d.mapping.as_deref(), d.outcome))
        .collect();
    assert_eq!(
        shown,
        [
            (1, Some("All"), Outcome::Delivered),
            (2, Some("Tagged"), Outcome::Delivered),
            (3, None, Outcome::Filtered),
        ]
    );
    let names: Vec<String> = mock
        .store()
        .events(None)
        .expect("app")
        .into_iter()
        .map(|e| e.event_name)
        .collect();
    assert_eq!(names, ["e", "tagged-xy"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_views_example_turns_the_example_page_into_an_event() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/mappings/page-views.json"
    );
    let output = run_harness(vec![
        "replay".into(),
        example_file().display().to_string(),
        "--mappings".into(),
        file.into(),
    ])
    .await;
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        stdout.contains("  14  ex-13      page      ana           track_event    delivered  200\n"),
        "{stdout}"
    );
    assert!(stdout.contains("16 messages: 10 delivered, 6 dropped, 0 filtered, 0 errors"));
    assert!(stdout.contains("events stored: 5"));
    let dir = TempDir::new("bad-mappings");
    let bad = dir.file("bad.json", r#"{"mappings": [{"name": "x"}]}"#);
    let output = run_harness(vec![
        "replay".into(),
        example_file().display().to_string(),
        "--mappings".into(),
        bad.display().to_string(),
    ])
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("mapping 0 (\"x\"): `subscribe` must be")
    );
}
