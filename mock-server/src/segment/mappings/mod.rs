//! Custom mappings: Segment's "build your own mappings" for the Rehook destination.
//!
//! A mapping file lists up to [`MAX_MAPPINGS`] mappings, each a name, a trigger
//! (`subscribe`, in Segment's FQL-like language: see [`Trigger`]), an action (`identify_user`
//! or `track_event`) and the action's fields (`mapping`: literals and `@path` / `@if` /
//! `@template` directives, see `value`). This is the shape Segment's Actions UI and export
//! show:
//!
//! ```json
//! {"mappings": [
//!   {"name": "Page views", "subscribe": "type = \"page\"", "action": "track_event",
//!    "mapping": {"event_name": {"@path": "$.type"}, "source_id": {"@path": "$.userId"}}}
//! ]}
//! ```
//!
//! Every enabled mapping whose trigger matches fires, in file order ([`MappingSet::apply`]);
//! a message matched by none is `filtered`. The Rehook destination's defaults are this format
//! too: `mappings/default.json`, embedded in the binary ([`MappingSet::defaults`]).

mod trigger;
mod value;

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

pub use trigger::{Trigger, TriggerError};
use value::FieldValue;

use super::Accepted;
use super::mapping::{Action, Field, Mapped, MappingDrop, RehookCall, text_field};
use crate::error::{ApiError, ErrorCode};

/// How many mappings one application may have.
pub const MAX_MAPPINGS: usize = 50;

/// The Rehook destination's default mappings, as a mapping file.
pub const DEFAULT_MAPPINGS_JSON: &str = include_str!("../../../../mappings/default.json");

/// One mapping: when it fires and what call it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// Its name, unique within the set (shown in the delivery log).
    name: String,
    /// Whether it runs at all (`"enabled": false` keeps it in the file but silent).
    enabled: bool,
    /// When it fires.
    trigger: Trigger,
    /// What it calls.
    action: Action,
    /// The action's fields, in [`Field::ALL`] order.
    fields: Vec<(Field, FieldValue)>,
    /// `mapping` as written, for `GET /__admin/mappings`.
    mapping_doc: Value,
}

impl Mapping {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its action.
    pub fn action(&self) -> Action {
        self.action
    }

    /// Whether it runs (`"enabled": false` keeps it in the file but silent).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Its trigger.
    pub fn trigger(&self) -> &Trigger {
        &self.trigger
    }

    /// What it makes of a message its trigger matched: a call, or a drop naming the required
    /// field that resolved to nothing, blank text included (see `is_blank_text`;
    /// `source_id ← $.userId` keeps the default's `anonymous_only` / `missing_user_id`).
    fn run(&self, accepted: &Accepted<'_>) -> Mapped {
        let mut body = Map::new();
        for &(field, required) in self.action.fields() {
            let expr = self
                .fields
                .iter()
                .find(|(f, _)| *f == field)
                .map(|(_, v)| v);
            let value = expr
                .and_then(|v| v.eval(accepted))
                .map(|value| {
                    if field.is_text() {
                        text_field(&value)
                    } else {
                        value
                    }
                })
                .filter(|value| {
                    let read = expr.is_some_and(|v| v.reads_message(accepted));
                    !(required && is_blank_text(value, read))
                });
            match value {
                Some(value) => {
                    body.insert(field.as_str().to_owned(), value);
                }
                None if required => {
                    let reason = match expr {
                        Some(v) if v.is_user_id_path() && accepted.anonymous_id().is_some() => {
                            MappingDrop::AnonymousOnly
                        }
                        Some(v) if v.is_user_id_path() => MappingDrop::MissingUserId,
                        _ => MappingDrop::MissingRequiredField(field),
                    };
                    return Mapped::Dropped {
                        action: self.action,
                        reason,
                    };
                }
                None => {}
            }
        }
        Mapped::Call(RehookCall {
            action: self.action,
            body: Value::Object(body),
        })
    }
}

