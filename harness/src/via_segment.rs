//! Replaying Segment messages through a target's Segment front door (`--via segment`).
//!
//! The harness posts the messages to `POST /v1/batch` in batches, as the SDKs do, with the
//! write key in `Authorization: Basic base64(writeKey:)`; the target applies ingestion and
//! the mapping itself. How messages are batched:
//!
//! - the messages of one batch envelope (one `{"batch": [...]}` of the input) stay one batch,
//!   so a captured retry is replayed as the retry it was; an envelope of more than
//!   [`MAX_ENVELOPE_MESSAGES`] is posted whole, as captured, and the front door's refusal
//!   (`TOO_MANY_MESSAGES`) is each of its messages' outcome;
//! - other consecutive messages of one file are grouped, at most [`MAX_BATCH_MESSAGES`] per
//!   batch and [`MAX_BATCH_BYTES`] of JSON, as `analytics-python` does;
//! - a message over [`MAX_MESSAGE_BYTES`] of compact JSON goes alone, so that the `400` it
//!   earns does not take other messages with it;
//! - a message nested more than [`MAX_BATCHABLE_DEPTH`] levels goes alone through the
//!   single-message path of its type (`/v1/track`, ...), because wrapping it in a batch
//!   (`{"batch": [...]}`, two more levels) would take it past the front door's 128.
//!
//! Every message carries a `messageId`: one without (absent, `null`, `""`, or not text or a
//! number) is given a fresh one, `rehook-harness-<run>-<n>`, as Segment's libraries give
//! every message one. That is how outcomes are found: the entries the application's delivery
//! log gained while a batch was posted (read from a cursor: `GET /__admin/deliveries?limit=0` gives the log's length in
//! `x-delivery-log-length`, and `?after=N` the entries after it)
//! are matched to the batch's messages by `message_id`, so other traffic to the same
//! application is left out. A message's entries are the first entry of its id, and when a
//! mapping ran for it, every following entry of that id with an action (a custom mapping set
//! may fire several: one delivery each); a second copy of one message in a run finds its own
//! entry (`duplicate_message_id`) after them.
//!
//! Each message's outcome:
//!
//! | target | batch answer | outcome |
//! |---|---|---|
//! | has a delivery log (`GET /__admin/deliveries` for the application owning the write key) | 2xx | the log's entries for the message: `delivered` / `dropped` / `filtered` with status and reason |
//! | has no delivery log (no admin API, or no application owns the key) | 2xx | `accepted`, status 200: the front door took it, nothing more is known |
//! | any | 400 `MESSAGE_TOO_LARGE`, `TOO_MANY_MESSAGES` | `dropped` with the code and 400, as the harness's own Segment play drops it |
//! | any | another 4xx (`REQUEST_TOO_LARGE`, `INVALID_JSON`, a 401, ...) | `error`: the front door refused the harness's request, the message got no Segment answer |
//! | any | 5xx, no answer | `error` |
//!
//! Every refused batch is also said in [`Report::notes`] (the binary writes them on stderr).
//!
//! A write key that the target's configuration gives to no application is said once on
//! stderr by the binary; its messages come out `accepted` (the fake logs them as unknown
//! sources). The delivery log does not say whether an event attributed a referral, so
//! `referrals attributed` is counted from the customers' `referral_count` before and after
//! the run when the admin API is there (and is 0 otherwise).

use std::borrow::Borrow;

use rehook_mock::segment::{self, Action};
use serde::Serialize;
use serde_json::Value;

use crate::client::{Answer, Client, ClientError, DeliveryLogEntry};
use crate::error_text::error_text;
use crate::input::InputMessage;
use crate::replay::{Delivery, Outcome, Report, Summary};

/// The most messages the harness puts in one batch (what `analytics-python` sends).
pub const MAX_BATCH_MESSAGES: usize = 100;
/// The most JSON bytes the harness puts in one batch: under the front door's 500 KB limit,
/// with room for the envelope (what `analytics-python` keeps to).
pub const MAX_BATCH_BYTES: usize = 475_000;
/// A message over this many bytes of compact JSON is sent alone.
pub const MAX_MESSAGE_BYTES: usize = rehook_mock::segment::MESSAGE_LIMIT;
/// An envelope of more messages than this is refused whole by the front door.
pub const MAX_ENVELOPE_MESSAGES: usize = rehook_mock::segment::BATCH_LIMIT;
/// The deepest message that can travel inside a batch: the front door reads 128 levels, and
/// `{"batch": [...]}` adds two.
pub const MAX_BATCHABLE_DEPTH: usize = rehook_mock::body::MAX_DEPTH - 2;

