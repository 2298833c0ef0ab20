//! What a scenario works with: [`Ctx`] makes the calls and records them, [`Got`] holds one
//! answer and checks expectations on it, [`Mismatch`] says which expectation broke.

use std::collections::HashSet;
use std::fmt::Write as _;

use rehook_mock::segment::{self, Action, Mapped};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Env, Scenario, Step};
use crate::contract::target::{Api, Request, Response, Target, path};

/// An expectation the server broke, in one or a few lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch(pub String);

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `Err` with `message` unless `condition` holds.
pub(crate) fn ensure(condition: bool, message: impl FnOnce() -> String) -> Step {
    if condition {
        Ok(())
    } else {
        Err(Mismatch(message()))
    }
}

/// One entry of a scenario's transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Entry {
    /// A call and its answer (or why none came).
    Call {
        /// What was sent.
        #[serde(flatten)]
        request: Request,
        /// What came back.
        #[serde(skip_serializing_if = "Option::is_none")]
        response: Option<Response>,
        /// Why nothing came back.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A Segment message and what became of it: through the target's front door, the
    /// outcome its delivery log gave (the calls before it are the post and the log reads);
    /// without one, as the harness played it (ingestion, then the destination's mapping;
    /// the Rehook call it made, if any, is the entry before it).
    Segment {
        /// The message, as sent.
        #[serde(rename = "segment")]
        message: Value,
        /// `delivered`, `dropped`, `filtered` or `error`.
        outcome: String,
        /// Why it was dropped: the ingestion or mapping reason, or the Rehook code.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// `ingestion played by the harness` when the outcome was decided locally (no front
        /// door): such an outcome is shown, not checked.
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'static str>,
    },
}

/// One answer and the call it answers, for checking expectations.
#[derive(Debug, Clone)]
pub struct Got {
    /// `call 3 (POST /customers)`: names the call in a mismatch.
    label: String,
    response: Response,
}

impl Got {
    /// The answer's status.
    pub fn code(&self) -> u16 {
        self.response.status
    }

    /// The answer's JSON body.
    pub fn body(&self) -> &Value {
        &self.response.body
    }

    /// The answer as the replay reads answers.
    pub(crate) fn answer(&self) -> crate::client::Answer {
        crate::client::Answer {
            status: self.response.status,
            body: self.response.body.clone(),
            request_id: None,
        }
    }

    /// The answer's `x-request-id`.
    pub fn request_id(&self) -> Option<&str> {
        self.response.request_id.as_deref()
    }

    /// The error body's `code` of a 4xx or 5xx answer.
    pub fn error_code(&self) -> Option<String> {
        (self.response.status >= 400).then(|| {
            self.at("/code")
                .as_str()
                .map_or_else(|| format!("HTTP_{}", self.response.status), str::to_owned)
        })
    }

    /// The value at a JSON pointer (`/referral/status`), `null` when absent.
    pub fn at(&self, pointer: &str) -> &Value {
        self.response.body.pointer(pointer).unwrap_or(&Value::Null)
    }

    /// The string at a JSON pointer; a mismatch when it is not a string.
    pub fn text(&self, pointer: &str) -> Step<String> {
        match self.at(pointer) {
            Value::String(s) => Ok(s.clone()),
            other => Err(self.mismatch(&format!("a string at {pointer}"), other)),
        }
    }

    fn mismatch(&self, expected: &str, got: &Value) -> Mismatch {
        self.mismatch_text(expected, &compact(got))
    }

    fn mismatch_text(&self, expected: &str, got: &str) -> Mismatch {
        Mismatch(format!(
            "{}: expected {expected}, got {got}\n  answer: {} {}",
            self.label,
            self.response.status,
            compact(&self.response.body)
        ))
    }

    /// Expects the status.
    pub fn status(&self, expected: u16) -> Step<&Self> {
        if self.response.status == expected {
            Ok(self)
        } else {
            Err(self.mismatch(&format!("status {expected}"), &json!(self.response.status)))
        }
    }

