//! Replaying Segment messages against a Rehook API, with the harness playing Segment.
//!
//! For each message, in order: Segment's ingestion rules (with the run's own set of seen
//! `messageId`s), then the Rehook destination's default mapping, both from
//! [`rehook_mock::segment`]; then the mapped call is sent with [`Client`] and its answer read:
//!
//! | answer | outcome |
//! |---|---|
//! | 2xx | `delivered` with the status |
//! | `200 {"status": "dropped", "reason": CODE}` (drop mode `accept`) | `dropped`, `CODE` |
//! | 4xx | `dropped` with the error body's `code` |
//! | 5xx, any other status, no answer, an unreadable body | `error` (no answer: the call and every cause down to the root) |
//!
//! Every message gets one [`Delivery`]; the [`Summary`] counts them. With custom mappings
//! ([`Replayer::with_mappings`], `--mappings FILE`) the harness runs those instead, and a
//! message that fires several mappings gets one delivery for each.
//!
//! The seen `messageId`s last one run, as Segment's per-source de-duplication window would:
//! replaying the same messages again in another run sends them again.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use rehook_mock::segment::{self, Action, Mapped, MappingSet};
use serde::Serialize;
use serde_json::Value;

use crate::client::{Answer, Client, ClientError};
use crate::error_text::error_text;
use crate::input::InputMessage;

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The Rehook call ran and was answered with a success.
    Delivered,
    /// Refused: at ingestion, by the mapping, or by the Rehook API (4xx or an accepted drop).
    Dropped,
    /// No mapping subscribes to the message's type.
    Filtered,
    /// No answer: a 5xx, a transport error, or an answer the contract does not allow.
    Error,
    /// `--via segment` against a target without a delivery log: the front door accepted the
    /// message's batch (`2xx`), and what became of the message is not known.
    Accepted,
}

impl Outcome {
    /// `delivered`, `dropped`, `filtered`, `error` or `accepted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Dropped => "dropped",
            Outcome::Filtered => "filtered",
            Outcome::Error => "error",
            Outcome::Accepted => "accepted",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The record of one replayed message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// 1-based position in the whole run.
    pub index: usize,
    /// The file it came from.
    pub file: String,
    /// The line it starts on (its envelope's line for NDJSON batches).
    pub line: usize,
    /// Its 1-based position in its batch or array, if it was in one.
    pub item: Option<usize>,
    /// Its `messageId` as text, read as ingestion reads it ([`segment::id_text`]).
    pub message_id: Option<String>,
    /// Its `type`, when that is a string (even an unknown one).
    #[serde(rename = "type")]
    pub message_type: Option<String>,
    /// Its `userId` as text.
    pub user_id: Option<String>,
    /// Its `anonymousId` as text.
    pub anonymous_id: Option<String>,
    /// The destination action that matched (none for ingestion drops and filtered types).
    pub action: Option<Action>,
    /// What became of it.
    pub outcome: Outcome,
    /// The Rehook API's status, when a call was answered.
    pub status: Option<u16>,
    /// Why it was dropped (ingestion or mapping reason, or the Rehook code), or what went wrong.
    pub reason: Option<String>,
    /// The `referral.status` of a delivered event: `attributed` or `already_referred`.
    pub referral: Option<String>,
    /// The custom mapping that fired (replays with custom mappings only; a message that
    /// fires several has one delivery for each).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
}

impl Delivery {
    /// The delivery of `message` at `index` with `outcome`, the message's own fields filled
    /// in and nothing yet known of its call.
    pub fn for_message(index: usize, message: &InputMessage, outcome: Outcome) -> Self {
        let value = &message.value;
        Delivery {
            index,
            file: message.location.file.clone(),
            line: message.location.line,
            item: message.location.item,
            message_id: segment::id_text(value.get("messageId")),
            message_type: value.get("type").and_then(Value::as_str).map(str::to_owned),
            user_id: segment::id_text(value.get("userId")),
            anonymous_id: segment::id_text(value.get("anonymousId")),
            action: None,
            outcome,
            status: None,
            reason: None,
            referral: None,
            mapping: None,
        }
    }

