//! `rehook-harness check`: the contract passes against the fake, admin-only scenarios are
//! skipped where there is no admin API, a wrong server fails with the scenario named, and the
//! command line's exit codes and reports.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rehook_harness::contract::{self, CheckOptions, Outcome};
use rehook_mock::{MockRehook, Store};
use serde_json::{Value, json};

use crate::support::{Served, TempDir, closed_port_url, run_harness, seeded_fake};

fn scenarios_only(seed: u64) -> CheckOptions {
    CheckOptions {
        seed,
        random: false,
        race: false,
        ..CheckOptions::default()
    }
}

/// The whole contract, with a few random sequences.
fn whole(seed: u64) -> CheckOptions {
    CheckOptions {
        seed,
        cases: 3,
        ..CheckOptions::default()
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The fake's whole surface over a fresh seeded store.
fn fake_router(seed: u64) -> Router {
    let store = Arc::new(Store::new(MockRehook::builder().seed(seed).config()));
    rehook_mock::app(store)
}

/// The fake's Rehook API only: every `/__admin` path answers 404, as a real Rehook would.
async fn rehook_only_server(seed: u64) -> Served {
    let no_admin = || async {
        (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"code": "NOT_FOUND", "message": "no such path"})),
        )
            .into_response()
    };
    let router = Router::new()
        .route("/__admin", axum::routing::any(no_admin))
        .route("/__admin/{*rest}", axum::routing::any(no_admin))
        .fallback_service(fake_router(seed));
    Served::start(router).await
}

/// Answers every update of a customer with 201 instead of 200: a server that cannot tell a
/// create from an update.
async fn creates_on_every_upsert(request: Request, next: Next) -> Response {
    let upsert = request.method() == Method::POST && request.uri().path() == "/customers";
    let mut response = next.run(request).await;
    if upsert && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::CREATED;
    }
    response
}

