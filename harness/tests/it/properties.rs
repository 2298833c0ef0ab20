//! The contract as properties: random sequences checked against the reference model, the
//! concurrent race, and the failure report of a deliberately wrong server.

use rehook_harness::Client;
use rehook_harness::contract::random::{self, RandomOptions};
use rehook_mock::MockRehook;

use crate::support::client_for;

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

async fn run_blocking(
    client: Client,
    options: RandomOptions,
) -> Result<random::RandomReport, random::RandomFailure> {
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
            assert!(report.steps >= report.cases as usize, "{report:?}");
        }
        Err(failure) => panic!("{failure}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tmp_debug_failure() {
    let mock = MockRehook::builder().seed(11).start().await;
    let options = RandomOptions {
        seed: 3,
        cases: 32,
        max_steps: 30,
        ..RandomOptions::default()
    };
    match run_blocking(client_for(&mock), options.clone()).await {
        Ok(report) => panic!("{report:#?}"),
        Err(failure) => panic!("{failure}"),
    }
}
