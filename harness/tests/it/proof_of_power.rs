//! Proof of power: the contract checks fail against the fake built with each deliberate fault
//! (`rehook-mock`'s test-only `faults` feature) and pass against the fault-free fake.
//!
//! For every [`Fault`], the named scenarios fail (exactly the scenarios listed, which check the
//! broken rule or a rule it takes with it), and the randomised run against the reference
//! model fails too, shrunk to a short sequence. Every fault is reachable by the random run;
//! a fault of drop mode `accept` only against a fake in that mode (the scenarios switch the
//! mode themselves), and the test shows that it is invisible in drop mode `reject`. The
//! control runs the same checks, with the same seeds, against fault-free fakes.
//!
//! Seeds, case counts and sequence lengths are small and fixed, chosen so that each fault is
//! caught deterministically within a few seconds: most faults show within three calls (seed 1,
//! 16 sequences of at most 12 steps); three need a longer setup and get longer sequences
//! (at most 16 steps): moving an already referred friend takes two advocates and two
//! conversions, a 409 that writes metadata takes a taken code and an update sending both,
//! and the order of a referral list takes two conversions to one advocate and a read. Codes
//! matched ignoring case take two pool codes that differ only in case, which seed 1 does not
//! draw; seed 2 does. The sequences drawn from a seed depend on the random run's generator: when it changes and a
//! fault is no longer caught, pick the seed again (the same seed must still pass against the
//! fault-free fake).

use std::process::Command;

use rehook_harness::Client;
use rehook_harness::contract::random::{self, RandomFailure, RandomOptions};
use rehook_harness::contract::{self, CheckOptions};
use rehook_mock::{DropMode, Fault, MockRehook, MockRehookBuilder};

/// The fake's seed in every run.
const FAKE_SEED: u64 = 11;
/// The named scenarios' seed (each run gets a fresh run id for its source_ids and codes).
const CHECK_SEED: u64 = 3;
/// Random sequences per run.
const CASES: u32 = 16;
/// A shortest failing sequence is at most this many steps.
const SHORT: usize = 5;

/// A random run's seed and longest sequence, and the drop mode of the fake it runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Random {
    seed: u64,
    max_steps: usize,
    /// The fake in drop mode `accept` (and the run told so); else `reject`, the default.
    accept_drops: bool,
}

/// Most faults show within a few calls.
const QUICK: Random = Random {
    seed: 1,
    max_steps: 12,
    accept_drops: false,
};
/// Moving an already referred friend, a 409 that writes metadata and the order of a referral
/// list need a longer setup.
const LONG: Random = Random {
    seed: 1,
    max_steps: 16,
    accept_drops: false,
};
/// The quick run against a fake in drop mode `accept`: the only mode in which a fault of
/// accepted drops shows.
const ACCEPT: Random = Random {
    accept_drops: true,
    ..QUICK
};

/// The quick run with another seed: seed 1 draws no two codes that differ only in case.
const CASE: Random = Random { seed: 2, ..QUICK };

/// How the checks must catch one fault.
struct Expected {
    fault: Fault,
    /// The scenarios that fail against it, exactly (sorted).
    scenarios: &'static [&'static str],
    /// The random run that catches it; `None` for a fault outside the Rehook API, which the
    /// random sequences do not call.
    random: Option<Random>,
}

