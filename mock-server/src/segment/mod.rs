//! Segment's side of the fake: what Segment does to a message before and while it reaches the
//! Rehook destination (contract section 3).
//!
//! The public part is pure: functions over [`serde_json::Value`], no HTTP, no IO, no clock.
//! The harness uses it to play Segment when it replays files against a Rehook API, and the
//! fake's own Segment front door (`/v1/...`) applies exactly the same rules.
//!
//! - [`ingest`](ingest()) applies Segment's ingestion rules (`invalid_type`, `missing_identity`,
//!   `missing_event_name`, `duplicate_message_id`) and hands back an [`Accepted`] message.
//! - [`map_default`] applies the Rehook destination's default, published mappings to an accepted
//!   message: a [`RehookCall`] to run, `filtered`, or a mapping drop; a message whose
//!   `integrations` turn the destination off ([`sends_to_rehook`]) is `filtered` before any
//!   mapping runs, in the defaults and in every [`MappingSet`].
//! - [`MappingSet`] runs custom mappings (Segment's "build your own mappings": triggers,
//!   actions, `@path` / `@if` / `@template` fields); the defaults are one such set.
//! - [`js_number_string`] turns JSON numbers into text the way JavaScript's `String(number)`
//!   does, because that is what Segment's validation does to numeric ids and names;
//!   [`id_text`] reads an id or a name as ingestion does (non-empty strings and numbers).
//! - `front_door` (crate-internal) serves the Tracking API paths over HTTP, and `deliver`
//!   runs each accepted message through the application's mapping set (the defaults unless
//!   custom mappings are loaded) and the Rehook rules into the delivery log.

mod deliver;
pub(crate) mod front_door;
mod ingest;
mod mapping;
mod mappings;

pub use front_door::{BATCH_LIMIT, MESSAGE_LIMIT, REQUEST_LIMIT, compact_size};
pub use ingest::{Accepted, IngestDrop, MessageType, SeenMessageIds, id_text, ingest};
pub use mapping::{
    Action, Field, INTEGRATIONS_DISABLED, Mapped, MappingDrop, RehookCall, map_default,
    sends_to_rehook,
};
pub use mappings::{
    DEFAULT_MAPPINGS_JSON, Fired, MAX_MAPPINGS, Mapping, MappingSet, MappingsError, Trigger,
    TriggerError, read_mappings_file,
};

/// A JSON number as JavaScript's `String(number)` writes it.
///
/// The value always goes through an IEEE 754 double first, as it does in JavaScript, so integers
/// beyond 2^53 lose precision exactly as they do in Segment's own validation
/// (`18446744073709551615` becomes `"18446744073709552000"`). Examples: `4021` → `"4021"`,
/// `4021.0` → `"4021"`, `4021.5` → `"4021.5"`, `1e21` → `"1e+21"`, `1.5e-7` → `"1.5e-7"`,
/// `-0` → `"0"`.
///
/// ```
/// use rehook_mock::segment::js_number_string;
/// let n: serde_json::Number = serde_json::from_str("1e21").unwrap();
/// assert_eq!(js_number_string(&n), "1e+21");
/// ```
pub fn js_number_string(n: &serde_json::Number) -> String {
    let value = match n.as_f64() {
        Some(value) => value,
        // Only reachable with serde_json's arbitrary precision: read the text as JS would.
        None => n.to_string().parse::<f64>().unwrap_or(f64::NAN),
    };
    js_f64_string(value)
}

