//! The named scenarios as insta snapshot suites: each scenario runs against a fresh seeded
//! fake, and its calls, answers and the final state (through the admin API) are pinned in
//! `snapshots/<group>/<rule>.snap` at the top of the workspace.
//!
//! Generated ids, codes and request ids come from the fake's seed, so they are pinned too;
//! only clock times are redacted. Maps are sorted; lists keep the server's order (which the
//! contract fixes: customers by source_id, events and drops in arrival order).

use std::collections::BTreeSet;
use std::path::PathBuf;

use rehook_harness::contract::Outcome;
use rehook_harness::contract::scenarios::{self, Env, GROUPS, Scenario};
use rehook_harness::contract::target::{Api, Request, Target};
use rehook_mock::MockRehook;
use serde_json::{Value, json};

use crate::support::client_for;

/// The seed of every fake.
const SEED: u64 = 7;

/// The run id of every run: the start of the scenarios' source_ids and codes.
const RUN_ID: &str = "7";

/// Keys whose values are clock times.
const TIME_KEYS: [&str; 4] = ["at", "created_at", "received_at", "updated_at"];

/// `snapshots/<group>` at the top of the workspace.
fn suite_dir(group: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../snapshots")
        .join(group)
}

/// Replaces every clock time (a string under one of [`TIME_KEYS`]) with `[time]`.
fn redact_times(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if TIME_KEYS.contains(&key.as_str()) && v.is_string() {
                    *v = json!("[time]");
                } else {
                    redact_times(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_times),
        _ => {}
    }
}

/// `GET /__admin/<what>` on the fake, as JSON.
async fn admin(target: &Target, what: &str) -> Value {
    let answer = target
        .send(&Request::new("GET", Api::Admin, what))
        .await
        .expect("the fake answers");
    assert_eq!(answer.status, 200, "{what}: {answer:?}");
    answer.body
}

/// Runs `scenario` against a fresh fake seeded with [`SEED`] and records its calls, answers
/// and the final state; the scenario must pass.
async fn record(scenario: &Scenario) -> Value {
    let mock = MockRehook::builder().seed(SEED).start().await;
    let target = Target::new(&client_for(&mock));
    let env = Env {
        run_id: RUN_ID.to_owned(),
        conversion_event: "signup".to_owned(),
        no_admin: None,
        // The fake has a front door (`the_fake_answers_the_front_door_probe`); the probe is
        // left out here so that it takes none of the seeded request ids.
        no_front_door: None,
    };
    let run = scenarios::run(&target, scenario, &env).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", scenario.name);
    let mut recorded = json!({
        "calls": run.transcript,
        "final_state": {
            "customers": admin(&target, "/customers").await,
            "events": admin(&target, "/events").await,
            "drops": admin(&target, "/drops").await,
            "config": admin(&target, "/config").await,
        },
    });
    redact_times(&mut recorded);
    recorded
}

/// The scenario's file name in its suite: its name without the group.
fn snapshot_name(scenario: &Scenario) -> &'static str {
    scenario
        .name
        .split_once('.')
        .map_or(scenario.name, |(_, rule)| rule)
}

/// Records every scenario of `group`, then compares each with its snapshot.
async fn suite(group: &str) {
    let selected: Vec<Scenario> = scenarios::all()
        .into_iter()
        .filter(|s| s.group == group)
        .collect();
    assert!(!selected.is_empty(), "no scenarios in {group}");
    let mut recorded = Vec::new();
    for scenario in &selected {
        recorded.push((scenario, record(scenario).await));
    }
    for (scenario, value) in recorded {
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(suite_dir(group));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_sort_maps(true);
        settings.set_omit_expression(true);
        settings.set_info(&json!({
            "scenario": scenario.name,
            "rule": scenario.rule,
            "seed": SEED,
            "server": "rehook_mock::MockRehook, default application, drop mode reject, conversion event signup",
        }));
        settings.bind(|| insta::assert_json_snapshot!(snapshot_name(scenario), value));
    }
}

