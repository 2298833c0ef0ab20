//! The concurrency property of contract 2.3 step 5: concurrent calls that claim one code, and
//! concurrent creates of one source_id, leave codes unique, give each contested code exactly
//! one winner and lose no update.
//!
//! Each round runs three races, every call of a race in flight at once:
//!
//! 1. **new customers claiming codes**: `tasks` creates, each claiming one of `codes`
//!    contested codes. Per code exactly one answer is `201`, the rest `409
//!    REFERRAL_CODE_TAKEN`; the code validates to the winner; no loser exists afterwards.
//! 2. **existing customers claiming codes**: `tasks` customers created beforehand each try to
//!    replace their code by a contested one. Per code one `200`, the rest `409`; the winner's old
//!    code is freed, the losers keep theirs and their metadata unchanged.
//! 3. **creates of one source_id**: `tasks` calls create the same source_id, each with its own
//!    metadata key. Exactly one `201`, the rest `200`; every key is present afterwards.
//!
//! 4. **friends converting with one code**: `tasks` friends send a conversion event with one
//!    advocate's code at once. Each is `200` and `attributed` to the advocate; the advocate's
//!    `referral_count` is `tasks` and its referral list holds every friend once.
//! 5. **one friend converting with two codes**: one friend sends two conversion events at
//!    once, each with another advocate's code. Exactly one is `attributed`, the other
//!    `already_referred`; the friend is referred by the winner, whose count is 1, and the
//!    other advocate's count stays 0.
//!
//! With the admin API, the whole application's codes are checked to be unique at the end.
//! Like [`super::random::run`], [`run`] is synchronous and owns a runtime: call it from a plain
//! thread or `spawn_blocking`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Value, json};

use crate::Client;
use crate::client::Answer;

/// How hard to race.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaceOptions {
    /// Names the round's ids and codes (with `salt`), so that runs do not collide.
    pub seed: u64,
    /// Mixed into the names (`check` passes its run id), so that one seed can run twice
    /// against one server.
    pub salt: u64,
    /// Calls in flight at once, per race.
    pub tasks: usize,
    /// Contested codes per round (the tasks are spread over them).
    pub codes: usize,
    /// Rounds.
    pub rounds: usize,
    /// Whether the target serves `/__admin` (then every code of the application is checked
    /// for uniqueness at the end).
    pub admin: bool,
    /// The application's conversion event (the conversion races send it).
    pub conversion_event: String,
}

impl Default for RaceOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            salt: 0,
            tasks: 16,
            codes: 3,
            rounds: 4,
            admin: true,
            conversion_event: "signup".to_owned(),
        }
    }
}

/// What a passing race did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RaceReport {
    /// Contested codes, over all rounds and both claim races.
    pub contested_codes: usize,
    /// Claims sent (creates and replacements).
    pub claims: usize,
    /// Concurrent creates of one source_id sent.
    pub creates: usize,
    /// Concurrent conversion events sent.
    pub conversions: usize,
    /// All HTTP calls made.
    pub calls: usize,
}

/// A broken concurrency property: which one, and the answers that show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaceFailure {
    /// The property that failed.
    pub problem: String,
    /// The calls and answers involved, one per line.
    pub evidence: Vec<String>,
}

impl fmt::Display for RaceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "race: {}", self.problem)?;
        writeln!(f, "  rule: {RULE}")?;
        if !self.evidence.is_empty() {
            writeln!(f, "  the calls (sent at once) and the read-back:")?;
        }
        for line in &self.evidence {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RaceFailure {}

/// The rule the race checks, in one sentence (printed with a failure).
pub const RULE: &str = "concurrent claims of one code give it exactly one owner (the others 409 REFERRAL_CODE_TAKEN and unchanged), concurrent creates of one source_id make one customer (one 201) and lose no update, concurrent conversions count every friend once and refer a friend to exactly one advocate";

fn fail(problem: impl Into<String>, evidence: Vec<String>) -> RaceFailure {
    RaceFailure {
        problem: problem.into(),
        evidence,
    }
}

/// Races concurrent claims and creates against the server behind `client` and checks the
/// outcome (see the module notes).
pub fn run(client: &Client, options: &RaceOptions) -> Result<RaceReport, RaceFailure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start a runtime: {e}"), Vec::new()))?;
    runtime.block_on(race(client, options))
}

struct Race<'c> {
    client: &'c Client,
    report: RaceReport,
}

