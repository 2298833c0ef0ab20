//! The contract as properties: random sequences checked against the reference model, the
//! concurrent race, and the failure reports of deliberately wrong servers.

use rehook_harness::Client;
use rehook_harness::contract::race;
use rehook_harness::contract::random::{self, RandomOptions};
use rehook_mock::{Fault, MockRehook};

use crate::support::{Served, TempDir, client_for, run_harness};

/// Cases from `PROPTEST_CASES` (CI sets 32), else 16.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16)
}

/// The committed regression file: failing seeds are saved there and re-run first.
const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/properties.proptest-regressions"
);

/// Runs `options` off the async threads, shrinking by iterations only (no time bound), so
/// that the shrunk failures the tests pin are the same on a slow machine.
async fn run_blocking(
    client: Client,
    mut options: RandomOptions,
) -> Result<random::RandomReport, random::RandomFailure> {
    options.max_shrink_time = None;
    tokio::task::spawn_blocking(move || random::run(&client, &options))
        .await
        .expect("the run does not panic")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_sequences_against_the_fake_match_the_model() {
    let mock = MockRehook::builder().seed(11).start().await;
    let options = RandomOptions {
        seed: 11,
        cases: cases(),
        max_steps: 30,
        regressions: Some(REGRESSIONS),
        ..RandomOptions::default()
    };
    match run_blocking(client_for(&mock), options).await {
        Ok(report) => {
            assert_eq!(report.cases, cases());
            assert!(report.steps >= report.cases as usize * 20, "{report:?}");
            if cases() >= 16 {
                // The pools are small enough that every rule is reached.
                for outcome in [
                    "201",
                    "200 attributed",
                    "200 already_referred",
                    "409 REFERRAL_CODE_TAKEN",
                    "422 REFERRAL_CODE_REQUIRED",
                    "422 REFERRAL_CODE_UNKNOWN",
                    "422 SELF_REFERRAL",
                    "400 SOURCE_ID_REQUIRED",
                    "400 INVALID_SOURCE_ID",
                    "400 INVALID_METADATA",
                    "400 INVALID_REFERRAL_CODE",
                    "400 EVENT_NAME_REQUIRED",
                    "404 CUSTOMER_NOT_FOUND",
                    "404 REFERRAL_CODE_NOT_FOUND",
                    "segment dropped duplicate_message_id",
                    "segment dropped missing_identity",
                    "segment dropped anonymous_only",
                    "segment dropped invalid_type",
                    "segment filtered",
                    "segment identify_user 201",
                    "segment track_event 200 attributed",
                ] {
                    assert!(
                        report.outcomes.contains_key(outcome),
                        "{outcome} never ran: {report:#?}"
                    );
                }
            }
        }
        Err(failure) => panic!("{failure}"),
    }
}

/// A quarter of the cases, at least 4: for the variants of the main property.
fn few_cases() -> u32 {
    (cases() / 4).max(4)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_sequences_in_drop_mode_accept_match_the_model() {
    let mock = MockRehook::builder()
        .seed(12)
        .drop_mode(rehook_mock::DropMode::Accept)
        .start()
        .await;
    let options = RandomOptions {
        seed: 12,
        cases: few_cases(),
        accept_drops: true,
        ..RandomOptions::default()
    };
    let report = run_blocking(client_for(&mock), options)
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert!(
        report.outcomes.keys().any(|k| k.contains("200 dropped")),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_sequences_through_the_rehook_api_alone_under_api_match_the_model() {
    let mock = MockRehook::builder()
        .seed(13)
        .conversion_event("trial_started")
        .start()
        .await;
    let base = format!("{}/api", mock.base_url());
    let client = Client::new(&base, mock.api_key(), mock.api_secret()).expect("url");
    let options = RandomOptions {
        seed: 13,
        cases: few_cases(),
        admin: false,
        conversion_event: "trial_started".to_owned(),
        referral_link_base: None,
        ..RandomOptions::default()
    };
    let report = run_blocking(client, options)
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert!(report.outcomes.contains_key("200 attributed"), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_seed_draws_the_same_sequences_and_a_rerun_needs_another_salt() {
    let mock = MockRehook::builder().seed(14).start().await;
    let options = RandomOptions {
        seed: 14,
        cases: 4,
        ..RandomOptions::default()
    };
    let first = run_blocking(client_for(&mock), options.clone())
        .await
        .unwrap_or_else(|f| panic!("{f}"));
    let other = MockRehook::builder().seed(14).start().await;
    let again = run_blocking(client_for(&other), options.clone())
        .await
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(first, again);

    // The first server still holds the first run's customers: the same names would collide.
    let collided = run_blocking(client_for(&mock), options.clone())
        .await
        .expect_err("the names of seed 14 are taken");
    assert!(collided.is_setup(), "{collided}");
    assert!(
        collided.to_string().contains("use another salt"),
        "{collided}"
    );
    let salted = RandomOptions { salt: 1, ..options };
    let third = run_blocking(client_for(&mock), salted)
        .await
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(
        (third.steps, &third.outcomes),
        (first.steps, &first.outcomes)
    );
}

#[test]
fn a_run_works_from_a_plain_thread() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mock = runtime.block_on(MockRehook::builder().seed(15).start());
    let client = client_for(&mock);
    let options = RandomOptions {
        seed: 15,
        cases: 2,
        ..RandomOptions::default()
    };
    let report = std::thread::spawn(move || random::run(&client, &options))
        .join()
        .expect("no panic")
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.cases, 2);
    drop(mock);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_claims_and_creates_on_the_fake_keep_codes_unique_and_lose_no_update() {
    let mock = MockRehook::builder().seed(5).start().await;
    let client = client_for(&mock);
    let options = race::RaceOptions {
        seed: 5,
        ..race::RaceOptions::default()
    };
    let report = tokio::task::spawn_blocking(move || race::run(&client, &options))
        .await
        .expect("the race does not panic")
        .unwrap_or_else(|failure| panic!("{failure}"));
    // 4 rounds × (3 codes claimed by new customers + 3 by existing ones).
    assert_eq!(report.contested_codes, 24);
    assert_eq!(report.claims, 4 * 2 * 16);
    assert_eq!(report.creates, 4 * 16);
    // 4 rounds × (16 friends with one code + one friend with two codes).
    assert_eq!(report.conversions, 4 * (16 + 2));
}

/// A deliberately wrong server: `POST /customers` answers `201` with a well-formed customer
/// but stores nothing; every read answers `404`.
async fn forgetful_server() -> Served {
    use axum::Json;
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    use serde_json::{Value, json};

    async fn create(Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
        let source_id = match &body["source_id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let code = body["referral_code"]
            .as_str()
            .unwrap_or("ABCDEF")
            .to_owned();
        let metadata = if body["metadata"].is_object() {
            body["metadata"].clone()
        } else {
            json!({})
        };
        (
            StatusCode::CREATED,
            Json(json!({
                "id": "cust_AAAAAAAAAAAAAAAAAAAAA", "source_id": source_id, "referral_code": code,
                "metadata": metadata, "referral_count": 0, "referred_by": null,
                "referral_link": format!("https://rehook.test/r/{code}"),
                "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
            })),
        )
    }
    fn not_found(code: &'static str) -> (StatusCode, Json<Value>) {
        (
            StatusCode::NOT_FOUND,
            Json(
                json!({"code": code, "message": "not found", "details": null, "request_id": "req_x"}),
            ),
        )
    }
    let app = axum::Router::new()
        .route("/customers", post(create))
        .route(
            "/customers/validate-code/{code}",
            get(|| async { not_found("REFERRAL_CODE_NOT_FOUND") }),
        )
        .route(
            "/customers/referral/list/{id}",
            get(|| async { not_found("CUSTOMER_NOT_FOUND") }),
        )
        .route(
            "/customers/{id}",
            get(|| async { not_found("CUSTOMER_NOT_FOUND") }),
        )
        .route("/events/invoke", post(|| async { not_found("NOT_FOUND") }));
    Served::start(app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_forgets_creates_fails_with_one_replayable_step() {
    let server = forgetful_server().await;
    let client = server.client();
    let options = RandomOptions {
        seed: 21,
        cases: 8,
        admin: false,
        ..RandomOptions::default()
    };
    let failure = run_blocking(client, options)
        .await
        .expect_err("a server that stores nothing breaks the contract");
    let text = failure.to_string();
    // Shrinking leaves the one step that shows it: the sequence's first write.
    assert_eq!(failure.steps.len(), 1, "{text}");
    let lines = failure.replay_lines();
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    if line.starts_with("curl") {
        let prefix = format!(
            "curl -sS -X POST -u 'rk_test_key':\"$REHOOK_API_SECRET\" -H 'content-type: application/json' '{}/",
            server.base_url()
        );
        assert!(line.starts_with(&prefix), "{line}");
        // The body after -d is the JSON that was sent.
        let body = line
            .rsplit_once(" -d '")
            .expect("a body")
            .1
            .trim_end_matches('\'');
        let random::Request::Rehook {
            body: Some(sent), ..
        } = &failure.steps[0].request
        else {
            panic!("a POST step: {text}");
        };
        assert_eq!(
            &serde_json::from_str::<serde_json::Value>(body).expect("JSON"),
            sent
        );
    } else {
        // A Segment message: one NDJSON line that replay accepts.
        let message: serde_json::Value = serde_json::from_str(line).expect("an NDJSON line");
        assert!(message.is_object(), "{line}");
        assert!(
            text.contains("rehook-harness replay FILE --base-url"),
            "{text}"
        );
    }
    assert!(text.contains(line.as_str()), "{text}");
    assert!(text.contains("problem: "), "{text}");
    assert!(
        text.contains("expected: ") && text.contains("answered: "),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_forgets_creates_fails_the_race() {
    let server = forgetful_server().await;
    let client = server.client();
    let options = race::RaceOptions {
        admin: false,
        ..race::RaceOptions::default()
    };
    let failure = tokio::task::spawn_blocking(move || race::run(&client, &options))
        .await
        .expect("no panic")
        .expect_err("every claim wins on a server that stores nothing");
    assert!(
        failure.problem.contains("16 claims") || failure.problem.contains("claims of"),
        "{failure}"
    );
    assert!(failure.to_string().starts_with("race: "), "{failure}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_segment_lines_of_a_failure_replay_as_ndjson() {
    let server = forgetful_server().await;
    let client = server.client();
    // The first seed whose shortest failure is a Segment message.
    let mut found = None;
    for seed in 0..40 {
        let options = RandomOptions {
            seed,
            cases: 4,
            admin: false,
            ..RandomOptions::default()
        };
        let failure = run_blocking(client.clone(), options)
            .await
            .expect_err("the server forgets");
        if matches!(
            failure.steps.first().map(|s| &s.request),
            Some(random::Request::Segment(_))
        ) {
            found = Some(failure);
            break;
        }
    }
    let failure = found.expect("some seed fails on a Segment message");
    let text = failure.to_string();
    let (_, block) = text
        .split_once("as one NDJSON file")
        .expect("an NDJSON block");
    let lines: Vec<&str> = block.lines().skip(1).filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines,
        failure
            .replay_lines()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );

    let dir = TempDir::new("failure-ndjson");
    let file = dir.file("steps.ndjson", lines.join("\n") + "\n");
    let output = run_harness(vec!["replay".into(), file.display().to_string()]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "{}:",
            rehook_harness::replay::counted(lines.len(), "message")
        )),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_replaces_metadata_fails_within_three_steps() {
    // The fake with updates replacing metadata instead of merging it shallowly.
    let fake = MockRehook::builder()
        .seed(31)
        .fault(Fault::MetadataReplaced)
        .start()
        .await;
    let client = client_for(&fake);
    let options = RandomOptions {
        seed: 32,
        cases: 32,
        admin: false,
        ..RandomOptions::default()
    };
    let failure = run_blocking(client, options)
        .await
        .expect_err("replacing metadata breaks the shallow merge");
    let text = failure.to_string();
    assert!(failure.steps.len() <= 3, "{text}");
    assert!(failure.problem.contains("metadata: expected"), "{text}");
    let lines = failure.replay_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("curl -sS -X POST -u 'rk_test_key':\"$REHOOK_API_SECRET\""))
            || text.contains("NDJSON"),
        "{text}"
    );
}

/// Runs `line` with `sh -c`, `REHOOK_API_SECRET` set to `secret`; its stdout.
async fn run_in_shell(line: &str, secret: &str) -> String {
    let line = line.to_owned();
    let secret = secret.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .env("REHOOK_API_SECRET", &secret)
            .output()
            .expect("run sh")
    })
    .await
    .expect("the blocking task finished");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printed_curl_line_runs_in_a_shell_with_the_secret_from_the_environment() {
    let mock = MockRehook::builder().seed(33).start().await;
    let failure = random::RandomFailure {
        seed: 33,
        base_url: mock.base_url().to_owned(),
        api_key: mock.api_key().to_owned(),
        steps: vec![random::Record {
            step: 1,
            request: random::Request::Rehook {
                method: "POST",
                segments: vec!["customers".to_owned()],
                body: Some(
                    serde_json::json!({"source_id": "it's paste-ready", "metadata": {"plan": "pro"}}),
                ),
            },
            expected: "201".to_owned(),
            actual: "201".to_owned(),
        }],
        problem: "none".to_owned(),
        check: Some(Box::new(random::Request::get(&[
            "customers",
            "it's paste-ready",
        ]))),
    };
    let text = failure.to_string();
    assert!(!text.contains(mock.api_secret()), "{text}");
    let create = &failure.replay_lines()[0];
    let wrong = run_in_shell(create, "not the secret").await;
    let wrong: serde_json::Value = serde_json::from_str(&wrong).expect("JSON");
    assert_eq!(wrong["code"], "UNAUTHORIZED", "{create}");

    let created = run_in_shell(create, mock.api_secret()).await;
    let created: serde_json::Value = serde_json::from_str(&created).expect("JSON");
    assert_eq!(created["source_id"], "it's paste-ready", "{create}");
    assert_eq!(created["metadata"], serde_json::json!({"plan": "pro"}));

    let read_back = text
        .lines()
        .skip_while(|l| !l.starts_with("problem: "))
        .nth(2)
        .expect("the read-back line")
        .trim();
    let read: serde_json::Value =
        serde_json::from_str(&run_in_shell(read_back, mock.api_secret()).await).expect("JSON");
    assert_eq!(read, created, "{read_back}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_reattributes_a_referred_friend_fails_the_conversion_race() {
    let mock = MockRehook::builder()
        .seed(5)
        .fault(rehook_mock::Fault::ReferredFriendReattributed)
        .start()
        .await;
    let client = client_for(&mock);
    let options = race::RaceOptions {
        seed: 5,
        rounds: 1,
        ..race::RaceOptions::default()
    };
    let failure = tokio::task::spawn_blocking(move || race::run(&client, &options))
        .await
        .expect("the race does not panic")
        .expect_err("two attributions of one friend are caught");
    assert_eq!(
        failure.problem,
        "one friend converting with two codes: exactly one conversion must be attributed, the other already_referred"
    );
    assert_eq!(failure.evidence.len(), 2, "{failure}");
}
