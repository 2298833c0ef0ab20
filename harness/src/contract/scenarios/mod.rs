//! The named scenarios: one per rule of the contract's Rehook API and Segment sections, each a
//! list of calls with explicit expectations (status, error code, key fields) and a check of
//! the state they leave, made through the Rehook API.
//!
//! Every scenario works with its own source_ids and codes, made from the run's id and the
//! scenario's name ([`Ctx::sid`], [`Ctx::code`]), so that scenarios never see each other's
//! data and a run can go against a server that already holds other data. Scenarios that need
//! the admin API (the drop log, stored events, the drop-mode switch) run only where
//! `GET /__admin/health` answers; elsewhere they are skipped with the reason.
//!
//! The groups, one file each: `auth`, `validation`, `requests`, `customers`,
//! `events`, `drops`, `segment`.

mod auth;
mod ctx;
mod customers;
mod drops;
mod events;
mod requests;
mod segment;
mod validation;

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

pub use ctx::{Ctx, Entry, Got, Mismatch, Played};

use super::Outcome;
use super::target::Target;

/// What a scenario's body returns: `Err` at the first expectation the server broke.
pub type Step<T = ()> = Result<T, Mismatch>;

/// A scenario's body, boxed so that scenarios can sit in one table.
type Body = for<'a> fn(&'a mut Ctx<'_>) -> Pin<Box<dyn Future<Output = Step> + Send + 'a>>;

/// One named scenario.
#[derive(Clone, Copy)]
pub struct Scenario {
    /// `group.rule`, e.g. `customers.taken_code_changes_nothing`.
    pub name: &'static str,
    /// The group (one JUnit test suite, one snapshot folder).
    pub group: &'static str,
    /// The rule it checks, in one sentence.
    pub rule: &'static str,
    /// Whether it needs the admin API.
    pub needs_admin: bool,
    body: Body,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .field("needs_admin", &self.needs_admin)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Scenario`] from a group, an `async fn(&mut Ctx) -> Step` and its rule.
macro_rules! scenario {
    ($group:literal, $name:ident, $rule:literal) => {
        scenario!(@make $group, $name, $rule, false)
    };
    ($group:literal, $name:ident, $rule:literal, admin) => {
        scenario!(@make $group, $name, $rule, true)
    };
    (@make $group:literal, $name:ident, $rule:literal, $admin:expr) => {
        $crate::contract::scenarios::Scenario::new(
            concat!($group, ".", stringify!($name)),
            $group,
            $rule,
            $admin,
            {
                fn body<'a>(
                    cx: &'a mut $crate::contract::scenarios::Ctx<'_>,
                ) -> std::pin::Pin<
                    Box<
                        dyn std::future::Future<Output = $crate::contract::scenarios::Step>
                            + Send
                            + 'a,
                    >,
                > {
                    Box::pin($name(cx))
                }
                body
            },
        )
    };
}
pub(crate) use scenario;

impl Scenario {
    const fn new(
        name: &'static str,
        group: &'static str,
        rule: &'static str,
        needs_admin: bool,
        body: Body,
    ) -> Self {
        Self {
            name,
            group,
            rule,
            needs_admin,
            body,
        }
    }
}

/// The groups, in the order they run.
pub const GROUPS: [&str; 7] = [
    "auth",
    "validation",
    "requests",
    "customers",
    "events",
    "drops",
    "segment",
];

/// Every scenario, group by group.
pub fn all() -> Vec<Scenario> {
    [
        auth::scenarios(),
        validation::scenarios(),
        requests::scenarios(),
        customers::scenarios(),
        events::scenarios(),
        drops::scenarios(),
        segment::scenarios(),
    ]
    .concat()
}

/// What a scenario run knows about the run it is part of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    /// The run's id: part of every source_id, code and number a scenario makes.
    pub run_id: String,
    /// The conversion event of the application under check.
    pub conversion_event: String,
    /// Why the admin API cannot be used (`None` when `GET /__admin/health` answered).
    pub no_admin: Option<String>,
    /// Why the Segment scenarios cannot go through the target's Segment front door (`None`
    /// when `POST /v1/batch` took an empty batch with the write key and
    /// `GET /__admin/deliveries` was readable); then the harness plays ingestion itself.
    pub no_front_door: Option<String>,
}

/// The result of one scenario: its outcome and every call it made.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRun {
    /// Passed, failed (with the replayable calls) or skipped (with the reason).
    pub outcome: Outcome,
    /// The calls made and the Segment messages played, in order.
    pub transcript: Vec<Entry>,
}

/// Runs `scenario` against `target`.
pub async fn run(target: &Target, scenario: &Scenario, env: &Env) -> ScenarioRun {
    if scenario.needs_admin
        && let Some(reason) = &env.no_admin
    {
        return ScenarioRun {
            outcome: Outcome::Skipped(format!("needs the admin API: {reason}")),
            transcript: Vec::new(),
        };
    }
    let mut cx = Ctx::new(target, scenario.name, env);
    let result = (scenario.body)(&mut cx).await;
    let outcome = match result {
        Ok(()) => Outcome::Passed,
        Err(mismatch) => Outcome::Failed(cx.failure(scenario, &mismatch)),
    };
    ScenarioRun {
        outcome,
        transcript: cx.into_transcript(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn scenarios_are_named_uniquely_within_known_groups() {
        let all = all();
        assert!(all.len() >= 30, "{} scenarios", all.len());
        let names: HashSet<_> = all.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), all.len());
        for s in &all {
            assert!(GROUPS.contains(&s.group), "{}", s.name);
            assert!(s.name.starts_with(&format!("{}.", s.group)), "{}", s.name);
            assert!(!s.rule.is_empty(), "{}", s.name);
        }
    }
}