/// Whether a required text field's value is nothing though present: `""` (as Segment's
/// validation treats an empty required string), or, when the mapping wrote the text (a
/// template or a literal), text of only Unicode white space. So a `{{userId}}` template on an
/// anonymous message drops naming the field instead of reaching the Rehook API. White space
/// read from the message by `@path` goes on to the Rehook API, as the defaults send it.
fn is_blank_text(value: &Value, read: bool) -> bool {
    value
        .as_str()
        .is_some_and(|text| text.is_empty() || (!read && text.trim().is_empty()))
}

/// What one mapping made of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    /// The mapping's name.
    pub mapping: String,
    /// A call, or a drop (never `Filtered`).
    pub mapped: Mapped,
}

/// An application's mappings, checked and ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingSet {
    /// In file order.
    mappings: Vec<Mapping>,
}

static DEFAULTS: LazyLock<MappingSet> = LazyLock::new(|| {
    MappingSet::from_json_str(DEFAULT_MAPPINGS_JSON).expect("mappings/default.json is valid")
});

impl Default for MappingSet {
    fn default() -> Self {
        Self::defaults().clone()
    }
}

impl MappingSet {
    /// The Rehook destination's defaults (`mappings/default.json`).
    pub fn defaults() -> &'static MappingSet {
        &DEFAULTS
    }

    /// Read a mapping file's text (JSON; a leading byte-order mark is skipped).
    pub fn from_json_str(text: &str) -> Result<Self, MappingsError> {
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| MappingsError::document(format!("the mapping file is not JSON: {e}")))?;
        Self::from_json(&doc)
    }

    /// Read a mapping document: `{"mappings": [...]}`.
    pub fn from_json(doc: &Value) -> Result<Self, MappingsError> {
        let Some(object) = doc.as_object() else {
            return Err(MappingsError::document(
                "a mapping document is an object: {\"mappings\": [...]}",
            ));
        };
        if let Some(unknown) = object.keys().find(|k| *k != "mappings") {
            return Err(MappingsError::document(format!(
                "a mapping document has only the key `mappings`, found `{unknown}`"
            )));
        }
        let Some(list) = object.get("mappings").and_then(Value::as_array) else {
            return Err(MappingsError::document(
                "`mappings` must be an array of mappings",
            ));
        };
        if list.len() > MAX_MAPPINGS {
            return Err(MappingsError {
                message: format!(
                    "an application has at most {MAX_MAPPINGS} mappings; this document has {}",
                    list.len()
                ),
                details: json!({"limit": MAX_MAPPINGS, "count": list.len()}),
            });
        }
        let mut mappings: Vec<Mapping> = Vec::with_capacity(list.len());
        for (index, item) in list.iter().enumerate() {
            let mapping = parse_mapping(item).map_err(|e| e.at(index, item))?;
            if mappings.iter().any(|m| m.name == mapping.name) {
                return Err(MappingsError::field(
                    "name",
                    format!("the name {:?} is used by an earlier mapping", mapping.name),
                )
                .at(index, item));
            }
            mappings.push(mapping);
        }
        Ok(Self { mappings })
    }

    /// The document as `GET /__admin/mappings` shows it (and a mapping file holds it).
    pub fn to_json(&self) -> Value {
        json!({
            "mappings": self.mappings.iter().map(|m| json!({
                "name": m.name,
                "enabled": m.enabled,
                "subscribe": m.trigger.as_str(),
                "action": m.action,
                "mapping": m.mapping_doc,
            })).collect::<Vec<_>>(),
        })
    }

    /// The mappings in order.
    pub fn mappings(&self) -> &[Mapping] {
        &self.mappings
    }

    /// Whether these are the defaults.
    pub fn is_default(&self) -> bool {
        self == Self::defaults()
    }

    /// Every enabled mapping whose trigger matches, in file order, with what it made of the
    /// message. Empty: the message is `filtered`.
    ///
    /// ```
    /// use std::collections::HashSet;
    /// use rehook_mock::segment::{MappingSet, Mapped, ingest};
    /// use serde_json::json;
    ///
    /// let set = MappingSet::from_json(&json!({"mappings": [{
    ///     "name": "Page views", "subscribe": "type = \"page\"", "action": "track_event",
    ///     "mapping": {"event_name": {"@path": "$.type"}, "source_id": {"@path": "$.userId"}}}]}))
    ///     .unwrap();
    /// let msg = json!({"type": "page", "userId": "u-1", "name": "Pricing"});
    /// let fired = set.apply(&ingest(&msg, &mut HashSet::<String>::new()).unwrap());
    /// let Mapped::Call(call) = &fired[0].mapped else { panic!() };
    /// assert_eq!(call.body, json!({"event_name": "page", "source_id": "u-1"}));
    /// ```
    pub fn apply(&self, accepted: &Accepted<'_>) -> Vec<Fired> {
        self.mappings
            .iter()
            .filter(|m| m.enabled && m.trigger.matches(accepted))
            .map(|m| Fired {
                mapping: m.name.clone(),
                mapped: m.run(accepted),
            })
            .collect()
    }

    /// What the set makes of a message, one [`Mapped`] per fired mapping, or one
    /// [`Mapped::Filtered`] when none fires, or one [`Mapped::Disabled`] when the message's
    /// `integrations` turn the destination off: the outcomes the delivery log records.
    pub fn map(&self, accepted: &Accepted<'_>) -> Vec<(Option<String>, Mapped)> {
        if !super::mapping::sends_to_rehook(accepted) {
            return vec![(None, Mapped::Disabled)];
        }
        let fired = self.apply(accepted);
        if fired.is_empty() {
            return vec![(None, Mapped::Filtered)];
        }
        fired
            .into_iter()
            .map(|f| (Some(f.mapping), f.mapped))
            .collect()
    }
}

