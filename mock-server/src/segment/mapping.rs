//! The Rehook destination's default, published mappings: which Rehook API call an accepted
//! Segment message becomes. The mapping engine ([`super::mappings`]) runs them from the default
//! mapping file; this module holds the vocabulary (actions, fields, outcomes) and the rules
//! below, which the tests pin.
//!
//! - `identify` → Identify User → `POST /customers` with `source_id ← userId`,
//!   `metadata ← traits`, `referral_code ← traits.referral_code`.
//! - `track` → Track Event → `POST /events/invoke` with `event_name ← event` (else the type),
//!   `source_id ← userId`, `metadata ← properties`.
//! - page, screen, group, alias → `filtered`: no mapping subscribes to them.
//! - identify or track without a `userId` → dropped `anonymous_only` (`missing_user_id` when
//!   there is no `anonymousId` either): `source_id` is required and maps to nothing.
//!
//! Fields that map to nothing (absent or `null`) are left out of the body; `context` never
//! enters it. A numeric or boolean `traits.referral_code` is sent as text, as Segment's
//! validation of the action's string field writes it. The body is not validated here: the call
//! runs through the Rehook API's rules exactly as any other call does, and its answer decides the delivery outcome.

use serde::Serialize;
use serde_json::Value;

use super::ingest::Accepted;
use super::mappings::MappingSet;

/// A destination action of the Rehook destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Identify User: upserts a customer (`POST /customers`).
    IdentifyUser,
    /// Track Event: invokes an event (`POST /events/invoke`).
    TrackEvent,
}

impl Action {
    /// The action's name as the delivery log writes it: `identify_user` or `track_event`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::IdentifyUser => "identify_user",
            Action::TrackEvent => "track_event",
        }
    }

    /// The Rehook API path the action calls (always with `POST`).
    pub fn path(self) -> &'static str {
        match self {
            Action::IdentifyUser => "/customers",
            Action::TrackEvent => "/events/invoke",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A field of a destination action, as mapping files name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The customer's id (`source_id`): required by both actions.
    SourceId,
    /// The event's name (`event_name`): required by Track Event.
    EventName,
    /// The properties stored with the customer or the event (`metadata`).
    Metadata,
    /// The customer's own referral code (`referral_code`, Identify User only).
    ReferralCode,
}

impl Field {
    /// Every field, in the order required fields are checked (the Rehook API's order).
    pub const ALL: [Field; 4] = [
        Field::SourceId,
        Field::EventName,
        Field::Metadata,
        Field::ReferralCode,
    ];

    /// The name as mapping files and request bodies spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::SourceId => "source_id",
            Field::EventName => "event_name",
            Field::Metadata => "metadata",
            Field::ReferralCode => "referral_code",
        }
    }

    /// Whether the field is text: numbers and booleans mapped to it become text, as Segment's
    /// validation of a string field does.
    pub fn is_text(self) -> bool {
        !matches!(self, Field::Metadata)
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl Action {
    /// The fields the action takes, each with whether it is required.
    pub fn fields(self) -> &'static [(Field, bool)] {
        match self {
            Action::IdentifyUser => &[
                (Field::SourceId, true),
                (Field::Metadata, false),
                (Field::ReferralCode, false),
            ],
            Action::TrackEvent => &[
                (Field::SourceId, true),
                (Field::EventName, true),
                (Field::Metadata, false),
            ],
        }
    }
}

/// Why the mapping dropped a message: a required field maps to nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MappingDrop {
    /// `source_id ← userId`, and there is no `userId`, only an `anonymousId`.
    AnonymousOnly,
    /// `source_id ← userId`, and there is neither a `userId` nor an `anonymousId`.
    MissingUserId,
    /// Another required field resolved to nothing (a custom mapping): the reason is
    /// `missing_required_field:<field>`, e.g. `missing_required_field:event_name`.
    MissingRequiredField(Field),
}

