//! The contract checks: named scenarios, randomised sequences checked against the reference
//! model, and a concurrency race, runnable against any Rehook-compatible server.
//!
//! - [`scenarios`]: one named scenario per rule of the contract, with explicit expectations.
//! - [`random`]: seeded random sequences checked step by step against [`crate::model`].
//! - [`race`]: concurrent calls claiming overlapping codes; codes stay unique, no update is lost.
//! - [`report`]: what a run found, as lines, JUnit XML and a JSON summary.
//! - [`target`]: the server under check, called with any request and written back as `curl`.
//!
//! [`check`] runs them all; `rehook-harness check` is this function behind a command line.

pub mod race;
pub mod random;
pub mod report;
pub mod scenarios;
pub mod target;

use std::time::Instant;

use serde_json::Value;

pub use report::{Case, CheckReport, Counts, Outcome};

use crate::client::{Client, ClientError};
use crate::error_text::error_text;
use target::{Api, Request, Target};

/// What a check run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOptions {
    /// Seeds the run: the random sequences and the race (the same seed makes the same calls).
    pub seed: u64,
    /// Names the run: part of every source_id and code it makes, so that runs with the same
    /// seed against one server never see each other's customers. [`fresh_run_id`] by default;
    /// 1 to 16 ASCII letters and digits ([`valid_run_id`]).
    pub run_id: String,
    /// How many random sequences to run.
    pub cases: u32,
    /// The application's conversion event (default `signup`).
    pub conversion_event: String,
    /// Only these scenarios (names, or group names for whole groups); `None` runs all.
    pub scenarios: Option<Vec<String>>,
    /// Whether to run the randomised sequences.
    pub random: bool,
    /// Whether to run the concurrency race.
    pub race: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            run_id: fresh_run_id(),
            cases: 32,
            conversion_event: "signup".to_owned(),
            scenarios: None,
            random: true,
            race: true,
        }
    }
}

impl CheckOptions {
    /// The scenarios this run selects, in order.
    pub fn selected(&self) -> Vec<scenarios::Scenario> {
        scenarios::all()
            .into_iter()
            .filter(|s| match &self.scenarios {
                None => true,
                Some(names) => names.iter().any(|n| n == s.name || n == s.group),
            })
            .collect()
    }

    /// The entries of the scenario filter that name neither a scenario nor a group.
    pub fn unknown_scenarios(&self) -> Vec<String> {
        let all = scenarios::all();
        self.scenarios
            .iter()
            .flatten()
            .filter(|n| {
                !all.iter()
                    .any(|s| s.name == n.as_str() || s.group == n.as_str())
            })
            .cloned()
            .collect()
    }
}

/// A new run id: eight hex digits from the clock and the process id, new on every call.
pub fn fresh_run_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = nanos
        ^ (u64::from(std::process::id()) << 40)
        ^ CALLS.fetch_add(1, Ordering::Relaxed).rotate_left(20);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    format!("{:08x}", (x ^ (x >> 31)) as u32)
}

/// Whether `id` can name a run: 1 to 16 ASCII letters and digits (it goes into source_ids
/// and into codes, which hold 64 characters).
pub fn valid_run_id(id: &str) -> bool {
    (1..=16).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The run id as a number, mixed into the random run's and the race's names.
fn run_salt(run_id: &str) -> u64 {
    run_id.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Why a check run could not start (the command line's exit 2).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Nothing answered at the base URL.
    #[error("{url} cannot be reached: {reason}")]
    Unreachable {
        /// The base URL.
        url: String,
        /// What went wrong, down to the root cause.
        reason: String,
    },
    /// `GET /events/segment/check-auth` answered 401.
    #[error(
        "{url} refused the credentials (401 on GET /events/segment/check-auth); check --api-key and --api-secret"
    )]
    CredentialsRefused {
        /// The base URL.
        url: String,
    },
    /// `GET /events/segment/check-auth` answered something a Rehook API does not.
    #[error(
        "{url} does not answer as a Rehook API: GET /events/segment/check-auth answered {answered} (expected 200 {{\"status\":\"ok\"}}); check --base-url"
    )]
    NotRehook {
        /// The base URL.
        url: String,
        /// What it answered.
        answered: String,
    },
}

/// Probes the server with `GET /events/segment/check-auth` before a run: only a
/// `200 {"status": "ok"}` lets the run start.
pub async fn preflight(client: &Client) -> Result<(), StartError> {
    let url = client.base_url().to_owned();
    match client.check_auth().await {
        Ok(answer) if answer.status == 200 && answer.body["status"] == "ok" => Ok(()),
        Ok(answer) if answer.status == 401 => Err(StartError::CredentialsRefused { url }),
        Ok(answer) => Err(StartError::NotRehook {
            url,
            answered: match answer.body.get("code").and_then(Value::as_str) {
                Some(code) => format!("{} {code}", answer.status),
                None => format!("{} {}", answer.status, answer.body),
            },
        }),
        Err(ClientError::Body { status, .. }) => Err(StartError::NotRehook {
            url,
            answered: format!("{status} with a body that is not JSON"),
        }),
        Err(error) => Err(StartError::Unreachable {
            url,
            reason: error_text(&error),
        }),
    }
}