/// The default write key of the fake's default application.
pub const DEFAULT_WRITE_KEY: &str = "wk_test";

/// Where the per-message outcomes come from.
#[derive(Debug, Clone)]
pub enum DeliveryLog {
    /// The admin API of the application that owns the write key.
    Admin(Box<Client>),
    /// None: every accepted message is `accepted`. The text says why.
    Unavailable(String),
}

/// Find the delivery log of the application that owns `write_key` on the target, through
/// the server-wide `GET /__admin/config` (so the client's API key does not matter).
pub async fn find_delivery_log(client: &Client, write_key: &str) -> DeliveryLog {
    let config = match client.admin_config().await {
        Ok(config) => config,
        Err(error) => {
            let hint = match &error {
                ClientError::Status { status: 401, .. } => {
                    "; the admin API wants a token: give --admin-token (or REHOOK_ADMIN_TOKEN)"
                }
                _ => "",
            };
            return DeliveryLog::Unavailable(format!(
                "the target's admin API cannot be read ({}){hint}",
                error_text(&error)
            ));
        }
    };
    let apps = config["applications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let owner = apps.iter().find(|app| {
        app["write_keys"]
            .as_array()
            .is_some_and(|keys| keys.iter().any(|k| k.as_str() == Some(write_key)))
    });
    match owner.and_then(|app| app["api_key"].as_str()) {
        Some(api_key) => {
            let admin = client.for_app(api_key);
            match admin.admin_delivery_log_length().await {
                Ok(_) => DeliveryLog::Admin(Box::new(admin)),
                Err(error) => DeliveryLog::Unavailable(format!(
                    "the delivery log of the application {api_key:?}, which owns the write key, cannot be read ({})",
                    error_text(&error)
                )),
            }
        }
        None => {
            let keys: Vec<&str> = apps.iter().filter_map(|a| a["api_key"].as_str()).collect();
            DeliveryLog::Unavailable(format!(
                "no application of the target owns the write key {write_key:?} (applications: {})",
                if keys.is_empty() {
                    "none".to_owned()
                } else {
                    keys.join(", ")
                }
            ))
        }
    }
}

/// The messages split into batches as described in the module documentation: index ranges
/// into `messages`.
pub fn batches<M: Borrow<InputMessage>>(messages: &[M]) -> Vec<std::ops::Range<usize>> {
    let messages: Vec<&InputMessage> = messages.iter().map(Borrow::borrow).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < messages.len() {
        // An envelope over the front door's count is posted whole, as captured.
        let group_end = messages[i + 1..]
            .iter()
            .position(|m| !same_group(messages[i], m) || m.location.item.is_none())
            .map_or(messages.len(), |p| i + 1 + p);
        if messages[i].location.item.is_some() && group_end - i > MAX_ENVELOPE_MESSAGES {
            out.push(i..group_end);
            i = group_end;
            continue;
        }
        let start = i;
        let mut bytes = compact_size(messages[i]);
        i += 1;
        if alone(messages[start]) {
            out.push(start..i);
            continue;
        }
        while i < messages.len() {
            let message = &messages[i];
            let size = compact_size(message);
            let loose = message.location.item.is_none();
            let split = !same_group(messages[i - 1], message)
                || (loose && i - start >= MAX_BATCH_MESSAGES)
                || bytes + size > MAX_BATCH_BYTES
                || alone(message);
            if split {
                break;
            }
            bytes += size;
            i += 1;
        }
        out.push(start..i);
    }
    out
}

/// Whether a message travels alone: too large for the front door (its `400` must not take
/// others with it) or too deep to nest inside a batch.
fn alone(message: &InputMessage) -> bool {
    compact_size(message) > MAX_MESSAGE_BYTES || depth(&message.value) > MAX_BATCHABLE_DEPTH
}

