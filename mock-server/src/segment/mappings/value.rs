//! Field values: what an action field is set to, literals and Segment's mapping directives.
//!
//! - a literal (`"web"`, `42`, `true`) is itself; `null` is nothing;
//! - `{"@path": "$.traits.email"}` reads the message;
//! - `{"@if": {"exists": <value>, "then": <value>, "else": <value>}}` picks `then` when
//!   `exists` resolves to something, else `else` (either may be left out: nothing);
//! - `{"@template": "{{properties.plan}}-x"}` writes text, each `{{path}}` replaced by the
//!   value there (nothing: the empty text; numbers as JavaScript writes them; objects and
//!   arrays as compact JSON);
//! - an object or array holds values in turn: `{"plan": {"@path": "$.traits.plan"}}`; keys
//!   whose value resolves to nothing are left out.
//!
//! Paths read the message as ingestion did: `$.userId`, `$.anonymousId`, `$.messageId` and a
//! track's `$.event` are the text ingestion read (numbers as JavaScript writes them; `""`,
//! booleans, objects and arrays are nothing), so a mapping never sees an id the collector did
//! not accept. Every other path reads the message as sent. `null` is nothing.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::segment::{Accepted, MessageType, js_number_string};

/// A path into a message: `$.context.traits.email` in a field, `context.traits.email` in a
/// trigger or a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path {
    /// The keys (or array indices) from the message's root.
    segments: Vec<String>,
}

impl Path {
    /// A path as `@path` writes it: `$.` and dot-separated keys.
    pub(crate) fn parse_json(text: &str) -> Result<Self, String> {
        let Some(rest) = text.strip_prefix("$.") else {
            return Err(format!(
                "the path `{text}` must start with `$.` (e.g. `$.traits.email`)"
            ));
        };
        Self::segments(text, rest)
    }

    /// A path as triggers and templates write it: dot-separated keys (a leading `$.` is
    /// allowed too).
    pub(crate) fn parse_plain(text: &str) -> Result<Self, String> {
        Self::segments(text, text.strip_prefix("$.").unwrap_or(text))
    }

    fn segments(text: &str, rest: &str) -> Result<Self, String> {
        let segments: Vec<String> = rest.split('.').map(str::to_owned).collect();
        if segments.iter().any(|s| s.trim().is_empty()) {
            return Err(format!("the path `{text}` has an empty segment"));
        }
        Ok(Self { segments })
    }

    /// Whether this is `$.userId`, whose absence the default mappings name
    /// `anonymous_only` / `missing_user_id`.
    pub(crate) fn is_user_id(&self) -> bool {
        self.segments.len() == 1 && self.segments[0] == "userId"
    }
}

/// The value at `path` in the message (`null` included), if any.
pub(crate) fn resolve<'a>(accepted: &Accepted<'a>, path: &Path) -> Option<Cow<'a, Value>> {
    let ingested = |text: Option<&str>| text.map(|t| Cow::Owned(Value::String(t.to_owned())));
    if let [only] = path.segments.as_slice() {
        match only.as_str() {
            "userId" => return ingested(accepted.user_id()),
            "anonymousId" => return ingested(accepted.anonymous_id()),
            "messageId" => return ingested(accepted.message_id()),
            "event" if accepted.message_type() == MessageType::Track => {
                return ingested(accepted.event());
            }
            _ => {}
        }
    }
    let mut segments = path.segments.iter();
    let first = segments.next()?;
    let mut value = accepted.message().get(first)?;
    for segment in segments {
        value = match value {
            Value::Object(map) => map.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(Cow::Borrowed(value))
}

/// A field's value as a mapping writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldValue {
    /// A literal (never an object or array: those hold values in turn).
    Literal(Value),
    /// An object of values.
    Object(Vec<(String, FieldValue)>),
    /// An array of values.
    Array(Vec<FieldValue>),
    /// `@path`.
    Path(Path),
    /// `@if`.
    If {
        /// What must resolve to something.
        exists: Box<FieldValue>,
        /// When it does.
        then: Option<Box<FieldValue>>,
        /// When it does not.
        otherwise: Option<Box<FieldValue>>,
    },
    /// `@template`.
    Template(Vec<Piece>),
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text as written.
    Text(String),
    /// `{{path}}`.
    Path(Path),
}