/// Whether the admin API answers: `None` when `GET /__admin/health` is `200
/// {"status": "ok"}`, else why not (the reason admin-only scenarios are skipped).
pub async fn admin_unavailable(target: &Target) -> Option<String> {
    match target
        .send(&Request::new("GET", Api::Admin, "/health"))
        .await
    {
        Ok(r) if r.status == 200 && r.body["status"] == "ok" => None,
        Ok(r) => Some(format!("GET /__admin/health answered {}", r.status)),
        Err(e) => Some(format!("GET /__admin/health got no answer: {e}")),
    }
}

/// Runs the contract against the server behind `client`: the selected named scenarios in
/// order, then (when asked) the randomised sequences and the race.
///
/// The scenarios and random sequences make their calls one after another: a scenario
/// switches a setting (drop mode) that others would see; only the race sends at once. Give it a server whose application is in drop mode `reject` (the default) with
/// `options.conversion_event` as a conversion event.
pub async fn check(client: &Client, options: &CheckOptions) -> CheckReport {
    check_with(client, options, |_| {}).await
}

/// [`check`], calling `on_case` with each case as soon as it is known (to print a line).
pub async fn check_with(
    client: &Client,
    options: &CheckOptions,
    mut on_case: impl FnMut(&Case),
) -> CheckReport {
    let target = Target::new(client);
    let env = scenarios::Env {
        run_id: options.run_id.clone(),
        conversion_event: options.conversion_event.clone(),
        no_admin: admin_unavailable(&target).await,
    };
    let mut report = CheckReport {
        target: client.base_url().to_owned(),
        seed: options.seed,
        run_id: options.run_id.clone(),
        cases: Vec::new(),
    };
    for scenario in options.selected() {
        let started = Instant::now();
        let run = scenarios::run(&target, &scenario, &env).await;
        let case = Case {
            name: scenario.name.to_owned(),
            group: scenario.group.to_owned(),
            outcome: run.outcome,
            duration: started.elapsed(),
        };
        on_case(&case);
        report.cases.push(case);
    }
    if options.random {
        let started = Instant::now();
        let outcome = run_random(client, &target, options, &env).await;
        let case = Case {
            name: RANDOM_CASE.to_owned(),
            group: "random".to_owned(),
            outcome,
            duration: started.elapsed(),
        };
        on_case(&case);
        report.cases.push(case);
    }
    if options.race {
        let started = Instant::now();
        let race_options = race::RaceOptions {
            seed: options.seed,
            salt: run_salt(&options.run_id),
            admin: env.no_admin.is_none(),
            ..race::RaceOptions::default()
        };
        let client = client.clone();
        let outcome =
            match tokio::task::spawn_blocking(move || race::run(&client, &race_options)).await {
                Ok(Ok(_)) => Outcome::Passed,
                Ok(Err(failure)) => Outcome::Failed(failure.to_string().trim_end().to_owned()),
                Err(join) => Outcome::Failed(format!("the race stopped: {join}")),
            };
        let case = Case {
            name: RACE_CASE.to_owned(),
            group: "race".to_owned(),
            outcome,
            duration: started.elapsed(),
        };
        on_case(&case);
        report.cases.push(case);
    }
    report
}

/// The case name of the concurrency race.
pub const RACE_CASE: &str = "race.concurrent_claims_and_creates";

/// The case name of the randomised sequences.
pub const RANDOM_CASE: &str = "random.sequences";

/// The randomised sequences ([`random::run`], synchronous, on a blocking thread) as one case.
async fn run_random(
    client: &Client,
    target: &Target,
    options: &CheckOptions,
    env: &scenarios::Env,
) -> Outcome {
    let admin = env.no_admin.is_none();
    let random_options = random::RandomOptions {
        seed: options.seed,
        salt: run_salt(&options.run_id),
        cases: options.cases,
        admin,
        conversion_event: options.conversion_event.clone(),
        accept_drops: false,
        referral_link_base: if admin {
            referral_link_base(target).await
        } else {
            None
        },
        api_key: client.api_key().to_owned(),
        ..random::RandomOptions::default()
    };
    let client = client.clone();
    // Only the failure's text crosses back: the report is not needed and the failure is large.
    let run = move || random::run(&client, &random_options).map_err(|f| f.to_string());
    match tokio::task::spawn_blocking(run).await {
        Ok(Ok(_)) => Outcome::Passed,
        Ok(Err(failure)) => Outcome::Failed(failure),
        Err(join) => Outcome::Failed(format!("the random run stopped: {join}")),
    }
}

/// The application's referral link base, as `GET /__admin/config` shows it.
async fn referral_link_base(target: &Target) -> Option<String> {
    let config = target
        .send(&Request::new("GET", Api::Admin, "/config"))
        .await
        .ok()?;
    config.body["applications"]
        .as_array()?
        .iter()
        .find(|app| app["api_key"] == target.api_key())?["referral_link_base"]
        .as_str()
        .map(str::to_owned)
}

/// JSON on one line, cut at 300 characters: how case and failure lines quote a value.
pub(crate) fn compact(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 300 {
        let cut: String = text.chars().take(300).collect();
        format!("{cut}…")
    } else {
        text
    }
}