/// A mapping file as `rehook-mock --mappings FILE` reads it: one application's document
/// (`{"mappings": [...]}`, for the default application), or several keyed by API key
/// (`{"applications": {"<api_key>": {"mappings": [...]}}}`). `None` names the default
/// application.
pub fn read_mappings_file(text: &str) -> Result<Vec<(Option<String>, MappingSet)>, MappingsError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| MappingsError::document(format!("the mapping file is not JSON: {e}")))?;
    let Some(apps) = doc.get("applications") else {
        return Ok(vec![(None, MappingSet::from_json(&doc)?)]);
    };
    let (Some(apps), 1) = (apps.as_object(), doc.as_object().map_or(0, Map::len)) else {
        return Err(MappingsError::document(
            "a mapping file is {\"mappings\": [...]} or {\"applications\": {\"<api_key>\": {\"mappings\": [...]}}}",
        ));
    };
    apps.iter()
        .map(|(key, doc)| {
            MappingSet::from_json(doc)
                .map(|set| (Some(key.clone()), set))
                .map_err(|mut e| {
                    e.message = format!("application {key:?}: {}", e.message);
                    e.details["app"] = json!(key);
                    e
                })
        })
        .collect()
}

fn parse_mapping(item: &Value) -> Result<Mapping, MappingsError> {
    let Some(object) = item.as_object() else {
        return Err(MappingsError::document(
            "a mapping is an object with name, subscribe, action and mapping",
        ));
    };
    if let Some(unknown) = object.keys().find(|k| {
        !matches!(
            k.as_str(),
            "name" | "enabled" | "subscribe" | "action" | "partnerAction" | "mapping"
        )
    }) {
        return Err(MappingsError::field(
            unknown,
            format!(
                "unknown key `{unknown}` (a mapping has name, enabled, subscribe, action and mapping)"
            ),
        ));
    }
    let name = match object.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        _ => {
            return Err(MappingsError::field(
                "name",
                "`name` must be a non-blank string",
            ));
        }
    };
    let enabled = match object.get("enabled") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(MappingsError::field(
                "enabled",
                "`enabled` must be true or false",
            ));
        }
    };
    let Some(subscribe) = object.get("subscribe").and_then(Value::as_str) else {
        return Err(MappingsError::field(
            "subscribe",
            "`subscribe` must be a trigger such as \"type = \\\"track\\\"\"",
        ));
    };
    let trigger = Trigger::parse(subscribe).map_err(|e| MappingsError {
        message: format!("the trigger does not parse {e}"),
        details: json!({"field": "subscribe", "position": e.position}),
    })?;
    let action_key = if object.contains_key("action") {
        "action"
    } else {
        "partnerAction"
    };
    let action = match object.get(action_key).and_then(Value::as_str) {
        Some("identify_user" | "identifyUser") => Action::IdentifyUser,
        Some("track_event" | "trackEvent") => Action::TrackEvent,
        _ => {
            return Err(MappingsError::field(
                "action",
                "`action` must be \"identify_user\" or \"track_event\"",
            ));
        }
    };
    let Some(mapping_doc) = object.get("mapping").and_then(Value::as_object) else {
        return Err(MappingsError::field(
            "mapping",
            "`mapping` must be an object of the action's fields",
        ));
    };
    let known = action.fields();
    let mut fields = Vec::new();
    for (key, value) in mapping_doc {
        let Some(&(field, _)) = known.iter().find(|(f, _)| f.as_str() == key) else {
            let names: Vec<&str> = known.iter().map(|(f, _)| f.as_str()).collect();
            return Err(MappingsError::field(
                key,
                format!(
                    "{action} has no field `{key}` (its fields: {})",
                    names.join(", ")
                ),
            ));
        };
        let value = FieldValue::parse(value)
            .map_err(|e| MappingsError::field(key, format!("field `{key}`: {e}")))?;
        fields.push((field, value));
    }
    if let Some((missing, _)) = known
        .iter()
        .find(|(f, required)| *required && !fields.iter().any(|(g, _)| g == f))
    {
        return Err(MappingsError::field(
            missing.as_str(),
            format!("{action} needs the field `{missing}`"),
        ));
    }
    fields.sort_by_key(|(f, _)| *f);
    Ok(Mapping {
        name,
        enabled,
        trigger,
        action,
        fields,
        mapping_doc: Value::Object(mapping_doc.clone()),
    })
}