    /// Whether an identify's `POST /customers` created a customer (201).
    pub fn created_customer(&self) -> bool {
        self.delivered_by(Action::IdentifyUser) && self.status == Some(201)
    }

    /// Whether an identify's `POST /customers` updated a customer (200).
    pub fn updated_customer(&self) -> bool {
        self.delivered_by(Action::IdentifyUser) && self.status == Some(200)
    }

    /// Whether a `POST /events/invoke` stored an event.
    pub fn stored_event(&self) -> bool {
        self.delivered_by(Action::TrackEvent)
    }

    /// Whether the event attributed a referral.
    pub fn attributed_referral(&self) -> bool {
        self.stored_event() && self.referral.as_deref() == Some("attributed")
    }

    fn delivered_by(&self, action: Action) -> bool {
        self.outcome == Outcome::Delivered && self.action == Some(action)
    }
}

/// One line per message: index, short id, type, user, action, outcome, status or reason.
impl fmt::Display for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self
            .message_id
            .as_deref()
            .map_or_else(|| "-".to_owned(), short_id);
        let user = match (&self.user_id, &self.anonymous_id) {
            (Some(user), _) => user.clone(),
            (None, Some(anonymous)) => format!("anon:{anonymous}"),
            (None, None) => "-".to_owned(),
        };
        let detail = match (self.status, &self.reason, &self.referral) {
            (Some(status), _, Some(referral)) => format!("{status} {referral}"),
            (Some(status), Some(reason), None) => format!("{status} {reason}"),
            (Some(status), None, None) => status.to_string(),
            (None, Some(reason), _) => reason.clone(),
            (None, None, _) => "-".to_owned(),
        };
        write!(
            f,
            "{:>4}  {:<9}  {:<8}  {:<12}  {:<13}  {:<9}  {}",
            self.index,
            id,
            self.message_type.as_deref().unwrap_or("-"),
            user,
            self.action.map_or("-", Action::as_str),
            self.outcome,
            detail
        )
    }
}

/// The last 8 characters of a long id, after an ellipsis: enough to tell messages apart.
fn short_id(id: &str) -> String {
    let count = id.chars().count();
    if count <= 9 {
        id.to_owned()
    } else {
        let tail: String = id.chars().skip(count - 8).collect();
        format!("…{tail}")
    }
}

/// The counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Messages replayed.
    pub messages: usize,
    /// Messages delivered.
    pub delivered: usize,
    /// Messages dropped (all reasons).
    pub dropped: usize,
    /// Messages filtered.
    pub filtered: usize,
    /// Messages that got no answer.
    pub errors: usize,
    /// Messages whose batch the front door accepted with no delivery log to say more
    /// (`--via segment` only; left out of the JSON summary when 0).
    #[serde(skip_serializing_if = "is_zero")]
    pub accepted: usize,
    /// Customers created by identify calls (`POST /customers` answered 201). Customers that
    /// track events create (a conversion, or any event from an unknown `userId`) are not
    /// counted: the answer of `POST /events/invoke` does not say whether it created one.
    pub identify_created: usize,
    /// Customers updated by identify calls (`POST /customers` answered 200).
    pub identify_updated: usize,
    /// `POST /events/invoke` answered with a success.
    pub events_stored: usize,
    /// Events whose answer says `referral.status == "attributed"`.
    pub referrals_attributed: usize,
    /// Dropped messages by reason: ingestion and mapping reasons (lower case) and Rehook
    /// error codes (upper case).
    pub drops_by_reason: BTreeMap<String, usize>,
}

impl Summary {
    /// Counts `deliveries`.
    pub fn of(deliveries: &[Delivery]) -> Self {
        let mut summary = Summary::default();
        for d in deliveries {
            summary.add(d);
        }
        summary
    }

    fn add(&mut self, d: &Delivery) {
        self.messages += 1;
        match d.outcome {
            Outcome::Delivered => self.delivered += 1,
            Outcome::Dropped => {
                self.dropped += 1;
                let reason = d.reason.clone().unwrap_or_else(|| "unknown".to_owned());
                *self.drops_by_reason.entry(reason).or_default() += 1;
            }
            Outcome::Filtered => self.filtered += 1,
            Outcome::Error => self.errors += 1,
            Outcome::Accepted => self.accepted += 1,
        }
        self.identify_created += usize::from(d.created_customer());
        self.identify_updated += usize::from(d.updated_customer());
        self.events_stored += usize::from(d.stored_event());
        self.referrals_attributed += usize::from(d.attributed_referral());
    }
}