impl FieldValue {
    /// Read a value as a mapping file writes it; the error names what is wrong.
    pub(crate) fn parse(value: &Value) -> Result<Self, String> {
        match value {
            Value::Object(map) => {
                let directives: Vec<&String> = map.keys().filter(|k| k.starts_with('@')).collect();
                match directives.as_slice() {
                    [] => map
                        .iter()
                        .map(|(k, v)| {
                            Self::parse(v)
                                .map(|v| (k.clone(), v))
                                .map_err(|e| format!("{k}: {e}"))
                        })
                        .collect::<Result<_, _>>()
                        .map(FieldValue::Object),
                    [directive] if map.len() == 1 => Self::directive(directive, &map[*directive]),
                    _ => Err(format!(
                        "a directive must be alone in its object, found the keys {:?}",
                        map.keys().collect::<Vec<_>>()
                    )),
                }
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| Self::parse(v).map_err(|e| format!("[{i}]: {e}")))
                .collect::<Result<_, _>>()
                .map(FieldValue::Array),
            scalar => Ok(FieldValue::Literal(scalar.clone())),
        }
    }

    fn directive(name: &str, arg: &Value) -> Result<Self, String> {
        match name {
            "@path" => {
                let text = arg.as_str().ok_or_else(|| {
                    format!("@path takes a string such as \"$.userId\", found {arg}")
                })?;
                Path::parse_json(text).map(FieldValue::Path)
            }
            "@template" => {
                let text = arg.as_str().ok_or_else(|| {
                    format!("@template takes a string such as \"{{{{traits.plan}}}}\", found {arg}")
                })?;
                template(text).map(FieldValue::Template)
            }
            "@if" => {
                let Some(map) = arg.as_object() else {
                    return Err(format!(
                        "@if takes an object with exists, then and else, found {arg}"
                    ));
                };
                if let Some(unknown) = map
                    .keys()
                    .find(|k| !matches!(k.as_str(), "exists" | "then" | "else"))
                {
                    return Err(format!(
                        "@if knows exists, then and else, found `{unknown}`"
                    ));
                }
                let exists = map
                    .get("exists")
                    .ok_or("@if needs `exists`")
                    .map_err(str::to_owned)
                    .and_then(|v| Self::parse(v).map_err(|e| format!("@if.exists: {e}")))?;
                let branch = |key: &str| {
                    map.get(key)
                        .map(|v| {
                            Self::parse(v)
                                .map(Box::new)
                                .map_err(|e| format!("@if.{key}: {e}"))
                        })
                        .transpose()
                };
                Ok(FieldValue::If {
                    exists: Box::new(exists),
                    then: branch("then")?,
                    otherwise: branch("else")?,
                })
            }
            other => Err(format!(
                "unknown directive `{other}` (known: @path, @if, @template)"
            )),
        }
    }

    /// Whether this is exactly `{"@path": "$.userId"}`.
    pub(crate) fn is_user_id_path(&self) -> bool {
        matches!(self, FieldValue::Path(p) if p.is_user_id())
    }

    /// Whether the value for this message is read from it by `@path` (directly or as the
    /// branch an `@if` picks) rather than written by the mapping (a literal, a template, an
    /// object or array). A required text field treats only `""` read from the message as
    /// nothing, and also white space a mapping writes.
    pub(crate) fn reads_message(&self, accepted: &Accepted<'_>) -> bool {
        match self {
            FieldValue::Path(_) => true,
            FieldValue::If {
                exists,
                then,
                otherwise,
            } => {
                let branch = if exists.eval(accepted).is_some() {
                    then
                } else {
                    otherwise
                };
                branch.as_ref().is_some_and(|b| b.reads_message(accepted))
            }
            _ => false,
        }
    }

    /// The value for this message; `None` when it resolves to nothing (absent or `null`).
    pub(crate) fn eval(&self, accepted: &Accepted<'_>) -> Option<Value> {
        let value = match self {
            FieldValue::Literal(v) => v.clone(),
            FieldValue::Object(fields) => Value::Object(
                fields
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.eval(accepted)?)))
                    .collect::<Map<_, _>>(),
            ),
            FieldValue::Array(items) => {
                Value::Array(items.iter().filter_map(|v| v.eval(accepted)).collect())
            }
            FieldValue::Path(path) => resolve(accepted, path)?.into_owned(),
            FieldValue::If {
                exists,
                then,
                otherwise,
            } => {
                let branch = if exists.eval(accepted).is_some() {
                    then
                } else {
                    otherwise
                };
                return branch.as_ref()?.eval(accepted);
            }
            FieldValue::Template(pieces) => {
                let mut out = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(text) => out.push_str(text),
                        Piece::Path(path) => {
                            if let Some(value) = resolve(accepted, path) {
                                out.push_str(&template_text(&value));
                            }
                        }
                    }
                }
                Value::String(out)
            }
        };
        (!value.is_null()).then_some(value)
    }
}

