//! The `rehook-harness` command line: `replay` Segment files against a Rehook API, or through
//! its Segment front door (`--via segment`), `engage` an audience's syncs into a front door,
//! and `check` the whole contract against a server.
//!
//! Exit codes of `replay` and `engage`: 0 every message got an answer, 1 some call got a 5xx or
//! no answer, 2 the input or the arguments are unusable, or (`--via rehook`) the server at
//! `--base-url` refuses the credentials or does not answer as a Rehook API.
//!
//! Exit codes of `check`: 0 every case passed (skips allowed), 1 a contract case failed,
//! 2 the run could not start (arguments, an unreachable server, refused credentials, a
//! JUnit file that cannot be written, a refused admin token, or an application whose admin
//! config differs from what the run assumes).
//!
//! A reader that stops reading (`rehook-harness replay ... | head -1`) does not change the exit
//! code: the rest of the output is dropped quietly, the replay runs to its end and exits with
//! what it earned. Any other failure to write stdout is said once on stderr and exits 1.

use std::fmt;
use std::io::{self, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rehook_harness::client::{Answer, Client, ClientError, DEFAULT_API_KEY, DEFAULT_API_SECRET};
use rehook_harness::replay::counted;
use rehook_harness::via_segment::{self, DEFAULT_WRITE_KEY};
use rehook_harness::{contract, error_text, input, replay};
use serde_json::Value;

/// Replays Segment traffic against a Rehook-compatible server.
#[derive(Debug, Parser)]
#[command(name = "rehook-harness", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay files of Segment messages (NDJSON, a JSON array or batch envelopes; gzip too).
    ///
    /// The harness plays Segment: its ingestion rules and the Rehook destination's default
    /// mapping, then the Rehook API call. Without --base-url an in-process fake is started.
    ///
    /// Repeated messageIds are dropped within one run only, as Segment's per-source
    /// de-duplication window would: replaying the same file twice against a running server
    /// sends (and stores) its messages twice.
    ///
    /// With --via segment the messages are posted to the server's Segment front door
    /// (/v1/batch) in batches instead, and each outcome is read from its delivery log; the
    /// server then de-duplicates messageIds itself, across runs too.
    Replay(ReplayArgs),
    /// Play Segment Engage syncing an audience: identify calls to a front door's /v1/batch.
    ///
    /// The file (JSON or CSV, detected) gives the audience's members at each sync. The first
    /// sync sets the audience key (the name snake_cased) to true for every member; each later
    /// sync sends true for users who joined and false for users who left. Without --base-url
    /// an in-process fake is started.
    Engage {
        #[command(flatten)]
        engage: rehook_harness::engage::EngageArgs,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Check the contract: the named scenarios, then randomised sequences against the
    /// reference model and a concurrency race.
    ///
    /// Without --base-url an in-process fake is checked. Prints one line per case (pass,
    /// fail, skip), each failure with the calls that show it as curl lines, and a summary.
    /// Scenarios that need the admin API (/__admin) are skipped where it does not answer;
    /// where it answers, a refused --admin-token, conversion events without
    /// --conversion-event, or drop mode accept stop the run (exit 2).
    Check(CheckArgs),
}

/// The server a command talks to, the same for every command.
#[derive(Debug, clap::Args)]
struct TargetArgs {
    /// Base URL of the server's Rehook API (e.g. http://127.0.0.1:8080; its Segment front
    /// door and admin API are on the same origin); without it, an in-process fake (with the
    /// credentials and admin token below, if given) is started for the run.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,

    /// API key of the application (default rk_test_key).
    #[arg(long, value_name = "K", env = "REHOOK_API_KEY")]
    api_key: Option<String>,

    /// API secret of the application (default rk_test_secret).
    #[arg(
        long,
        value_name = "S",
        env = "REHOOK_API_SECRET",
        hide_env_values = true
    )]
    api_secret: Option<String>,

    /// Bearer token for the admin API, for a server started with --admin-token.
    #[arg(
        long,
        value_name = "T",
        env = "REHOOK_ADMIN_TOKEN",
        hide_env_values = true
    )]
    admin_token: Option<String>,
}

/// The server a run talks to: a client for it, the in-process fake when there is one (kept
/// alive for the run), and how to name it in the run's first line.
struct Connected {
    client: Client,
    fake: Option<rehook_mock::MockRehook>,
    label: String,
}

