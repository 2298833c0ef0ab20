//! One execution of a sequence: each step is sent to the server and applied to the model,
//! then the answer and the observable state are compared.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::RandomOptions;
use super::failure::{Record, Request};
use super::steps::{self, Call, Names, Step};
use crate::client::{Answer, ClientError};
use crate::contract::compact;
use crate::input::{InputMessage, Location};
use crate::model::app::{fresh_index, is_generated_shape};
use crate::model::{App, Customer, Endpoint, Play, Reply, Settings, Source, coerce};
use crate::replay::Replayer;
use crate::{Client, Delivery};

/// What the model expects of one step.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// A direct Rehook API answer.
    Reply(Reply),
    /// A Segment message's delivery, and the answer of its Rehook call if it makes one.
    Delivery {
        /// `identify_user` / `track_event`, when a destination action matched.
        action: Option<&'static str>,
        /// The outcome of the Rehook call, or the drop / filter before it.
        play: Play,
        /// The model's answer to the mapped call.
        reply: Option<Reply>,
    },
}

/// Applies `call` to the model (and to the Segment source for messages).
pub fn expect(app: &mut App, source: &mut Source, call: &Call) -> Expect {
    match call {
        Call::Upsert(body) => Expect::Reply(app.upsert(body)),
        Call::Invoke(body) => Expect::Reply(app.invoke(body)),
        Call::Get { source_id, .. } => Expect::Reply(app.get(source_id)),
        Call::Validate(code) => Expect::Reply(app.validate(code)),
        Call::ReferralList(source_id) => Expect::Reply(app.referral_list(source_id)),
        Call::Segment(message) => {
            let play = source.play(message);
            let (action, reply) = match &play {
                Play::Dropped { action, .. } => (action.map(action_name), None),
                Play::Filtered => (None, None),
                Play::Call { endpoint, body } => {
                    let reply = match endpoint {
                        Endpoint::Customers => app.upsert(body),
                        Endpoint::EventsInvoke => app.invoke(body),
                    };
                    (Some(action_name(*endpoint)), Some(reply))
                }
            };
            Expect::Delivery {
                action,
                play,
                reply,
            }
        }
    }
}

/// A short name for the kind of outcome a step expects: `upsert 201`, `invoke 422
/// SELF_REFERRAL`, `segment dropped duplicate_message_id`, ...
pub fn outcome_key(expect: &Expect) -> String {
    let reply_key = |reply: &Reply| match reply {
        Reply::Error { status, code } => format!("{status} {code}"),
        Reply::Dropped { reason } => format!("200 dropped {reason}"),
        Reply::Event { referral, .. } => match referral {
            Some(r) => format!("200 {}", r.status()),
            None => "200".to_owned(),
        },
        other => other.status().to_string(),
    };
    match expect {
        Expect::Reply(reply) => reply_key(reply),
        Expect::Delivery {
            play,
            reply,
            action,
        } => match (play, reply) {
            (Play::Dropped { reason, .. }, _) => format!("segment dropped {reason}"),
            (Play::Filtered, _) => "segment filtered".to_owned(),
            (_, Some(reply)) => format!("segment {} {}", action.unwrap_or("-"), reply_key(reply)),
            (_, None) => "segment".to_owned(),
        },
    }
}

fn action_name(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Customers => "identify_user",
        Endpoint::EventsInvoke => "track_event",
    }
}

/// Fails when a customer of the first execution's names already exists on the server (an
/// earlier run with the same seed and salt).
pub async fn fresh(client: &Client, names: &Names) -> Result<(), String> {
    let id = names.user(0);
    match client.get_customer(&id).await {
        Ok(answer) if answer.status == 404 => Ok(()),
        Ok(answer) if answer.status == 200 => Err(format!(
            "the server already holds customer {id:?}, made by an earlier run with this seed and salt (in `check`, the same run id): use another salt (`check --run-id`), or reset the server"
        )),
        Ok(answer) => Err(format!(
            "GET /customers/{id} answered {} {}: cannot start",
            answer.status, answer.body
        )),
        Err(e) => Err(crate::error_text(&e)),
    }
}

