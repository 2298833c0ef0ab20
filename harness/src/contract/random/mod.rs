//! Seeded random sequences checked step by step against [`crate::model`]: the contract as a
//! state machine.
//!
//! Each case draws a sequence of [`steps`](steps::Step) — Segment messages played through the
//! harness's Segment play ([`Replayer`](crate::replay::Replayer)) and direct Rehook API calls, valid and invalid — from
//! small pools, so collisions on users, codes and messageIds are common. Every execution of a
//! sequence (shrinking re-runs them) uses its own fresh ids and codes, so it runs against a
//! shared server or a real Rehook too. After every step the answer and the observable state
//! (the customers, codes and referral lists the step touched, through the Rehook API; the
//! whole application through `/__admin` when [`RandomOptions::admin`] is set) must equal the
//! model's. A failing sequence is shrunk to the shortest one that still fails and printed as
//! curl commands and Segment NDJSON lines ([`RandomFailure`]).
//!
//! The sequences come from proptest-state-machine's [`ReferenceStateMachine`] ([`Machine`]:
//! the model under placeholder names decides which steps may follow and re-checks every
//! precondition while shrinking); each execution is driven here rather than through
//! `StateMachineTest`, whose constructor cannot be handed the run's client and options.
//!
//! [`run`] is synchronous: it owns a current-thread tokio runtime for the run, so call it from
//! a plain thread or from `tokio::task::spawn_blocking`, never from inside an async task.

mod check;
mod failure;
pub mod steps;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::strategy::{BoxedStrategy, Just, Strategy};
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use proptest_state_machine::{ReferenceStateMachine, strategy::Sequential};

use crate::Client;
use crate::client::DEFAULT_API_KEY;
use crate::model::{App, DropMode, Settings, Source};

pub use failure::{RandomFailure, Record, Request};
use steps::{Names, Step};

/// How a random run is drawn and what it assumes about the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomOptions {
    /// Seeds the sequences: the same seed draws the same sequences.
    pub seed: u64,
    /// How many sequences to run.
    pub cases: u32,
    /// The longest sequence, in steps.
    pub max_steps: usize,
    /// Whether the target serves the fake's `/__admin` API: then the whole application is
    /// compared after every step (filtered to this run's ids).
    pub admin: bool,
    /// The target's conversion event (`signup` on the fake). The other event names used
    /// (`page_view`, `order_completed`) must not be conversion events.
    pub conversion_event: String,
    /// The target's drop mode: `true` for `accept` (drops answer `200 {"status": "dropped"}`).
    pub accept_drops: bool,
    /// The target's referral link base; `None` checks only that links end in `/<code>`.
    pub referral_link_base: Option<String>,
    /// Mixed into the seed when naming ids, so that one seed can run twice against a server
    /// that still holds the first run's customers.
    pub salt: u64,
    /// The API key printed in the curl commands of a failure (the client's own is not
    /// readable); the secret is printed as `$REHOOK_API_SECRET`, never written out.
    pub api_key: String,
    /// A proptest regression file: failing seeds are saved there and re-run first.
    pub regressions: Option<&'static str>,
    /// A bound on the time spent shrinking a failure, so that shrinking against a slow real
    /// server ends (120 s by default). `None`: only the shrink iterations (1,024) bound it, so
    /// a failure shrinks to the same steps on any machine, as tests need.
    pub max_shrink_time: Option<std::time::Duration>,
}

impl Default for RandomOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            cases: 32,
            max_steps: 30,
            admin: true,
            conversion_event: "signup".to_owned(),
            accept_drops: false,
            referral_link_base: Some("https://rehook.test/r".to_owned()),
            salt: 0,
            api_key: DEFAULT_API_KEY.to_owned(),
            regressions: None,
            max_shrink_time: Some(std::time::Duration::from_secs(120)),
        }
    }
}

/// What a passing run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomReport {
    /// The seed.
    pub seed: u64,
    /// Sequences run.
    pub cases: u32,
    /// Steps run, over all sequences.
    pub steps: usize,
    /// HTTP calls made (steps and observations).
    pub calls: usize,
    /// How many steps expected each kind of outcome (`409 REFERRAL_CODE_TAKEN`,
    /// `segment dropped duplicate_message_id`, ...): what the run exercised.
    pub outcomes: BTreeMap<String, usize>,
}

/// The reference state the generator walks: the model under placeholder names, so that
/// preconditions (which generated codes exist, who exists) can be checked while drawing and
/// while shrinking.
#[derive(Debug, Clone)]
pub struct Plan {
    app: App,
    source: Source,
    names: Names,
}

/// The generator of sequences, as a proptest-state-machine reference machine.
pub struct Machine;