/// Connects to `--base-url`, or starts the in-process fake that `fake` builds (given the API
/// key and secret) with the admin token; the client has the credentials and the admin token.
async fn connect(
    target: &TargetArgs,
    fake: impl FnOnce(&str, &str) -> rehook_mock::MockRehookBuilder,
) -> Result<Connected, Unusable> {
    let key = target.api_key.as_deref().unwrap_or(DEFAULT_API_KEY);
    let secret = target.api_secret.as_deref().unwrap_or(DEFAULT_API_SECRET);
    let (client, fake) = match &target.base_url {
        Some(url) => (
            Client::new(url, key, secret).map_err(|e| Unusable(e.into()))?,
            None,
        ),
        None => {
            let mut builder = fake(key, secret);
            if let Some(token) = &target.admin_token {
                builder = builder.admin_token(token.clone());
            }
            let fake = builder.start().await;
            let client =
                Client::new(fake.base_url(), key, secret).map_err(|e| Unusable(e.into()))?;
            (client, Some(fake))
        }
    };
    let client = match &target.admin_token {
        Some(token) => client.with_admin_token(token.clone()),
        None => client,
    };
    let label = match fake {
        Some(_) => format!("{} (in-process fake)", client.base_url()),
        None => client.base_url().to_owned(),
    };
    Ok(Connected {
        client,
        fake,
        label,
    })
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    #[command(flatten)]
    target: TargetArgs,

    /// Write a JUnit XML report to FILE (one testsuite per group, one testcase per case).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,

    /// Print one JSON summary on stdout (the case lines go to stderr).
    #[arg(long)]
    json: bool,

    /// Seed of the run: the same seed makes the same random sequences and race; a fresh one
    /// when not given.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// Id of the run, part of every source_id and code it makes (1 to 16 letters and
    /// digits); a fresh one when not given, so that a repeated seed never meets the data
    /// of an earlier run. Give the printed id with --seed to repeat a run's exact calls.
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,

    /// How many random sequences to run (0 skips the random run).
    #[arg(long, value_name = "N", default_value_t = 32)]
    cases: u32,

    /// The application's conversion event.
    #[arg(long, value_name = "NAME", default_value = "signup")]
    conversion_event: String,

    /// Run only this scenario or group (repeatable); the random run and the race are
    /// random.sequences (group random) and race.concurrent_claims_and_creates (group race),
    /// and run only when named.
    #[arg(long, value_name = "NAME")]
    scenario: Vec<String>,

    /// Skip the randomised sequences.
    #[arg(long)]
    no_random: bool,

    /// Skip the concurrency race.
    #[arg(long)]
    no_race: bool,

    /// Write key of the target's Segment front door: the Segment scenarios post their
    /// messages to /v1/batch with it and read the outcomes from the delivery log when the
    /// door takes an empty batch; without a front door the harness plays ingestion itself.
    #[arg(long, value_name = "KEY", default_value = DEFAULT_WRITE_KEY)]
    write_key: String,
}

#[derive(Debug, clap::Args)]
struct ReplayArgs {
    /// Files of Segment messages, replayed in the order given.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    #[command(flatten)]
    target: TargetArgs,

    /// How messages reach the server: `rehook`, the harness plays Segment and calls the
    /// Rehook API; `segment`, the harness posts the messages to the server's Segment front
    /// door (/v1/batch) in batches and reads each outcome from its delivery log.
    #[arg(long, value_enum, default_value_t = Via::Rehook)]
    via: Via,

    /// The Segment write key for --via segment (default wk_test).
    #[arg(long, value_name = "KEY")]
    write_key: Option<String>,

    /// Print one JSON document (messages and summary) on stdout instead of lines.
    #[arg(long)]
    json: bool,

    /// Play Segment with these custom mappings (a rehook-mock mapping file: the default
    /// application's, or the --api-key's entry) instead of the destination's defaults.
    #[arg(long, value_name = "FILE")]
    mappings: Option<PathBuf>,
}

/// The door the messages go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Via {
    /// The harness applies Segment's ingestion and mapping and calls the Rehook API.
    Rehook,
    /// The harness posts the messages to the server's front door, `/v1/batch`, as the SDKs do.
    Segment,
}