/// One execution: the server's client, the model beside it, and what was learned.
pub struct Execution<'c> {
    client: &'c Client,
    options: &'c RandomOptions,
    names: Names,
    app: App,
    source: Source,
    replayer: Replayer<'c>,
    /// `cust_` ids the server gave, by source_id.
    ids: BTreeMap<String, String>,
    /// The base URL's path (`""` or `/api`), as drop-log endpoints show it.
    base_path: String,
    /// The steps run so far, for the failure report.
    pub records: Vec<Record>,
    /// HTTP calls made.
    pub calls: usize,
    /// The observation that disagreed, if one did.
    pub failed_check: Option<Request>,
    /// How many steps expected each kind of outcome ([`outcome_key`]).
    pub outcomes: BTreeMap<String, usize>,
}

type Checked = Result<(), String>;

impl<'c> Execution<'c> {
    /// An execution with the names `names` and an empty model with `settings`.
    pub fn new(
        client: &'c Client,
        options: &'c RandomOptions,
        names: Names,
        settings: Settings,
    ) -> Self {
        let base_path = reqwest::Url::parse(client.base_url())
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Self {
            client,
            options,
            names,
            app: App::new(settings),
            source: Source::default(),
            replayer: Replayer::new(client),
            ids: BTreeMap::new(),
            base_path,
            records: Vec::new(),
            calls: 0,
            failed_check: None,
            outcomes: BTreeMap::new(),
        }
    }

    /// Runs `step` on the server and the model and compares everything it may have changed.
    pub async fn step(&mut self, step: &Step) -> Checked {
        let call = steps::render(&self.names, &self.app, step);
        let before = self.app.clone();
        let expect = expect(&mut self.app, &mut self.source, &call);
        let request = self.request(&call)?;
        *self.outcomes.entry(outcome_key(&expect)).or_default() += 1;
        let index = self.records.len() + 1;
        let mut record = Record {
            step: index,
            request: request.clone(),
            expected: describe_expect(&expect),
            actual: String::new(),
        };
        self.calls += 1;
        let compared = match &call {
            Call::Segment(message) => {
                let input = InputMessage {
                    location: Location {
                        file: "random".to_owned(),
                        line: index,
                        item: None,
                    },
                    value: message.clone(),
                };
                let deliveries = self.replayer.play(&input).await.to_vec();
                record.actual = deliveries
                    .iter()
                    .map(describe_delivery)
                    .collect::<Vec<_>>()
                    .join("; ");
                self.records.push(record);
                match deliveries.as_slice() {
                    [delivery] => self.delivery(&expect, delivery),
                    other => Err(format!(
                        "the default mappings give one delivery per message, got {}",
                        other.len()
                    )),
                }
            }
            _ => {
                let answer = self.send(&request).await;
                record.actual = match &answer {
                    Ok(answer) => describe_answer(answer),
                    Err(e) => e.clone(),
                };
                self.records.push(record);
                let answer = answer?;
                match &expect {
                    Expect::Reply(reply) => self.reply(reply, &answer),
                    Expect::Delivery { .. } => unreachable!("direct calls expect replies"),
                }
            }
        };
        compared.map_err(|problem| format!("step {index} was answered wrongly: {problem}"))?;
        self.observe(&before, &call, &expect, index).await?;
        if self.options.admin {
            self.admin(index).await?;
        }
        Ok(())
    }

    fn request(&self, call: &Call) -> Result<Request, String> {
        let get = |segments: Vec<String>| Request::Rehook {
            method: "GET",
            segments,
            body: None,
        };
        Ok(match call {
            Call::Upsert(body) => Request::Rehook {
                method: "POST",
                segments: vec!["customers".into()],
                body: Some(body.clone()),
            },
            Call::Invoke(body) => Request::Rehook {
                method: "POST",
                segments: vec!["events".into(), "invoke".into()],
                body: Some(body.clone()),
            },
            Call::Get { source_id, by_id } => {
                let key = if *by_id {
                    self.ids.get(source_id).cloned().ok_or_else(|| {
                        format!("the cust_ id of {source_id:?} was never observed")
                    })?
                } else {
                    source_id.clone()
                };
                get(vec!["customers".into(), key])
            }
            Call::Validate(code) => get(vec![
                "customers".into(),
                "validate-code".into(),
                code.clone(),
            ]),
            Call::ReferralList(source_id) => get(vec![
                "customers".into(),
                "referral".into(),
                "list".into(),
                source_id.clone(),
            ]),
            Call::Segment(message) => Request::Segment(message.clone()),
        })
    }

    async fn send(&self, request: &Request) -> Result<Answer, String> {
        let Request::Rehook {
            method,
            segments,
            body,
        } = request
        else {
            unreachable!("segment messages are played, not sent");
        };
        let method = if *method == "POST" {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        };
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        self.client
            .rehook(method, &segments, body.as_ref())
            .await
            .map_err(|e: ClientError| format!("no answer: {}", crate::error_text(&e)))
    }

