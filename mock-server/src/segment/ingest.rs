//! Segment's ingestion rules: what the collector refuses before any destination sees a message.
//!
//! The checks run in a fixed order and the first that fails names the drop:
//! `invalid_type` (missing or unknown `type`), `missing_identity` (neither `userId` nor
//! `anonymousId`), `missing_event_name` (a track without a non-empty `event`), and last
//! `duplicate_message_id` (a `messageId` this application has already accepted).
//!
//! The duplicate check is last on purpose and is one call to [`SeenMessageIds::insert_if_new`]:
//! a message dropped by an earlier rule never marks its id as seen, and a message that passes
//! every rule marks it in the same step that checks it, so callers cannot forget either half.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;
use serde_json::{Map, Value};

use super::js_number_string;

/// The six message types of Segment's Tracking API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    /// Who a user is, with traits.
    Identify,
    /// Something a user did, with an event name and properties.
    Track,
    /// A web page view.
    Page,
    /// A mobile screen view.
    Screen,
    /// A user joining a group (account, company).
    Group,
    /// Two identities being merged.
    Alias,
}

impl MessageType {
    /// Every type, in the order the Tracking API documents them.
    pub const ALL: [MessageType; 6] = [
        MessageType::Identify,
        MessageType::Track,
        MessageType::Page,
        MessageType::Screen,
        MessageType::Group,
        MessageType::Alias,
    ];

    /// The type named by a message's `type` field; matching is exact (lower case).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The name as messages spell it: `identify`, `track`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Identify => "identify",
            MessageType::Track => "track",
            MessageType::Page => "page",
            MessageType::Screen => "screen",
            MessageType::Group => "group",
            MessageType::Alias => "alias",
        }
    }
}

impl std::fmt::Display for MessageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Why ingestion refused a message. The message reaches no destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestDrop {
    /// The message is not an object, or its `type` is missing or not one of the six types.
    InvalidType,
    /// Neither `userId` nor `anonymousId` is usable.
    MissingIdentity,
    /// A track message without a non-empty `event`.
    MissingEventName,
    /// The `messageId` was already accepted by this application.
    DuplicateMessageId,
}

impl IngestDrop {
    /// Every reason ingestion drops a message for.
    pub const ALL: [IngestDrop; 4] = [
        IngestDrop::InvalidType,
        IngestDrop::MissingIdentity,
        IngestDrop::MissingEventName,
        IngestDrop::DuplicateMessageId,
    ];

    /// The drop a delivery-log reason names (as [`IngestDrop::reason`] spells it), if any.
    pub fn parse(reason: &str) -> Option<IngestDrop> {
        Self::ALL.into_iter().find(|drop| drop.reason() == reason)
    }

    /// The reason as the delivery log and the harness write it, e.g. `missing_identity`.
    pub fn reason(self) -> &'static str {
        match self {
            IngestDrop::InvalidType => "invalid_type",
            IngestDrop::MissingIdentity => "missing_identity",
            IngestDrop::MissingEventName => "missing_event_name",
            IngestDrop::DuplicateMessageId => "duplicate_message_id",
        }
    }
}

impl std::fmt::Display for IngestDrop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.reason())
    }
}

impl std::error::Error for IngestDrop {}

/// The set of `messageId`s an application has accepted, as ingestion needs it.
///
/// One operation, check-and-mark, so that a concurrent implementation (a shared set behind a
/// lock or a concurrent map) can make it atomic and two copies of one message can never both
/// pass. [`ingest`] calls it only for a message that passed every other rule.
pub trait SeenMessageIds {
    /// Marks `message_id` as seen; `true` when it had not been seen before.
    fn insert_if_new(&mut self, message_id: &str) -> bool;
}

/// The same check-and-mark for each set of owned ids: look first, so an id already seen is
/// not copied.
macro_rules! seen_message_id_sets {
    ($($set:ty),+) => {$(
        impl SeenMessageIds for $set {
            fn insert_if_new(&mut self, message_id: &str) -> bool {
                !self.contains(message_id) && self.insert(message_id.to_owned())
            }
        }
    )+};
}

seen_message_id_sets!(HashSet<String>, BTreeSet<String>);

/// Any check-and-mark function, e.g. over a concurrent set:
/// `ingest(&message, &mut |id: &str| set.insert(id.to_owned()))`.
impl<F> SeenMessageIds for F
where
    F: FnMut(&str) -> bool,
{
    fn insert_if_new(&mut self, message_id: &str) -> bool {
        self(message_id)
    }
}