/// For `skip_serializing_if`: a count that is zero.
fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// `count` and `noun`, the noun made plural unless `count` is 1: `1 message`, `2 messages`.
pub fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// The counts: the outcomes on the first line, then one kind per line; the customer counts
/// are identify calls' only.
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} delivered, {} dropped, {} filtered, {}",
            counted(self.messages, "message"),
            self.delivered,
            self.dropped,
            self.filtered,
            counted(self.errors, "error")
        )?;
        if self.accepted > 0 {
            writeln!(
                f,
                "accepted by the front door with no delivery log to read: {}",
                self.accepted
            )?;
        }
        writeln!(
            f,
            "identify: {} created, {} updated (customers created by track events are not counted)",
            counted(self.identify_created, "customer"),
            self.identify_updated
        )?;
        writeln!(f, "events stored: {}", self.events_stored)?;
        writeln!(f, "referrals attributed: {}", self.referrals_attributed)?;
        if self.drops_by_reason.is_empty() {
            writeln!(f, "drops by reason: none")?;
        } else {
            writeln!(f, "drops by reason:")?;
            let width = self
                .drops_by_reason
                .keys()
                .map(String::len)
                .max()
                .unwrap_or(0);
            for (reason, count) in &self.drops_by_reason {
                writeln!(f, "  {reason:<width$}  {count}")?;
            }
        }
        Ok(())
    }
}

/// A whole run: every message's delivery and the counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// One delivery per message, in replay order.
    pub messages: Vec<Delivery>,
    /// The counts.
    pub summary: Summary,
    /// What the run has to say beyond each message's line: a batch the front door refused
    /// whole, a delivery log that could not be read (`--via segment`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Report {
    /// Whether every message got an answer (no 5xx, no transport error).
    pub fn all_answered(&self) -> bool {
        self.summary.errors == 0
    }
}

/// Plays Segment for one run: keeps the run's seen `messageId`s and sends mapped calls.
#[derive(Debug)]
pub struct Replayer<'c> {
    client: &'c Client,
    seen: HashSet<String>,
    deliveries: Vec<Delivery>,
    /// The mappings Segment runs: the destination's defaults unless custom ones are given.
    mappings: &'c MappingSet,
}

impl<'c> Replayer<'c> {
    /// A run against the server behind `client`, with no `messageId` seen yet.
    pub fn new(client: &'c Client) -> Self {
        Self {
            client,
            seen: HashSet::new(),
            deliveries: Vec::new(),
            mappings: MappingSet::defaults(),
        }
    }

    /// Play Segment with these mappings instead of the Rehook destination's defaults: every
    /// mapping that matches fires, each with its own delivery.
    pub fn with_mappings(mut self, mappings: &'c MappingSet) -> Self {
        self.mappings = mappings;
        self
    }