    fn delivery(&mut self, expect: &Expect, delivery: &Delivery) -> Checked {
        let Expect::Delivery {
            action,
            play,
            reply,
        } = expect
        else {
            unreachable!("messages expect deliveries");
        };
        let got_action = delivery.action.map(|a| a.as_str());
        if got_action != *action {
            return Err(format!("action: expected {action:?}, got {got_action:?}"));
        }
        let (outcome, status, reason, referral): (&str, Option<u16>, Option<String>, Option<&str>) =
            match (play, reply) {
                (Play::Dropped { reason, .. }, _) => {
                    ("dropped", None, Some((*reason).to_owned()), None)
                }
                (Play::Filtered, _) => ("filtered", None, None, None),
                (Play::Call { .. }, Some(Reply::Error { status, code })) => {
                    ("dropped", Some(*status), Some((*code).to_owned()), None)
                }
                (Play::Call { .. }, Some(Reply::Dropped { reason })) => {
                    ("dropped", Some(200), Some((*reason).to_owned()), None)
                }
                (Play::Call { .. }, Some(Reply::Event { referral, .. })) => (
                    "delivered",
                    Some(200),
                    None,
                    referral.as_ref().map(|r| r.status()),
                ),
                (Play::Call { .. }, Some(reply)) => ("delivered", Some(reply.status()), None, None),
                (Play::Call { .. }, None) => unreachable!("a call always has a reply"),
            };
        let got = (
            delivery.outcome.as_str(),
            delivery.status,
            delivery.reason.clone(),
            delivery.referral.as_deref(),
        );
        if got != (outcome, status, reason.clone(), referral) {
            return Err(format!(
                "delivery: expected {outcome} status {status:?} reason {reason:?} referral {referral:?}, got {} status {:?} reason {:?} referral {:?}",
                got.0, got.1, got.2, got.3
            ));
        }
        Ok(())
    }

    fn reply(&mut self, reply: &Reply, answer: &Answer) -> Checked {
        if answer.status != reply.status() {
            return Err(format!(
                "status: expected {}, got {} {}",
                reply.status(),
                answer.status,
                compact(&answer.body)
            ));
        }
        let body = &answer.body;
        match reply {
            Reply::Error { code, .. } => {
                expect_eq("error code", Some(*code), answer.error_code())?;
                if !body.get("message").is_some_and(Value::is_string) {
                    return Err(format!(
                        "an error body without a message: {}",
                        compact(body)
                    ));
                }
                Ok(())
            }
            Reply::Dropped { reason } => {
                expect_eq("status field", Some("dropped"), field_str(body, "status"))?;
                expect_eq("drop reason", Some(*reason), field_str(body, "reason"))
            }
            Reply::Customer { customer, .. } => self.customer(customer, body),
            Reply::Referrals(list) => {
                let Some(items) = body.as_array() else {
                    return Err(format!("expected an array, got {}", compact(body)));
                };
                let got: Vec<_> = items.iter().map(|c| field_str(c, "source_id")).collect();
                let want: Vec<_> = list.iter().map(|c| Some(c.source_id.as_str())).collect();
                expect_eq("referral list", want, got)?;
                for (customer, item) in list.iter().zip(items) {
                    self.customer(customer, item)?;
                }
                Ok(())
            }
            Reply::Event { event, referral } => {
                expect_eq("status field", Some("ok"), field_str(body, "status"))?;
                let stored = &body["event"];
                check_id("event id", field_str(stored, "id"), "evt_")?;
                let name = field_str(stored, "event_name").or_else(|| field_str(stored, "name"));
                expect_eq("event name", Some(event.event_name.as_str()), name)?;
                expect_eq(
                    "event source_id",
                    Some(event.source_id.as_str()),
                    field_str(stored, "source_id"),
                )?;
                expect_eq(
                    "event metadata",
                    Some(&Value::Object(event.metadata.clone())),
                    stored.get("metadata"),
                )?;
                let want = referral.as_ref().map(|r| (r.advocate.as_str(), r.status()));
                let got = match &body["referral"] {
                    Value::Null => None,
                    other => Some((
                        field_str(other, "advocate").unwrap_or("<none>"),
                        field_str(other, "status").unwrap_or("<none>"),
                    )),
                };
                expect_eq("referral", want, got)
            }
        }
    }