/// The fake, deliberately wrong in one rule: updates answer 201.
async fn wrong_server(seed: u64) -> Served {
    let router = fake_router(seed).layer(middleware::from_fn(creates_on_every_upsert));
    Served::start(router).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_contract_passes_against_the_fake() {
    let (mock, client) = seeded_fake(11).await;
    let report = contract::check(&client, &whole(11)).await;
    for case in &report.cases {
        assert_eq!(case.outcome, Outcome::Passed, "{case}");
    }
    assert_eq!(report.cases.len(), contract::scenarios::all().len() + 2);
    let last: Vec<(&str, &str)> = report.cases[report.cases.len() - 2..]
        .iter()
        .map(|c| (c.name.as_str(), c.group.as_str()))
        .collect();
    assert_eq!(
        last,
        [
            (contract::RANDOM_CASE, "random"),
            (contract::RACE_CASE, "race")
        ]
    );
    assert!(report.failed().is_empty());
    // The drop-mode scenario put the setting back.
    let config = mock.store().config_doc(false);
    assert_eq!(config["applications"][0]["drop_mode"], "reject");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_admin_api_admin_scenarios_are_skipped_and_the_rest_pass() {
    let server = rehook_only_server(12).await;
    let report = contract::check(&server.client(), &whole(12)).await;
    assert!(report.case(contract::RANDOM_CASE).is_some());
    assert!(report.case(contract::RACE_CASE).is_some());
    let admin: Vec<&str> = contract::scenarios::all()
        .iter()
        .filter(|s| s.needs_admin)
        .map(|s| s.name)
        .collect();
    assert_eq!(
        admin,
        [
            "drops.each_refusal_is_logged",
            "drops.accept_mode_answers_dropped",
            "drops.events_are_stored_as_sent"
        ]
    );
    assert_eq!(report.skipped(), admin);
    for case in &report.cases {
        match &case.outcome {
            Outcome::Skipped(reason) => assert_eq!(
                reason, "needs the admin API: GET /__admin/health answered 404",
                "{}",
                case.name
            ),
            outcome => assert_eq!(*outcome, Outcome::Passed, "{case}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_answers_updates_with_201_fails_the_scenarios_that_update() {
    let server = wrong_server(13).await;
    let report = contract::check(&server.client(), &scenarios_only(13)).await;
    let failed = report.failed();
    assert!(
        failed.contains(&"customers.create_answers_201_then_update_200"),
        "{failed:?}"
    );
    let Some(Outcome::Failed(detail)) = report
        .case("customers.create_answers_201_then_update_200")
        .map(|c| &c.outcome)
    else {
        panic!("the scenario failed");
    };
    let lines: Vec<&str> = detail.lines().collect();
    assert_eq!(
        lines[0],
        "call 2 (POST /customers): expected status 200, got 201"
    );
    // The replay is the two calls, ready to paste.
    let curls: Vec<&&str> = lines
        .iter()
        .filter(|l| l.trim().starts_with("curl "))
        .collect();
    assert_eq!(curls.len(), 2, "{detail}");
    assert!(curls[1].contains(&format!("'{}/customers'", server.base_url())));
    assert!(
        curls[1].contains(r#""metadata":{"plan":"pro"}"#),
        "{detail}"
    );
    // Scenarios that never update a customer still pass.
    assert_eq!(
        report
            .case("customers.taken_code_changes_nothing")
            .map(|c| &c.outcome),
        Some(&Outcome::Passed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conversion_event_can_be_named() {
    let mock = MockRehook::builder()
        .seed(14)
        .conversion_event("trial_started")
        .start()
        .await;
    let client = crate::support::client_for(&mock);
    let options = CheckOptions {
        conversion_event: "trial_started".to_owned(),
        ..scenarios_only(14)
    };
    let report = contract::check(&client, &options).await;
    assert!(report.all_passed(), "{:?}", report.failed());
    // With the default name the same server fails the conversion scenarios.
    let report = contract::check(&client, &scenarios_only(15)).await;
    assert!(
        report
            .failed()
            .contains(&"events.conversion_attributes_the_referral"),
        "{:?}",
        report.failed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_runs_only_the_named_scenarios_and_groups() {
    let (_mock, client) = seeded_fake(16).await;
    let options = CheckOptions {
        scenarios: Some(vec!["auth".into(), "events.self_referral_refused".into()]),
        ..scenarios_only(16)
    };
    assert!(options.unknown_scenarios().is_empty());
    let report = contract::check(&client, &options).await;
    let names: Vec<&str> = report.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "auth.missing_credentials",
            "auth.malformed_credentials",
            "auth.unknown_key",
            "auth.wrong_secret",
            "auth.check_auth_accepts_the_credentials",
            "events.self_referral_refused",
        ]
    );
    let bad = CheckOptions {
        scenarios: Some(vec!["auth".into(), "no.such".into()]),
        ..scenarios_only(16)
    };
    assert_eq!(bad.unknown_scenarios(), ["no.such"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_against_the_in_process_fake_exits_0_with_a_line_per_case() {
    let output = run_harness(args(&[
        "check", "--seed", "3", "--run-id", "ci3", "--cases", "2",
    ]))
    .await;
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "pass  auth.missing_credentials");
    for name in contract::scenarios::all().iter().map(|s| s.name) {
        assert!(lines.contains(&format!("pass  {name}").as_str()), "{name}");
    }
    let summary = lines.last().expect("a summary");
    assert!(
        summary.ends_with("passed, 0 failed, 0 skipped (seed 3, run id ci3)"),
        "{summary}"
    );
    assert!(text(&output.stderr).contains("(in-process fake) with seed 3, run id ci3\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_against_a_wrong_server_exits_1_naming_the_scenario_with_curl_lines() {
    let server = wrong_server(21).await;
    let output = run_harness(args(&[
        "check",
        "--base-url",
        &server.base_url(),
        "--seed",
        "21",
        "--cases",
        "2",
    ]))
    .await;
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("fail  customers.create_answers_201_then_update_200\n      call 2 (POST /customers): expected status 200, got 201"), "{stdout}");
    assert!(stdout.contains(&format!(
        "curl -sS -i -X POST '{}/customers' -u 'rk_test_key':\"$REHOOK_API_SECRET\"",
        server.base_url()
    )));
    assert!(
        !stdout.contains("rk_test_secret"),
        "the secret stays out of the output"
    );
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("failed: "))
        .expect("names");
    assert!(summary.contains("customers.create_answers_201_then_update_200"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_junit_report_has_a_suite_per_group_and_the_right_counts() {
    let server = wrong_server(22).await;
    let dir = TempDir::new("junit");
    let path = dir.file("report.xml", "");
    let output = run_harness(args(&[
        "check",
        "--base-url",
        &server.base_url(),
        "--seed",
        "22",
        "--no-random",
        "--no-race",
        "--junit",
        &path.display().to_string(),
        "--json",
    ]))
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let summary: Value = serde_json::from_slice(&output.stdout).expect("--json prints JSON");
    let failed = summary["counts"]["failed"].as_u64().expect("a count");
    assert!(failed >= 1);
    assert_eq!(summary["passed"], false);

    let xml = std::fs::read_to_string(&path).expect("the report was written");
    let doc = roxmltree::Document::parse(&xml).expect("JUnit XML parses");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let total = contract::scenarios::all().len();
    assert_eq!(root.attribute("tests"), Some(total.to_string().as_str()));
    assert_eq!(
        root.attribute("failures"),
        Some(failed.to_string().as_str())
    );
    assert_eq!(root.attribute("skipped"), Some("0"));
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let names: Vec<&str> = suites.iter().filter_map(|s| s.attribute("name")).collect();
    assert_eq!(names, contract::scenarios::GROUPS);
    let mut cases = 0;
    let mut failures = 0;
    for suite in &suites {
        let in_suite: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(
            suite.attribute("tests"),
            Some(in_suite.len().to_string().as_str())
        );
        let failing = in_suite
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
            .count();
        assert_eq!(
            suite.attribute("failures"),
            Some(failing.to_string().as_str())
        );
        cases += in_suite.len();
        failures += failing;
    }
    assert_eq!((cases, failures as u64), (total, failed));
    let case = doc
        .descendants()
        .find(|n| n.attribute("name") == Some("customers.create_answers_201_then_update_200"))
        .expect("the failing case");
    let failure = case
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    assert_eq!(
        failure.attribute("message"),
        Some("call 2 (POST /customers): expected status 200, got 201")
    );
    assert!(failure.text().unwrap_or("").contains("curl -sS -i -X POST"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_marks_admin_scenarios_skipped_without_an_admin_api() {
    let server = rehook_only_server(23).await;
    let dir = TempDir::new("junit-skipped");
    let path = dir.file("report.xml", "");
    let output = run_harness(args(&[
        "check",
        "--base-url",
        &server.base_url(),
        "--seed",
        "23",
        "--no-random",
        "--no-race",
        "--junit",
        &path.display().to_string(),
    ]))
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains(
        "skip  drops.each_refusal_is_logged (needs the admin API: GET /__admin/health answered 404)"
    ));
    let xml = std::fs::read_to_string(&path).expect("written");
    let doc = roxmltree::Document::parse(&xml).expect("parses");
    assert_eq!(doc.root_element().attribute("skipped"), Some("3"));
    let drops = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some("drops"))
        .expect("the drops suite");
    assert_eq!(drops.attribute("skipped"), Some("3"));
    assert_eq!(
        drops
            .descendants()
            .filter(|n| n.has_tag_name("skipped"))
            .count(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_exits_2_when_the_run_cannot_start() {
    let (mock, _client) = seeded_fake(24).await;
    let not_rehook = Served::fixed_answer(
        "404 Not Found",
        r#"{"code":"NOT_FOUND","message":"no route"}"#,
    )
    .await;
    let closed = closed_port_url().await;
    let dir = TempDir::new("unwritable");
    let unwritable = dir.file("a-file", "").join("report.xml");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            args(&["check", "--base-url", &closed, "--seed", "1"]),
            "cannot be reached",
        ),
        (
            args(&[
                "check",
                "--base-url",
                mock.base_url(),
                "--api-secret",
                "wrong",
            ]),
            "refused the credentials",
        ),
        (
            args(&["check", "--base-url", &not_rehook.base_url()]),
            "does not answer as a Rehook API: GET /events/segment/check-auth answered 404 NOT_FOUND",
        ),
        (
            args(&["check", "--scenario", "no.such"]),
            "no scenario or group named no.such",
        ),
        (
            args(&["check", "--junit", &unwritable.display().to_string()]),
            "cannot write the JUnit report",
        ),
        (args(&["check", "--seed", "x"]), "invalid value 'x'"),
        (
            args(&["check", "--run-id", "has-dash"]),
            "--run-id \"has-dash\" must be 1 to 16 ASCII letters and digits",
        ),
        (
            args(&["check", "--base-url", "not a url"]),
            "invalid base URL",
        ),
    ];
    for (arguments, says) in cases {
        let output = run_harness(arguments.clone()).await;
        assert_eq!(output.status.code(), Some(2), "{arguments:?}");
        assert!(
            text(&output.stderr).contains(says),
            "{arguments:?}: {}",
            text(&output.stderr)
        );
        assert!(
            !text(&output.stdout).contains("pass  "),
            "no case ran: {arguments:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_token_is_sent_and_without_it_admin_scenarios_are_skipped() {
    let mock = MockRehook::builder()
        .seed(25)
        .admin_token("s3cret-admin")
        .start()
        .await;
    let options = CheckOptions {
        scenarios: Some(vec!["drops".into()]),
        ..scenarios_only(25)
    };
    let without = contract::check(&crate::support::client_for(&mock), &options).await;
    assert_eq!(without.skipped().len(), 3, "{:?}", without.cases);
    let Some(Outcome::Skipped(reason)) = without.cases.first().map(|c| &c.outcome) else {
        panic!("skipped");
    };
    assert_eq!(
        reason,
        "needs the admin API: GET /__admin/health answered 401"
    );
    let client = crate::support::client_for(&mock).with_admin_token("s3cret-admin");
    let with = contract::check(&client, &options).await;
    assert_eq!(with.cases.len(), 3);
    assert!(
        with.all_passed() && with.skipped().is_empty(),
        "{:?}",
        with.cases
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_checked_twice_against_one_server_passes_both_times() {
    let (mock, _client) = seeded_fake(26).await;
    let check = || {
        run_harness(args(&[
            "check",
            "--base-url",
            mock.base_url(),
            "--seed",
            "7",
            "--cases",
            "4",
        ]))
    };
    let first = check().await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stdout));
    let second = check().await;
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}{}",
        text(&second.stdout),
        text(&second.stderr)
    );
    let run_id = |output: &std::process::Output| {
        text(&output.stderr)
            .lines()
            .find_map(|l| l.split_once(", run id ").map(|(_, id)| id.to_owned()))
            .expect("the run id is printed")
    };
    assert_ne!(run_id(&first), run_id(&second));

    // The first run's id repeats its exact names: against the server that holds them now, the
    // creates meet the first run's customers.
    let first_id = run_id(&first);
    let repeated = run_harness(args(&[
        "check",
        "--base-url",
        mock.base_url(),
        "--seed",
        "7",
        "--run-id",
        &first_id,
        "--scenario",
        "customers.create_answers_201_then_update_200",
        "--no-random",
        "--no-race",
    ]))
    .await;
    let stdout = text(&repeated.stdout);
    assert_eq!(repeated.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("call 1 (POST /customers): expected status 201, got 200"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "\"source_id\":\"{first_id}-customers.create_answers_201_then_update_200-a\""
        )),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_admin_token_stops_the_run_with_exit_2() {
    let mock = MockRehook::builder()
        .seed(27)
        .admin_token("T0K")
        .start()
        .await;
    let output = run_harness(args(&[
        "check",
        "--base-url",
        mock.base_url(),
        "--admin-token",
        "WRONG",
        "--scenario",
        "drops",
    ]))
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr
            .contains("refused the admin token (401 on GET /__admin/health); check --admin-token"),
        "{stderr}"
    );
    assert!(!text(&output.stdout).contains("pass  "));

    // Without a token, the same server's admin scenarios are skipped and the run is green.
    let without = run_harness(args(&[
        "check",
        "--base-url",
        mock.base_url(),
        "--scenario",
        "drops",
    ]))
    .await;
    let stdout = text(&without.stdout);
    assert_eq!(without.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("GET /__admin/health answered 401"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_set_up_otherwise_stops_the_run_naming_the_setting() {
    let other_event = MockRehook::builder()
        .seed(28)
        .conversion_event("trial_started")
        .start()
        .await;
    let accepting = MockRehook::builder()
        .seed(28)
        .drop_mode(rehook_mock::DropMode::Accept)
        .start()
        .await;
    let cases = [
        (
            other_event.base_url(),
            "application rk_test_key has conversion_events [\"trial_started\"], without \"signup\" (--conversion-event); pass --conversion-event trial_started",
        ),
        (
            accepting.base_url(),
            "application rk_test_key has drop_mode \"accept\"; check needs drop mode \"reject\"",
        ),
    ];
    for (url, says) in cases {
        let output = run_harness(args(&["check", "--base-url", url, "--scenario", "auth"])).await;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(!text(&output.stdout).contains("pass  "), "no case ran");
    }

    // Named with --conversion-event, the server's event is what the run assumes.
    let named = run_harness(args(&[
        "check",
        "--base-url",
        other_event.base_url(),
        "--conversion-event",
        "trial_started",
        "--scenario",
        "events",
    ]))
    .await;
    assert_eq!(named.status.code(), Some(0), "{}", text(&named.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_selects_the_random_run_and_the_race_only_by_name() {
    let (_mock, client) = seeded_fake(29).await;
    let names = |report: &contract::CheckReport| -> Vec<String> {
        report.cases.iter().map(|c| c.name.clone()).collect()
    };
    let one = CheckOptions {
        scenarios: Some(vec!["events.self_referral_refused".into()]),
        cases: 0,
        ..CheckOptions::default()
    };
    assert_eq!(
        names(&contract::check(&client, &one).await),
        ["events.self_referral_refused"]
    );

    let by_group = CheckOptions {
        scenarios: Some(vec!["random".into(), "race".into()]),
        cases: 0,
        ..CheckOptions::default()
    };
    assert!(by_group.unknown_scenarios().is_empty());
    let report = contract::check(&client, &by_group).await;
    assert_eq!(names(&report), [contract::RANDOM_CASE, contract::RACE_CASE]);
    assert_eq!(
        report.cases[0].outcome,
        Outcome::Skipped("--cases 0: no random sequence to run".to_owned())
    );
    assert_eq!(report.cases[1].outcome, Outcome::Passed);

    let by_name = CheckOptions {
        scenarios: Some(vec![contract::RACE_CASE.into()]),
        ..CheckOptions::default()
    };
    assert!(by_name.unknown_scenarios().is_empty());
    assert!(!by_name.runs_random() && by_name.runs_race());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_admin_api_a_conversion_answered_without_referral_hints_at_the_conversion_event()
{
    let store = Arc::new(Store::new(
        MockRehook::builder()
            .seed(30)
            .conversion_event("trial_started")
            .config(),
    ));
    let no_admin = || async {
        (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"code": "NOT_FOUND", "message": "no such path"})),
        )
            .into_response()
    };
    let router = Router::new()
        .route("/__admin/{*rest}", axum::routing::any(no_admin))
        .fallback_service(rehook_mock::app(store));
    let served = Served::start(router).await;
    let options = CheckOptions {
        scenarios: Some(vec![
            "events.conversion_attributes_the_referral".into(),
            "events.referral_list_oldest_first".into(),
        ]),
        ..scenarios_only(30)
    };
    let report = contract::check(&served.client(), &options).await;
    let failures: Vec<&str> = report
        .cases
        .iter()
        .map(|c| match &c.outcome {
            Outcome::Failed(text) => text.as_str(),
            other => panic!("{}: {other:?}", c.name),
        })
        .collect();
    let hint = "  hint: the event answered no referral at all: is `signup` a conversion event on this server? pass --conversion-event";
    let lines: Vec<&str> = failures[0].lines().collect();
    assert!(lines[0].ends_with("got null"), "{}", failures[0]);
    assert_eq!(lines[1], hint);
    assert!(
        !failures[1].contains("hint:"),
        "hinted once: {}",
        failures[1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_random_run_reads_only_its_own_customers_events_and_drops() {
    use std::sync::Mutex;
    let whole_listings: Arc<Mutex<Vec<String>>> = Arc::default();
    let admin_reads: Arc<Mutex<usize>> = Arc::default();
    let (listings, reads) = (whole_listings.clone(), admin_reads.clone());
    let router = fake_router(31).layer(middleware::from_fn(move |request: Request, next: Next| {
        let (listings, reads) = (listings.clone(), reads.clone());
        async move {
            let path = request.uri().path();
            let query = request.uri().query().unwrap_or_default();
            let listing = ["/__admin/customers", "/__admin/events", "/__admin/drops"];
            if listing.contains(&path) && !query.contains("source_id=") {
                listings.lock().unwrap().push(format!("{path}?{query}"));
            }
            if path.starts_with("/__admin/") {
                *reads.lock().unwrap() += 1;
            }
            next.run(request).await
        }
    }));
    let served = Served::start(router).await;
    let options = CheckOptions {
        scenarios: Some(vec!["random".into()]),
        cases: 2,
        ..CheckOptions::default()
    };
    let report = contract::check(&served.client(), &options).await;
    assert_eq!(report.cases.len(), 1);
    assert_eq!(
        report.cases[0].outcome,
        Outcome::Passed,
        "{:?}",
        report.cases
    );
    assert!(*admin_reads.lock().unwrap() > 10, "the admin API was read");
    assert_eq!(*whole_listings.lock().unwrap(), Vec::<String>::new());
}