/// A mapping document that cannot be used: what is wrong, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingsError {
    /// A sentence naming the mapping, the field and what was expected.
    pub message: String,
    /// Where: `index` and `name` of the mapping, `field`, a trigger's `position`, a limit.
    pub details: Value,
}

impl MappingsError {
    fn document(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            details: json!({}),
        }
    }

    fn field(field: &str, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            details: json!({ "field": field }),
        }
    }

    /// Name the mapping the error is in.
    fn at(mut self, index: usize, item: &Value) -> Self {
        let name = item.get("name").and_then(Value::as_str);
        self.message = match name {
            Some(name) => format!("mapping {index} ({name:?}): {}", self.message),
            None => format!("mapping {index}: {}", self.message),
        };
        if let Value::Object(details) = &mut self.details {
            details.insert("index".into(), json!(index));
            if let Some(name) = name {
                details.insert("name".into(), json!(name));
            }
        }
        self
    }
}

impl std::fmt::Display for MappingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MappingsError {}

impl From<MappingsError> for ApiError {
    fn from(e: MappingsError) -> Self {
        ApiError::new(ErrorCode::InvalidMappings, e.message).with_details(e.details)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::segment::{MessageType, ingest};

    fn set(mappings: Value) -> MappingSet {
        MappingSet::from_json(&json!({ "mappings": mappings })).expect("valid mappings")
    }

    fn refused(mappings: Value) -> MappingsError {
        MappingSet::from_json(&json!({ "mappings": mappings })).unwrap_err()
    }

    fn run(set: &MappingSet, message: Value) -> Vec<(Option<String>, Mapped)> {
        let accepted = ingest(&message, &mut HashSet::<String>::new()).expect("accepted");
        set.map(&accepted)
    }

    fn track_all(name: &str, trigger: &str) -> Value {
        json!({"name": name, "subscribe": trigger, "action": "track_event",
               "mapping": {"event_name": {"@path": "$.event"}, "source_id": {"@path": "$.userId"}}})
    }

    fn call(action: Action, body: Value) -> Mapped {
        Mapped::Call(RehookCall { action, body })
    }

    #[test]
    fn every_matching_mapping_fires_in_file_order_and_none_is_filtered() {
        let set = set(json!([
            track_all("All tracks", "type = \"track\""),
            track_all("Orders", "event = \"Order Completed\""),
        ]));
        let order = json!({"type": "track", "userId": "u", "event": "Order Completed"});
        let body = json!({"event_name": "Order Completed", "source_id": "u"});
        assert_eq!(
            run(&set, order),
            vec![
                (
                    Some("All tracks".into()),
                    call(Action::TrackEvent, body.clone())
                ),
                (Some("Orders".into()), call(Action::TrackEvent, body)),
            ]
        );
        assert_eq!(
            run(&set, json!({"type": "identify", "userId": "u"})),
            vec![(None, Mapped::Filtered)]
        );
    }

    #[test]
    fn a_disabled_mapping_never_fires() {
        let mut mapping = track_all("Off", "type = \"track\"");
        mapping["enabled"] = json!(false);
        let set = set(json!([mapping]));
        let msg = json!({"type": "track", "userId": "u", "event": "e"});
        assert_eq!(run(&set, msg), vec![(None, Mapped::Filtered)]);
    }

    #[test]
    fn a_required_field_that_resolves_to_nothing_drops_naming_the_field() {
        let set = set(
            json!([{"name": "Plans", "subscribe": "type = \"track\"", "action": "track_event",
            "mapping": {"event_name": {"@path": "$.properties.plan"}, "source_id": {"@path": "$.userId"}}}]),
        );
        let msg = json!({"type": "track", "userId": "u", "event": "e", "properties": {}});
        let dropped = Mapped::Dropped {
            action: Action::TrackEvent,
            reason: MappingDrop::MissingRequiredField(Field::EventName),
        };
        assert_eq!(run(&set, msg), vec![(Some("Plans".into()), dropped)]);
        assert_eq!(
            MappingDrop::MissingRequiredField(Field::EventName).reason(),
            "missing_required_field:event_name"
        );
        let by_email = set_source(json!({"@path": "$.context.traits.email"}));
        let msg = json!({"type": "identify", "userId": "u"});
        assert_eq!(
            run(&by_email, msg)[0].1,
            Mapped::Dropped {
                action: Action::IdentifyUser,
                reason: MappingDrop::MissingRequiredField(Field::SourceId),
            }
        );
    }

    #[test]
    fn a_required_text_field_that_is_null_empty_or_blank_drops_like_a_missing_one() {
        let track = |source: Value, event: Value| {
            set(
                json!([{"name": "T", "subscribe": "type = \"track\"", "action": "track_event",
                        "mapping": {"source_id": source, "event_name": event}}]),
            )
        };
        let dropped = |field| Mapped::Dropped {
            action: Action::TrackEvent,
            reason: MappingDrop::MissingRequiredField(field),
        };
        let msg = json!({"type": "track", "anonymousId": "a1", "event": "E", "messageId": "t1",
                         "properties": {"none": null, "empty": "", "blank": " \u{a0}\t", "n": 0}});
        let event = json!({"@path": "$.event"});
        for source in [
            json!({"@template": "{{userId}}"}),
            json!({"@template": "  {{properties.blank}} "}),
            json!({"@template": "{{properties.none}}"}),
            json!({"@path": "$.properties.none"}),
            json!({"@path": "$.properties.empty"}),
            json!(""),
            json!(" "),
        ] {
            let got = run(&track(source.clone(), event.clone()), msg.clone());
            assert_eq!(got[0].1, dropped(Field::SourceId), "{source}");
        }
        let source = json!({"@template": "x{{userId}}"});
        for event in [
            json!({"@template": "{{properties.missing}}"}),
            json!({"@path": "$.properties.empty"}),
            json!({"@if": {"exists": {"@path": "$.userId"}, "then": "x", "else": "\t"}}),
        ] {
            let got = run(&track(source.clone(), event.clone()), msg.clone());
            assert_eq!(got[0].1, dropped(Field::EventName), "{event}");
        }
        let got = run(
            &track(json!({"@path": "$.properties.n"}), json!(" E ")),
            msg.clone(),
        );
        assert_eq!(
            got[0].1,
            call(
                Action::TrackEvent,
                json!({"source_id": "0", "event_name": " E "})
            )
        );
        let read_blank = json!({"@path": "$.properties.blank"});
        let got = run(&track(read_blank, event), msg);
        assert_eq!(
            got[0].1,
            call(
                Action::TrackEvent,
                json!({"source_id": " \u{a0}\t", "event_name": "E"})
            ),
            "white space read from the message goes on to the Rehook API, as the defaults send it"
        );
    }

    fn set_source(source: Value) -> MappingSet {
        set(
            json!([{"name": "Id", "subscribe": "type = \"identify\"", "action": "identify_user",
                     "mapping": {"source_id": source, "metadata": {"@path": "$.traits"}}}]),
        )
    }

    #[test]
    fn source_id_from_user_id_keeps_the_default_drop_reasons() {
        let set = set_source(json!({"@path": "$.userId"}));
        let msg = json!({"type": "identify", "anonymousId": "a"});
        assert_eq!(
            run(&set, msg)[0].1,
            Mapped::Dropped {
                action: Action::IdentifyUser,
                reason: MappingDrop::AnonymousOnly
            }
        );
    }

    #[test]
    fn numbers_and_booleans_become_text_in_text_fields_only() {
        let set = set(
            json!([{"name": "Counts", "subscribe": "type = \"track\"", "action": "track_event",
            "mapping": {"event_name": {"@path": "$.properties.n"}, "source_id": {"@path": "$.properties.vip"},
                        "metadata": {"n": {"@path": "$.properties.n"}}}}]),
        );
        let msg = json!({"type": "track", "userId": "u", "event": "e",
                         "properties": {"n": 4021.0, "vip": true}});
        assert_eq!(
            run(&set, msg)[0].1,
            call(
                Action::TrackEvent,
                json!({"event_name": "4021", "source_id": "true", "metadata": {"n": 4021.0}})
            )
        );
    }

    #[test]
    fn context_enters_metadata_only_when_a_mapping_names_it() {
        let msg = json!({"type": "identify", "userId": "u", "traits": {"plan": "pro"},
                         "context": {"personas": {"computation_key": "k"}}});
        let Mapped::Call(plain) = &run(MappingSet::defaults(), msg.clone())[0].1 else {
            panic!("a call")
        };
        assert_eq!(plain.body["metadata"], json!({"plan": "pro"}));
        let explicit = set(
            json!([{"name": "Ctx", "subscribe": "type = \"identify\"", "action": "identify_user",
            "mapping": {"source_id": {"@path": "$.userId"},
                        "metadata": {"audience": {"@path": "$.context.personas.computation_key"}}}}]),
        );
        let Mapped::Call(call) = &run(&explicit, msg)[0].1 else {
            panic!("a call")
        };
        assert_eq!(call.body["metadata"], json!({"audience": "k"}));
    }

    #[test]
    fn fifty_mappings_load_and_a_fifty_first_is_refused_naming_the_limit() {
        let many: Vec<Value> = (0..51)
            .map(|i| track_all(&format!("m{i}"), "type = \"track\""))
            .collect();
        assert_eq!(set(json!(many[..50])).mappings().len(), 50);
        let err = refused(json!(many));
        assert_eq!(
            err.message,
            "an application has at most 50 mappings; this document has 51"
        );
        assert_eq!(err.details, json!({"limit": 50, "count": 51}));
    }

    #[test]
    fn bad_mappings_are_refused_naming_the_mapping_and_the_field() {
        let ok = track_all("Ok", "type = \"track\"");
        let cases = [
            (
                json!({"name": "T", "subscribe": "type = ", "action": "track_event",
                       "mapping": {"event_name": "e", "source_id": "s"}}),
                "mapping 1 (\"T\"): the trigger does not parse at position 8: expected a string, a number, true, false or null, found the end of the trigger",
                json!({"index": 1, "name": "T", "field": "subscribe", "position": 8}),
            ),
            (
                json!({"name": "T", "subscribe": "type = \"track\"", "action": "track_event",
                       "mapping": {"source_id": "s"}}),
                "mapping 1 (\"T\"): track_event needs the field `event_name`",
                json!({"index": 1, "name": "T", "field": "event_name"}),
            ),
            (
                json!({"name": "T", "subscribe": "type = \"track\"", "action": "identify_user",
                       "mapping": {"source_id": "s", "event_name": "e"}}),
                "mapping 1 (\"T\"): identify_user has no field `event_name` (its fields: source_id, metadata, referral_code)",
                json!({"index": 1, "name": "T", "field": "event_name"}),
            ),
            (
                json!({"name": "T", "subscribe": "type = \"track\"", "action": "send_email",
                       "mapping": {}}),
                "mapping 1 (\"T\"): `action` must be \"identify_user\" or \"track_event\"",
                json!({"index": 1, "name": "T", "field": "action"}),
            ),
            (
                json!({"subscribe": "type = \"track\"", "action": "track_event", "mapping": {}}),
                "mapping 1: `name` must be a non-blank string",
                json!({"index": 1, "field": "name"}),
            ),
            (
                track_all("Ok", "type = \"page\""),
                "mapping 1 (\"Ok\"): the name \"Ok\" is used by an earlier mapping",
                json!({"index": 1, "name": "Ok", "field": "name"}),
            ),
            (
                json!({"name": "T", "subscribe": "type = \"track\"", "action": "track_event",
                       "mapping": {"event_name": {"@path": "event"}, "source_id": "s"}}),
                "mapping 1 (\"T\"): field `event_name`: the path `event` must start with `$.` (e.g. `$.traits.email`)",
                json!({"index": 1, "name": "T", "field": "event_name"}),
            ),
            (
                json!({"name": "T", "trigger": "type = \"track\""}),
                "mapping 1 (\"T\"): unknown key `trigger` (a mapping has name, enabled, subscribe, action and mapping)",
                json!({"index": 1, "name": "T", "field": "trigger"}),
            ),
        ];
        for (bad, message, details) in cases {
            let err = refused(json!([ok.clone(), bad]));
            assert_eq!(err.message, message);
            assert_eq!(err.details, details, "{message}");
            let api = ApiError::from(err);
            assert_eq!(api.code, ErrorCode::InvalidMappings);
        }
        for (doc, message) in [
            (
                json!([]),
                "a mapping document is an object: {\"mappings\": [...]}",
            ),
            (
                json!({"mappings": {}}),
                "`mappings` must be an array of mappings",
            ),
            (
                json!({"mappings": [], "extra": 1}),
                "a mapping document has only the key `mappings`, found `extra`",
            ),
        ] {
            assert_eq!(MappingSet::from_json(&doc).unwrap_err().message, message);
        }
        assert!(
            MappingSet::from_json_str("{")
                .unwrap_err()
                .message
                .starts_with("the mapping file is not JSON")
        );
    }

    #[test]
    fn segment_spellings_of_the_action_are_read_and_written_back_in_ours() {
        let set = set(
            json!([{"name": "T", "subscribe": "type = \"identify\"", "partnerAction": "identifyUser",
                              "mapping": {"source_id": {"@path": "$.userId"}}}]),
        );
        assert_eq!(set.mappings()[0].action(), Action::IdentifyUser);
        assert_eq!(
            set.to_json(),
            json!({"mappings": [{"name": "T", "enabled": true, "subscribe": "type = \"identify\"",
                                 "action": "identify_user", "mapping": {"source_id": {"@path": "$.userId"}}}]})
        );
        assert_eq!(MappingSet::from_json(&set.to_json()), Ok(set));
    }

    #[test]
    fn a_mapping_file_holds_one_application_or_several_by_api_key() {
        let one = json!({"mappings": [track_all("A", "type = \"track\"")]}).to_string();
        let read = read_mappings_file(&one).expect("one application");
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].0, None);
        let several = json!({"applications": {
            "k1": {"mappings": [track_all("A", "type = \"track\"")]},
            "k2": {"mappings": []},
        }})
        .to_string();
        let read = read_mappings_file(&several).expect("two applications");
        let keys: Vec<_> = read
            .iter()
            .map(|(k, s)| (k.clone(), s.mappings().len()))
            .collect();
        assert_eq!(keys, [(Some("k1".into()), 1), (Some("k2".into()), 0)]);
        let bad = json!({"applications": {"k1": {"mappings": [{"name": "B"}]}}}).to_string();
        let err = read_mappings_file(&bad).unwrap_err();
        assert_eq!(
            err.message,
            "application \"k1\": mapping 0 (\"B\"): `subscribe` must be a trigger such as \"type = \\\"track\\\"\""
        );
        assert_eq!(
            err.details,
            json!({"app": "k1", "index": 0, "name": "B", "field": "subscribe"})
        );
        let mixed = json!({"applications": {}, "mappings": []}).to_string();
        assert!(
            read_mappings_file(&mixed)
                .unwrap_err()
                .message
                .starts_with("a mapping file is")
        );
    }

    #[test]
    fn the_defaults_name_a_message_without_any_identity_missing_user_id() {
        // Ingestion never lets such a message through; the engine still names it.
        for (message_type, event, action, name) in [
            (
                MessageType::Identify,
                None,
                Action::IdentifyUser,
                "Identify User",
            ),
            (
                MessageType::Track,
                Some("signup".to_owned()),
                Action::TrackEvent,
                "Track Event",
            ),
        ] {
            let message = json!({"type": message_type.as_str(), "event": event});
            let accepted = Accepted {
                message: message.as_object().expect("object"),
                message_type,
                message_id: None,
                user_id: None,
                anonymous_id: None,
                event,
            };
            let engine = MappingSet::defaults().map(&accepted);
            assert_eq!(
                engine,
                [(
                    Some(name.to_owned()),
                    Mapped::Dropped {
                        action,
                        reason: MappingDrop::MissingUserId
                    }
                )]
            );
        }
    }

    #[test]
    fn the_default_file_is_the_two_default_mappings() {
        let defaults = MappingSet::defaults();
        let names: Vec<&str> = defaults.mappings().iter().map(Mapping::name).collect();
        assert_eq!(names, ["Identify User", "Track Event"]);
        assert!(defaults.is_default());
        assert!(!set(json!([track_all("x", "type = \"track\"")])).is_default());
        assert_eq!(
            MappingSet::from_json(&defaults.to_json()).as_ref(),
            Ok(defaults)
        );
    }
}