const CATALOGUE: [Expected; 14] = [
    Expected {
        fault: Fault::TakenCodeClaimable,
        scenarios: &[
            "customers.taken_code_changes_nothing",
            // The 409 they provoke never comes, so neither does its drop-log entry.
            "drops.accept_mode_answers_dropped",
            "drops.each_refusal_is_logged",
            "segment.refused_call_is_dropped_with_the_code",
        ],
        random: Some(QUICK),
    },
    Expected {
        fault: Fault::MetadataReplaced,
        scenarios: &[
            "customers.metadata_merges_shallowly",
            "segment.identify_upserts_the_customer",
        ],
        random: Some(QUICK),
    },
    Expected {
        fault: Fault::ConversionWithoutCodeAccepted,
        scenarios: &[
            "drops.accept_mode_answers_dropped",
            "drops.each_refusal_is_logged",
            "events.referral_code_required",
        ],
        random: Some(QUICK),
    },
    Expected {
        fault: Fault::FreedCodeStillTaken,
        scenarios: &["customers.new_code_replaces_and_frees_the_old"],
        random: Some(QUICK),
    },
    Expected {
        fault: Fault::ReferredFriendReattributed,
        scenarios: &["events.already_referred_keeps_the_advocate"],
        random: Some(LONG),
    },
    Expected {
        fault: Fault::ConflictWritesMetadata,
        scenarios: &["customers.taken_code_changes_nothing"],
        random: Some(LONG),
    },
    Expected {
        fault: Fault::UnprocessableNotLogged,
        scenarios: &[
            "drops.accept_mode_answers_dropped",
            "drops.each_refusal_is_logged",
        ],
        random: Some(QUICK),
    },
    Expected {
        fault: Fault::CreateAnswersOk,
        // Every scenario that creates a customer through the Rehook API checks the 201.
        scenarios: &[
            "customers.codes_match_case_sensitively",
            "customers.create_answers_201_then_update_200",
            "customers.generated_codes_are_six_letters_and_unique",
            "customers.metadata_merges_shallowly",
            "customers.new_code_replaces_and_frees_the_old",
            "customers.numeric_code_is_text",
            "customers.numeric_source_id_is_text",
            "customers.own_code_is_no_conflict",
            "customers.read_by_source_id_or_id",
            "customers.referral_list_of_new_and_unknown",
            "customers.source_id_kept_as_sent",
            "customers.taken_code_changes_nothing",
            "customers.validate_code_finds_the_owner",
            "drops.accept_mode_answers_dropped",
            "drops.each_refusal_is_logged",
            "events.already_referred_keeps_the_advocate",
            "events.conversion_attributes_the_referral",
            "events.other_events_never_attribute",
            "events.referral_code_unknown",
            "events.referral_list_oldest_first",
            "events.self_referral_refused",
            "requests.api_prefix_aliases",
            "requests.unsupported_media_type",
            "segment.context_never_enters_metadata",
            "segment.false_traits_are_kept",
            "segment.identify_upserts_the_customer",
            "validation.invalid_referral_code",
        ],
        random: Some(QUICK),
    },
    Expected {
        fault: Fault::SelfReferralAccepted,
        scenarios: &[
            "drops.accept_mode_answers_dropped",
            "drops.each_refusal_is_logged",
            "events.self_referral_refused",
            "segment.refused_call_is_dropped_with_the_code",
        ],
        random: Some(QUICK),
    },
    Expected {
        fault: Fault::ReferralListNewestFirst,
        scenarios: &["events.referral_list_oldest_first"],
        random: Some(LONG),
    },
    Expected {
        fault: Fault::NumericSourceIdRejected,
        scenarios: &["customers.numeric_source_id_is_text"],
        random: Some(QUICK),
    },
    Expected {
        fault: Fault::AcceptedDropStored,
        // The scenario switches the application to drop mode `accept` itself.
        scenarios: &["drops.accept_mode_answers_dropped"],
        random: Some(ACCEPT),
    },
    Expected {
        fault: Fault::CodeMatchCaseInsensitive,
        scenarios: &[
            "customers.codes_match_case_sensitively",
            "customers.validate_code_finds_the_owner",
        ],
        random: Some(CASE),
    },
    Expected {
        fault: Fault::DuplicateMessageIdDelivered,
        scenarios: &["segment.duplicate_message_id_is_dropped"],
        // The random sequences call the Rehook API only: no Segment message, no messageId.
        random: None,
    },
];

/// A fake on its own runtime: the random run is synchronous and owns its own, so the test
/// thread must not be inside one.
struct Running {
    runtime: tokio::runtime::Runtime,
    mock: Option<MockRehook>,
}