impl MappingDrop {
    /// The reason as the delivery log writes it: `anonymous_only`, `missing_user_id`, or
    /// `missing_required_field:<field>`.
    pub fn reason(self) -> &'static str {
        match self {
            MappingDrop::AnonymousOnly => "anonymous_only",
            MappingDrop::MissingUserId => "missing_user_id",
            MappingDrop::MissingRequiredField(field) => match field {
                Field::SourceId => "missing_required_field:source_id",
                Field::EventName => "missing_required_field:event_name",
                Field::Metadata => "missing_required_field:metadata",
                Field::ReferralCode => "missing_required_field:referral_code",
            },
        }
    }
}

impl Serialize for MappingDrop {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.reason())
    }
}

impl std::fmt::Display for MappingDrop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.reason())
    }
}

/// A Rehook API call the destination makes for one message.
#[derive(Debug, Clone, PartialEq)]
pub struct RehookCall {
    /// The action that produced it.
    pub action: Action,
    /// The JSON body to `POST` to [`Action::path`].
    pub body: Value,
}

impl RehookCall {
    /// The HTTP method: always `POST`.
    pub fn method(&self) -> &'static str {
        "POST"
    }

    /// The Rehook API path: `/customers` or `/events/invoke`.
    pub fn path(&self) -> &'static str {
        self.action.path()
    }
}

/// What the default mapping makes of one accepted message.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// A call to run against the Rehook API.
    Call(RehookCall),
    /// No mapping subscribes to this type: outcome `filtered`, nothing stored.
    Filtered,
    /// The message's `integrations` turn the Rehook destination off (`{"Rehook": false}`, or
    /// `{"All": false}` without `"Rehook": true`): Segment does not send it to the
    /// destination, so outcome `filtered` with the reason [`INTEGRATIONS_DISABLED`], nothing
    /// stored. No mapping runs.
    Disabled,
    /// The action matched but a required field maps to nothing: outcome `dropped`.
    Dropped {
        /// The action that matched.
        action: Action,
        /// Why it could not run.
        reason: MappingDrop,
    },
}

impl Mapped {
    /// The action that matched, if any (none for filtered messages).
    pub fn action(&self) -> Option<Action> {
        match self {
            Mapped::Call(call) => Some(call.action),
            Mapped::Filtered | Mapped::Disabled => None,
            Mapped::Dropped { action, .. } => Some(*action),
        }
    }
}

/// The delivery-log reason of a message whose `integrations` turn the destination off.
pub const INTEGRATIONS_DISABLED: &str = "integrations_disabled";

/// The destination's name as a message's `integrations` object names it.
const DESTINATION_NAME: &str = "Rehook";

/// Whether Segment sends `accepted` to the Rehook destination, by its `integrations` object:
/// `"Rehook": false` turns it off; `"Rehook": true` (or an object of options) keeps it on
/// whatever `All` says; otherwise `"All": false` turns it off. Keys match exactly, as
/// destination names do; an `integrations` that is not an object, and other values, change
/// nothing.
///
/// ```
/// use std::collections::HashSet;
/// use rehook_mock::segment::{ingest, sends_to_rehook};
/// use serde_json::json;
///
/// let msg = json!({"type": "identify", "userId": "u", "integrations": {"All": false, "Rehook": true}});
/// assert!(sends_to_rehook(&ingest(&msg, &mut HashSet::<String>::new()).unwrap()));
/// let msg = json!({"type": "identify", "userId": "u", "integrations": {"All": false}});
/// assert!(!sends_to_rehook(&ingest(&msg, &mut HashSet::<String>::new()).unwrap()));
/// ```
pub fn sends_to_rehook(accepted: &Accepted<'_>) -> bool {
    let Some(Value::Object(integrations)) = accepted.message().get("integrations") else {
        return true;
    };
    match integrations.get(DESTINATION_NAME) {
        Some(Value::Bool(on)) => *on,
        Some(Value::Object(_)) => true,
        _ => integrations.get("All") != Some(&Value::Bool(false)),
    }
}