/// An `f64` as JavaScript's `Number.prototype.toString()` (radix 10) writes it.
///
/// This is the layout step behind [`js_number_string`]: the shortest digits that read back as
/// the same double, written plainly when the decimal exponent is in `-7 < e < 21` and in
/// exponent form (`1e+21`, `1.5e-7`) otherwise. `NaN` and the infinities are spelled as in
/// JavaScript, although JSON cannot carry them.
pub fn js_f64_string(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value == 0.0 {
        // Both +0 and -0.
        return "0".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if value < 0.0 {
        return format!("-{}", js_f64_string(-value));
    }
    // Rust's `{:e}` writes the shortest round-tripping digits: "4.0215e3", "1e21", "1.5e-7".
    let scientific = format!("{value:e}");
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return value.to_string();
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return value.to_string();
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    layout(&digits, exponent + 1)
}

/// ECMAScript Number::toString layout: `digits` are the significant digits `s` (k of them)
/// and `n` is the position of the decimal point, so that the value is `0.s × 10^n`.
fn layout(digits: &str, n: i32) -> String {
    let k = digits.len() as i32;
    if k <= n && n <= 21 {
        // Integer: the digits followed by n - k zeros.
        let mut out = String::with_capacity(n as usize);
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
        out
    } else if 0 < n && n <= 21 {
        // Decimal point inside the digits.
        let (int, frac) = digits.split_at(n as usize);
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        // Small: "0." then -n zeros then the digits.
        let mut out = String::from("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(digits);
        out
    } else {
        let e = n - 1;
        let sign = if e < 0 { '-' } else { '+' };
        let (first, rest) = digits.split_at(1);
        if rest.is_empty() {
            format!("{first}e{sign}{}", e.unsigned_abs())
        } else {
            format!("{first}.{rest}e{sign}{}", e.unsigned_abs())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Number;

    use super::*;

    fn js(text: &str) -> String {
        let n: Number = serde_json::from_str(text).expect("a JSON number");
        js_number_string(&n)
    }

    #[test]
    fn id_text_is_public_and_reads_ids_as_ingestion_does() {
        use serde_json::json;

        let read = |value: serde_json::Value| crate::segment::id_text(Some(&value));
        assert_eq!(read(json!("u-1")), Some("u-1".to_owned()));
        assert_eq!(read(json!(" ")), Some(" ".to_owned()));
        assert_eq!(read(json!(4021.0)), Some("4021".to_owned()));
        assert_eq!(read(json!(-0.0)), Some("0".to_owned()));
        assert_eq!(read(json!(1e21)), Some("1e+21".to_owned()));
        for absent in [
            json!(""),
            json!(null),
            json!(true),
            json!({"id": 1}),
            json!(["u"]),
        ] {
            assert_eq!(read(absent.clone()), None, "{absent}");
        }
        assert_eq!(crate::segment::id_text(None), None);
    }

    #[test]
    fn contract_examples() {
        assert_eq!(js("4021"), "4021");
        assert_eq!(js("4021.0"), "4021");
        assert_eq!(js("4021.5"), "4021.5");
        assert_eq!(js("1e21"), "1e+21");
        assert_eq!(js("1.5e-7"), "1.5e-7");
        assert_eq!(js("-0"), "0");
        assert_eq!(js("-0.0"), "0");
    }

    #[test]
    fn integers_stay_plain_up_to_21_digits() {
        assert_eq!(js("0"), "0");
        assert_eq!(js("7"), "7");
        assert_eq!(js("-42"), "-42");
        assert_eq!(js("100"), "100");
        assert_eq!(js("1e20"), "100000000000000000000");
        // From an exact f64: serde_json's default float parser may be one ulp off on long
        // inputs like `123456789012345678901` (its `float_roundtrip` feature fixes that).
        let n = Number::from_f64(123_456_789_012_345_678_901.0).expect("finite");
        assert_eq!(js_number_string(&n), "123456789012345680000");
        assert_eq!(js("999999999999999999999"), "1e+21");
        assert_eq!(js("1e22"), "1e+22");
        assert_eq!(js("1.5e300"), "1.5e+300");
    }

    #[test]
    fn large_integers_go_through_f64_like_javascript() {
        assert_eq!(js("9007199254740993"), "9007199254740992");
        assert_eq!(js("18446744073709551615"), "18446744073709552000");
        assert_eq!(js("-9223372036854775808"), "-9223372036854776000");
        assert_eq!(
            js_number_string(&Number::from(u64::MAX)),
            "18446744073709552000"
        );
        assert_eq!(
            js_number_string(&Number::from(i64::MIN)),
            "-9223372036854776000"
        );
        assert_eq!(js_number_string(&Number::from(4021_u64)), "4021");
        assert_eq!(js_number_string(&Number::from(-4021_i64)), "-4021");
    }

    #[test]
    fn fractions_use_the_shortest_round_trip_digits() {
        assert_eq!(js("0.1"), "0.1");
        assert_eq!(js("0.30000000000000004"), "0.30000000000000004");
        assert_eq!(js("42.5"), "42.5");
        assert_eq!(js("18.99"), "18.99");
        assert_eq!(js("-1.25"), "-1.25");
        assert_eq!(js("123.456"), "123.456");
        assert_eq!(js("1.7976931348623157e308"), "1.7976931348623157e+308");
        assert_eq!(js("5e-324"), "5e-324");
        assert_eq!(js("2.2250738585072014e-308"), "2.2250738585072014e-308");
        assert_eq!(js("12345678901234567890.5"), "12345678901234567000");
        assert_eq!(js("1234567890123456789012.5"), "1.2345678901234568e+21");
    }

    #[test]
    fn small_numbers_switch_to_exponent_form_below_1e_minus_6() {
        assert_eq!(js("0.000001"), "0.000001");
        assert_eq!(js("0.0000015"), "0.0000015");
        assert_eq!(js("0.0000001"), "1e-7");
        assert_eq!(js("0.00000012345"), "1.2345e-7");
        assert_eq!(js("-1.5e-7"), "-1.5e-7");
        assert_eq!(js("1e-10"), "1e-10");
    }

    #[test]
    fn numbers_built_from_f64_behave_the_same() {
        let n = Number::from_f64(-0.0).expect("finite");
        assert_eq!(js_number_string(&n), "0");
        let n = Number::from_f64(4021.0).expect("finite");
        assert_eq!(js_number_string(&n), "4021");
    }

    #[test]
    fn non_finite_values_are_spelled_as_javascript_does() {
        assert_eq!(js_f64_string(f64::NAN), "NaN");
        assert_eq!(js_f64_string(f64::INFINITY), "Infinity");
        assert_eq!(js_f64_string(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn every_result_reads_back_as_the_same_double() {
        let samples = [
            1.0,
            0.5,
            1.0 / 3.0,
            2.0 / 3.0,
            1e-6,
            1e-7,
            123e-9,
            1e21,
            9.999e20,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            9_007_199_254_740_992.0,
            6.02214076e23,
        ];
        for value in samples {
            let text = js_f64_string(value);
            let back: f64 = text.parse().expect("JS number text parses in Rust");
            assert_eq!(back, value, "{text}");
        }
    }
}