impl Running {
    fn start(builder: MockRehookBuilder) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the fake");
        let mock = runtime.block_on(builder.start());
        Self {
            runtime,
            mock: Some(mock),
        }
    }

    fn clean() -> Self {
        Self::start(MockRehook::builder().seed(FAKE_SEED))
    }

    fn faulty(fault: Fault) -> Self {
        Self::start(MockRehook::builder().seed(FAKE_SEED).fault(fault))
    }

    /// A fake for the random run `random`: fault-free or with `fault`, in its drop mode.
    fn for_random(random: Random, fault: Option<Fault>) -> Self {
        let mut builder = MockRehook::builder().seed(FAKE_SEED);
        if random.accept_drops {
            builder = builder.drop_mode(DropMode::Accept);
        }
        if let Some(fault) = fault {
            builder = builder.fault(fault);
        }
        Self::start(builder)
    }

    fn mock(&self) -> &MockRehook {
        self.mock.as_ref().expect("running until dropped")
    }

    fn client(&self) -> Client {
        let mock = self.mock();
        Client::new(mock.base_url(), mock.api_key(), mock.api_secret()).expect("a client")
    }

    /// The named scenarios (no random run, no race): the names of those that failed, sorted.
    fn failed_scenarios(&self) -> Vec<String> {
        let client = self.client();
        let options = CheckOptions {
            seed: CHECK_SEED,
            random: false,
            race: false,
            ..CheckOptions::default()
        };
        let report = self.runtime.block_on(contract::check(&client, &options));
        assert!(
            report.skipped().is_empty(),
            "the fake serves every scenario: {:?}",
            report.skipped()
        );
        let mut failed: Vec<String> = report.failed().into_iter().map(str::to_owned).collect();
        failed.sort();
        failed
    }

    /// One random run with `random`'s seed and length.
    #[allow(clippy::result_large_err)] // the run's own result, passed on as it is
    fn random(&self, random: Random) -> Result<random::RandomReport, RandomFailure> {
        let options = RandomOptions {
            seed: random.seed,
            cases: CASES,
            max_steps: random.max_steps,
            accept_drops: random.accept_drops,
            // Iterations only: the steps bounds below hold on a slow machine too.
            max_shrink_time: None,
            ..RandomOptions::default()
        };
        random::run(&self.client(), &options)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mock) = self.mock.take() {
            let _ = self.runtime.block_on(mock.shutdown());
        }
    }
}

fn expected(fault: Fault) -> &'static Expected {
    CATALOGUE
        .iter()
        .find(|e| e.fault == fault)
        .expect("every fault is in the catalogue")
}

/// The random run catches `fault` with a short sequence; the failure is printed as the
/// harness prints it.
fn random_catches(running: &Running, fault: Fault) {
    let Some(random) = expected(fault).random else {
        return;
    };
    let accepting;
    let running = if random.accept_drops {
        accepting = Running::for_random(random, Some(fault));
        &accepting
    } else {
        running
    };
    let failure = running
        .random(random)
        .expect_err("the random run catches the fault");
    assert!(
        !failure.is_setup(),
        "{fault}: the run did not start: {failure}"
    );
    let steps = failure.steps.len();
    println!("{fault}: shortest sequence of {steps} step(s)\n{failure}");
    assert!(
        (1..=SHORT).contains(&steps),
        "{fault}: the shortest sequence has {steps} steps\n{failure}"
    );
}

/// The scenarios listed for `fault` fail, and no others; the random run catches it too.
fn caught(fault: Fault) {
    let running = Running::faulty(fault);
    assert_eq!(
        running.failed_scenarios(),
        expected(fault).scenarios,
        "scenarios failing against {fault}"
    );
    random_catches(&running, fault);
}

#[test]
fn the_catalogue_lists_every_fault_once() {
    let listed: Vec<Fault> = CATALOGUE.iter().map(|e| e.fault).collect();
    assert_eq!(listed, Fault::all());
    for e in &CATALOGUE {
        assert!(
            e.scenarios.is_sorted(),
            "{}: list the scenarios sorted",
            e.fault
        );
    }
}

#[test]
fn the_fault_free_fake_passes_every_scenario() {
    assert_eq!(Running::clean().failed_scenarios(), Vec::<String>::new());
}

