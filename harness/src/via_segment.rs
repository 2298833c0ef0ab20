//! Replaying Segment messages through a target's Segment front door (`--via segment`).
//!
//! The harness posts the messages to `POST /v1/batch` in batches, as the SDKs do, with the
//! write key in `Authorization: Basic base64(writeKey:)`; the target applies ingestion and
//! the mapping itself. How messages are batched:
//!
//! - the messages of one batch envelope (one `{"batch": [...]}` of the input) stay one batch,
//!   so a captured retry is replayed as the retry it was;
//! - other consecutive messages of one file are grouped, at most [`MAX_BATCH_MESSAGES`] per
//!   batch and [`MAX_BATCH_BYTES`] of JSON, as `analytics-python` does;
//! - a message over [`MAX_MESSAGE_BYTES`] of compact JSON goes alone, so that the `400` it
//!   earns does not take other messages with it.
//!
//! Each message's outcome:
//!
//! | target | batch answer | outcome |
//! |---|---|---|
//! | has a delivery log (`GET /__admin/deliveries` for the application owning the write key) | 2xx | the log's entry for the message: `delivered` / `dropped` / `filtered` with its status and reason |
//! | has no delivery log (no admin API, or no application owns the key) | 2xx | `accepted`, status 200: the front door took it, nothing more is known |
//! | any | 4xx | `dropped`, the error body's `code` (e.g. `MESSAGE_TOO_LARGE`) |
//! | any | 5xx, no answer | `error` |
//!
//! A batch's entries are the ones the log gained while it was posted, matched to its messages
//! by position; other traffic to the same application during the run would mix in.
//!
//! A write key that the target's configuration gives to no application is said once on
//! stderr by the binary; its messages come out `accepted` (the fake logs them as unknown
//! sources). The delivery log does not say whether an event attributed a referral, so
//! `referrals attributed` is counted from the customers' `referral_count` before and after
//! the run when the admin API is there (and is 0 otherwise).

use rehook_mock::segment::{self, Action};
use serde_json::{Value, json};

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
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;

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

/// Find the delivery log of the application that owns `write_key` on the target.
pub async fn find_delivery_log(client: &Client, write_key: &str) -> DeliveryLog {
    let config = match client.admin_config().await {
        Ok(config) => config,
        Err(error) => {
            return DeliveryLog::Unavailable(format!(
                "the target has no readable admin API ({})",
                error_text(&error)
            ));
        }
    };
    let owner = config["applications"].as_array().and_then(|apps| {
        apps.iter().find(|app| {
            app["write_keys"]
                .as_array()
                .is_some_and(|keys| keys.iter().any(|k| k.as_str() == Some(write_key)))
        })
    });
    match owner.and_then(|app| app["api_key"].as_str()) {
        Some(api_key) => {
            let admin = client.for_app(api_key);
            match admin.admin_deliveries().await {
                Ok(_) => DeliveryLog::Admin(Box::new(admin)),
                Err(error) => DeliveryLog::Unavailable(format!(
                    "the target's delivery log cannot be read ({})",
                    error_text(&error)
                )),
            }
        }
        None => DeliveryLog::Unavailable(format!(
            "no application of the target owns the write key {write_key:?}"
        )),
    }
}

/// The messages split into batches as described in the module documentation: index ranges
/// into `messages`.
pub fn batches(messages: &[InputMessage]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, message) in messages.iter().enumerate() {
        let size = compact_size(message);
        if i > start {
            let previous = &messages[i - 1];
            let loose = message.location.item.is_none();
            let split = !same_group(previous, message)
                || (loose && i - start >= MAX_BATCH_MESSAGES)
                || bytes + size > MAX_BATCH_BYTES
                || size > MAX_MESSAGE_BYTES
                || compact_size(previous) > MAX_MESSAGE_BYTES;
            if split {
                out.push(start..i);
                (start, bytes) = (i, 0);
            }
        }
        bytes += size;
    }
    if start < messages.len() {
        out.push(start..messages.len());
    }
    out
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

/// A message's size as compact JSON.
fn compact_size(message: &InputMessage) -> usize {
    serde_json::to_vec(&message.value).map_or(usize::MAX, |b| b.len())
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
    let referrals_before = referral_total(log).await;
    let mut read = match log {
        DeliveryLog::Admin(admin) => admin.admin_deliveries().await.map_or(0, |l| l.len()),
        DeliveryLog::Unavailable(_) => 0,
    };
    let mut deliveries: Vec<Delivery> = Vec::with_capacity(messages.len());
    for range in batches(messages) {
        let batch = &messages[range];
        let body = json!({
            "batch": batch.iter().map(|m| m.value.clone()).collect::<Vec<_>>(),
            "writeKey": write_key,
        });
        let answer = client.front_door("batch", write_key, &body).await;
        let entries = match (&answer, log) {
            (Ok(a), DeliveryLog::Admin(admin)) if a.is_success() => {
                match admin.admin_deliveries().await {
                    Ok(all) => {
                        let new: Vec<DeliveryLogEntry> = all.into_iter().skip(read).collect();
                        read += new.len();
                        new
                    }
                    Err(_) => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        for (i, message) in batch.iter().enumerate() {
            let mut delivery = blank(deliveries.len() + 1, message);
            read_batch_answer(&mut delivery, &answer, entries.get(i));
            on_each(&delivery);
            deliveries.push(delivery);
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

/// A delivery with the message's own fields filled in.
fn blank(index: usize, message: &InputMessage) -> Delivery {
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
        outcome: Outcome::Accepted,
        status: None,
        reason: None,
        referral: None,
        mapping: None,
    }
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
            delivery.outcome = Outcome::Dropped;
            delivery.status = Some(answer.status);
            delivery.reason = Some(
                answer
                    .error_code()
                    .map_or_else(|| format!("HTTP_{}", answer.status), str::to_owned),
            );
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
        let mut d = blank(1, &msg);
        read_batch_answer(&mut d, &ok(500, json!({"code": "INJECTED_FAULT"})), None);
        assert_eq!(
            (d.outcome, d.status, d.reason.as_deref()),
            (Outcome::Error, Some(500), Some("INJECTED_FAULT"))
        );
    }
}