    /// Replays one message and returns its deliveries: one, or with custom mappings one per
    /// fired mapping.
    pub async fn play(&mut self, message: &InputMessage) -> &[Delivery] {
        let value = &message.value;
        let mut delivery =
            Delivery::for_message(self.deliveries.len() + 1, message, Outcome::Dropped);
        let first = self.deliveries.len();
        // Segment's collector refuses a message over 32 KiB before ingestion sees it.
        if segment::compact_size(value) > segment::MESSAGE_LIMIT {
            delivery.status = Some(400);
            delivery.reason = Some(MESSAGE_TOO_LARGE.to_owned());
            self.deliveries.push(delivery);
            return &self.deliveries[first..];
        }
        let outcomes = match segment::ingest(value, &mut self.seen) {
            Err(drop) => {
                delivery.reason = Some(drop.reason().to_owned());
                Vec::new()
            }
            Ok(accepted) => {
                let outcomes = self.mappings.map(&accepted);
                // Mapping names are shown for custom mappings only: the defaults give one
                // delivery per message, as the destination's published mappings do.
                if std::ptr::eq(self.mappings, MappingSet::defaults()) {
                    outcomes.into_iter().map(|(_, m)| (None, m)).collect()
                } else {
                    outcomes
                }
            }
        };
        if outcomes.is_empty() {
            self.deliveries.push(delivery.clone());
        }
        for (index, (mapping, mapped)) in outcomes.into_iter().enumerate() {
            let mut delivery = delivery.clone();
            delivery.index += index;
            delivery.mapping = mapping;
            if let Some((outcome, reason)) = outcome_of(&mapped) {
                delivery.outcome = outcome;
                delivery.reason = reason;
            }
            delivery.action = mapped.action();
            if let Mapped::Call(call) = mapped {
                let answer = match call.action {
                    Action::IdentifyUser => self.client.upsert_customer(&call.body).await,
                    Action::TrackEvent => self.client.invoke_event(&call.body).await,
                };
                read_answer(&mut delivery, answer);
            }
            self.deliveries.push(delivery);
        }
        &self.deliveries[first..]
    }

    /// Records `messages` (one batch envelope of the input) as refused whole, as Segment's
    /// collector refuses an envelope of more than 2,500 messages: each `dropped`, status 400,
    /// `TOO_MANY_MESSAGES`; nothing reaches ingestion, so no `messageId` is seen.
    pub fn refuse_envelope(&mut self, messages: &[InputMessage]) -> &[Delivery] {
        let first = self.deliveries.len();
        for message in messages {
            let mut delivery =
                Delivery::for_message(self.deliveries.len() + 1, message, Outcome::Dropped);
            delivery.status = Some(400);
            delivery.reason = Some(TOO_MANY_MESSAGES.to_owned());
            self.deliveries.push(delivery);
        }
        &self.deliveries[first..]
    }

    /// Ends the run and counts it.
    pub fn finish(self) -> Report {
        let summary = Summary::of(&self.deliveries);
        Report {
            messages: self.deliveries,
            summary,
            notes: Vec::new(),
        }
    }
}

/// Replays `messages` in order against the server behind `client`; `on_each` sees every
/// delivery as soon as it is known (to print a line or move a progress bar).
pub async fn replay(
    client: &Client,
    messages: &[InputMessage],
    on_each: impl FnMut(&Delivery),
) -> Report {
    replay_with(client, None, messages, on_each).await
}

/// [`replay`], with custom mappings in place of the destination's defaults when given.
pub async fn replay_with(
    client: &Client,
    mappings: Option<&MappingSet>,
    messages: &[InputMessage],
    mut on_each: impl FnMut(&Delivery),
) -> Report {
    let mut replayer = Replayer::new(client);
    if let Some(mappings) = mappings {
        replayer = replayer.with_mappings(mappings);
    }
    let mut notes = Vec::new();
    let mut i = 0;
    while i < messages.len() {
        let end = envelope_end(messages, i);
        if end - i > segment::BATCH_LIMIT {
            notes.push(format!(
                "the batch envelope at {} holds {} messages, more than the {} Segment takes in one request: every message of it is dropped {TOO_MANY_MESSAGES}",
                messages[i].location,
                end - i,
                segment::BATCH_LIMIT
            ));
            for delivery in replayer.refuse_envelope(&messages[i..end]) {
                on_each(delivery);
            }
            i = end;
            continue;
        }
        for message in &messages[i..end] {
            for delivery in replayer.play(message).await {
                on_each(delivery);
            }
        }
        i = end;
    }
    let mut report = replayer.finish();
    report.notes = notes;
    report
}

/// The reason of a message over Segment's 32 KiB limit.
const MESSAGE_TOO_LARGE: &str = "MESSAGE_TOO_LARGE";
/// The reason of every message of an envelope over Segment's 2,500 messages.
const TOO_MANY_MESSAGES: &str = "TOO_MANY_MESSAGES";