impl ReferenceStateMachine for Machine {
    type State = Plan;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Plan> {
        Just(Plan {
            app: App::new(Settings::default()),
            source: Source::default(),
            names: Names {
                base: 0,
                conversion_event: "signup".to_owned(),
            },
        })
        .boxed()
    }

    fn transitions(state: &Plan) -> BoxedStrategy<Step> {
        steps::steps(&state.app, &state.names)
    }

    fn apply(mut state: Plan, step: &Step) -> Plan {
        let call = steps::render(&state.names, &state.app, step);
        check::expect(&mut state.app, &mut state.source, &call);
        state
    }

    fn preconditions(state: &Plan, step: &Step) -> bool {
        steps::precondition(&state.app, &state.names, step)
    }
}

/// The records of the last failing execution, its problem and the read-back that disagreed.
type Failed = (Vec<Record>, String, Option<Request>);

/// Runs `options.cases` random sequences against the server behind `client`, each checked
/// against the model after every step; the first failure is shrunk and returned.
pub fn run(client: &Client, options: &RandomOptions) -> Result<RandomReport, RandomFailure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            RandomFailure::setup(options, client, format!("cannot start a runtime: {e}"))
        })?;
    let mut config = Config {
        cases: options.cases,
        // Bounded, so that shrinking against a slow real server ends.
        max_shrink_iters: 1024,
        // 0: no time bound, only the iterations.
        max_shrink_time: options.max_shrink_time.map_or(0, |t| {
            u32::try_from(t.as_millis()).unwrap_or(u32::MAX).max(1)
        }),
        failure_persistence: None,
        ..Config::default()
    };
    if let Some(path) = options.regressions {
        config.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(path)));
    }
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&options.seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
    let mut runner = TestRunner::new_with_rng(config, rng);

    let settings = Settings {
        conversion_events: [options.conversion_event.clone()].into(),
        drop_mode: if options.accept_drops {
            DropMode::Accept
        } else {
            DropMode::Reject
        },
    };
    let executions = AtomicUsize::new(0);
    let totals = RefCell::new((0usize, 0usize, BTreeMap::<String, usize>::new()));
    let last_failure: RefCell<Option<Failed>> = RefCell::new(None);
    let start = name_base(options.seed, options.salt);

    let first = Names {
        base: start,
        conversion_event: options.conversion_event.clone(),
    };
    if let Err(problem) = runtime.block_on(check::fresh(client, &first)) {
        return Err(RandomFailure::setup(options, client, problem));
    }

    let strategy: Sequential<_, _, _, _> =
        Machine::sequential_strategy((options.max_steps * 2 / 3).max(1)..=options.max_steps.max(1));
    let result = runner.run(&strategy, |(_, steps, seen)| {
        let n = executions.fetch_add(1, Ordering::Relaxed) as u64;
        let names = Names {
            base: start + n * 10,
            conversion_event: options.conversion_event.clone(),
        };
        let mut exec = check::Execution::new(client, options, names, settings.clone());
        let outcome = runtime.block_on(async {
            for step in &steps {
                if let Some(seen) = &seen {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
                exec.step(step).await?;
            }
            Ok::<(), String>(())
        });
        let mut totals = totals.borrow_mut();
        totals.0 += exec.records.len();
        totals.1 += exec.calls;
        for (key, count) in &exec.outcomes {
            *totals.2.entry(key.clone()).or_default() += count;
        }
        match outcome {
            Ok(()) => Ok(()),
            Err(problem) => {
                *last_failure.borrow_mut() =
                    Some((exec.records, problem.clone(), exec.failed_check));
                Err(TestCaseError::fail(problem))
            }
        }
    });
    let (steps, calls, outcomes) = totals.into_inner();
    match result {
        Ok(()) => Ok(RandomReport {
            seed: options.seed,
            cases: options.cases,
            steps,
            calls,
            outcomes,
        }),
        Err(TestError::Fail(reason, _)) => {
            let (records, problem, check) = last_failure
                .into_inner()
                .unwrap_or_else(|| (Vec::new(), reason.to_string(), None));
            Err(RandomFailure::new(options, client, records, problem, check))
        }
        Err(TestError::Abort(reason)) => Err(RandomFailure::setup(
            options,
            client,
            format!("the run was aborted: {reason}"),
        )),
    }
}

/// The first name base of a run: a multiple of 10 drawn from the seed and the salt, below
/// 2^53 (so the numeric ids survive any JSON parser) with room for a million executions.
fn name_base(seed: u64, salt: u64) -> u64 {
    let mut x = seed ^ salt.rotate_left(32) ^ 0x9E37_79B9_7F4A_7C15;
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (100_000_000_000 + x % 700_000_000_000_000) / 10 * 10 + 10
}