#[tokio::test]
async fn every_groups_scenarios_match_their_snapshots() {
    for group in GROUPS {
        suite(group).await;
    }
}

#[test]
fn every_snapshot_belongs_to_a_scenario_of_its_group() {
    let folders: BTreeSet<String> = std::fs::read_dir(suite_dir(""))
        .expect("the snapshots folder")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let groups: BTreeSet<String> = GROUPS.iter().map(|g| (*g).to_owned()).collect();
    assert_eq!(folders, groups, "one snapshots folder per group");
    for group in GROUPS {
        let expected: BTreeSet<String> = scenarios::all()
            .iter()
            .filter(|s| s.group == group)
            .map(|s| format!("{}.snap", snapshot_name(s)))
            .collect();
        let found: BTreeSet<String> = std::fs::read_dir(suite_dir(group))
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| name.ends_with(".snap"))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(found, expected, "snapshots/{group}");
    }
}

#[tokio::test]
async fn the_fake_answers_the_front_door_probe() {
    let mock = MockRehook::builder().seed(SEED).start().await;
    let target = Target::new(&client_for(&mock));
    assert_eq!(
        rehook_harness::contract::front_door_unavailable(&target).await,
        None
    );
    let unowned = target.with_write_key("wk_nobody");
    assert_eq!(
        rehook_harness::contract::front_door_unavailable(&unowned).await,
        Some(
            "the application \"rk_test_key\" does not own the write key \"wk_nobody\" (GET /__admin/config)"
                .to_owned()
        )
    );
}

#[tokio::test]
async fn the_same_seed_records_the_same_calls_and_codes() {
    let all = scenarios::all();
    let scenario = all
        .iter()
        .find(|s| s.name == "customers.generated_codes_are_six_letters_and_unique")
        .expect("the scenario exists");
    let first = record(scenario).await;
    assert_eq!(record(scenario).await, first);
    let code = &first["calls"][0]["response"]["body"]["referral_code"];
    assert!(
        code.as_str().is_some_and(|c| c.len() == 6),
        "a generated code: {code}"
    );
}

#[tokio::test]
async fn without_a_front_door_segment_outcomes_decided_by_the_harness_are_marked() {
    let mock = MockRehook::builder().seed(SEED).start().await;
    let target = Target::new(&client_for(&mock));
    let env = Env {
        run_id: RUN_ID.to_owned(),
        conversion_event: "signup".to_owned(),
        no_admin: None,
        no_front_door: Some("no front door".to_owned()),
    };
    let all = scenarios::all();
    let find = |name: &str| {
        all.iter()
            .find(|s| s.name == name)
            .expect("the scenario exists")
    };
    let dropped = scenarios::run(&target, find("segment.missing_identity_is_dropped"), &env).await;
    assert_eq!(dropped.outcome, Outcome::Passed);
    let entries = json!(dropped.transcript);
    assert_eq!(
        entries,
        json!([
            {"segment": {"type": "identify", "traits": {"plan": "free"}},
             "outcome": "dropped", "reason": "missing_identity",
             "note": "ingestion played by the harness"},
            {"segment": {"type": "track", "userId": "", "anonymousId": null, "event": "x"},
             "outcome": "dropped", "reason": "missing_identity",
             "note": "ingestion played by the harness"},
        ])
    );
    // An outcome that came from the target's answer is not marked.
    let refused = scenarios::run(
        &target,
        find("segment.refused_call_is_dropped_with_the_code"),
        &env,
    )
    .await;
    assert_eq!(refused.outcome, Outcome::Passed);
    let segments: Vec<Value> = json!(refused.transcript)
        .as_array()
        .expect("a list")
        .iter()
        .filter(|e| e.get("segment").is_some())
        .cloned()
        .collect();
    assert_eq!(segments.len(), 3);
    assert!(
        segments.iter().all(|e| e.get("note").is_none()),
        "{segments:?}"
    );
    assert!(
        json!(refused.transcript)
            .as_array()
            .expect("a list")
            .iter()
            .all(|e| e["call"] != "POST /v1/batch"),
        "nothing goes to the front door"
    );
}