/// How a template writes a value.
fn template_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => js_number_string(n),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Split a template into text and `{{path}}` pieces.
fn template(text: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_owned()));
        }
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or_else(|| format!("the template `{text}` opens `{{{{` without closing it"))?;
        let path = after[..close].trim();
        if path.is_empty() {
            return Err(format!("the template `{text}` has an empty `{{{{}}}}`"));
        }
        pieces.push(Piece::Path(Path::parse_plain(path)?));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::json;

    use super::*;
    use crate::segment::ingest;

    fn eval(value: Value, message: Value) -> Option<Value> {
        let accepted = ingest(&message, &mut HashSet::<String>::new()).expect("accepted");
        FieldValue::parse(&value).expect("parses").eval(&accepted)
    }

    fn identify() -> Value {
        json!({"type": "identify", "userId": 4021, "anonymousId": "a-1",
               "traits": {"plan": "pro", "seats": 3, "tags": ["a", "b"], "gone": null},
               "context": {"traits": {"email": "ada@example.com"}}})
    }

    #[test]
    fn paths_read_nested_keys_and_ids_as_ingestion_read_them() {
        assert_eq!(
            eval(json!({"@path": "$.context.traits.email"}), identify()),
            Some(json!("ada@example.com"))
        );
        assert_eq!(
            eval(json!({"@path": "$.userId"}), identify()),
            Some(json!("4021"))
        );
        assert_eq!(
            eval(json!({"@path": "$.traits.tags.1"}), identify()),
            Some(json!("b"))
        );
        assert_eq!(eval(json!({"@path": "$.traits.gone"}), identify()), None);
        assert_eq!(
            eval(json!({"@path": "$.traits.plan.deeper"}), identify()),
            None
        );
        let anonymous = json!({"type": "track", "userId": true, "anonymousId": "a", "event": 7});
        assert_eq!(eval(json!({"@path": "$.userId"}), anonymous.clone()), None);
        assert_eq!(
            eval(json!({"@path": "$.event"}), anonymous),
            Some(json!("7"))
        );
    }

    #[test]
    fn if_picks_a_branch_by_existence() {
        let value = json!({"@if": {"exists": {"@path": "$.traits.plan"},
                                   "then": {"@path": "$.traits.plan"}, "else": "free"}});
        assert_eq!(eval(value.clone(), identify()), Some(json!("pro")));
        let bare = json!({"type": "identify", "userId": "u"});
        assert_eq!(eval(value, bare.clone()), Some(json!("free")));
        let no_else = json!({"@if": {"exists": {"@path": "$.traits.plan"}, "then": 1}});
        assert_eq!(eval(no_else, bare), None);
    }

    #[test]
    fn templates_write_text_and_missing_paths_as_nothing() {
        assert_eq!(
            eval(json!({"@template": "{{traits.plan}}-x"}), identify()),
            Some(json!("pro-x"))
        );
        assert_eq!(
            eval(
                json!({"@template": "{{ traits.seats }}/{{traits.missing}}/{{traits.tags}}/{{userId}}"}),
                identify()
            ),
            Some(json!("3//[\"a\",\"b\"]/4021"))
        );
    }

    #[test]
    fn objects_hold_values_and_leave_out_keys_that_resolve_to_nothing() {
        let value = json!({"plan": {"@path": "$.traits.plan"}, "source": "web",
                           "missing": {"@path": "$.nope"}, "nothing": null,
                           "list": [{"@path": "$.traits.seats"}, {"@path": "$.nope"}]});
        assert_eq!(
            eval(value, identify()),
            Some(json!({"plan": "pro", "source": "web", "list": [3]}))
        );
        assert_eq!(eval(json!(null), identify()), None);
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        let err = |v: Value| FieldValue::parse(&v).unwrap_err();
        assert_eq!(
            err(json!({"@path": "traits.plan"})),
            "the path `traits.plan` must start with `$.` (e.g. `$.traits.email`)"
        );
        assert_eq!(
            err(json!({"@path": 3})),
            "@path takes a string such as \"$.userId\", found 3"
        );
        assert_eq!(
            err(json!({"@literal": 3})),
            "unknown directive `@literal` (known: @path, @if, @template)"
        );
        assert_eq!(
            err(json!({"@path": "$.a", "x": 1})),
            "a directive must be alone in its object, found the keys [\"@path\", \"x\"]"
        );
        assert_eq!(err(json!({"@if": {"then": 1}})), "@if needs `exists`");
        assert_eq!(
            err(json!({"@if": {"exists": 1, "otherwise": 2}})),
            "@if knows exists, then and else, found `otherwise`"
        );
        assert_eq!(
            err(json!({"@template": "{{traits.plan"})),
            "the template `{{traits.plan` opens `{{` without closing it"
        );
        assert_eq!(
            err(json!({"deep": {"@path": "$."}})),
            "deep: the path `$.` has an empty segment"
        );
    }
}
