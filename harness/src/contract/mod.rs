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
    /// Only these scenarios (names, or group names for whole groups; the random run and the
    /// race by [`RANDOM_CASE`] / [`RANDOM_GROUP`] and [`RACE_CASE`] / [`RACE_GROUP`]);
    /// `None` runs all.
    pub scenarios: Option<Vec<String>>,
    /// Whether to run the randomised sequences.
    pub random: bool,
    /// Whether to run the concurrency race.
    pub race: bool,
    /// The write key of the target's Segment front door.
    pub write_key: String,
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
            write_key: crate::via_segment::DEFAULT_WRITE_KEY.to_owned(),
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

    /// The entries of the scenario filter that name neither a scenario nor a group (the
    /// random run and the race count: [`RANDOM_CASE`] / `random`, [`RACE_CASE`] / `race`).
    pub fn unknown_scenarios(&self) -> Vec<String> {
        let all = scenarios::all();
        self.scenarios
            .iter()
            .flatten()
            .filter(|n| {
                ![RANDOM_CASE, RANDOM_GROUP, RACE_CASE, RACE_GROUP].contains(&n.as_str())
                    && !all
                        .iter()
                        .any(|s| s.name == n.as_str() || s.group == n.as_str())
            })
            .cloned()
            .collect()
    }

    /// Whether this run makes the randomised sequences: asked for (`random`), and selected
    /// by the scenario filter when there is one.
    pub fn runs_random(&self) -> bool {
        self.random && self.filter_names(RANDOM_CASE, RANDOM_GROUP)
    }

    /// Whether this run makes the race: asked for (`race`), and selected by the scenario
    /// filter when there is one.
    pub fn runs_race(&self) -> bool {
        self.race && self.filter_names(RACE_CASE, RACE_GROUP)
    }

    /// Whether the scenario filter (if any) names the case `name` or its group `group`.
    fn filter_names(&self, name: &str, group: &str) -> bool {
        self.scenarios
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == name || n == group))
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
    /// An admin token was given and `GET /__admin/health` answered 401 or 403.
    #[error(
        "{url} refused the admin token ({status} on GET /__admin/health); check --admin-token, or leave it out to skip the admin scenarios"
    )]
    AdminTokenRefused {
        /// The base URL.
        url: String,
        /// What the health check answered.
        status: u16,
    },
    /// `GET /__admin/config` shows the application set up otherwise than the run assumes.
    #[error("{url}: {setting}")]
    Misconfigured {
        /// The base URL.
        url: String,
        /// Which setting differs and what to pass or change.
        setting: String,
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

/// Checks, where the admin API answers, that the server is set up as the run assumes,
/// before any case runs: a given admin token must be accepted, and the application (by API
/// key, in `GET /__admin/config`) must have `options.conversion_event` among its conversion
/// events and drop mode `reject`. Without an admin API (no answer, a 404, or a 401 with no
/// token given) there is nothing to read and the run goes on.
pub async fn admin_preflight(client: &Client, options: &CheckOptions) -> Result<(), StartError> {
    let target = Target::new(client);
    let url = client.base_url().to_owned();
    let health = target
        .send(&Request::new("GET", Api::Admin, "/health"))
        .await;
    match health {
        Ok(r) if r.status == 200 && r.body["status"] == "ok" => {}
        Ok(r) if matches!(r.status, 401 | 403) && client.admin_token().is_some() => {
            return Err(StartError::AdminTokenRefused {
                url,
                status: r.status,
            });
        }
        _ => return Ok(()),
    }
    let Ok(config) = target
        .send(&Request::new("GET", Api::Admin, "/config"))
        .await
    else {
        return Ok(());
    };
    let Some(app) = config.body["applications"]
        .as_array()
        .and_then(|apps| apps.iter().find(|app| app["api_key"] == target.api_key()))
    else {
        return Ok(());
    };
    if let Some(setting) = config_mismatch(app, &options.conversion_event) {
        return Err(StartError::Misconfigured { url, setting });
    }
    Ok(())
}

/// What in one application of `GET /__admin/config` differs from what a check run assumes,
/// as a sentence naming the setting and the way out; `None` when it fits (or says nothing).
fn config_mismatch(app: &Value, conversion_event: &str) -> Option<String> {
    let key = app["api_key"].as_str().unwrap_or_default();
    if let Some(events) = app["conversion_events"].as_array() {
        let names: Vec<&str> = events.iter().filter_map(Value::as_str).collect();
        if !names.contains(&conversion_event) {
            let shown = serde_json::to_string(&names).unwrap_or_default();
            let pass = match names.first() {
                Some(name) => format!("pass --conversion-event {name}"),
                None => "give the application a conversion event".to_owned(),
            };
            return Some(format!(
                "application {key} has conversion_events {shown}, without {conversion_event:?} (--conversion-event); {pass}"
            ));
        }
    }
    match app["drop_mode"].as_str() {
        Some("reject") | None => None,
        Some(mode) => Some(format!(
            "application {key} has drop_mode {mode:?}; check needs drop mode \"reject\" (refusals answered 4xx): restart the server without --drop-mode {mode}, or PUT /__admin/config with \"drop_mode\": \"reject\""
        )),
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

/// Whether the Segment scenarios can go through the target's front door: `None` when
/// `POST /v1/batch` with an empty batch and the target's write key answers
/// `200 {"success": true}` and `GET /__admin/deliveries?limit=0` answers `200` with
/// `x-delivery-log-length` (and, where `GET /__admin/config` answers, the application under
/// check owns the write key), else why not.
pub async fn front_door_unavailable(target: &Target) -> Option<String> {
    let probe =
        Request::new("POST", Api::Segment, "/v1/batch").json(serde_json::json!({"batch": []}));
    match target.send(&probe).await {
        Ok(r) if r.status == 200 && r.body["success"] == true => {}
        Ok(r) => {
            return Some(format!(
                "POST /v1/batch with write key {:?} answered {}",
                target.write_key(),
                r.status
            ));
        }
        Err(e) => return Some(format!("POST /v1/batch got no answer: {e}")),
    }
    // A server that says which application owns which write key (the fake's config) must
    // give this one to the application under check, or its deliveries land elsewhere.
    if let Ok(r) = target
        .send(&Request::new("GET", Api::Admin, "/config"))
        .await
        && r.status == 200
        && let Some(apps) = r.body["applications"].as_array()
        && let Some(app) = apps.iter().find(|a| a["api_key"] == target.api_key())
        && !app["write_keys"]
            .as_array()
            .is_some_and(|keys| keys.iter().any(|k| k == target.write_key()))
    {
        return Some(format!(
            "the application {:?} does not own the write key {:?} (GET /__admin/config)",
            target.api_key(),
            target.write_key()
        ));
    }
    match target
        .send(&Request::new("GET", Api::Admin, "/deliveries?limit=0"))
        .await
    {
        Ok(r) if r.status == 200 && r.headers.contains_key("x-delivery-log-length") => None,
        Ok(r) => Some(format!(
            "GET /__admin/deliveries answered {} without x-delivery-log-length",
            r.status
        )),
        Err(e) => Some(format!("GET /__admin/deliveries got no answer: {e}")),
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
    let target = Target::new(client).with_write_key(&options.write_key);
    let env = scenarios::Env {
        run_id: options.run_id.clone(),
        conversion_event: options.conversion_event.clone(),
        no_admin: admin_unavailable(&target).await,
        no_front_door: front_door_unavailable(&target).await,
    };
    let mut report = CheckReport {
        target: client.base_url().to_owned(),
        seed: options.seed,
        run_id: options.run_id.clone(),
        cases: Vec::new(),
    };
    let mut hinted = false;
    for scenario in options.selected() {
        let started = Instant::now();
        let mut outcome = scenarios::run(&target, &scenario, &env).await.outcome;
        if let Outcome::Failed(text) = &mut outcome
            && env.no_admin.is_some()
            && !hinted
            && let Some(with_hint) = conversion_hint(text, &options.conversion_event)
        {
            *text = with_hint;
            hinted = true;
        }
        let case = Case {
            name: scenario.name.to_owned(),
            group: scenario.group.to_owned(),
            outcome,
            duration: started.elapsed(),
        };
        on_case(&case);
        report.cases.push(case);
    }
    if options.runs_random() {
        let started = Instant::now();
        let outcome = if options.cases == 0 {
            Outcome::Skipped("--cases 0: no random sequence to run".to_owned())
        } else {
            run_random(client, &target, options, &env).await
        };
        let case = Case {
            name: RANDOM_CASE.to_owned(),
            group: RANDOM_GROUP.to_owned(),
            outcome,
            duration: started.elapsed(),
        };
        on_case(&case);
        report.cases.push(case);
    }
    if options.runs_race() {
        let started = Instant::now();
        let race_options = race::RaceOptions {
            seed: options.seed,
            salt: run_salt(&options.run_id),
            admin: env.no_admin.is_none(),
            conversion_event: options.conversion_event.clone(),
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
            group: RACE_GROUP.to_owned(),
            outcome,
            duration: started.elapsed(),
        };
        on_case(&case);
        report.cases.push(case);
    }
    report
}

/// A scenario failure with a hint line after its first when the failure is what a server
/// would answer that does not count `conversion_event` as a conversion: a referral expected
/// and none at all (`/referral` `null`). `None` for any other failure.
fn conversion_hint(failure: &str, conversion_event: &str) -> Option<String> {
    let (first, rest) = failure.split_once('\n').unwrap_or((failure, ""));
    if !(first.contains("expected /referral") && first.ends_with(", got null")) {
        return None;
    }
    Some(format!(
        "{first}\n  hint: the event answered no referral at all: is `{conversion_event}` a conversion event on this server? pass --conversion-event\n{rest}"
    ).trim_end().to_owned())
}

/// The case name of the concurrency race.
pub const RACE_CASE: &str = "race.concurrent_claims_and_creates";

/// The case name of the randomised sequences.
pub const RANDOM_CASE: &str = "random.sequences";

/// The group of the randomised sequences, as `--scenario` selects it.
pub const RANDOM_GROUP: &str = "random";

/// The group of the concurrency race, as `--scenario` selects it.
pub const RACE_GROUP: &str = "race";

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