/// The end of the group that starts at `start`: the items of one batch envelope (or array)
/// of the input, or one loose message.
fn envelope_end(messages: &[InputMessage], start: usize) -> usize {
    let first = &messages[start].location;
    if first.item.is_none() {
        return start + 1;
    }
    messages[start + 1..]
        .iter()
        .position(|m| {
            m.location.item.is_none()
                || m.location.file != first.file
                || m.location.line != first.line
        })
        .map_or(messages.len(), |p| start + 1 + p)
}

/// Turns the Rehook API's answer into the delivery's outcome, status and reason.
fn read_answer(delivery: &mut Delivery, answer: Result<Answer, ClientError>) {
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => {
            delivery.outcome = Outcome::Error;
            if let ClientError::Body { status, .. } = &error {
                delivery.status = Some(*status);
            }
            delivery.reason = Some(error_text(&error));
            return;
        }
    };
    delivery.status = Some(answer.status);
    let (outcome, reason) = classify(&answer);
    delivery.outcome = outcome;
    delivery.reason = reason;
    if outcome == Outcome::Delivered {
        delivery.referral = answer.referral_status().map(str::to_owned);
    }
}

/// The outcome the mapping gives a message without a call (`filtered`, or `dropped` with the
/// mapping's reason); `None` for a call, whose answer decides.
pub fn outcome_of(mapped: &Mapped) -> Option<(Outcome, Option<String>)> {
    match mapped {
        Mapped::Filtered => Some((Outcome::Filtered, None)),
        Mapped::Disabled => Some((
            Outcome::Filtered,
            Some(segment::INTEGRATIONS_DISABLED.to_owned()),
        )),
        Mapped::Dropped { reason, .. } => {
            Some((Outcome::Dropped, Some(reason.reason().to_owned())))
        }
        Mapped::Call(_) => None,
    }
}