/// The nesting depth of a value (the outermost array or object is level 1; scalars are 0).
pub fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Whether two consecutive messages may share a batch: items of one envelope (or array),
/// or loose messages of one file.
fn same_group(a: &InputMessage, b: &InputMessage) -> bool {
    a.location.file == b.location.file
        && match (a.location.item, b.location.item) {
            (Some(_), Some(_)) => a.location.line == b.location.line,
            (None, None) => true,
            _ => false,
        }
}

/// A message's size as compact JSON, as the front door measures it.
fn compact_size(message: &InputMessage) -> usize {
    segment::compact_size(&message.value)
}

/// The run's prefix for the messageIds the harness gives messages without one: the clock
/// and the process, so two runs (also two at once) never share one.
fn run_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("rehook-harness-{nanos:x}{:x}{run:x}", std::process::id())
}

/// Copies of the messages of `messages` that have no usable `messageId`, each with a fresh
/// one; the others are sent as they are and need no copy.
fn given_message_ids(messages: &[InputMessage]) -> Vec<Option<InputMessage>> {
    let prefix = run_prefix();
    messages
        .iter()
        .enumerate()
        .map(|(n, message)| {
            if segment::id_text(message.value.get("messageId")).is_some() {
                return None;
            }
            let Value::Object(object) = &message.value else {
                return None;
            };
            let mut object = object.clone();
            object.insert(
                "messageId".to_owned(),
                Value::String(format!("{prefix}-{}", n + 1)),
            );
            Some(InputMessage {
                value: Value::Object(object),
                location: message.location.clone(),
            })
        })
        .collect()
}

/// Replays `messages` through the front door of the server behind `client`, with
/// `write_key`; `on_each` sees every delivery as soon as it is known.
pub async fn replay_via_segment(
    client: &Client,
    write_key: &str,
    log: &DeliveryLog,
    messages: &[InputMessage],
    mut on_each: impl FnMut(&Delivery),
) -> Report {
    let given = given_message_ids(messages);
    let messages: Vec<&InputMessage> = messages
        .iter()
        .zip(&given)
        .map(|(message, given)| given.as_ref().unwrap_or(message))
        .collect();
    let referrals_before = referral_total(log).await;
    // The cursor: how many entries of the log were there before this run's next batch.
    let mut cursor = match log {
        DeliveryLog::Admin(admin) => admin.admin_delivery_log_length().await.unwrap_or(0),
        DeliveryLog::Unavailable(_) => 0,
    };
    let mut deliveries: Vec<Delivery> = Vec::with_capacity(messages.len());
    let mut notes = Vec::new();
    for range in batches(&messages) {
        let batch = &messages[range];
        let answer = post(client, write_key, batch).await;
        let mut entries = match (&answer, log) {
            (Ok(a), DeliveryLog::Admin(admin)) if a.is_success() => {
                match admin.admin_deliveries_after(cursor).await {
                    Ok(new) => {
                        cursor += new.len();
                        Entries::of(new, batch)
                    }
                    Err(error) => {
                        notes.push(format!(
                            "the delivery log could not be read after the batch at {} ({}); its messages show the batch's answer",
                            batch[0].location,
                            error_text(&error)
                        ));
                        Entries::default()
                    }
                }
            }
            _ => Entries::default(),
        };
        if let Some(note) = refusal_note(&answer, batch) {
            notes.push(note);
        }
        for message in batch {
            let found = blank(deliveries.len() + 1, message);
            let own = found
                .message_id
                .as_deref()
                .map(|id| entries.take(id))
                .unwrap_or_default();
            if own.is_empty() {
                let mut delivery = found;
                read_batch_answer(&mut delivery, &answer, None);
                on_each(&delivery);
                deliveries.push(delivery);
                continue;
            }
            for entry in &own {
                let mut delivery = found.clone();
                delivery.index = deliveries.len() + 1;
                read_batch_answer(&mut delivery, &answer, Some(entry));
                on_each(&delivery);
                deliveries.push(delivery);
            }
        }
    }
    let mut summary = Summary::of(&deliveries);
    summary.referrals_attributed = match (referrals_before, referral_total(log).await) {
        (Some(before), Some(after)) => after.saturating_sub(before) as usize,
        _ => 0,
    };
    Report {
        messages: deliveries,
        summary,
        notes,
    }
}