/// Applies the Rehook destination's default mappings (the default mapping file,
/// [`MappingSet::defaults`]) to an accepted message: the one outcome they give, as the two
/// default mappings never both fire.
///
/// ```
/// use std::collections::HashSet;
/// use rehook_mock::segment::{Action, Mapped, ingest, map_default};
/// use serde_json::json;
///
/// let msg = json!({"type": "track", "userId": "u-1", "event": "signup",
///                  "properties": {"referral_code": "ADA"}, "context": {"ip": "1.2.3.4"}});
/// let accepted = ingest(&msg, &mut HashSet::<String>::new()).unwrap();
/// let Mapped::Call(call) = map_default(&accepted) else { panic!() };
/// assert_eq!(call.action, Action::TrackEvent);
/// assert_eq!(call.path(), "/events/invoke");
/// assert_eq!(call.body, json!({"event_name": "signup", "source_id": "u-1",
///                              "metadata": {"referral_code": "ADA"}}));
/// ```
pub fn map_default(accepted: &Accepted<'_>) -> Mapped {
    MappingSet::defaults()
        .map(accepted)
        .into_iter()
        .next()
        .map_or(Mapped::Filtered, |(_, mapped)| mapped)
}

/// A value for a text field: numbers and booleans become text (numbers as JavaScript writes
/// them), as Segment's validation of a string field does; anything else is sent as it is,
/// for the Rehook API's own rules to judge.
pub(crate) fn text_field(value: &Value) -> Value {
    match value {
        Value::Number(n) => Value::String(super::js_number_string(n)),
        Value::Bool(b) => Value::String(b.to_string()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::json;

    use super::*;
    use crate::segment::ingest;
    use crate::segment::ingest::MessageType;

    fn map(message: &Value) -> Mapped {
        let accepted = ingest(message, &mut HashSet::<String>::new()).expect("accepted");
        map_default(&accepted)
    }

    fn call(message: &Value) -> RehookCall {
        match map(message) {
            Mapped::Call(call) => call,
            other => panic!("expected a call, got {other:?}"),
        }
    }

    #[test]
    fn identify_becomes_a_customer_upsert_with_the_whole_traits_object() {
        let msg = json!({
            "type": "identify", "userId": "u-001", "anonymousId": "a-9",
            "traits": {"name": "Ada", "plan": "pro", "referral_code": "ADAPARK"},
            "context": {"library": {"name": "x"}, "traits": {"leak": true}},
            "messageId": "m-1",
        });
        let call = call(&msg);
        assert_eq!(call.action, Action::IdentifyUser);
        assert_eq!(call.method(), "POST");
        assert_eq!(call.path(), "/customers");
        assert_eq!(
            call.body,
            json!({
                "source_id": "u-001",
                "metadata": {"name": "Ada", "plan": "pro", "referral_code": "ADAPARK"},
                "referral_code": "ADAPARK",
            })
        );
    }

    #[test]
    fn identify_without_traits_sends_only_the_source_id() {
        assert_eq!(
            call(&json!({"type": "identify", "userId": "u-1"})).body,
            json!({"source_id": "u-1"})
        );
        assert_eq!(
            call(&json!({"type": "identify", "userId": "u-1", "traits": null})).body,
            json!({"source_id": "u-1"})
        );
    }

    #[test]
    fn identify_without_a_code_sends_no_referral_code() {
        let msg = json!({"type": "identify", "userId": "u-1", "traits": {"plan": "free", "referral_code": null}});
        assert_eq!(
            call(&msg).body,
            json!({"source_id": "u-1", "metadata": {"plan": "free", "referral_code": null}})
        );
    }

    #[test]
    fn identify_passes_odd_values_through_for_the_rehook_rules_to_judge() {
        let msg = json!({"type": "identify", "userId": 4021, "traits": {"referral_code": 77, "vip": false}});
        assert_eq!(
            call(&msg).body,
            json!({"source_id": "4021", "metadata": {"referral_code": 77, "vip": false}, "referral_code": "77"})
        );
        let msg = json!({"type": "identify", "userId": "u-1", "traits": {"referral_code": true}});
        assert_eq!(call(&msg).body["referral_code"], json!("true"));
        let msg = json!({"type": "identify", "userId": "u-1", "traits": {"referral_code": ["A"]}});
        assert_eq!(call(&msg).body["referral_code"], json!(["A"]));
        let msg = json!({"type": "identify", "userId": "u-1", "traits": "not an object"});
        assert_eq!(
            call(&msg).body,
            json!({"source_id": "u-1", "metadata": "not an object"})
        );
    }

    #[test]
    fn track_becomes_an_event_with_the_properties_as_metadata() {
        let msg = json!({
            "type": "track", "userId": "u-101", "event": "Order Completed",
            "properties": {"order_id": "o-1", "total": 42.5},
            "context": {"personas": {"computation_key": "k"}},
        });
        let call = call(&msg);
        assert_eq!(call.action, Action::TrackEvent);
        assert_eq!(call.path(), "/events/invoke");
        assert_eq!(
            call.body,
            json!({
                "event_name": "Order Completed",
                "source_id": "u-101",
                "metadata": {"order_id": "o-1", "total": 42.5},
            })
        );
    }

    #[test]
    fn track_with_a_numeric_event_sends_its_text_and_no_properties_means_no_metadata() {
        let msg = json!({"type": "track", "userId": "u-1", "event": 1.0, "properties": null});
        assert_eq!(
            call(&msg).body,
            json!({"event_name": "1", "source_id": "u-1"})
        );
    }

    #[test]
    fn other_types_are_filtered() {
        for t in ["page", "screen", "group", "alias"] {
            let msg = json!({"type": t, "userId": "u-1", "traits": {"a": 1}});
            assert_eq!(map(&msg), Mapped::Filtered, "{t}");
            assert_eq!(map(&msg).action(), None);
        }
        let anonymous_page = json!({"type": "page", "anonymousId": "a-1"});
        assert_eq!(map(&anonymous_page), Mapped::Filtered);
    }

    #[test]
    fn anonymous_only_identify_and_track_are_dropped() {
        let identify =
            json!({"type": "identify", "anonymousId": "anon-1", "traits": {"plan": "trial"}});
        assert_eq!(
            map(&identify),
            Mapped::Dropped {
                action: Action::IdentifyUser,
                reason: MappingDrop::AnonymousOnly
            }
        );
        let track = json!({"type": "track", "userId": "", "anonymousId": "anon-1", "event": "Product Viewed"});
        assert_eq!(
            map(&track),
            Mapped::Dropped {
                action: Action::TrackEvent,
                reason: MappingDrop::AnonymousOnly
            }
        );
        assert_eq!(map(&track).action(), Some(Action::TrackEvent));
    }

    #[test]
    fn a_message_with_no_identity_at_all_is_missing_user_id() {
        // Ingestion never lets such a message through; the mapping still names it correctly.
        let message = json!({"type": "track", "event": "signup"});
        let accepted = Accepted {
            message: message.as_object().expect("object"),
            message_type: MessageType::Track,
            message_id: None,
            user_id: None,
            anonymous_id: None,
            event: None,
        };
        assert_eq!(
            map_default(&accepted),
            Mapped::Dropped {
                action: Action::TrackEvent,
                reason: MappingDrop::MissingUserId
            }
        );
        assert_eq!(MappingDrop::MissingUserId.reason(), "missing_user_id");
    }

    #[test]
    fn a_track_without_an_event_falls_back_to_its_type() {
        let message = json!({"type": "track", "userId": "u-1"});
        let accepted = Accepted {
            message: message.as_object().expect("object"),
            message_type: MessageType::Track,
            message_id: None,
            user_id: Some("u-1".into()),
            anonymous_id: None,
            event: None,
        };
        let Mapped::Call(call) = map_default(&accepted) else {
            panic!("expected a call")
        };
        assert_eq!(
            call.body,
            json!({"event_name": "track", "source_id": "u-1"})
        );
    }

    #[test]
    fn names_are_spelled_as_the_contract_spells_them() {
        assert_eq!(Action::IdentifyUser.as_str(), "identify_user");
        assert_eq!(Action::TrackEvent.to_string(), "track_event");
        assert_eq!(MappingDrop::AnonymousOnly.to_string(), "anonymous_only");
        assert_eq!(
            serde_json::to_value(Action::TrackEvent).expect("serialises"),
            "track_event"
        );
    }
}
