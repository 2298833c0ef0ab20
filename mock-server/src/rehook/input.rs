//! Field coercion and validation of Rehook API bodies (contract 2.2 and the fine print).
//!
//! Fields are checked in the contract's order (source_id, event_name, metadata,
//! referral_code); the first bad one decides the error.

use serde_json::{Map, Value, json};

use crate::body::json_kind;
use crate::error::{ApiError, ErrorCode};
use crate::segment::js_number_string;

/// The longest referral code accepted, in characters.
pub const MAX_CODE_CHARS: usize = 64;

/// A validated `POST /customers` body.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerInput {
    /// The upsert key, as sent (numbers turned into text).
    pub source_id: String,
    /// Properties to merge; `None` when none were sent.
    pub metadata: Option<Map<String, Value>>,
    /// The code to claim; `None` when none was sent.
    pub referral_code: Option<String>,
}

/// A validated `POST /events/invoke` body.
#[derive(Debug, Clone, PartialEq)]
pub struct EventInput {
    /// The event's name.
    pub event_name: String,
    /// Who sent it.
    pub source_id: String,
    /// Properties; `None` when none were sent.
    pub metadata: Option<Map<String, Value>>,
}

impl CustomerInput {
    /// Validate a `POST /customers` body.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, ApiError> {
        Ok(Self {
            source_id: source_id(body)?,
            metadata: metadata(body)?,
            referral_code: referral_code(body.get("referral_code"))?,
        })
    }
}

impl EventInput {
    /// Validate a `POST /events/invoke` body.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, ApiError> {
        Ok(Self {
            source_id: source_id(body)?,
            event_name: event_name(body)?,
            metadata: metadata(body)?,
        })
    }
}

fn is_blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

fn field_error(code: ErrorCode, field: &str, message: String) -> ApiError {
    ApiError::new(code, message).with_details(json!({ "field": field }))
}

/// `source_id` as the Rehook API reads it: a string not blank, or a number as its text.
pub(crate) fn source_id(body: &Map<String, Value>) -> Result<String, ApiError> {
    let required = || {
        field_error(
            ErrorCode::SourceIdRequired,
            "source_id",
            "source_id is required and must be a non-empty string".to_owned(),
        )
    };
    match body.get("source_id") {
        None | Some(Value::Null) => Err(required()),
        Some(Value::String(s)) if is_blank(s) => Err(required()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(js_number_string(n)),
        Some(other) => Err(field_error(
            ErrorCode::InvalidSourceId,
            "source_id",
            format!(
                "source_id must be a string or a number, got {}",
                json_kind(other)
            ),
        )),
    }
}

fn event_name(body: &Map<String, Value>) -> Result<String, ApiError> {
    let required = || {
        field_error(
            ErrorCode::EventNameRequired,
            "event_name",
            "event_name is required and must be a non-empty string".to_owned(),
        )
    };
    match body.get("event_name") {
        None | Some(Value::Null) => Err(required()),
        Some(Value::String(s)) if is_blank(s) => Err(required()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(field_error(
            ErrorCode::InvalidEventName,
            "event_name",
            format!("event_name must be a string, got {}", json_kind(other)),
        )),
    }
}

fn metadata(body: &Map<String, Value>) -> Result<Option<Map<String, Value>>, ApiError> {
    match body.get("metadata") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        Some(other) => Err(field_error(
            ErrorCode::InvalidMetadata,
            "metadata",
            format!(
                "metadata must be an object or null, got {}",
                json_kind(other)
            ),
        )),
    }
}

/// Whether `code` may be stored as a referral code: 1-64 characters, no white space or
/// control characters.
pub fn is_valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.chars().count() <= MAX_CODE_CHARS
        && !code.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn referral_code(value: Option<&Value>) -> Result<Option<String>, ApiError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => js_number_string(n),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => {
            return Err(field_error(
                ErrorCode::InvalidReferralCode,
                "referral_code",
                format!(
                    "referral_code must be a string, a number or a boolean, got {}",
                    json_kind(other)
                ),
            ));
        }
    };
    if is_valid_code(&text) {
        Ok(Some(text))
    } else {
        Err(field_error(
            ErrorCode::InvalidReferralCode,
            "referral_code",
            format!(
                "referral_code must be at most {MAX_CODE_CHARS} characters with no white space or control characters"
            ),
        ))
    }
}