/// A mapped call's outcome by its answer, as the module's table says: 2xx `delivered` (or
/// `dropped` with an accepted drop's reason), 4xx `dropped` with the error code, anything
/// else `error`.
pub fn classify(answer: &Answer) -> (Outcome, Option<String>) {
    match answer.status {
        200..=299 => match answer.accepted_drop_reason() {
            Some(reason) => (Outcome::Dropped, Some(reason.to_owned())),
            None => (Outcome::Delivered, None),
        },
        400..=499 => (
            Outcome::Dropped,
            Some(
                answer
                    .error_code()
                    .map_or_else(|| format!("HTTP_{}", answer.status), str::to_owned),
            ),
        ),
        status => (
            Outcome::Error,
            Some(match answer.error_code() {
                Some(code) => code.to_owned(),
                None if status >= 500 => format!("HTTP_{status}"),
                None => format!("unexpected status {status}"),
            }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery() -> Delivery {
        Delivery {
            index: 3,
            file: "f.ndjson".into(),
            line: 1,
            item: Some(3),
            message_id: Some("node-next-1796321495044-65c1ebae-14c7-482c-8c77-f9bed6d1bbb8".into()),
            message_type: Some("identify".into()),
            user_id: Some("u-010".into()),
            anonymous_id: None,
            action: Some(Action::IdentifyUser),
            outcome: Outcome::Dropped,
            status: None,
            reason: None,
            referral: None,
            mapping: None,
        }
    }

    fn answered(status: u16, body: Value) -> Delivery {
        let mut d = delivery();
        read_answer(
            &mut d,
            Ok(Answer {
                status,
                body,
                request_id: None,
            }),
        );
        d
    }

    #[test]
    fn answers_become_outcomes() {
        let d = answered(201, serde_json::json!({"source_id": "u-1"}));
        assert_eq!(
            (d.outcome, d.status, d.reason),
            (Outcome::Delivered, Some(201), None)
        );
        let d = answered(
            200,
            serde_json::json!({"status": "dropped", "reason": "REFERRAL_CODE_TAKEN"}),
        );
        assert_eq!(
            (d.outcome, d.status, d.reason.as_deref()),
            (Outcome::Dropped, Some(200), Some("REFERRAL_CODE_TAKEN"))
        );
        let d = answered(409, serde_json::json!({"code": "REFERRAL_CODE_TAKEN"}));
        assert_eq!(
            (d.outcome, d.reason.as_deref()),
            (Outcome::Dropped, Some("REFERRAL_CODE_TAKEN"))
        );
        let d = answered(404, Value::Null);
        assert_eq!(d.reason.as_deref(), Some("HTTP_404"));
        let d = answered(500, serde_json::json!({"code": "INTERNAL"}));
        assert_eq!(
            (d.outcome, d.status, d.reason.as_deref()),
            (Outcome::Error, Some(500), Some("INTERNAL"))
        );
        let d = answered(302, Value::Null);
        assert_eq!(
            (d.outcome, d.reason.as_deref()),
            (Outcome::Error, Some("unexpected status 302"))
        );
    }

    #[test]
    fn lines_show_id_type_user_action_outcome_and_detail() {
        let d = answered(409, serde_json::json!({"code": "REFERRAL_CODE_TAKEN"}));
        assert_eq!(
            d.to_string(),
            "   3  …d6d1bbb8  identify  u-010         identify_user  dropped    409 REFERRAL_CODE_TAKEN"
        );
        let mut anonymous = delivery();
        anonymous.user_id = None;
        anonymous.anonymous_id = Some("anon-1".into());
        anonymous.message_id = None;
        anonymous.reason = Some("anonymous_only".into());
        assert_eq!(
            anonymous.to_string(),
            "   3  -          identify  anon:anon-1   identify_user  dropped    anonymous_only"
        );
    }

    #[test]
    fn the_summary_counts_every_kind_of_outcome() {
        let created = answered(201, serde_json::json!({}));
        let updated = answered(200, serde_json::json!({}));
        let mut event = answered(
            200,
            serde_json::json!({"status": "ok", "referral": {"status": "attributed"}}),
        );
        event.action = Some(Action::TrackEvent);
        let taken = answered(409, serde_json::json!({"code": "REFERRAL_CODE_TAKEN"}));
        let mut filtered = delivery();
        filtered.outcome = Outcome::Filtered;
        let failed = answered(503, Value::Null);
        let summary = Summary::of(&[created, updated, event, taken, filtered, failed]);
        assert_eq!(
            summary,
            Summary {
                messages: 6,
                delivered: 3,
                dropped: 1,
                filtered: 1,
                errors: 1,
                accepted: 0,
                identify_created: 1,
                identify_updated: 1,
                events_stored: 1,
                referrals_attributed: 1,
                drops_by_reason: BTreeMap::from([("REFERRAL_CODE_TAKEN".to_owned(), 1)]),
            }
        );
    }

    #[test]
    fn the_summary_says_what_its_customer_counts_are_and_counts_one_in_the_singular() {
        let one = Summary {
            messages: 1,
            delivered: 0,
            dropped: 0,
            filtered: 0,
            errors: 1,
            accepted: 0,
            identify_created: 1,
            identify_updated: 1,
            events_stored: 1,
            referrals_attributed: 1,
            drops_by_reason: BTreeMap::new(),
        };
        assert_eq!(
            one.to_string(),
            "1 message: 0 delivered, 0 dropped, 0 filtered, 1 error\n\
             identify: 1 customer created, 1 updated (customers created by track events are not counted)\n\
             events stored: 1\n\
             referrals attributed: 1\n\
             drops by reason: none\n"
        );
        let none = Summary::default();
        assert_eq!(
            none.to_string().lines().take(2).collect::<Vec<_>>(),
            [
                "0 messages: 0 delivered, 0 dropped, 0 filtered, 0 errors",
                "identify: 0 customers created, 0 updated (customers created by track events are not counted)",
            ]
        );
        assert_eq!(
            (counted(1, "file"), counted(2, "file"), counted(0, "file")),
            (
                "1 file".to_owned(),
                "2 files".to_owned(),
                "0 files".to_owned()
            )
        );
    }

    #[test]
    fn the_json_summary_names_the_customer_counts_after_identify() {
        let json = serde_json::to_value(Summary::default()).expect("serializes");
        let mut keys: Vec<&str> = json
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "delivered",
                "dropped",
                "drops_by_reason",
                "errors",
                "events_stored",
                "filtered",
                "identify_created",
                "identify_updated",
                "messages",
                "referrals_attributed",
            ]
        );
    }
}