async fn race(client: &Client, options: &RaceOptions) -> Result<RaceReport, RaceFailure> {
    let mut race = Race {
        client,
        report: RaceReport::default(),
    };
    let tasks = options.tasks.max(2);
    let codes = options.codes.clamp(1, tasks);
    let base = format!("race{:x}", options.seed ^ options.salt.rotate_left(32));
    let first = format!("{base}-0-shared");
    if race.get(&["customers", &first]).await?.status != 404 {
        return Err(fail(
            format!(
                "the server already holds {first:?} made by an earlier race with this seed and salt (in `check`, the same run id): use another salt (`check --run-id`), or reset the server"
            ),
            Vec::new(),
        ));
    }
    for round in 0..options.rounds.max(1) {
        let prefix = format!("{base}-{round}");
        race.claims_by_new_customers(&prefix, tasks, codes).await?;
        race.claims_by_existing_customers(&prefix, tasks, codes)
            .await?;
        race.creates_of_one_source_id(&prefix, tasks).await?;
        race.friends_converting_with_one_code(&prefix, tasks, &options.conversion_event)
            .await?;
        race.one_friend_converting_with_two_codes(&prefix, &options.conversion_event)
            .await?;
    }
    if options.admin {
        race.report.calls += 1;
        let customers = client
            .admin_customers()
            .await
            .map_err(|e| fail(crate::error_text(&e), Vec::new()))?;
        let mut seen = BTreeMap::new();
        for c in &customers {
            if let Some(other) = seen.insert(c.referral_code.clone(), c.source_id.clone()) {
                return Err(fail(
                    format!(
                        "code {:?} is held by both {other:?} and {:?}",
                        c.referral_code, c.source_id
                    ),
                    Vec::new(),
                ));
            }
        }
    }
    Ok(race.report)
}