/// A failure that makes the run unusable (exit 2), as opposed to a run with errors (exit 1).
struct Unusable(anyhow::Error);

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => run_replay(args).await,
        Command::Check(args) => run_check(args).await,
        Command::Engage { engage, target } => run_engage(engage, target).await,
    };
    match result {
        Ok(code) => code,
        Err(Unusable(error)) => {
            say(format_args!(
                "rehook-harness: error: {}",
                error_text(error.as_ref())
            ));
            ExitCode::from(2)
        }
    }
}

/// Writes one line on stderr. A stderr nobody reads (`2>&1 | head -1`) is ignored: there is
/// nowhere left to say anything, and it must not turn the exit code into a panic's.
fn say(line: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// Where the run's lines and report go: stdout, until writing it fails.
#[derive(Debug, Default)]
struct Output {
    /// Why writing stopped; `None` while stdout takes what is written.
    stopped: Option<Stopped>,
}

/// Why [`Output`] stopped writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stopped {
    /// The reader went away (a broken pipe): the output ends quietly.
    ReaderGone,
    /// Any other write error, already said on stderr: the run exits 1.
    Failed,
}

impl Output {
    /// Writes `doc` as pretty JSON; `false` (said on stderr) when it cannot be serialised.
    fn json(&mut self, doc: &impl serde::Serialize) -> bool {
        match serde_json::to_string_pretty(doc) {
            Ok(text) => {
                self.write(|w| writeln!(w, "{text}"));
                true
            }
            Err(e) => {
                say(format_args!("rehook-harness: cannot write the report: {e}"));
                false
            }
        }
    }

    /// Writes through a locked stdout with `write`, flushed, unless writing already stopped.
    /// A broken pipe stops the output quietly; another error is said on stderr and stops it.
    fn write(&mut self, write: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) {
        if self.stopped.is_some() {
            return;
        }
        let mut stdout = io::stdout().lock();
        let Err(error) = write(&mut stdout).and_then(|()| stdout.flush()) else {
            return;
        };
        self.stopped = Some(if error.kind() == io::ErrorKind::BrokenPipe {
            Stopped::ReaderGone
        } else {
            say(format_args!(
                "rehook-harness: cannot write to stdout: {error}"
            ));
            Stopped::Failed
        });
    }

    /// Whether some output was lost to an error other than the reader going away.
    fn failed(&self) -> bool {
        self.stopped == Some(Stopped::Failed)
    }
}