/// The random run `random` passes against a fresh fault-free fake (fresh, as each faulty one
/// is: a seed's names are its own).
fn passes(random: Random) {
    passes_with(random, None);
}

/// The random run `random` passes against a fresh fake with `fault` (or none).
fn passes_with(random: Random, fault: Option<Fault>) {
    let report = Running::for_random(random, fault)
        .random(random)
        .unwrap_or_else(|failure| panic!("{random:?} fails a fake with {fault:?}:\n{failure}"));
    assert_eq!((report.seed, report.cases), (random.seed, CASES));
    assert!(report.steps > 0, "{report:?}");
}

#[test]
fn the_fault_free_fake_passes_the_quick_random_run() {
    passes(QUICK);
}

#[test]
fn the_fault_free_fake_passes_the_long_random_run() {
    passes(LONG);
}

#[test]
fn the_fault_free_fake_passes_the_accept_mode_random_run() {
    passes(ACCEPT);
}

#[test]
fn the_fault_free_fake_passes_the_case_random_run() {
    passes(CASE);
}

#[test]
fn check_catches_a_taken_code_claimed_again() {
    caught(Fault::TakenCodeClaimable);
}

#[test]
fn check_catches_metadata_replaced_instead_of_merged() {
    caught(Fault::MetadataReplaced);
}

#[test]
fn check_catches_a_conversion_without_code_accepted() {
    caught(Fault::ConversionWithoutCodeAccepted);
}

#[test]
fn check_catches_a_freed_code_still_taken() {
    caught(Fault::FreedCodeStillTaken);
}

#[test]
fn check_catches_a_referred_friend_reattributed() {
    caught(Fault::ReferredFriendReattributed);
}

#[test]
fn check_catches_a_409_that_writes_metadata() {
    caught(Fault::ConflictWritesMetadata);
}

#[test]
fn check_catches_422s_missing_from_the_drop_log() {
    caught(Fault::UnprocessableNotLogged);
}

#[test]
fn check_catches_a_create_answered_200() {
    caught(Fault::CreateAnswersOk);
}

#[test]
fn check_catches_a_self_referral_accepted() {
    caught(Fault::SelfReferralAccepted);
}

#[test]
fn check_catches_a_referral_list_newest_first() {
    caught(Fault::ReferralListNewestFirst);
}

#[test]
fn check_catches_a_numeric_source_id_rejected() {
    caught(Fault::NumericSourceIdRejected);
}

#[test]
fn check_catches_a_repeated_message_id_delivered_again() {
    caught(Fault::DuplicateMessageIdDelivered);
}

#[test]
fn check_catches_codes_matched_ignoring_case() {
    caught(Fault::CodeMatchCaseInsensitive);
}

#[test]
fn check_catches_an_accepted_drop_stored_and_only_in_accept_mode() {
    caught(Fault::AcceptedDropStored);
    // In drop mode reject the fault changes nothing: the same run passes.
    passes_with(QUICK, Some(Fault::AcceptedDropStored));
}

/// `rehook-harness check --base-url` against `running`, scenarios only: its exit code and
/// output.
fn harness_check(running: &Running) -> std::process::Output {
    let mock = running.mock();
    Command::new(env!("CARGO_BIN_EXE_rehook-harness"))
        .args([
            "check",
            "--base-url",
            mock.base_url(),
            "--api-key",
            mock.api_key(),
            "--api-secret",
            mock.api_secret(),
            "--seed",
            &CHECK_SEED.to_string(),
            "--no-random",
            "--no-race",
        ])
        .env_remove("REHOOK_ADMIN_TOKEN")
        .output()
        .expect("run rehook-harness")
}

#[test]
fn the_harness_binary_exits_1_against_a_faulty_server_and_0_against_the_fake() {
    let faulty = Running::faulty(Fault::FreedCodeStillTaken);
    let output = harness_check(&faulty);
    let printed = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{printed}");
    assert!(
        printed.contains("fail  customers.new_code_replaces_and_frees_the_old"),
        "{printed}"
    );
    let clean = Running::clean();
    let output = harness_check(&clean);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}