/// A message that passed ingestion, with its identities and event name turned into text.
///
/// Only [`ingest`] builds one, so an `Accepted` always has a known type, a user or anonymous
/// id, an event name when it is a track, and a `messageId` that is now marked as seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted<'a> {
    /// The whole message as it came in.
    pub(super) message: &'a Map<String, Value>,
    /// Its `type`.
    pub(super) message_type: MessageType,
    /// Its `messageId` as text, when it has one.
    pub(super) message_id: Option<String>,
    /// Its `userId` as text, when usable.
    pub(super) user_id: Option<String>,
    /// Its `anonymousId` as text, when usable.
    pub(super) anonymous_id: Option<String>,
    /// Its `event` as text (track messages).
    pub(super) event: Option<String>,
}

impl<'a> Accepted<'a> {
    /// The message object as it came in.
    pub fn message(&self) -> &'a Map<String, Value> {
        self.message
    }

    /// The message's type.
    pub fn message_type(&self) -> MessageType {
        self.message_type
    }

    /// The `messageId` (numbers as JavaScript writes them); `None` when absent, null or `""`.
    pub fn message_id(&self) -> Option<&str> {
        self.message_id.as_deref()
    }

    /// The `userId` as text (numbers as JavaScript writes them); `None` when absent, null,
    /// `""` or of a type that cannot be an id.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The `anonymousId`, under the same rules as [`Accepted::user_id`].
    pub fn anonymous_id(&self) -> Option<&str> {
        self.anonymous_id.as_deref()
    }

    /// The `event` of a track message as text; `None` for other types.
    pub fn event(&self) -> Option<&str> {
        self.event.as_deref()
    }
}

/// Runs Segment's ingestion rules over one message.
///
/// On success the message's `messageId` (if any) has been marked in `seen`; on a drop nothing
/// was marked. Messages without a `messageId` are always unique.
///
/// Our reading where Segment's documentation is silent: an id (`userId`, `anonymousId`,
/// `messageId`) is usable when it is a non-empty string or a number (turned into text as
/// JavaScript's `String(number)` does); `null`, `""`, booleans, objects and arrays count as
/// absent. The same holds for a track's `event`. `type` must be one of the six names exactly.
///
/// ```
/// use std::collections::HashSet;
/// use rehook_mock::segment::{IngestDrop, ingest};
///
/// let mut seen = HashSet::new();
/// let msg = serde_json::json!({"type": "identify", "userId": 4021, "messageId": "m-1"});
/// let accepted = ingest(&msg, &mut seen).unwrap();
/// assert_eq!(accepted.user_id(), Some("4021"));
/// assert_eq!(ingest(&msg, &mut seen), Err(IngestDrop::DuplicateMessageId));
/// ```
pub fn ingest<'a, S>(message: &'a Value, seen: &mut S) -> Result<Accepted<'a>, IngestDrop>
where
    S: SeenMessageIds + ?Sized,
{
    let Some(object) = message.as_object() else {
        return Err(IngestDrop::InvalidType);
    };
    let message_type = object
        .get("type")
        .and_then(Value::as_str)
        .and_then(MessageType::parse)
        .ok_or(IngestDrop::InvalidType)?;

    let user_id = id_text(object.get("userId"));
    let anonymous_id = id_text(object.get("anonymousId"));
    if user_id.is_none() && anonymous_id.is_none() {
        return Err(IngestDrop::MissingIdentity);
    }

    let event = match message_type {
        MessageType::Track => {
            Some(id_text(object.get("event")).ok_or(IngestDrop::MissingEventName)?)
        }
        _ => None,
    };

    let message_id = id_text(object.get("messageId"));
    if let Some(id) = &message_id
        && !seen.insert_if_new(id)
    {
        return Err(IngestDrop::DuplicateMessageId);
    }

    Ok(Accepted {
        message: object,
        message_type,
        message_id,
        user_id,
        anonymous_id,
        event,
    })
}