/// Posts one batch: a message too deep to nest inside a batch alone through its type's
/// single-message path, anything else to `/v1/batch`.
async fn post(
    client: &Client,
    write_key: &str,
    batch: &[&InputMessage],
) -> Result<Answer, ClientError> {
    if let [message] = batch
        && depth(&message.value) > MAX_BATCHABLE_DEPTH
        && let Some(path) = message
            .value
            .get("type")
            .and_then(Value::as_str)
            .and_then(segment::MessageType::parse)
    {
        let mut body = message.value.clone();
        body["writeKey"] = Value::String(write_key.to_owned());
        return client.front_door(path.as_str(), write_key, &body).await;
    }
    let body = Batch {
        batch: batch.iter().map(|m| &m.value).collect(),
        write_key,
    };
    client.front_door("batch", write_key, &body).await
}

/// A `/v1/batch` body, serialised from the messages where they are.
#[derive(Serialize)]
struct Batch<'a> {
    batch: Vec<&'a Value>,
    #[serde(rename = "writeKey")]
    write_key: &'a str,
}

/// A line saying the front door refused a whole batch, for [`Report::notes`].
fn refusal_note(answer: &Result<Answer, ClientError>, batch: &[&InputMessage]) -> Option<String> {
    let answer = answer.as_ref().ok()?;
    if !(400..500).contains(&answer.status) {
        return None;
    }
    let code = answer.error_code().unwrap_or("no code");
    let message = answer
        .body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("");
    Some(format!(
        "the front door refused the batch of {} at {}: {} {code}: {message}",
        crate::replay::counted(batch.len(), "message"),
        batch[0].location,
        answer.status,
    ))
}

/// The delivery-log entries one batch's messages earned, by `message_id`, each id's entries
/// in log order.
#[derive(Debug, Default)]
struct Entries(std::collections::HashMap<String, std::collections::VecDeque<DeliveryLogEntry>>);

impl Entries {
    /// The entries of `new` whose `message_id` is one of `batch`'s (other traffic is left out).
    fn of(new: Vec<DeliveryLogEntry>, batch: &[&InputMessage]) -> Self {
        let ids: std::collections::HashSet<String> = batch
            .iter()
            .filter_map(|m| segment::id_text(m.value.get("messageId")))
            .collect();
        let mut by_id: std::collections::HashMap<_, std::collections::VecDeque<_>> =
            std::collections::HashMap::new();
        for entry in new {
            if let Some(id) = entry.message_id.clone().filter(|id| ids.contains(id)) {
                by_id.entry(id).or_default().push_back(entry);
            }
        }
        Entries(by_id)
    }

    /// The entries of the next message with `id`: the first entry of the id, and when a
    /// mapping ran for it (it has an action), every following entry with an action.
    fn take(&mut self, id: &str) -> Vec<DeliveryLogEntry> {
        let Some(queue) = self.0.get_mut(id) else {
            return Vec::new();
        };
        let Some(first) = queue.pop_front() else {
            return Vec::new();
        };
        let mapped = first.action.is_some();
        let mut own = vec![first];
        while mapped && queue.front().is_some_and(|e| e.action.is_some()) {
            own.extend(queue.pop_front());
        }
        own
    }
}

/// The sum of every customer's `referral_count`, when the admin API can say it.
async fn referral_total(log: &DeliveryLog) -> Option<u64> {
    match log {
        DeliveryLog::Admin(admin) => admin
            .admin_customers()
            .await
            .ok()
            .map(|customers| customers.iter().map(|c| c.referral_count).sum()),
        DeliveryLog::Unavailable(_) => None,
    }
}

/// A delivery with the message's own fields filled in, its outcome not yet known.
fn blank(index: usize, message: &InputMessage) -> Delivery {
    Delivery::for_message(index, message, Outcome::Accepted)
}