async fn run_replay(args: ReplayArgs) -> Result<ExitCode, Unusable> {
    if args.write_key.is_some() && args.via != Via::Segment {
        return Err(Unusable(anyhow::anyhow!(
            "--write-key is for --via segment"
        )));
    }
    let write_key = args
        .write_key
        .clone()
        .unwrap_or_else(|| DEFAULT_WRITE_KEY.to_owned());
    let messages = input::read_files(&args.files)
        .context("unusable input")
        .map_err(Unusable)?;
    if args.mappings.is_some() && args.via != Via::Rehook {
        return Err(Unusable(anyhow::anyhow!(
            "--mappings is for --via rehook (through a front door, the server's own mappings run)"
        )));
    }
    let mappings = match &args.mappings {
        Some(path) => Some(read_mappings(path, args.target.api_key.as_deref()).map_err(Unusable)?),
        None => None,
    };

    // The fake, when there is one, lives until the end of this function.
    let Connected {
        client,
        fake,
        label: target,
    } = connect(&args.target, |key, secret| {
        // The in-process fake's application owns the write key asked for.
        let mut app = rehook_mock::AppConfig::default_app();
        app.api_key = key.to_owned();
        app.api_secret = secret.to_owned();
        if !app.write_keys.contains(&write_key) {
            app.write_keys.push(write_key.clone());
        }
        rehook_mock::MockRehook::builder().app(app)
    })
    .await?;
    if fake.is_none() && args.via == Via::Rehook {
        refuse_unusable_server(&client).await?;
    }
    let door = match args.via {
        Via::Rehook => String::new(),
        Via::Segment => format!(", through its Segment front door with write key {write_key}"),
    };
    say(format_args!(
        "replaying {} from {} against {target}{door}",
        counted(messages.len(), "message"),
        counted(args.files.len(), "file")
    ));

    let mut out = Output::default();
    let bar = progress_bar(messages.len() as u64);
    let json = args.json;
    let mut on_each = |delivery: &replay::Delivery| {
        if !json {
            bar.suspend(|| out.write(|w| writeln!(w, "{delivery}")));
        }
        bar.inc(1);
    };
    let report = match args.via {
        Via::Rehook => replay::replay_with(&client, mappings.as_ref(), &messages, on_each).await,
        Via::Segment => {
            let log = via_segment::find_delivery_log(&client, &write_key).await;
            if let via_segment::DeliveryLog::Unavailable(why) = &log {
                say(format_args!(
                    "no delivery log to read: {why}; each message shows its batch's answer \
                     (`accepted` when the front door took it)"
                ));
            }
            via_segment::replay_via_segment(&client, &write_key, &log, &messages, &mut on_each)
                .await
        }
    };
    bar.finish_and_clear();
    for note in &report.notes {
        say(format_args!("{note}"));
    }

    if json {
        if !out.json(&report) {
            return Ok(ExitCode::from(1));
        }
    } else {
        out.write(|w| {
            writeln!(w)?;
            write!(w, "{}", report.summary)
        });
    }
    Ok(if report.all_answered() && !out.failed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn run_check(args: CheckArgs) -> Result<ExitCode, Unusable> {
    let options = contract::CheckOptions {
        seed: args.seed.unwrap_or_else(fresh_seed),
        run_id: args.run_id.clone().unwrap_or_else(contract::fresh_run_id),
        cases: args.cases,
        conversion_event: args.conversion_event.clone(),
        scenarios: (!args.scenario.is_empty()).then(|| args.scenario.clone()),
        random: !args.no_random,
        race: !args.no_race,
        write_key: args.write_key.clone(),
    };
    if !contract::valid_run_id(&options.run_id) {
        return Err(Unusable(anyhow::anyhow!(
            "--run-id {:?} must be 1 to 16 ASCII letters and digits",
            options.run_id
        )));
    }
    let unknown = options.unknown_scenarios();
    if !unknown.is_empty() {
        return Err(Unusable(anyhow::anyhow!(
            "no scenario or group named {}; known groups: {}, {}, {}",
            unknown.join(", "),
            contract::scenarios::GROUPS.join(", "),
            contract::RANDOM_GROUP,
            contract::RACE_GROUP
        )));
    }
    if args.conversion_event.trim().is_empty() {
        return Err(Unusable(anyhow::anyhow!(
            "--conversion-event must not be blank"
        )));
    }
    // Opened before the run, so that a path that cannot be written stops it at once.
    let junit = match &args.junit {
        Some(path) => Some((
            path,
            std::fs::File::create(path)
                .with_context(|| format!("cannot write the JUnit report {}", path.display()))
                .map_err(Unusable)?,
        )),
        None => None,
    };
    let Connected {
        client,
        fake,
        label,
    } = connect(&args.target, |key, secret| {
        let mut app = rehook_mock::AppConfig::new(key, secret);
        if !app.write_keys.contains(&options.write_key) {
            app.write_keys.push(options.write_key.clone());
        }
        rehook_mock::MockRehook::builder()
            .seed(options.seed)
            .app(app)
            .conversion_event(options.conversion_event.clone())
    })
    .await?;
    contract::preflight(&client)
        .await
        .map_err(|e| Unusable(e.into()))?;
    contract::admin_preflight(&client, &options)
        .await
        .map_err(|e| Unusable(e.into()))?;
    say(format_args!(
        "checking {label} with seed {}, run id {}",
        options.seed, options.run_id
    ));

    let mut out = Output::default();
    let report = contract::check_with(&client, &options, |case| {
        if args.json {
            say(format_args!("{case}"));
        } else {
            out.write(|w| writeln!(w, "{case}"));
        }
    })
    .await;
    drop(fake);

    if args.json {
        out.json(&report.to_json());
        say(format_args!("{}", report.summary()));
    } else {
        out.write(|w| writeln!(w, "\n{}", report.summary()));
    }
    let mut wrote_junit = true;
    if let Some((path, mut file)) = junit {
        if let Err(e) = file.write_all(report.to_junit().as_bytes()) {
            say(format_args!(
                "rehook-harness: cannot write the JUnit report {}: {e}",
                path.display()
            ));
            wrote_junit = false;
        }
    }
    Ok(if report.all_passed() && wrote_junit && !out.failed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn run_engage(
    args: rehook_harness::engage::EngageArgs,
    target: TargetArgs,
) -> Result<ExitCode, Unusable> {
    use rehook_harness::engage;
    let unusable = |e: engage::EngageError| Unusable(anyhow::anyhow!(e));
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))
        .map_err(Unusable)?;
    let membership = engage::read_membership(&text).map_err(unusable)?;
    let name = args
        .audience
        .clone()
        .or_else(|| membership.audience.clone())
        .ok_or_else(|| {
            Unusable(anyhow::anyhow!(
                "no audience name: give --audience NAME or \"audience\" in the file"
            ))
        })?;
    let mut run = engage::Engage::new(&name).map_err(unusable)?;
    // The fake, when there is one, lives until the end of this function.
    let Connected {
        client,
        fake,
        label: target,
    } = connect(&target, |key, secret| {
        let mut app = rehook_mock::AppConfig::default_app();
        app.api_key = key.to_owned();
        app.api_secret = secret.to_owned();
        rehook_mock::MockRehook::builder().app(app)
    })
    .await?;
    let write_key = args
        .write_key
        .as_deref()
        .unwrap_or(rehook_mock::config::DEFAULT_WRITE_KEY);
    say(format_args!(
        "syncing audience {:?} (key {}) over {} to {target}",
        run.name(),
        run.key(),
        counted(membership.syncs.len(), "sync")
    ));
    if fake.is_none() {
        say_write_key_owner(&client, write_key).await;
    }
    let mut out = Output::default();
    let json = args.json;
    let reports = engage::run(&mut run, &membership, &client, write_key, |line| {
        if !json {
            out.write(|w| writeln!(w, "{line}"));
        }
    })
    .await;
    let sent: usize = reports.iter().map(|r| r.messages.len()).sum();
    if json {
        let doc = serde_json::json!({"audience": run.name(), "key": run.key(), "syncs": reports});
        if !out.json(&doc) {
            return Ok(ExitCode::from(1));
        }
    } else {
        out.write(|w| {
            writeln!(
                w,
                "\n{} sent over {}",
                counted(sent, "identify call"),
                counted(reports.len(), "sync")
            )
        });
    }
    Ok(if reports.iter().all(|r| r.answered()) && !out.failed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Says on stderr when the target's admin API can tell that no application owns the write
/// key (the front door then keeps the calls as unknown sources), or cannot be read; says
/// nothing when an application owns it.
async fn say_write_key_owner(client: &Client, write_key: &str) {
    if let via_segment::DeliveryLog::Unavailable(why) =
        via_segment::find_delivery_log(client, write_key).await
    {
        say(format_args!("note: {why}; the calls are sent all the same"));
    }
}

/// A seed for a run without `--seed`: new each run, so that every run draws new sequences.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (nanos ^ (u64::from(std::process::id()) << 32)) % 1_000_000_000
}

/// The mappings of a rehook-mock mapping file for the application `api_key` (the file's
/// default-application document, or its entry for the key).
fn read_mappings(
    path: &std::path::Path,
    api_key: Option<&str>,
) -> anyhow::Result<rehook_mock::segment::MappingSet> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read mapping file {}", path.display()))?;
    let sets = rehook_mock::segment::read_mappings_file(&text)
        .with_context(|| format!("mapping file {} is not valid", path.display()))?;
    let key = api_key.unwrap_or(DEFAULT_API_KEY);
    sets.into_iter()
        .find(|(k, _)| k.as_deref().is_none_or(|k| k == key))
        .map(|(_, set)| set)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "mapping file {} has no mappings for the application {key:?}",
                path.display()
            )
        })
}