    /// Compares a customer body with the model's, learning its generated code and its id.
    fn customer(&mut self, expected: &Customer, actual: &Value) -> Checked {
        let who = &expected.source_id;
        expect_eq(
            "source_id",
            Some(who.as_str()),
            field_str(actual, "source_id"),
        )
        .map_err(|e| format!("customer {who:?}: {e}"))?;
        let at = |e: String| format!("customer {who:?}: {e}");
        let Some(code) = field_str(actual, "referral_code") else {
            return Err(at("no referral_code string".into()));
        };
        let want_code = match fresh_index(&expected.referral_code) {
            Some(k) => match self.app.learned.get(&k) {
                Some(known) => known.clone(),
                None => {
                    if !is_generated_shape(code) {
                        return Err(at(format!(
                            "a generated code must be 6 letters A-Z, got {code:?}"
                        )));
                    }
                    if let Some(holder) = self.app.owners.get(code) {
                        return Err(at(format!(
                            "generated code {code:?} is already held by {holder:?}"
                        )));
                    }
                    self.app.learn_code(k, code);
                    code.to_owned()
                }
            },
            None => expected.referral_code.clone(),
        };
        expect_eq("referral_code", want_code.as_str(), code).map_err(at)?;
        let id = field_str(actual, "id");
        check_id("id", id, "cust_").map_err(at)?;
        let id = id.unwrap_or_default().to_owned();
        match self.ids.get(who) {
            Some(known) if *known != id => {
                return Err(at(format!("id changed from {known:?} to {id:?}")));
            }
            Some(_) => {}
            None => {
                if let Some((other, _)) = self.ids.iter().find(|(_, v)| **v == id) {
                    return Err(at(format!("id {id:?} is also {other:?}'s")));
                }
                self.ids.insert(who.clone(), id);
            }
        }
        expect_eq(
            "metadata",
            Some(&Value::Object(expected.metadata.clone())),
            actual.get("metadata"),
        )
        .map_err(at)?;
        expect_eq(
            "referral_count",
            Some(expected.referral_count() as u64),
            actual.get("referral_count").and_then(Value::as_u64),
        )
        .map_err(at)?;
        let referred_by = match actual.get("referred_by") {
            Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            other => return Err(at(format!("referred_by is {other:?}"))),
        };
        expect_eq("referred_by", expected.referred_by.as_deref(), referred_by).map_err(at)?;
        let link = field_str(actual, "referral_link").unwrap_or("<none>");
        let link_ok = match &self.options.referral_link_base {
            Some(base) => link == format!("{base}/{want_code}"),
            None => link.ends_with(&format!("/{want_code}")),
        };
        if !link_ok {
            return Err(at(format!(
                "referral_link {link:?} does not end in its code"
            )));
        }
        for stamp in ["created_at", "updated_at"] {
            if !field_str(actual, stamp).is_some_and(|s| s.contains('T')) {
                return Err(at(format!("{stamp} is not an RFC 3339 time")));
            }
        }
        Ok(())
    }

    /// Reads back what the step touched: each customer it named or whose code it named (before
    /// and after), their referral lists, and the codes involved.
    async fn observe(
        &mut self,
        before: &App,
        call: &Call,
        expect: &Expect,
        index: usize,
    ) -> Checked {
        let mut ids = BTreeSet::new();
        let mut codes = BTreeSet::new();
        let body = match (call, expect) {
            (Call::Upsert(body) | Call::Invoke(body), _) => Some(body),
            (
                _,
                Expect::Delivery {
                    play: Play::Call { body, .. },
                    ..
                },
            ) => Some(body),
            _ => None,
        };
        if let Some(fields) = body.and_then(Value::as_object) {
            if let Ok(id) = coerce::source_id(fields) {
                ids.insert(id);
            }
            if let Ok(Some(code)) = coerce::referral_code(fields) {
                codes.insert(code);
            }
            if let Ok(metadata) = coerce::metadata(fields)
                && let Some(code) = coerce::conversion_code(metadata.as_ref())
            {
                codes.insert(code);
            }
        }
        match call {
            Call::Get { source_id, .. } | Call::ReferralList(source_id) => {
                ids.insert(source_id.clone());
            }
            Call::Validate(code) => {
                codes.insert(code.clone());
            }
            _ => {}
        }
        for app in [before, &self.app] {
            for code in &codes {
                if let Some(owner) = app.owners.get(code) {
                    ids.insert(owner.clone());
                }
            }
        }
        let named: Vec<String> = ids.iter().cloned().collect();
        for app in [before, &self.app] {
            for id in &named {
                if let Some(customer) = app.customer(id) {
                    codes.insert(customer.referral_code.clone());
                    ids.extend(customer.referred_by.clone());
                }
            }
        }
        ids.retain(|id| self.names.owns(id));
        for id in &ids {
            let request = Request::get(&["customers", id]);
            let expected = self.app.get(id);
            self.check(index, request, &expected).await?;
            let request = Request::get(&["customers", "referral", "list", id]);
            let expected = self.app.referral_list(id);
            self.check(index, request, &expected).await?;
        }
        for code in codes {
            // A code generated but not yet learned; or one that cannot be a path segment.
            let code = match fresh_index(&code) {
                Some(k) => match self.app.learned.get(&k) {
                    Some(known) => known.clone(),
                    None => continue,
                },
                None => code,
            };
            if coerce::is_blank(&code) {
                continue;
            }
            let request = Request::get(&["customers", "validate-code", &code]);
            let expected = self.app.validate(&code);
            self.check(index, request, &expected).await?;
        }
        Ok(())
    }