/// The outcome of one message from its batch's answer and its delivery-log entry.
fn read_batch_answer(
    delivery: &mut Delivery,
    answer: &Result<Answer, ClientError>,
    entry: Option<&DeliveryLogEntry>,
) {
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => {
            delivery.outcome = Outcome::Error;
            if let ClientError::Body { status, .. } = error {
                delivery.status = Some(*status);
            }
            delivery.reason = Some(error_text(error));
            return;
        }
    };
    match answer.status {
        200..=299 => match entry {
            Some(entry) => {
                delivery.action = entry.action.as_deref().and_then(parse_action);
                delivery.status = entry.status;
                delivery.reason = entry.reason.clone();
                delivery.outcome = match entry.outcome.as_str() {
                    "delivered" => Outcome::Delivered,
                    "dropped" => Outcome::Dropped,
                    "filtered" => Outcome::Filtered,
                    _ => Outcome::Accepted,
                };
            }
            None => {
                delivery.outcome = Outcome::Accepted;
                delivery.status = Some(answer.status);
            }
        },
        400..=499 => {
            let code = answer
                .error_code()
                .map_or_else(|| format!("HTTP_{}", answer.status), str::to_owned);
            // The limits Segment applies to messages drop them, as the harness's own play
            // does; any other refusal is of the harness's request, not of the message.
            delivery.outcome = if MESSAGE_LIMIT_CODES.contains(&code.as_str()) {
                Outcome::Dropped
            } else {
                Outcome::Error
            };
            delivery.status = Some(answer.status);
            delivery.reason = Some(code);
        }
        status => {
            delivery.outcome = Outcome::Error;
            delivery.status = Some(status);
            delivery.reason = Some(
                answer
                    .error_code()
                    .map_or_else(|| format!("HTTP_{status}"), str::to_owned),
            );
        }
    }
}

/// The front door's refusals that are a message's Segment fate (the harness's own Segment
/// play gives the same), not a fault of the request.
const MESSAGE_LIMIT_CODES: [&str; 2] = ["MESSAGE_TOO_LARGE", "TOO_MANY_MESSAGES"];

