//! Real Segment SDKs against the front door: `@segment/analytics-node` 3.1.0 and
//! `segment-analytics-python` 2.4.0 (gzip on), installed by `clients/install.sh`, each play a
//! referral scenario (`clients/node/referral.js`, `clients/python/referral.py`) against an
//! in-process fake; the state is then asserted exactly through the admin API. The fault
//! setting answers the first batch with `500` to prove the SDKs' retries create nothing twice.
//!
//! They need the installed clients, so they are ignored by a plain `cargo test`; run them with
//! `cargo test -p rehook-mock --test it real_clients -- --ignored` (as CI does after
//! `clients/install.sh`). Without the clients they fail, naming what is missing.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rehook_mock::MockRehook;
use serde_json::{Value, json};

use crate::support::Fake;

/// How long one SDK run may take: the scenario, a retry after a `500`, and the flush.
const RUN_TIMEOUT: Duration = Duration::from_secs(90);

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients")
}

/// One installed SDK and how to run its scenario.
struct Sdk {
    /// `node` or `python`.
    name: &'static str,
    /// The program and the script.
    program: PathBuf,
    script: PathBuf,
    /// What must exist once `clients/install.sh` has run.
    installed: PathBuf,
    /// The source ids the scenario uses: advocate, friend, anonymous id, and the code.
    advocate: &'static str,
    friend: &'static str,
    code: &'static str,
}

fn node() -> Sdk {
    let dir = clients_dir().join("node");
    Sdk {
        name: "node",
        program: PathBuf::from("node"),
        script: dir.join("referral.js"),
        installed: dir.join("node_modules/@segment/analytics-node/package.json"),
        advocate: "node-advocate",
        friend: "node-friend",
        code: "NODEADV",
    }
}

fn python() -> Sdk {
    let dir = clients_dir().join("python");
    Sdk {
        name: "python",
        program: dir.join(".venv/bin/python"),
        script: dir.join("referral.py"),
        installed: dir.join(".venv/bin/python"),
        advocate: "py-advocate",
        friend: "py-friend",
        code: "PYADV",
    }
}

impl Sdk {
    /// Fails, naming what is missing, unless the client is installed.
    #[track_caller]
    fn require_installed(&self) {
        assert!(
            self.installed.exists(),
            "the {} Segment client is not installed ({} is missing): run clients/install.sh",
            self.name,
            self.installed.display()
        );
    }