    async fn check(&mut self, index: usize, request: Request, expected: &Reply) -> Checked {
        self.calls += 1;
        let outcome = match self.send(&request).await {
            Ok(answer) => self.reply(expected, &answer),
            Err(e) => Err(e),
        };
        outcome.map_err(|problem| {
            let text = format!("after step {index}, {}: {problem}", request.line());
            self.failed_check = Some(request);
            text
        })
    }

    /// This execution's part of the application through `/__admin`: each of its customers
    /// by id, and each one's events and drops by `?source_id=`, so that the work per step
    /// follows the run's size, not the server's.
    async fn admin(&mut self, index: usize) -> Checked {
        let at = |what: &str, e: String| format!("after step {index}, GET /__admin/{what}: {e}");
        let ids = self.admin_ids();
        let mut codes = BTreeSet::new();
        let mut got_ids = Vec::new();
        for id in &ids {
            self.calls += 1;
            let what = format!("customers/{id}");
            let Some(customer) = self
                .client
                .admin_customer(id)
                .await
                .map_err(|e| at(&what, crate::error_text(&e)))?
            else {
                continue;
            };
            if !codes.insert(customer.referral_code.clone()) {
                return Err(at(
                    &what,
                    format!("code {:?} is held twice", customer.referral_code),
                ));
            }
            got_ids.push(id.as_str());
            if let Some(expected) = self.app.customers.get(id).cloned() {
                let actual = serde_json::to_value(&customer).unwrap_or_default();
                self.customer(&expected, &actual)
                    .map_err(|e| at(&what, e))?;
            }
        }
        let want_ids: Vec<&str> = self.app.customers.keys().map(String::as_str).collect();
        expect_eq("customers", want_ids, got_ids).map_err(|e| at("customers", e))?;

        for id in &ids {
            self.calls += 2;
            let what = format!("events?source_id={id}");
            let events = self
                .client
                .admin_events_of(id)
                .await
                .map_err(|e| at(&what, crate::error_text(&e)))?;
            let event = |name: &str, metadata: &serde_json::Map<String, Value>| {
                (name.to_owned(), Value::Object(metadata.clone()))
            };
            let got: Vec<_> = events
                .iter()
                .map(|e| event(&e.event_name, &e.metadata))
                .collect();
            let want: Vec<_> = self
                .app
                .events
                .iter()
                .filter(|e| e.source_id == *id)
                .map(|e| event(&e.event_name, &e.metadata))
                .collect();
            expect_eq("events", want, got).map_err(|e| at(&what, e))?;

            let what = format!("drops?source_id={id}");
            let drops = self
                .client
                .admin_drops_of(id)
                .await
                .map_err(|e| at(&what, crate::error_text(&e)))?;
            let got: Vec<_> = drops
                .iter()
                .map(|d| {
                    (
                        d.layer.clone(),
                        d.endpoint.clone(),
                        d.reason.clone(),
                        d.status,
                        d.body.clone(),
                    )
                })
                .collect();
            let want: Vec<_> = self
                .app
                .drops
                .iter()
                .filter(|d| drop_source_id(&d.body).as_deref() == Some(id.as_str()))
                .map(|d| {
                    (
                        "rehook".to_owned(),
                        format!("POST {}{}", self.base_path, d.endpoint.path()),
                        d.reason.to_owned(),
                        d.status,
                        d.body.clone(),
                    )
                })
                .collect();
            expect_eq("drops", want, got).map_err(|e| at(&what, e))?;
        }
        Ok(())
    }