/// What `GET /events/segment/check-auth` says about the server at `--base-url`.
#[derive(Debug, PartialEq, Eq)]
enum ServerCheck {
    /// A Rehook API that accepts the credentials, or a server whose trouble (a 5xx, no
    /// answer) the replay shows on each message.
    GoOn,
    /// A 401: every call would be refused.
    RefusedCredentials,
    /// Any other answer: what it was (`404 NOT_FOUND`, `302`, ...).
    NotRehook(String),
}

/// Reads the answer of `GET /events/segment/check-auth`: a 2xx with `{"status": "ok"}`, a 5xx
/// or no answer → go on; 401 → refused credentials; anything else (404, 403, 3xx, a 2xx with
/// another body, a body that is not JSON) → not a Rehook API.
fn judge_check_auth(answer: &Result<Answer, ClientError>) -> ServerCheck {
    let answer = match answer {
        Ok(answer) => answer,
        Err(ClientError::Body { status, .. }) if *status < 500 => {
            return ServerCheck::NotRehook(format!("{status} with a body that is not JSON"));
        }
        Err(_) => return ServerCheck::GoOn,
    };
    let status_ok = answer.body.get("status").and_then(Value::as_str) == Some("ok");
    match answer.status {
        200..=299 if status_ok => ServerCheck::GoOn,
        401 => ServerCheck::RefusedCredentials,
        500.. => ServerCheck::GoOn,
        status => ServerCheck::NotRehook(match answer.body.get("code").and_then(Value::as_str) {
            Some(code) => format!("{status} {code}"),
            None => status.to_string(),
        }),
    }
}