    /// Expects a JSON error: the status, `code`, a `message` sentence and a `request_id`
    /// that is the answer's `x-request-id`.
    pub fn error(&self, status: u16, code: &str) -> Step<&Self> {
        if self.response.status != status || self.at("/code") != code {
            let got = format!(
                "{} {}",
                self.response.status,
                self.at("/code").as_str().unwrap_or("(no code)")
            );
            return Err(self.mismatch_text(&format!("{status} {code}"), &got));
        }
        if self.at("/message").as_str().is_none_or(str::is_empty) {
            return Err(self.mismatch("a non-empty `message`", self.at("/message")));
        }
        let id = self.at("/request_id");
        let header = self.request_id();
        if !id.as_str().is_some_and(|id| id.starts_with("req_")) || id.as_str() != header {
            return Err(self.mismatch(
                &format!("`request_id` req_... equal to x-request-id {header:?}"),
                id,
            ));
        }
        Ok(self)
    }

    /// Expects the value at a JSON pointer.
    pub fn field(&self, pointer: &str, expected: impl Into<Value>) -> Step<&Self> {
        let expected = expected.into();
        let got = self.at(pointer);
        if *got == expected {
            Ok(self)
        } else {
            Err(self.mismatch(&format!("{pointer} = {}", compact(&expected)), got))
        }
    }

    /// An answer header (only `allow`, `content-type` and `www-authenticate` are kept).
    pub fn header_value(&self, name: &str) -> Option<String> {
        self.response.headers.get(name).cloned()
    }

    /// Expects an answer header.
    pub fn header(&self, name: &str, expected: &str) -> Step<&Self> {
        let got = self.response.headers.get(name);
        if got.map(String::as_str) == Some(expected) {
            Ok(self)
        } else {
            Err(self.mismatch(
                &format!("header {name}: {expected}"),
                &got.map_or(Value::Null, |g| json!(g)),
            ))
        }
    }

    /// Expects a condition on the answer, described by `expected`.
    pub fn holds(&self, expected: &str, condition: impl FnOnce(&Value) -> bool) -> Step<&Self> {
        if condition(&self.response.body) {
            Ok(self)
        } else {
            Err(self.mismatch(expected, &self.response.body))
        }
    }

    /// Expects a customer object of the contract's shape: a `cust_` id, a string code, an
    /// object `metadata`, a count, `referred_by`, the referral link ending in the code, times.
    pub fn customer_shape(&self, pointer: &str) -> Step<&Self> {
        let c = self.at(pointer);
        let code = c["referral_code"].as_str().unwrap_or("");
        let ok = is_id(&c["id"], "cust_")
            && c["source_id"].is_string()
            && !code.is_empty()
            && c["metadata"].is_object()
            && c["referral_count"].is_u64()
            && (c["referred_by"].is_null() || c["referred_by"].is_string())
            && c["referral_link"]
                .as_str()
                .is_some_and(|l| l.ends_with(&format!("/{code}")))
            && c["created_at"].is_string()
            && c["updated_at"].is_string();
        if ok {
            Ok(self)
        } else {
            Err(self.mismatch(
                &format!(
                    "a customer at {pointer:?} (cust_ id, code, metadata object, count, link)"
                ),
                c,
            ))
        }
    }
}

/// Whether `value` is `prefix` + 21 ASCII alphanumerics.
pub(crate) fn is_id(value: &Value, prefix: &str) -> bool {
    value.as_str().is_some_and(|s| {
        s.strip_prefix(prefix)
            .is_some_and(|rest| rest.len() == 21 && rest.chars().all(|c| c.is_ascii_alphanumeric()))
    })
}

/// Whether `code` looks generated (six letters A–Z): the model's own test.
pub(crate) use crate::model::app::is_generated_shape as is_generated_code;

pub(crate) use crate::contract::compact;

/// The note on a Segment outcome the harness decided itself.
pub const PLAYED_BY_THE_HARNESS: &str = "ingestion played by the harness";