/// The code a conversion event carries in `metadata.referral_code`, or
/// `REFERRAL_CODE_REQUIRED` when there is none usable.
pub fn conversion_code(metadata: Option<&Map<String, Value>>) -> Result<String, ApiError> {
    let required = || {
        field_error(
            ErrorCode::ReferralCodeRequired,
            "metadata.referral_code",
            "a conversion event needs metadata.referral_code, a non-empty string".to_owned(),
        )
    };
    match metadata.and_then(|m| m.get("referral_code")) {
        Some(Value::String(s)) if !is_blank(s) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(js_number_string(n)),
        _ => Err(required()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn customer_err(v: Value) -> ErrorCode {
        CustomerInput::parse(&obj(v)).unwrap_err().code
    }

    #[test]
    fn source_id_rules() {
        use ErrorCode::*;
        assert_eq!(customer_err(json!({})), SourceIdRequired);
        assert_eq!(customer_err(json!({"source_id": null})), SourceIdRequired);
        assert_eq!(customer_err(json!({"source_id": ""})), SourceIdRequired);
        assert_eq!(
            customer_err(json!({"source_id": " \u{3000}\t"})),
            SourceIdRequired
        );
        assert_eq!(customer_err(json!({"source_id": true})), InvalidSourceId);
        assert_eq!(customer_err(json!({"source_id": {}})), InvalidSourceId);
        assert_eq!(customer_err(json!({"source_id": []})), InvalidSourceId);
        let parsed = CustomerInput::parse(&obj(json!({"source_id": 4021}))).unwrap();
        assert_eq!(parsed.source_id, "4021");
        let parsed = CustomerInput::parse(&obj(json!({"source_id": " u-1 "}))).unwrap();
        assert_eq!(
            parsed.source_id, " u-1 ",
            "the stored value is the original string"
        );
    }

    #[test]
    fn first_bad_field_wins() {
        assert_eq!(
            customer_err(json!({"source_id": true, "metadata": 1, "referral_code": []})),
            ErrorCode::InvalidSourceId
        );
        assert_eq!(
            customer_err(json!({"source_id": "a", "metadata": 1, "referral_code": []})),
            ErrorCode::InvalidMetadata
        );
        let e = EventInput::parse(&obj(
            json!({"source_id": "a", "event_name": 5, "metadata": 1}),
        ))
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidEventName);
    }

    #[test]
    fn referral_code_rules() {
        let code = |v: Value| {
            CustomerInput::parse(&obj(json!({"source_id": "a", "referral_code": v})))
                .map(|c| c.referral_code)
                .map_err(|e| e.code)
        };
        assert_eq!(code(Value::Null), Ok(None));
        assert_eq!(code(json!("")), Ok(None));
        assert_eq!(code(json!(12)), Ok(Some("12".into())));
        assert_eq!(code(json!(true)), Ok(Some("true".into())));
        assert_eq!(code(json!("AbC")), Ok(Some("AbC".into())));
        assert_eq!(code(json!("x".repeat(64))), Ok(Some("x".repeat(64))));
        for bad in [
            json!("x".repeat(65)),
            json!("A B"),
            json!("A\u{7}"),
            json!(" "),
            json!({}),
            json!([]),
        ] {
            assert_eq!(
                code(bad.clone()),
                Err(ErrorCode::InvalidReferralCode),
                "{bad}"
            );
        }
    }

    #[test]
    fn conversion_code_rules() {
        let code = |m: Value| conversion_code(m.as_object()).map_err(|e| e.code);
        assert_eq!(code(json!({"referral_code": "AB"})), Ok("AB".into()));
        assert_eq!(code(json!({"referral_code": 77})), Ok("77".into()));
        for bad in [
            json!({}),
            json!({"referral_code": null}),
            json!({"referral_code": true}),
            json!({"referral_code": {}}),
            json!({"referral_code": "  "}),
        ] {
            assert_eq!(
                code(bad.clone()),
                Err(ErrorCode::ReferralCodeRequired),
                "{bad}"
            );
        }
        assert_eq!(
            conversion_code(None).unwrap_err().code,
            ErrorCode::ReferralCodeRequired
        );
    }
}