    /// Every source_id this execution may make or name, sorted: the pool's users, the
    /// numeric user, the one who never exists, and any other the model holds.
    fn admin_ids(&self) -> BTreeSet<String> {
        let mut ids: BTreeSet<String> = (0..steps::USERS).map(|u| self.names.user(u)).collect();
        ids.insert(self.names.numeric_user());
        ids.insert(self.names.nobody());
        ids.extend(self.app.customers.keys().cloned());
        ids.extend(self.app.events.iter().map(|e| e.source_id.clone()));
        ids.extend(
            self.app
                .drops
                .iter()
                .filter_map(|d| drop_source_id(&d.body)),
        );
        ids
    }
}

/// The source_id a refused request's body names, as the Rehook API reads it.
fn drop_source_id(body: &Value) -> Option<String> {
    body.as_object().and_then(|b| coerce::source_id(b).ok())
}

fn field_str<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

/// `Ok` when equal; else both sides written as JSON (`null` for nothing, never Rust's debug
/// form), as the answers are.
fn expect_eq<T: PartialEq + serde::Serialize>(what: &str, expected: T, actual: T) -> Checked {
    if expected == actual {
        Ok(())
    } else {
        let json = |v: &T| serde_json::to_string(v).unwrap_or_else(|e| format!("<{e}>"));
        Err(format!(
            "{what}: expected {}, got {}",
            json(&expected),
            json(&actual)
        ))
    }
}

fn check_id(what: &str, id: Option<&str>, prefix: &str) -> Checked {
    let ok = id
        .and_then(|id| id.strip_prefix(prefix))
        .is_some_and(|rest| rest.len() == 21 && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(format!("{what} {id:?} is not {prefix} + 21 alphanumerics"))
    }
}

fn describe_reply(reply: &Reply) -> String {
    match reply {
        Reply::Error { status, code } => format!("{status} {code}"),
        Reply::Dropped { reason } => format!("200 dropped {reason}"),
        Reply::Customer { status, customer } => format!("{status} {}", describe_customer(customer)),
        Reply::Referrals(list) => {
            let ids: Vec<_> = list.iter().map(|c| c.source_id.as_str()).collect();
            format!("200 referrals {ids:?}")
        }
        Reply::Event { event, referral } => format!(
            "200 event {:?} of {:?}, referral {}",
            event.event_name,
            event.source_id,
            referral.as_ref().map_or("null".to_owned(), |r| format!(
                "{} by {:?}",
                r.status(),
                r.advocate
            ))
        ),
    }
}

fn describe_customer(c: &Customer) -> String {
    let code = if fresh_index(&c.referral_code).is_some() {
        "<a fresh generated code>".to_owned()
    } else {
        format!("{:?}", c.referral_code)
    };
    format!(
        "customer {:?} code {code} metadata {} referral_count {} referred_by {}",
        c.source_id,
        Value::Object(c.metadata.clone()),
        c.referral_count(),
        serde_json::json!(c.referred_by)
    )
}

fn describe_expect(expect: &Expect) -> String {
    match expect {
        Expect::Reply(reply) => describe_reply(reply),
        Expect::Delivery { play, reply, .. } => match (play, reply) {
            (Play::Dropped { reason, .. }, _) => format!("dropped {reason}"),
            (Play::Filtered, _) => "filtered".to_owned(),
            (Play::Call { endpoint, body }, Some(reply)) => format!(
                "POST {} {} -> {}",
                endpoint.path(),
                compact(body),
                describe_reply(reply)
            ),
            (Play::Call { .. }, None) => "a call".to_owned(),
        },
    }
}

fn describe_answer(answer: &Answer) -> String {
    format!("{} {}", answer.status, compact(&answer.body))
}

fn describe_delivery(delivery: &Delivery) -> String {
    let mut text = delivery.outcome.as_str().to_owned();
    if let Some(action) = delivery.action {
        text.push_str(&format!(" by {}", action.as_str()));
    }
    if let Some(status) = delivery.status {
        text.push_str(&format!(" {status}"));
    }
    if let Some(reason) = &delivery.reason {
        text.push_str(&format!(" {reason}"));
    }
    if let Some(referral) = &delivery.referral {
        text.push_str(&format!(" {referral}"));
    }
    text
}
