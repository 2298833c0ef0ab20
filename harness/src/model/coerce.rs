//! Input coercion as Segment's own validation does it (contract sections 2.2 and 6): which
//! JSON values each field accepts, how numbers become text, and which error a refused value
//! gets. Written from the contract alone.

use serde_json::{Map, Number, Value};

/// Longest referral code a customer may send, in characters.
pub const MAX_CODE_CHARS: usize = 64;

/// A field refused by validation: the `400` error code the contract names for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid(pub &'static str);

/// A JSON number as JavaScript's `String(number)` writes it: `4021.0` → `"4021"`,
/// `4021.5` → `"4021.5"`, `1e21` → `"1e+21"`, `1e-7` → `"1e-7"`.
pub fn js_number_text(number: &Number) -> String {
    if let Some(i) = number.as_i64() {
        return i.to_string();
    }
    if let Some(u) = number.as_u64() {
        return u.to_string();
    }
    let Some(x) = number.as_f64() else {
        return number.to_string();
    };
    js_f64_text(x)
}

/// An `f64` as JavaScript writes it (shortest round-trip digits, JavaScript's exponent rules).
pub fn js_f64_text(x: f64) -> String {
    if x == 0.0 {
        return "0".to_owned();
    }
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    // Rust's `{:e}` gives the shortest round-trip digits: `d[.ddd]e<exp>`.
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = exponent + 1; // the decimal point sits after `n` digits
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e = if e >= 0 {
            format!("+{e}")
        } else {
            e.to_string()
        };
        if k == 1 {
            format!("{digits}e{e}")
        } else {
            format!("{}.{}e{e}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

/// Whether `text` is empty or only Unicode white space.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

/// `source_id`: a string not blank after trimming (kept as sent) or a number (as text).
pub fn source_id(body: &Map<String, Value>) -> Result<String, Invalid> {
    match body.get("source_id") {
        None | Some(Value::Null) => Err(Invalid("SOURCE_ID_REQUIRED")),
        Some(Value::String(s)) if is_blank(s) => Err(Invalid("SOURCE_ID_REQUIRED")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(js_number_text(n)),
        Some(_) => Err(Invalid("INVALID_SOURCE_ID")),
    }
}

/// `event_name`: a string not blank after trimming; anything else that is not missing or
/// `null` is `INVALID_EVENT_NAME`, numbers included.
pub fn event_name(body: &Map<String, Value>) -> Result<String, Invalid> {
    match body.get("event_name") {
        None | Some(Value::Null) => Err(Invalid("EVENT_NAME_REQUIRED")),
        Some(Value::String(s)) if is_blank(s) => Err(Invalid("EVENT_NAME_REQUIRED")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(Invalid("INVALID_EVENT_NAME")),
    }
}

/// `metadata`: an object; `null` and absent both mean "none sent".
pub fn metadata(body: &Map<String, Value>) -> Result<Option<Map<String, Value>>, Invalid> {
    match body.get("metadata") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        Some(_) => Err(Invalid("INVALID_METADATA")),
    }
}

/// `referral_code` of `POST /customers`: `null`, `""` and absent mean "none sent"; strings,
/// numbers and booleans are text; the text must be at most 64 characters with no white space
/// or control characters.
pub fn referral_code(body: &Map<String, Value>) -> Result<Option<String>, Invalid> {
    let text = match body.get("referral_code") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => js_number_text(n),
        Some(Value::Bool(b)) => b.to_string(),
        Some(_) => return Err(Invalid("INVALID_REFERRAL_CODE")),
    };
    let well_formed = text.chars().count() <= MAX_CODE_CHARS
        && !text.chars().any(|c| c.is_whitespace() || c.is_control());
    if well_formed {
        Ok(Some(text))
    } else {
        Err(Invalid("INVALID_REFERRAL_CODE"))
    }
}

/// The code a conversion event names in `metadata.referral_code`: a string not blank after
/// trimming (as sent) or a number (as text); anything else is `None` (`REFERRAL_CODE_REQUIRED`).
pub fn conversion_code(metadata: Option<&Map<String, Value>>) -> Option<String> {
    match metadata?.get("referral_code")? {
        Value::String(s) if !is_blank(s) => Some(s.clone()),
        Value::Number(n) => Some(js_number_text(n)),
        _ => None,
    }
}

/// A Segment id (`userId`, `anonymousId`, `messageId`, a track's `event`) as text: a
/// non-empty string as it is, a number as JavaScript writes it; anything else counts as absent.
pub fn segment_id(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(js_number_text(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(v: Value) -> String {
        match v {
            Value::Number(n) => js_number_text(&n),
            _ => unreachable!("numbers only"),
        }
    }

    #[test]
    fn numbers_become_text_as_javascript_writes_them() {
        assert_eq!(text(json!(4021)), "4021");
        assert_eq!(text(json!(4021.0)), "4021");
        assert_eq!(text(json!(4021.5)), "4021.5");
        assert_eq!(text(json!(-3)), "-3");
        assert_eq!(text(json!(1e21)), "1e+21");
        assert_eq!(text(json!(1.5e21)), "1.5e+21");
        assert_eq!(text(json!(1e20)), "100000000000000000000");
        assert_eq!(text(json!(0.000001)), "0.000001");
        assert_eq!(text(json!(1e-7)), "1e-7");
        assert_eq!(text(json!(0.1)), "0.1");
        assert_eq!(text(json!(u64::MAX)), "18446744073709551615");
    }

    #[test]
    fn source_ids_are_strings_not_blank_or_numbers() {
        let body = |v: Value| json!({ "source_id": v }).as_object().cloned().unwrap();
        assert_eq!(source_id(&body(json!(" u 1 "))), Ok(" u 1 ".to_owned()));
        assert_eq!(source_id(&body(json!(7))), Ok("7".to_owned()));
        for v in [json!(null), json!(""), json!(" \u{3000}")] {
            assert_eq!(source_id(&body(v)), Err(Invalid("SOURCE_ID_REQUIRED")));
        }
        assert_eq!(source_id(&Map::new()), Err(Invalid("SOURCE_ID_REQUIRED")));
        for v in [json!(true), json!({}), json!([])] {
            assert_eq!(source_id(&body(v)), Err(Invalid("INVALID_SOURCE_ID")));
        }
    }

    #[test]
    fn referral_codes_are_text_without_white_space_up_to_64_characters() {
        let body = |v: Value| json!({ "referral_code": v }).as_object().cloned().unwrap();
        assert_eq!(referral_code(&body(json!(""))), Ok(None));
        assert_eq!(referral_code(&body(json!(null))), Ok(None));
        assert_eq!(referral_code(&body(json!(12))), Ok(Some("12".into())));
        assert_eq!(referral_code(&body(json!(false))), Ok(Some("false".into())));
        assert_eq!(
            referral_code(&body(json!("é".repeat(64)))),
            Ok(Some("é".repeat(64)))
        );
        for v in [
            json!("a".repeat(65)),
            json!("A B"),
            json!(" "),
            json!("A\u{7}"),
            json!({}),
            json!([1]),
        ] {
            assert_eq!(
                referral_code(&body(v)),
                Err(Invalid("INVALID_REFERRAL_CODE"))
            );
        }
    }

    #[test]
    fn conversion_codes_are_non_blank_strings_or_numbers() {
        let meta = |v: Value| json!({ "referral_code": v }).as_object().cloned().unwrap();
        assert_eq!(conversion_code(Some(&meta(json!("AB")))), Some("AB".into()));
        assert_eq!(conversion_code(Some(&meta(json!(5)))), Some("5".into()));
        for v in [json!(null), json!(" "), json!(true), json!({}), json!("")] {
            assert_eq!(conversion_code(Some(&meta(v))), None);
        }
        assert_eq!(conversion_code(None), None);
    }
}
