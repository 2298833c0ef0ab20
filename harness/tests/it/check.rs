//! `rehook-harness check`: the contract passes against the fake, admin-only scenarios are
//! skipped where there is no admin API, a wrong server fails with the scenario named, and the
//! command line's exit codes and reports.

use rehook_harness::contract::{self, CheckOptions, Outcome};

use crate::support::seeded_fake;

fn scenarios_only() -> CheckOptions {
    CheckOptions {
        seed: 11,
        random: false,
        race: false,
        ..CheckOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_passes_against_the_fake() {
    let (_mock, client) = seeded_fake(11).await;
    let report = contract::check(&client, &scenarios_only()).await;
    for case in &report.cases {
        assert_eq!(case.outcome, Outcome::Passed, "{case}");
    }
    assert_eq!(report.cases.len(), contract::scenarios::all().len());
}
