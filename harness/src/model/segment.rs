//! Segment's play of one message (contract section 3): ingestion (what Segment does before
//! any destination) and the Rehook destination's default mapping, giving either the Rehook
//! call the message becomes or the outcome it gets without one. A numeric or boolean
//! `traits.referral_code` is sent as text, as Segment's validation of a text field does.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::app::Endpoint;
use super::coerce::{js_number_text, segment_id};

/// What Segment makes of a message before any Rehook call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Play {
    /// Dropped at ingestion or by the mapping, with the reason (`missing_identity`, ...).
    Dropped {
        /// The destination action that matched (`None` for ingestion drops).
        action: Option<Endpoint>,
        /// The lower-case reason.
        reason: &'static str,
    },
    /// No mapping subscribes to the type (page, screen, group, alias).
    Filtered,
    /// The Rehook call it becomes.
    Call {
        /// `POST /customers` (Identify User) or `POST /events/invoke` (Track Event).
        endpoint: Endpoint,
        /// The mapped body.
        body: Value,
    },
}

/// A value mapped to a text field (`referral_code`): numbers and booleans become text, as
/// Segment's validation of a string field does; anything else goes on as it is.
fn text_field(value: &Value) -> Value {
    match value {
        Value::Number(n) => Value::String(js_number_text(n)),
        Value::Bool(b) => Value::String(b.to_string()),
        other => other.clone(),
    }
}

/// The messageIds one Segment source has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// Every accepted messageId.
    pub seen: BTreeSet<String>,
}

impl Source {
    /// Plays `message` as Segment would: ingestion rules in the order invalid_type,
    /// missing_identity, missing_event_name, duplicate_message_id (a message dropped at
    /// ingestion does not mark its messageId as seen), then the default mapping.
    pub fn play(&mut self, message: &Value) -> Play {
        let ingest_drop = |reason| Play::Dropped {
            action: None,
            reason,
        };
        let Some(message) = message.as_object() else {
            return ingest_drop("invalid_type");
        };
        let kind = message.get("type").and_then(Value::as_str);
        let known = ["identify", "track", "page", "screen", "group", "alias"];
        let Some(kind) = kind.filter(|k| known.contains(k)) else {
            return ingest_drop("invalid_type");
        };
        let user_id = segment_id(message.get("userId"));
        let anonymous_id = segment_id(message.get("anonymousId"));
        if user_id.is_none() && anonymous_id.is_none() {
            return ingest_drop("missing_identity");
        }
        let event = segment_id(message.get("event"));
        if kind == "track" && event.is_none() {
            return ingest_drop("missing_event_name");
        }
        if let Some(id) = segment_id(message.get("messageId"))
            && !self.seen.insert(id)
        {
            return ingest_drop("duplicate_message_id");
        }
        let endpoint = match kind {
            "identify" => Endpoint::Customers,
            "track" => Endpoint::EventsInvoke,
            _ => return Play::Filtered,
        };
        let Some(user_id) = user_id else {
            let reason = if anonymous_id.is_some() {
                "anonymous_only"
            } else {
                "missing_user_id"
            };
            return Play::Dropped {
                action: Some(endpoint),
                reason,
            };
        };
        let present = |key: &str| message.get(key).filter(|v| !v.is_null()).cloned();
        let mut body = Map::new();
        match endpoint {
            Endpoint::Customers => {
                body.insert("source_id".into(), Value::String(user_id));
                if let Some(traits) = present("traits") {
                    if let Some(code) = traits.get("referral_code").filter(|v| !v.is_null()) {
                        body.insert("referral_code".into(), text_field(code));
                    }
                    body.insert("metadata".into(), traits);
                }
            }
            Endpoint::EventsInvoke => {
                let name = event.unwrap_or_else(|| kind.to_owned());
                body.insert("event_name".into(), Value::String(name));
                body.insert("source_id".into(), Value::String(user_id));
                if let Some(properties) = present("properties") {
                    body.insert("metadata".into(), properties);
                }
            }
        }
        Play::Call {
            endpoint,
            body: Value::Object(body),
        }
    }
}