/// What became of a Segment message.
#[derive(Debug, Clone)]
pub struct Played {
    /// `delivered`, `dropped`, `filtered` or `error`.
    pub outcome: String,
    /// Why it was dropped.
    pub reason: Option<String>,
    /// The Rehook API's status for the mapped call, when one ran.
    pub status: Option<u16>,
    /// The Rehook call's answer, when the harness made the call itself (no front door).
    pub answer: Option<Got>,
    /// Whether the outcome was decided by the harness, not the target: no front door and no
    /// Rehook call. Such an outcome cannot fail, so it is not checked.
    pub decided_locally: bool,
}

impl Played {
    /// Expects an outcome and reason (`("dropped", Some("anonymous_only"))`); an outcome the
    /// harness decided itself is not checked (its transcript entry says so).
    pub fn expect(&self, label: &str, outcome: &str, reason: Option<&str>) -> Step<&Self> {
        if self.decided_locally {
            return Ok(self);
        }
        ensure(
            self.outcome == outcome && self.reason.as_deref() == reason,
            || {
                format!(
                    "segment message {label}: expected {outcome}{}, got {}{}",
                    reason.map(|r| format!(" ({r})")).unwrap_or_default(),
                    self.outcome,
                    self.reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                )
            },
        )?;
        Ok(self)
    }

    /// Expects the Rehook API's status for the mapped call (from the delivery log, or the
    /// answer the harness got).
    pub fn status(&self, label: &str, expected: u16) -> Step<&Self> {
        ensure(self.status == Some(expected), || {
            format!(
                "segment message {label}: expected the mapped call to get {expected}, got {}",
                self.status
                    .map_or_else(|| "no call".to_owned(), |s| s.to_string())
            )
        })?;
        Ok(self)
    }

    /// The Rehook call's answer when the harness made the call itself (no front door): its
    /// body can be checked too. Through a front door only the status is known.
    pub fn answered(&self) -> Option<&Got> {
        self.answer.as_ref()
    }
}

/// A scenario's view of the run: the target, its own names, and the transcript so far.
pub struct Ctx<'t> {
    target: &'t Target,
    /// `<run id>-<scenario name>`: the start of every source_id the scenario makes.
    prefix: String,
    /// `<run id>-<short name>`: the start of every code (kept short: codes hold 64 characters).
    code_prefix: String,
    run_id: String,
    name: &'static str,
    conversion: String,
    transcript: Vec<Entry>,
    /// Segment's `messageId`s seen in this scenario (one scenario is one Segment source).
    seen: HashSet<String>,
    /// Whether Segment messages go through the target's front door.
    front_door: bool,
    /// How many messages were given a `messageId`.
    given: usize,
}

impl<'t> Ctx<'t> {
    pub(super) fn new(target: &'t Target, name: &'static str, env: &Env) -> Self {
        let short: String = name
            .split_once('.')
            .map_or(name, |(_, rule)| rule)
            .chars()
            .take(28)
            .collect();
        Self {
            target,
            prefix: format!("{}-{name}", env.run_id),
            code_prefix: format!("{}-{short}", env.run_id),
            run_id: env.run_id.clone(),
            name,
            conversion: env.conversion_event.clone(),
            transcript: Vec::new(),
            seen: HashSet::new(),
            front_door: env.no_front_door.is_none(),
            given: 0,
        }
    }

    /// A source_id of this scenario: `<run id>-<scenario>-<tag>`.
    pub fn sid(&self, tag: &str) -> String {
        format!("{}-{tag}", self.prefix)
    }

    /// A referral code of this scenario: `<run id>-<rule>-<tag>` (no white space, under 64
    /// characters, never six letters, so never one the server generates).
    pub fn code(&self, tag: &str) -> String {
        format!("{}-{tag}", self.code_prefix)
    }

    /// A number of this scenario (below 2^53, so exact as a JSON number anywhere).
    pub fn number(&self, tag: &str) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self
            .run_id
            .as_bytes()
            .iter()
            .chain(self.name.as_bytes())
            .chain(tag.as_bytes())
        {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        1_000_000_000 + hash % 8_000_000_000_000_000
    }

    /// The API key of the application under check.
    pub fn api_key(&self) -> &str {
        self.target.api_key()
    }