/// A value usable as an id or a name, as ingestion reads `userId`, `anonymousId`, `messageId`
/// and a track's `event`: a non-empty string as is, a number as JavaScript's `String(number)`
/// writes it ([`js_number_string`]); anything else (absent, `null`, `""`, a boolean, an
/// object, an array) is `None`.
///
/// Callers that show a message's ids (the harness's delivery log) use it so that they show
/// exactly the text ingestion and the mapping work with.
///
/// ```
/// use rehook_mock::segment::id_text;
/// use serde_json::json;
///
/// assert_eq!(id_text(Some(&json!("u-1"))), Some("u-1".to_owned()));
/// assert_eq!(id_text(Some(&json!(4021.0))), Some("4021".to_owned()));
/// assert_eq!(id_text(Some(&json!(1e21))), Some("1e+21".to_owned()));
/// assert_eq!(id_text(Some(&json!(""))), None);
/// assert_eq!(id_text(Some(&json!(true))), None);
/// assert_eq!(id_text(None), None);
/// ```
pub fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(js_number_string(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fresh(message: &Value) -> Result<Accepted<'_>, IngestDrop> {
        ingest(message, &mut HashSet::new())
    }

    #[test]
    fn every_known_type_is_accepted_and_unknown_ones_are_invalid_type() {
        for t in MessageType::ALL {
            let msg = json!({"type": t.as_str(), "userId": "u-1", "event": "x"});
            assert_eq!(fresh(&msg).map(|a| a.message_type()), Ok(t));
        }
        for msg in [
            json!({"userId": "u-1"}),
            json!({"type": null, "userId": "u-1"}),
            json!({"type": 3, "userId": "u-1"}),
            json!({"type": "Identify", "userId": "u-1"}),
            json!({"type": "batch", "userId": "u-1"}),
            json!({"type": "", "userId": "u-1"}),
            json!(["identify"]),
            json!("identify"),
            json!(null),
        ] {
            assert_eq!(fresh(&msg), Err(IngestDrop::InvalidType), "{msg}");
        }
    }

    #[test]
    fn type_is_checked_before_identity() {
        assert_eq!(
            fresh(&json!({"type": "nope"})),
            Err(IngestDrop::InvalidType)
        );
    }

    #[test]
    fn identity_needs_a_user_id_or_an_anonymous_id() {
        for msg in [
            json!({"type": "identify"}),
            json!({"type": "identify", "userId": null}),
            json!({"type": "identify", "userId": ""}),
            json!({"type": "identify", "userId": "", "anonymousId": null}),
            json!({"type": "identify", "userId": true}),
            json!({"type": "identify", "userId": {"id": 1}}),
            json!({"type": "page", "anonymousId": ""}),
        ] {
            assert_eq!(fresh(&msg), Err(IngestDrop::MissingIdentity), "{msg}");
        }
        let anon = json!({"type": "identify", "userId": null, "anonymousId": "a-1"});
        let accepted = fresh(&anon).expect("anonymous id is an identity");
        assert_eq!(accepted.user_id(), None);
        assert_eq!(accepted.anonymous_id(), Some("a-1"));
    }

    #[test]
    fn numeric_ids_become_javascript_text() {
        let msg =
            json!({"type": "identify", "userId": 4021.0, "anonymousId": 1e21, "messageId": 7});
        let accepted = fresh(&msg).expect("accepted");
        assert_eq!(accepted.user_id(), Some("4021"));
        assert_eq!(accepted.anonymous_id(), Some("1e+21"));
        assert_eq!(accepted.message_id(), Some("7"));
    }

    #[test]
    fn white_space_user_ids_are_present_and_left_to_the_rehook_rules() {
        let msg = json!({"type": "identify", "userId": " "});
        assert_eq!(fresh(&msg).expect("accepted").user_id(), Some(" "));
    }

    #[test]
    fn track_needs_a_non_empty_event() {
        for msg in [
            json!({"type": "track", "userId": "u-1"}),
            json!({"type": "track", "userId": "u-1", "event": null}),
            json!({"type": "track", "userId": "u-1", "event": ""}),
            json!({"type": "track", "userId": "u-1", "event": false}),
            json!({"type": "track", "userId": "u-1", "event": ["signup"]}),
        ] {
            assert_eq!(fresh(&msg), Err(IngestDrop::MissingEventName), "{msg}");
        }
        let numeric = json!({"type": "track", "userId": "u-1", "event": 42});
        assert_eq!(fresh(&numeric).expect("accepted").event(), Some("42"));
        let page = json!({"type": "page", "userId": "u-1", "event": 42});
        assert_eq!(fresh(&page).expect("accepted").event(), None);
    }

    #[test]
    fn identity_is_checked_before_the_event_name() {
        let msg = json!({"type": "track"});
        assert_eq!(fresh(&msg), Err(IngestDrop::MissingIdentity));
    }

    #[test]
    fn a_message_id_seen_twice_is_a_duplicate() {
        let mut seen = HashSet::new();
        let msg = json!({"type": "track", "userId": "u-1", "event": "e", "messageId": "m-1"});
        assert!(ingest(&msg, &mut seen).is_ok());
        assert_eq!(ingest(&msg, &mut seen), Err(IngestDrop::DuplicateMessageId));
        let other_type = json!({"type": "page", "anonymousId": "a", "messageId": "m-1"});
        assert_eq!(
            ingest(&other_type, &mut seen),
            Err(IngestDrop::DuplicateMessageId)
        );
    }

    /// Check-and-mark over `seen`: the first copy passes, the second is a duplicate, and the
    /// id is kept once.
    fn marks_once<S: SeenMessageIds>(seen: &mut S) -> [bool; 3] {
        [
            seen.insert_if_new("m-1"),
            seen.insert_if_new("m-1"),
            seen.insert_if_new("m-2"),
        ]
    }

    #[test]
    fn hash_and_btree_sets_check_and_mark_alike() {
        let mut hash = HashSet::new();
        let mut btree = BTreeSet::new();
        assert_eq!(marks_once(&mut hash), [true, false, true]);
        assert_eq!(marks_once(&mut btree), [true, false, true]);
        assert_eq!(hash, HashSet::from(["m-1".to_owned(), "m-2".to_owned()]));
        assert_eq!(btree, BTreeSet::from(["m-1".to_owned(), "m-2".to_owned()]));
    }

    #[test]
    fn messages_without_a_message_id_are_always_unique() {
        let mut seen = BTreeSet::new();
        for msg in [
            json!({"type": "identify", "userId": "u-1"}),
            json!({"type": "identify", "userId": "u-1", "messageId": null}),
            json!({"type": "identify", "userId": "u-1", "messageId": ""}),
        ] {
            for _ in 0..2 {
                assert!(ingest(&msg, &mut seen).is_ok(), "{msg}");
            }
        }
        assert!(seen.is_empty());
    }

    #[test]
    fn a_dropped_message_does_not_mark_its_id_as_seen() {
        let mut seen = HashSet::new();
        let dropped = json!({"type": "track", "userId": "u-1", "messageId": "m-1"});
        assert_eq!(
            ingest(&dropped, &mut seen),
            Err(IngestDrop::MissingEventName)
        );
        let anonymousless = json!({"type": "identify", "messageId": "m-1"});
        assert_eq!(
            ingest(&anonymousless, &mut seen),
            Err(IngestDrop::MissingIdentity)
        );
        let bad_type = json!({"type": "nope", "userId": "u", "messageId": "m-1"});
        assert_eq!(ingest(&bad_type, &mut seen), Err(IngestDrop::InvalidType));
        assert!(seen.is_empty());
        let fixed = json!({"type": "track", "userId": "u-1", "event": "e", "messageId": "m-1"});
        assert!(ingest(&fixed, &mut seen).is_ok());
        assert!(seen.contains("m-1"));
    }

    #[test]
    fn a_closure_can_keep_the_seen_ids() {
        let mut marked = Vec::new();
        let mut seen = |id: &str| {
            let new = !marked.iter().any(|m| m == id);
            if new {
                marked.push(id.to_owned());
            }
            new
        };
        let msg = json!({"type": "page", "userId": "u", "messageId": "m-1"});
        assert!(ingest(&msg, &mut seen).is_ok());
        assert_eq!(ingest(&msg, &mut seen), Err(IngestDrop::DuplicateMessageId));
        assert_eq!(marked, ["m-1"]);
    }

    #[test]
    fn numeric_and_text_message_ids_are_the_same_id() {
        let mut seen = HashSet::new();
        assert!(
            ingest(
                &json!({"type": "page", "userId": "u", "messageId": 12}),
                &mut seen
            )
            .is_ok()
        );
        assert_eq!(
            ingest(
                &json!({"type": "page", "userId": "u", "messageId": "12"}),
                &mut seen
            ),
            Err(IngestDrop::DuplicateMessageId)
        );
    }

    #[test]
    fn accepted_keeps_the_whole_message() {
        let msg = json!({"type": "identify", "userId": "u-1", "traits": {"a": 1}, "context": {}});
        let accepted = fresh(&msg).expect("accepted");
        assert_eq!(Some(accepted.message()), msg.as_object());
    }

    #[test]
    fn reasons_are_spelled_as_the_contract_spells_them() {
        assert_eq!(IngestDrop::InvalidType.reason(), "invalid_type");
        assert_eq!(IngestDrop::MissingIdentity.reason(), "missing_identity");
        assert_eq!(IngestDrop::MissingEventName.reason(), "missing_event_name");
        assert_eq!(
            IngestDrop::DuplicateMessageId.to_string(),
            "duplicate_message_id"
        );
        assert_eq!(
            serde_json::to_value(IngestDrop::DuplicateMessageId).expect("serialises"),
            "duplicate_message_id"
        );
        assert_eq!(
            serde_json::to_value(MessageType::Screen).expect("serialises"),
            "screen"
        );
    }
}