/// A delivery-log action name as the harness's [`Action`].
fn parse_action(name: &str) -> Option<Action> {
    [Action::IdentifyUser, Action::TrackEvent]
        .into_iter()
        .find(|a| a.as_str() == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Location;
    use serde_json::json;

    fn message(line: usize, item: Option<usize>, value: Value) -> InputMessage {
        InputMessage {
            location: Location {
                file: "f".into(),
                line,
                item,
            },
            value,
        }
    }

    #[test]
    fn envelopes_stay_batches_and_loose_messages_are_grouped_up_to_the_limits() {
        let small = json!({"type": "page", "userId": "u"});
        let big = json!({"type": "page", "userId": "u", "p": "x".repeat(MAX_MESSAGE_BYTES)});
        let mut messages = vec![
            message(1, Some(1), small.clone()),
            message(1, Some(2), small.clone()),
            message(2, Some(1), small.clone()),
            message(3, None, small.clone()),
            message(4, None, small.clone()),
            message(5, None, big.clone()),
            message(6, None, small.clone()),
        ];
        messages.extend((0..150).map(|i| message(7 + i, None, small.clone())));
        assert_eq!(
            batches(&messages),
            [0..2, 2..3, 3..5, 5..6, 6..106, 106..157]
        );
    }

    fn log_entry(
        id: &str,
        action: Option<&str>,
        outcome: &str,
        reason: Option<&str>,
    ) -> DeliveryLogEntry {
        DeliveryLogEntry {
            message_id: Some(id.into()),
            message_type: Some("track".into()),
            action: action.map(str::to_owned),
            outcome: outcome.into(),
            status: None,
            reason: reason.map(str::to_owned),
            at: String::new(),
        }
    }

    #[test]
    fn entries_go_to_their_message_by_message_id_and_other_traffic_is_left_out() {
        let batch = [
            message(1, None, json!({"type": "track", "messageId": "a"})),
            message(2, None, json!({"type": "track", "messageId": "b"})),
            message(3, None, json!({"type": "track", "messageId": "a"})),
        ];
        let new = vec![
            log_entry("other", Some("track_event"), "delivered", None),
            log_entry("a", Some("track_event"), "delivered", None),
            log_entry("b", None, "dropped", Some("missing_identity")),
            log_entry("a", Some("track_event"), "dropped", Some("anonymous_only")),
            log_entry("other", None, "filtered", None),
            log_entry("a", None, "dropped", Some("duplicate_message_id")),
        ];
        let mut entries = Entries::of(new, &batch.iter().collect::<Vec<_>>());
        let reasons = |e: Vec<DeliveryLogEntry>| -> Vec<Option<String>> {
            e.into_iter().map(|e| e.reason).collect()
        };
        // Two mappings fired for the first `a`; the second copy is the duplicate.
        assert_eq!(
            reasons(entries.take("a")),
            [None, Some("anonymous_only".into())]
        );
        assert_eq!(
            reasons(entries.take("b")),
            [Some("missing_identity".into())]
        );
        assert_eq!(
            reasons(entries.take("a")),
            [Some("duplicate_message_id".into())]
        );
        assert!(entries.take("a").is_empty());
        assert!(entries.take("other").is_empty());
    }

    #[test]
    fn envelopes_over_the_limit_go_whole_and_deep_messages_go_alone() {
        let small = json!({"type": "page", "userId": "u"});
        let mut deep = json!({});
        for _ in 0..MAX_BATCHABLE_DEPTH {
            deep = json!({ "a": deep });
        }
        let mut messages = vec![
            message(1, None, small.clone()),
            message(2, None, deep),
            message(3, None, small.clone()),
        ];
        messages
            .extend((0..MAX_ENVELOPE_MESSAGES + 1).map(|i| message(4, Some(i + 1), small.clone())));
        messages.push(message(5, None, small.clone()));
        let over = 3..3 + MAX_ENVELOPE_MESSAGES + 1;
        assert_eq!(
            batches(&messages),
            [0..1, 1..2, 2..3, over.clone(), over.end..over.end + 1]
        );
    }

    #[test]
    fn batch_answers_and_log_entries_become_outcomes() {
        let msg = message(1, None, json!({"type": "identify", "userId": "u"}));
        let ok = |status: u16, body: Value| {
            Ok(Answer {
                status,
                body,
                request_id: None,
            })
        };
        let entry = DeliveryLogEntry {
            message_id: None,
            message_type: Some("identify".into()),
            action: Some("identify_user".into()),
            outcome: "dropped".into(),
            status: Some(409),
            reason: Some("REFERRAL_CODE_TAKEN".into()),
            at: String::new(),
        };
        let mut d = blank(1, &msg);
        read_batch_answer(&mut d, &ok(200, json!({"success": true})), Some(&entry));
        assert_eq!(
            (d.outcome, d.action, d.status, d.reason.as_deref()),
            (
                Outcome::Dropped,
                Some(Action::IdentifyUser),
                Some(409),
                Some("REFERRAL_CODE_TAKEN")
            )
        );
        let mut d = blank(1, &msg);
        read_batch_answer(&mut d, &ok(200, json!({"success": true})), None);
        assert_eq!((d.outcome, d.status), (Outcome::Accepted, Some(200)));
        let mut d = blank(1, &msg);
        read_batch_answer(&mut d, &ok(400, json!({"code": "MESSAGE_TOO_LARGE"})), None);
        assert_eq!(
            (d.outcome, d.reason.as_deref()),
            (Outcome::Dropped, Some("MESSAGE_TOO_LARGE"))
        );
        // A refusal of the request itself, not of a message's Segment fate, is an error.
        let mut d = blank(1, &msg);
        read_batch_answer(&mut d, &ok(400, json!({"code": "REQUEST_TOO_LARGE"})), None);
        assert_eq!(
            (d.outcome, d.status, d.reason.as_deref()),
            (Outcome::Error, Some(400), Some("REQUEST_TOO_LARGE"))
        );
        let mut d = blank(1, &msg);
        read_batch_answer(&mut d, &ok(500, json!({"code": "INJECTED_FAULT"})), None);
        assert_eq!(
            (d.outcome, d.status, d.reason.as_deref()),
            (Outcome::Error, Some(500), Some("INJECTED_FAULT"))
        );
    }
}