/// Refuses a server the replay would be useless against (exit 2): one that refuses the
/// credentials (every call a 401), or one that does not answer as a Rehook API (a wrong
/// base URL: every call a 404, say). A server that answers 5xx or cannot be reached is left
/// to the replay, where each message shows it.
async fn refuse_unusable_server(client: &Client) -> Result<(), Unusable> {
    match judge_check_auth(&client.check_auth().await) {
        ServerCheck::GoOn => Ok(()),
        ServerCheck::RefusedCredentials => Err(Unusable(anyhow::anyhow!(
            "{} refused the credentials (401 on GET /events/segment/check-auth); \
             check --api-key and --api-secret",
            client.base_url()
        ))),
        ServerCheck::NotRehook(answered) => Err(Unusable(anyhow::anyhow!(
            "{} does not look like a Rehook API: GET /events/segment/check-auth answered \
             {answered} (a Rehook API answers 200 {{\"status\":\"ok\"}}); check --base-url",
            client.base_url()
        ))),
    }
}

/// A progress bar on stderr when stderr is a terminal; a hidden one otherwise.
fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let noun = if len == 1 { "message" } else { "messages" };
    if let Ok(style) = ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {noun}")) {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answered(status: u16, body: Value) -> Result<Answer, ClientError> {
        Ok(Answer {
            status,
            body,
            request_id: None,
        })
    }

    fn unreadable(status: u16) -> Result<Answer, ClientError> {
        Err(ClientError::Body {
            method: reqwest::Method::GET,
            url: "http://127.0.0.1:9/events/segment/check-auth".to_owned(),
            status,
            reason: "expected value at line 1 column 1".to_owned(),
        })
    }

    fn not_rehook(answered: &str) -> ServerCheck {
        ServerCheck::NotRehook(answered.to_owned())
    }

    #[test]
    fn only_a_rehook_check_auth_answer_a_5xx_or_no_answer_go_on() {
        let cases = [
            (answered(200, json!({"status": "ok"})), ServerCheck::GoOn),
            (
                answered(500, json!({"code": "INTERNAL"})),
                ServerCheck::GoOn,
            ),
            (answered(503, Value::Null), ServerCheck::GoOn),
            (unreadable(502), ServerCheck::GoOn),
            (
                answered(401, json!({"code": "UNAUTHORIZED"})),
                ServerCheck::RefusedCredentials,
            ),
            (
                answered(404, json!({"code": "NOT_FOUND", "message": "no route"})),
                not_rehook("404 NOT_FOUND"),
            ),
            (
                answered(403, json!({"code": "FORBIDDEN"})),
                not_rehook("403 FORBIDDEN"),
            ),
            (answered(404, json!({})), not_rehook("404")),
            (answered(302, Value::Null), not_rehook("302")),
            (answered(405, json!(["x"])), not_rehook("405")),
            (answered(200, json!({})), not_rehook("200")),
            (answered(200, Value::Null), not_rehook("200")),
            (answered(204, Value::Null), not_rehook("204")),
            (answered(200, json!({"status": "OK"})), not_rehook("200")),
            (
                unreadable(200),
                not_rehook("200 with a body that is not JSON"),
            ),
            (
                unreadable(404),
                not_rehook("404 with a body that is not JSON"),
            ),
            (
                unreadable(401),
                not_rehook("401 with a body that is not JSON"),
            ),
        ];
        for (answer, expected) in cases {
            assert_eq!(judge_check_auth(&answer), expected, "{answer:?}");
        }
    }
}