    /// Runs the scenario against `base_url` until it exits (bounded); asserts exit 0.
    async fn play(&self, base_url: &str) {
        let child = tokio::process::Command::new(&self.program)
            .arg(&self.script)
            .arg(base_url)
            .arg("wk_test")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.program.display()));
        let output = tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the {} client did not exit within {RUN_TIMEOUT:?}",
                    self.name
                )
            })
            .expect("the client's output");
        assert!(
            output.status.success(),
            "the {} client failed ({}):\nstdout: {}\nstderr: {}",
            self.name,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The exact state one run of the scenario leaves.
async fn assert_scenario_state(fake: &Fake, sdk: &Sdk) {
    let customers = fake.admin_get("/__admin/customers").await;
    let customers = customers.as_array().expect("an array");
    let ids: Vec<&str> = customers
        .iter()
        .map(|c| c["source_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [sdk.advocate, sdk.friend], "{}", sdk.name);
    let (advocate, friend) = (&customers[0], &customers[1]);
    let name = if sdk.name == "node" {
        "Nora Node"
    } else {
        "Paula Python"
    };
    assert_eq!(
        advocate["metadata"],
        json!({"name": name, "plan": "pro", "referral_code": sdk.code, "newsletter": false})
    );
    assert_eq!(advocate["referral_code"], sdk.code);
    assert_eq!(advocate["referral_count"], 1);
    assert_eq!(advocate["referred_by"], Value::Null);
    assert_eq!(friend["referred_by"], sdk.advocate);
    assert_eq!(
        friend["metadata"],
        json!({}),
        "context never enters metadata"
    );

    let events = fake.admin_get("/__admin/events").await;
    let events = events.as_array().expect("an array");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event_name"], "signup");
    assert_eq!(events[0]["source_id"], sdk.friend);
    assert_eq!(
        events[0]["metadata"],
        json!({"referral_code": sdk.code, "source": "invite-link"})
    );

    let deliveries = fake.admin_get("/__admin/deliveries").await;
    let deliveries = deliveries.as_array().expect("an array");
    let got: Vec<(&str, &str, &str, &Value, &Value)> = deliveries
        .iter()
        .map(|d| {
            (
                d["type"].as_str().unwrap(),
                d["action"].as_str().unwrap_or("-"),
                d["outcome"].as_str().unwrap(),
                &d["status"],
                &d["reason"],
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "identify",
                "identify_user",
                "delivered",
                &json!(201),
                &Value::Null
            ),
            (
                "track",
                "track_event",
                "delivered",
                &json!(200),
                &Value::Null
            ),
            (
                "track",
                "track_event",
                "dropped",
                &Value::Null,
                &json!("anonymous_only")
            ),
            ("page", "-", "filtered", &Value::Null, &Value::Null),
        ],
        "{}",
        sdk.name
    );
    let mut message_ids: Vec<&str> = deliveries
        .iter()
        .map(|d| d["message_id"].as_str().expect("the SDKs send messageIds"))
        .collect();
    message_ids.sort_unstable();
    message_ids.dedup();
    assert_eq!(message_ids.len(), 4);
    assert_eq!(fake.admin_get("/__admin/drops").await, json!([]));
    assert_eq!(fake.admin_get("/__admin/unknown-sources").await, json!([]));
    let referred = fake
        .get(&format!("/customers/referral/list/{}", sdk.advocate))
        .await;
    let referred: Vec<&str> = referred
        .ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["source_id"].as_str().unwrap())
        .collect();
    assert_eq!(referred, [sdk.friend]);
}

/// The front-door requests of the journal: (path, status), oldest first.
async fn front_door_requests(fake: &Fake) -> Vec<(String, u64)> {
    front_door_journal(fake)
        .await
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_owned(),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The journal entries of front-door requests, oldest first.
async fn front_door_journal(fake: &Fake) -> Vec<Value> {
    let journal = fake.admin_get("/__admin/requests").await;
    journal
        .as_array()
        .expect("an array")
        .iter()
        .filter(|e| e["path"].as_str().is_some_and(|p| p.starts_with("/v1/")))
        .cloned()
        .collect()
}

async fn scenario(sdk: Sdk) {
    sdk.require_installed();
    let fake = Fake::start().await;
    sdk.play(fake.mock.base_url()).await;
    assert_scenario_state(&fake, &sdk).await;
    assert_eq!(
        front_door_requests(&fake).await,
        [("/v1/batch".to_owned(), 200)]
    );
}

async fn retried_scenario(sdk: Sdk) {
    sdk.require_installed();
    let fake = Fake::with(MockRehook::builder().fail_front_door_requests(1)).await;
    sdk.play(fake.mock.base_url()).await;
    // The first batch was answered 500 and stored nothing; the retry stored everything once.
    assert_eq!(
        front_door_requests(&fake).await,
        [("/v1/batch".to_owned(), 500), ("/v1/batch".to_owned(), 200)]
    );
    assert_scenario_state(&fake, &sdk).await;
    assert_eq!(
        fake.admin_get("/__admin/faults").await,
        json!({"fail_front_door_requests": 0})
    );
}

#[tokio::test]
#[ignore = "needs clients/install.sh"]
async fn analytics_node_plays_the_referral_scenario_into_the_exact_state() {
    scenario(node()).await;
}

#[tokio::test]
#[ignore = "needs clients/install.sh"]
async fn analytics_python_with_gzip_plays_the_referral_scenario_into_the_exact_state() {
    scenario(python()).await;
}

#[tokio::test]
#[ignore = "needs clients/install.sh"]
async fn analytics_node_retries_a_500_once_and_nothing_is_created_twice() {
    retried_scenario(node()).await;
}

#[tokio::test]
#[ignore = "needs clients/install.sh"]
async fn analytics_python_retries_a_500_once_and_nothing_is_created_twice() {
    retried_scenario(python()).await;
}