    /// The conversion event of the application under check.
    pub fn conversion(&self) -> &str {
        &self.conversion
    }

    /// An event name that is not a conversion event.
    pub fn other_event(&self) -> &'static str {
        if self.conversion == "page_viewed" {
            "page_viewed_2"
        } else {
            "page_viewed"
        }
    }

    /// Sends `request`, records it, and returns its answer; no answer is a mismatch.
    pub async fn send(&mut self, request: Request) -> Step<Got> {
        let label = format!("call {} ({})", self.calls() + 1, request.line());
        let result = self.target.send(&request).await;
        match result {
            Ok(response) => {
                self.transcript.push(Entry::Call {
                    request,
                    response: Some(response.clone()),
                    error: None,
                });
                Ok(Got { label, response })
            }
            Err(error) => {
                self.transcript.push(Entry::Call {
                    request,
                    response: None,
                    error: Some(error.clone()),
                });
                Err(Mismatch(format!("{label}: no answer: {error}")))
            }
        }
    }

    fn calls(&self) -> usize {
        self.transcript
            .iter()
            .filter(|e| matches!(e, Entry::Call { .. }))
            .count()
    }

    /// `POST /customers` with a JSON body.
    pub async fn upsert(&mut self, body: Value) -> Step<Got> {
        self.send(Request::new("POST", Api::Rehook, "/customers").json(body))
            .await
    }

    /// `POST /events/invoke` with a JSON body.
    pub async fn invoke(&mut self, body: Value) -> Step<Got> {
        self.send(Request::new("POST", Api::Rehook, "/events/invoke").json(body))
            .await
    }

    /// `GET` a Rehook API path made of `segments`.
    pub async fn get(&mut self, segments: &[&str]) -> Step<Got> {
        self.send(Request::new("GET", Api::Rehook, path(segments)))
            .await
    }

    /// `GET /customers/{id}`, expecting `200` and a customer; returns it.
    pub async fn customer(&mut self, id: &str) -> Step<Got> {
        let got = self.get(&["customers", id]).await?;
        got.status(200)?.customer_shape("")?;
        Ok(got)
    }

    /// `GET /customers/{id}`, expecting `404 CUSTOMER_NOT_FOUND`: nothing was stored.
    pub async fn absent(&mut self, id: &str) -> Step {
        self.get(&["customers", id])
            .await?
            .error(404, "CUSTOMER_NOT_FOUND")?;
        Ok(())
    }

    /// Creates a customer with `code`, expecting `201`.
    pub async fn create(&mut self, sid: &str, code: &str) -> Step<Got> {
        let got = self
            .upsert(json!({"source_id": sid, "referral_code": code}))
            .await?;
        got.status(201)?.field("/referral_code", code)?;
        Ok(got)
    }

    /// A conversion event from `sid` with `code`.
    pub async fn convert(&mut self, sid: &str, code: Value) -> Step<Got> {
        let event = self.conversion.clone();
        self.invoke(
            json!({"event_name": event, "source_id": sid, "metadata": {"referral_code": code}}),
        )
        .await
    }

    /// A `GET` on the admin API (`?app=` added), expecting a success; returns the body.
    pub async fn admin_get(&mut self, path: &str) -> Step<Value> {
        let got = self.send(Request::new("GET", Api::Admin, path)).await?;
        got.status(200)?;
        Ok(got.body().clone())
    }

    /// The drop-log entry for `request_id`, if there is one.
    pub async fn drop_entry(&mut self, request_id: Option<&str>) -> Step<Option<Value>> {
        let drops = self.admin_get("/drops").await?;
        let Some(id) = request_id else {
            return Err(Mismatch("the refusal carried no x-request-id".to_owned()));
        };
        Ok(drops
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["request_id"] == id)
            .cloned())
    }

    /// Sends one Segment message. Through the target's front door when it has one: posted
    /// alone to `POST /v1/batch` (given a `messageId` of the scenario's when it has none),
    /// its outcome read from the delivery log entries after the log's length before the post.
    /// Without one, played by the harness: ingestion and the default mapping here, the
    /// mapped call to the target; an outcome decided without a call is marked and not checked.
    pub async fn play(&mut self, message: Value) -> Step<Played> {
        let (message, played) = if self.front_door {
            self.deliver(message).await?
        } else {
            let played = self.play_locally(&message).await?;
            (message, played)
        };
        self.transcript.push(Entry::Segment {
            message,
            outcome: played.outcome.clone(),
            reason: played.reason.clone(),
            note: played.decided_locally.then_some(PLAYED_BY_THE_HARNESS),
        });
        Ok(played)
    }

    /// Posts `message` alone to `POST /v1/batch` and reads its outcome from the delivery log:
    /// the entries after the log's length before the post (`x-delivery-log-length`) whose
    /// `message_id` is the message's. A message without a usable `messageId` is given one of
    /// this scenario's (as Segment's libraries give every message one), so it is found.
    async fn deliver(&mut self, mut message: Value) -> Step<(Value, Played)> {
        if segment::id_text(message.get("messageId")).is_none()
            && let Value::Object(object) = &mut message
        {
            self.given += 1;
            let id = self.sid(&format!("msg{}", self.given));
            object.insert("messageId".to_owned(), Value::String(id));
        }
        let id = segment::id_text(message.get("messageId")).unwrap_or_default();
        let before = self
            .send(Request::new("GET", Api::Admin, "/deliveries?limit=0"))
            .await?;
        before.status(200)?;
        let cursor = before
            .header_value("x-delivery-log-length")
            .and_then(|v| v.parse::<usize>().ok())
            .ok_or_else(|| {
                Mismatch("GET /__admin/deliveries: no x-delivery-log-length".to_owned())
            })?;
        self.send(
            Request::new("POST", Api::Segment, "/v1/batch").json(json!({"batch": [message]})),
        )
        .await?
        .status(200)?
        .field("/success", true)?;
        let after = self
            .send(Request::new(
                "GET",
                Api::Admin,
                format!("/deliveries?after={cursor}"),
            ))
            .await?;
        after.status(200)?;
        let own: Vec<&Value> = after
            .body()
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["message_id"] == id.as_str())
            .collect();
        let [entry] = own.as_slice() else {
            return Err(Mismatch(format!(
                "delivery log: expected one entry for messageId {id:?}, got {}: {}",
                own.len(),
                compact(&json!(own))
            )));
        };
        let played = Played {
            outcome: entry["outcome"].as_str().unwrap_or("").to_owned(),
            reason: entry["reason"].as_str().map(str::to_owned),
            status: entry["status"].as_u64().and_then(|s| u16::try_from(s).ok()),
            answer: None,
            decided_locally: false,
        };
        Ok((message, played))
    }

    /// Plays one Segment message as Segment would (ingestion with this scenario's seen
    /// `messageId`s, then the Rehook destination's default mapping) and sends the mapped
    /// Rehook call, as `rehook-harness replay` does. Only the call's answer comes from the
    /// target; an outcome decided without a call is marked as the harness's.
    async fn play_locally(&mut self, message: &Value) -> Step<Played> {
        let mapped = match segment::ingest(message, &mut self.seen) {
            Err(drop) => Err(drop.reason().to_owned()),
            Ok(accepted) => Ok(segment::map_default(&accepted)),
        };
        Ok(match mapped {
            Err(reason) => Played {
                outcome: "dropped".to_owned(),
                reason: Some(reason),
                status: None,
                answer: None,
                decided_locally: true,
            },
            Ok(Mapped::Call(call)) => {
                let got = match call.action {
                    Action::IdentifyUser => self.upsert(call.body).await?,
                    Action::TrackEvent => self.invoke(call.body).await?,
                };
                // As `replay` reads answers.
                let (outcome, reason) = crate::replay::classify(&got.answer());
                Played {
                    outcome: outcome.as_str().to_owned(),
                    reason,
                    status: Some(got.code()),
                    answer: Some(got),
                    decided_locally: false,
                }
            }
            Ok(mapped) => {
                let (outcome, reason) = crate::replay::outcome_of(&mapped)
                    .unwrap_or((crate::replay::Outcome::Filtered, None));
                Played {
                    outcome: outcome.as_str().to_owned(),
                    reason,
                    status: None,
                    answer: None,
                    decided_locally: true,
                }
            }
        })
    }

    /// The failure text: the mismatch, then the calls that show it as `curl` lines.
    pub(super) fn failure(&self, scenario: &Scenario, mismatch: &Mismatch) -> String {
        let mut text = format!("{}\n  rule: {}\n", mismatch, scenario.rule);
        let _ = writeln!(
            text,
            "  replay (export REHOOK_API_SECRET first{}):",
            if self
                .transcript
                .iter()
                .any(|e| matches!(e, Entry::Call { request, .. } if request.api == Api::Admin))
            {
                "; REHOOK_ADMIN_TOKEN if the admin API needs one"
            } else {
                ""
            }
        );
        for entry in &self.transcript {
            match entry {
                Entry::Call { request, .. } => {
                    let _ = writeln!(text, "    {}", self.target.curl(request));
                }
                Entry::Segment {
                    message,
                    outcome,
                    reason,
                    note,
                } => {
                    let _ = writeln!(
                        text,
                        "    # segment message {} -> {outcome}{}{}",
                        compact(message),
                        reason
                            .as_deref()
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default(),
                        note.map(|n| format!(" [{n}]")).unwrap_or_default()
                    );
                }
            }
        }
        text.trim_end().to_owned()
    }

    pub(super) fn into_transcript(self) -> Vec<Entry> {
        self.transcript
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn got(status: u16, body: Value, request_id: Option<&str>) -> Got {
        Got {
            label: "call 2 (POST /customers)".to_owned(),
            response: Response {
                status,
                headers: BTreeMap::new(),
                request_id: request_id.map(str::to_owned),
                body,
            },
        }
    }

    #[test]
    fn a_wrong_status_names_the_call_and_shows_the_answer() {
        let mismatch = got(201, json!({"id": "cust_1"}), None)
            .status(200)
            .expect_err("201 is not 200");
        assert_eq!(
            mismatch.0,
            "call 2 (POST /customers): expected status 200, got 201\n  answer: 201 {\"id\":\"cust_1\"}"
        );
    }

    #[test]
    fn an_error_needs_its_code_a_message_and_the_request_id() {
        let body =
            json!({"code": "REFERRAL_CODE_TAKEN", "message": "taken", "request_id": "req_a1"});
        assert!(
            got(409, body.clone(), Some("req_a1"))
                .error(409, "REFERRAL_CODE_TAKEN")
                .is_ok()
        );
        let wrong_code = got(409, body.clone(), Some("req_a1"))
            .error(422, "SELF_REFERRAL")
            .expect_err("another code");
        assert!(wrong_code.0.starts_with(
            "call 2 (POST /customers): expected 422 SELF_REFERRAL, got 409 REFERRAL_CODE_TAKEN"
        ));
        let other_id = got(409, body, Some("req_b2"));
        assert!(
            other_id.error(409, "REFERRAL_CODE_TAKEN").is_err(),
            "the body's request_id must be the header's"
        );
        let no_message = got(
            409,
            json!({"code": "REFERRAL_CODE_TAKEN", "request_id": "req_a1"}),
            Some("req_a1"),
        );
        assert!(no_message.error(409, "REFERRAL_CODE_TAKEN").is_err());
    }

    #[test]
    fn ids_and_generated_codes_have_their_shape() {
        assert!(is_id(&json!("cust_abcdefghij0123456789K"), "cust_"));
        assert!(!is_id(&json!("cust_short"), "cust_"));
        assert!(!is_id(&json!("evt_abcdefghij0123456789K"), "cust_"));
        assert!(is_generated_code("KBLGPN"));
        assert!(!is_generated_code("KBLGP1"));
        assert!(!is_generated_code("kblgpn"));
        assert!(!is_generated_code("KBLGPNX"));
    }
}