impl Race<'_> {
    /// Sends every body to `POST /customers` at once; answers in the bodies' order.
    async fn upsert_all(&mut self, bodies: &[Value]) -> Result<Vec<Answer>, RaceFailure> {
        self.send_all(bodies, false).await
    }

    /// Sends every body to `POST /events/invoke` at once; answers in the bodies' order.
    async fn invoke_all(&mut self, bodies: &[Value]) -> Result<Vec<Answer>, RaceFailure> {
        self.send_all(bodies, true).await
    }

    async fn send_all(
        &mut self,
        bodies: &[Value],
        invoke: bool,
    ) -> Result<Vec<Answer>, RaceFailure> {
        let endpoint = if invoke {
            "POST /events/invoke"
        } else {
            "POST /customers"
        };
        let mut set = tokio::task::JoinSet::new();
        for (i, body) in bodies.iter().enumerate() {
            let client = self.client.clone();
            let body = body.clone();
            set.spawn(async move {
                let answer = if invoke {
                    client.invoke_event(&body).await
                } else {
                    client.upsert_customer(&body).await
                };
                (i, answer)
            });
        }
        self.report.calls += bodies.len();
        let mut answers: Vec<Option<Answer>> = vec![None; bodies.len()];
        while let Some(joined) = set.join_next().await {
            let (i, answer) =
                joined.map_err(|e| fail(format!("a racing call panicked: {e}"), Vec::new()))?;
            let answer = answer.map_err(|e| {
                fail(
                    format!("{endpoint} got no answer: {}", crate::error_text(&e)),
                    vec![bodies[i].to_string()],
                )
            })?;
            answers[i] = Some(answer);
        }
        Ok(answers
            .into_iter()
            .map(|a| a.expect("every task answered"))
            .collect())
    }

    async fn get(&mut self, path: &[&str]) -> Result<Answer, RaceFailure> {
        self.report.calls += 1;
        self.client
            .rehook(reqwest::Method::GET, path, None)
            .await
            .map_err(|e| {
                fail(
                    crate::error_text(&e),
                    vec![format!("GET /{}", path.join("/"))],
                )
            })
    }

    /// Checks that each contested code has exactly one winner (`win_status`), every other
    /// claimant got `409 REFERRAL_CODE_TAKEN`, and the code validates to the winner.
    async fn one_winner_per_code(
        &mut self,
        race: &str,
        bodies: &[Value],
        answers: &[Answer],
        win_status: u16,
    ) -> Result<BTreeMap<String, String>, RaceFailure> {
        let evidence = |code: &str| -> Vec<String> {
            bodies
                .iter()
                .zip(answers)
                .filter(|(b, _)| b["referral_code"] == code)
                .map(|(b, a)| format!("{b} -> {} {}", a.status, a.body))
                .collect()
        };
        let mut winners = BTreeMap::new();
        let codes: BTreeSet<String> = bodies
            .iter()
            .filter_map(|b| b["referral_code"].as_str().map(str::to_owned))
            .collect();
        for code in codes {
            let mut won = Vec::new();
            for (body, answer) in bodies.iter().zip(answers) {
                if body["referral_code"] != code.as_str() {
                    continue;
                }
                match (answer.status, answer.error_code()) {
                    (s, _) if s == win_status => {
                        won.push(body["source_id"].as_str().unwrap_or_default().to_owned())
                    }
                    (409, Some("REFERRAL_CODE_TAKEN")) => {}
                    _ => {
                        return Err(fail(
                            format!(
                                "{race}: a claim of {code:?} was answered with neither {win_status} nor 409 REFERRAL_CODE_TAKEN"
                            ),
                            evidence(&code),
                        ));
                    }
                }
            }
            if won.len() != 1 {
                return Err(fail(
                    format!(
                        "{race}: {} claims of {code:?} won (exactly one must)",
                        won.len()
                    ),
                    evidence(&code),
                ));
            }
            let winner = won.remove(0);
            let owner = self.get(&["customers", "validate-code", &code]).await?;
            if owner.status != 200 || owner.body["source_id"] != winner.as_str() {
                return Err(fail(
                    format!(
                        "{race}: {code:?} was won by {winner:?} but validates to {} {}",
                        owner.status, owner.body
                    ),
                    evidence(&code),
                ));
            }
            self.report.contested_codes += 1;
            winners.insert(code, winner);
        }
        Ok(winners)
    }

    async fn claims_by_new_customers(
        &mut self,
        prefix: &str,
        tasks: usize,
        codes: usize,
    ) -> Result<(), RaceFailure> {
        let bodies = claim_bodies(prefix, "new", "N", tasks, codes);
        self.report.claims += tasks;
        let answers = self.upsert_all(&bodies).await?;
        let race = "new customers claiming one code";
        self.one_winner_per_code(race, &bodies, &answers, 201)
            .await?;
        for (body, answer) in bodies.iter().zip(&answers) {
            let id = body["source_id"].as_str().unwrap_or_default();
            let got = self.get(&["customers", id]).await?;
            let expected = if answer.status == 201 { 200 } else { 404 };
            if got.status != expected {
                return Err(fail(
                    format!(
                        "{race}: {id:?} answered {} then GET answered {} (expected {expected})",
                        answer.status, got.status
                    ),
                    vec![
                        format!("{body} -> {} {}", answer.status, answer.body),
                        format!("GET -> {}", got.body),
                    ],
                ));
            }
            if expected == 200 && got.body["metadata"] != body["metadata"] {
                return Err(fail(
                    format!("{race}: the winner's metadata was not stored as sent"),
                    vec![body.to_string(), got.body.to_string()],
                ));
            }
        }
        Ok(())
    }

    async fn claims_by_existing_customers(
        &mut self,
        prefix: &str,
        tasks: usize,
        codes: usize,
    ) -> Result<(), RaceFailure> {
        let race = "existing customers claiming one code";
        let mut old = Vec::new();
        for i in 0..tasks {
            let body = json!({"source_id": format!("{prefix}-old{i}"), "metadata": {"before": i}});
            self.report.calls += 1;
            let answer = self
                .client
                .upsert_customer(&body)
                .await
                .map_err(|e| fail(crate::error_text(&e), vec![body.to_string()]))?;
            let code = answer.body["referral_code"].as_str().map(str::to_owned);
            match (answer.status, code) {
                (201, Some(code)) => old.push(code),
                _ => {
                    return Err(fail(
                        format!(
                            "{race}: creating a claimant answered {} {}",
                            answer.status, answer.body
                        ),
                        vec![body.to_string()],
                    ));
                }
            }
        }
        let bodies = claim_bodies(prefix, "old", "E", tasks, codes);
        self.report.claims += tasks;
        let answers = self.upsert_all(&bodies).await?;
        self.one_winner_per_code(race, &bodies, &answers, 200)
            .await?;
        for ((body, answer), old_code) in bodies.iter().zip(&answers).zip(&old) {
            let id = body["source_id"].as_str().unwrap_or_default();
            let won = answer.status == 200;
            let got = self.get(&["customers", id]).await?;
            let i = id.rsplit("old").next().unwrap_or_default();
            let mut metadata = json!({"before": i.parse::<u64>().unwrap_or_default()});
            let want_code = if won {
                metadata[format!("t{i}")] = body["metadata"][format!("t{i}")].clone();
                body["referral_code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            } else {
                old_code.clone()
            };
            if got.status != 200
                || got.body["referral_code"] != want_code.as_str()
                || got.body["metadata"] != metadata
            {
                return Err(fail(
                    format!("{race}: {id:?} should hold {want_code:?} with metadata {metadata}"),
                    vec![
                        format!("{body} -> {} {}", answer.status, answer.body),
                        format!("GET -> {} {}", got.status, got.body),
                    ],
                ));
            }
            let freed = self.get(&["customers", "validate-code", old_code]).await?;
            let holder_ok = if won {
                freed.status == 404
            } else {
                freed.status == 200 && freed.body["source_id"] == id
            };
            if !holder_ok {
                return Err(fail(
                    format!(
                        "{race}: {id:?}'s old code {old_code:?} {}",
                        if won {
                            "was not freed"
                        } else {
                            "no longer validates to it"
                        }
                    ),
                    vec![format!("validate-code -> {} {}", freed.status, freed.body)],
                ));
            }
        }
        Ok(())
    }

    async fn creates_of_one_source_id(
        &mut self,
        prefix: &str,
        tasks: usize,
    ) -> Result<(), RaceFailure> {
        let race = "creates of one source_id";
        let id = format!("{prefix}-shared");
        let bodies: Vec<Value> = (0..tasks)
            .map(|i| json!({"source_id": id, "metadata": { format!("k{i}"): i }}))
            .collect();
        self.report.creates += tasks;
        let answers = self.upsert_all(&bodies).await?;
        let evidence: Vec<String> = bodies
            .iter()
            .zip(&answers)
            .map(|(b, a)| format!("{b} -> {} {}", a.status, a.body))
            .collect();
        let created = answers.iter().filter(|a| a.status == 201).count();
        let updated = answers.iter().filter(|a| a.status == 200).count();
        if created != 1 || updated != tasks - 1 {
            return Err(fail(
                format!(
                    "{race}: {created} answered 201 and {updated} answered 200 (exactly one create, the rest updates)"
                ),
                evidence,
            ));
        }
        let got = self.get(&["customers", &id]).await?;
        let missing: Vec<String> = (0..tasks)
            .filter(|i| got.body["metadata"][format!("k{i}")] != json!(i))
            .map(|i| format!("k{i}"))
            .collect();
        if got.status != 200 || !missing.is_empty() {
            return Err(fail(
                format!(
                    "{race}: updates were lost: {missing:?} missing from {}",
                    got.body["metadata"]
                ),
                evidence,
            ));
        }
        let code = got.body["referral_code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let owner = self.get(&["customers", "validate-code", &code]).await?;
        if owner.status != 200 || owner.body["source_id"] != id.as_str() {
            return Err(fail(
                format!(
                    "{race}: its code {code:?} validates to {} {}",
                    owner.status, owner.body
                ),
                evidence,
            ));
        }
        Ok(())
    }

    /// Creates `source_id` with `code`; a failure unless `201`.
    async fn advocate(
        &mut self,
        race: &str,
        source_id: &str,
        code: &str,
    ) -> Result<(), RaceFailure> {
        let body = json!({"source_id": source_id, "referral_code": code});
        self.report.calls += 1;
        let answer = self
            .client
            .upsert_customer(&body)
            .await
            .map_err(|e| fail(crate::error_text(&e), vec![body.to_string()]))?;
        if answer.status != 201 {
            return Err(fail(
                format!(
                    "{race}: creating the advocate answered {} {}",
                    answer.status, answer.body
                ),
                vec![body.to_string()],
            ));
        }
        Ok(())
    }

    /// The `referral_count` of `source_id` (`GET /customers/{id}`).
    async fn count(&mut self, source_id: &str) -> Result<Value, RaceFailure> {
        let got = self.get(&["customers", source_id]).await?;
        Ok(if got.status == 200 {
            got.body["referral_count"].clone()
        } else {
            json!(format!("GET answered {}", got.status))
        })
    }

    async fn friends_converting_with_one_code(
        &mut self,
        prefix: &str,
        tasks: usize,
        conversion: &str,
    ) -> Result<(), RaceFailure> {
        let race = "friends converting with one code";
        let (advocate, code) = (format!("{prefix}-adv"), format!("{prefix}-C"));
        self.advocate(race, &advocate, &code).await?;
        let bodies: Vec<Value> = (0..tasks)
            .map(|i| {
                json!({"event_name": conversion, "source_id": format!("{prefix}-friend{i}"),
                       "metadata": {"referral_code": code}})
            })
            .collect();
        self.report.conversions += tasks;
        let answers = self.invoke_all(&bodies).await?;
        let evidence: Vec<String> = bodies
            .iter()
            .zip(&answers)
            .map(|(b, a)| format!("{b} -> {} {}", a.status, a.body))
            .collect();
        let attributed = json!({"advocate": advocate, "status": "attributed"});
        if answers
            .iter()
            .any(|a| a.status != 200 || a.body["referral"] != attributed)
        {
            return Err(fail(
                format!("{race}: every conversion must be 200 and attributed to {advocate:?}"),
                evidence,
            ));
        }
        let count = self.count(&advocate).await?;
        if count != json!(tasks) {
            return Err(fail(
                format!(
                    "{race}: {tasks} friends converted but {advocate:?} has referral_count {count}"
                ),
                evidence,
            ));
        }
        let list = self
            .client
            .referral_list(&advocate)
            .await
            .map_err(|e| fail(crate::error_text(&e), Vec::new()))?;
        self.report.calls += 1;
        let listed: BTreeSet<&str> = list
            .body
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["source_id"].as_str())
            .collect();
        let sent: BTreeSet<&str> = bodies
            .iter()
            .filter_map(|b| b["source_id"].as_str())
            .collect();
        let entries = list.body.as_array().map_or(0, Vec::len);
        if list.status != 200 || listed != sent || entries != tasks {
            return Err(fail(
                format!(
                    "{race}: the referral list of {advocate:?} must hold each of the {tasks} friends once"
                ),
                vec![format!("referral list -> {} {}", list.status, list.body)],
            ));
        }
        Ok(())
    }

    async fn one_friend_converting_with_two_codes(
        &mut self,
        prefix: &str,
        conversion: &str,
    ) -> Result<(), RaceFailure> {
        let race = "one friend converting with two codes";
        let friend = format!("{prefix}-dual");
        let advocates = [format!("{prefix}-advX"), format!("{prefix}-advY")];
        let codes = [format!("{prefix}-X"), format!("{prefix}-Y")];
        for (advocate, code) in advocates.iter().zip(&codes) {
            self.advocate(race, advocate, code).await?;
        }
        let bodies: Vec<Value> = codes
            .iter()
            .map(|code| {
                json!({"event_name": conversion, "source_id": friend,
                       "metadata": {"referral_code": code}})
            })
            .collect();
        self.report.conversions += bodies.len();
        let answers = self.invoke_all(&bodies).await?;
        let evidence: Vec<String> = bodies
            .iter()
            .zip(&answers)
            .map(|(b, a)| format!("{b} -> {} {}", a.status, a.body))
            .collect();
        let statuses: Vec<&str> = answers
            .iter()
            .map(|a| a.body["referral"]["status"].as_str().unwrap_or(""))
            .collect();
        let winner = statuses.iter().position(|s| *s == "attributed");
        let wins = statuses.iter().filter(|s| **s == "attributed").count();
        let Some(winner) = winner.filter(|_| {
            wins == 1
                && answers.iter().all(|a| a.status == 200)
                && statuses.contains(&"already_referred")
        }) else {
            return Err(fail(
                format!(
                    "{race}: exactly one conversion must be attributed, the other already_referred"
                ),
                evidence,
            ));
        };
        let (won, lost) = (&advocates[winner], &advocates[1 - winner]);
        let got = self.get(&["customers", &friend]).await?;
        let (won_count, lost_count) = (self.count(won).await?, self.count(lost).await?);
        if got.body["referred_by"] != won.as_str()
            || won_count != json!(1)
            || lost_count != json!(0)
        {
            let mut evidence = evidence;
            evidence.push(format!("GET friend -> {} {}", got.status, got.body));
            return Err(fail(
                format!(
                    "{race}: {friend:?} must be referred by {won:?} (count 1, got {won_count}) only; {lost:?} must keep count 0 (got {lost_count})"
                ),
                evidence,
            ));
        }
        Ok(())
    }
}

/// The bodies of `tasks` concurrent claims: customer `{prefix}-{who}{i}` claims code
/// `{prefix}-{code}{i % codes}` and sends a metadata key of its own (`t{i}`), so a lost update
/// shows as a missing key.
fn claim_bodies(prefix: &str, who: &str, code: &str, tasks: usize, codes: usize) -> Vec<Value> {
    (0..tasks)
        .map(|i| {
            json!({
                "source_id": format!("{prefix}-{who}{i}"),
                "referral_code": format!("{prefix}-{code}{}", i % codes),
                "metadata": { format!("t{i}"): i },
            })
        })
        .collect()
}
