//! Reading JSON request bodies the way the contract says, for all three doors.
//!
//! The checks run in the contract's order: media type and encoding (`415`), size of the decoded
//! body (`413`, or the caller's own error for the front door), then JSON (`INVALID_JSON`) and
//! shape (`INVALID_BODY`). A leading UTF-8 byte-order mark is skipped; duplicate keys keep the
//! last value (what `serde_json` does when it builds a map).

use std::io::Read;

use axum::body::Bytes;
use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::{HeaderMap, header};
use flate2::read::MultiGzDecoder;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ErrorCode};
use crate::extract::BodySlot;
use crate::store::journal::Captured;

/// One mebibyte: the decoded-body limit of the Rehook API and the admin API.
pub const API_BODY_LIMIT: usize = 1024 * 1024;
/// The decoded-body limit of `PUT /__admin/state`.
pub const STATE_BODY_LIMIT: usize = 256 * 1024 * 1024;

/// How a door reads its bodies.
#[derive(Debug, Clone, Copy)]
pub struct BodyRules {
    /// The largest decoded body accepted, in bytes.
    pub limit: usize,
    /// The error a body over `limit` gets.
    pub too_large: ErrorCode,
    /// Whether `text/plain` counts as JSON (browser SDKs send it to the front door).
    pub allow_text_plain: bool,
    /// The deepest nesting of arrays and objects accepted (the outermost is level 1).
    pub max_depth: usize,
}

impl BodyRules {
    /// Rehook API and admin API: JSON only, 1 MiB.
    pub const API: BodyRules = BodyRules {
        limit: API_BODY_LIMIT,
        too_large: ErrorCode::PayloadTooLarge,
        allow_text_plain: false,
        max_depth: MAX_DEPTH,
    };
    /// `PUT /__admin/state`: JSON only, 256 MiB, and room for the levels the document wraps
    /// around stored metadata (`data.<key>.customers[].metadata`), so every export imports.
    pub const STATE: BodyRules = BodyRules {
        limit: STATE_BODY_LIMIT,
        too_large: ErrorCode::PayloadTooLarge,
        allow_text_plain: false,
        max_depth: MAX_DEPTH + STATE_WRAPPING_DEPTH,
    };
}

/// The raw bytes of a request body with the headers that say how to read them.
///
/// Extracting it never fails on content: every rule is applied by [`RawBody::json_object`],
/// after the handler has checked what the contract checks first (the route and the auth).
#[derive(Debug)]
pub struct RawBody {
    headers: HeaderMap,
    bytes: Result<Bytes, BodyProblem>,
}

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        // Inside a nested router the path has lost its prefix: ask for the original one.
        let path = req
            .extensions()
            .get::<OriginalUri>()
            .map_or_else(|| req.uri().path().to_owned(), |o| o.path().to_owned());
        let cap = if path == "/__admin/state" {
            STATE_RAW_CAP
        } else {
            RAW_CAP
        };
        let (parts, body) = req.into_parts();
        let read = tokio::time::timeout(BODY_READ_TIMEOUT, axum::body::to_bytes(body, cap));
        let bytes = match read.await {
            Err(_) => Err(BodyProblem::TimedOut),
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(error)) => {
                let error = error.into_inner();
                Err(if error.is::<http_body_util::LengthLimitError>() {
                    BodyProblem::TooLarge(cap)
                } else {
                    BodyProblem::Unreadable(error.to_string())
                })
            }
        };
        if let Some(slot) = parts.extensions.get::<BodySlot>() {
            let captured = match &bytes {
                Ok(bytes) => Captured::of(Some(bytes.clone())),
                Err(BodyProblem::TooLarge(read)) => Captured::Omitted(*read),
                Err(_) => Captured::Nothing,
            };
            let _ = slot.0.set(captured);
        }
        Ok(RawBody {
            headers: parts.headers,
            bytes,
        })
    }
}

/// Raw bytes read before a body counts as too large: the decoded limit plus headroom for gzip
/// (whose limit applies after decoding).
const RAW_CAP: usize = 8 * API_BODY_LIMIT;
/// Raw bytes read for `PUT /__admin/state`.
const STATE_RAW_CAP: usize = STATE_BODY_LIMIT + STATE_BODY_LIMIT / 4;
/// How long a client may take to send its whole body.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Why a body could not be read; answered where the contract's order of checks puts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyProblem {
    /// More than this many bytes arrived.
    TooLarge(usize),
    /// The body stream broke off or was malformed (a bad chunk, a connection closed mid-body).
    Unreadable(String),
    /// The body did not arrive within [`BODY_READ_TIMEOUT`].
    TimedOut,
}

impl RawBody {
    /// Build from parts, for callers that already hold the bytes.
    pub fn new(headers: HeaderMap, bytes: Bytes) -> Self {
        Self {
            headers,
            bytes: Ok(bytes),
        }
    }

    /// Decode, check and parse the body as a JSON object.
    pub fn json_object(&self, rules: BodyRules) -> Result<Map<String, Value>, ApiError> {
        match self.json_value(rules)? {
            Value::Object(map) => Ok(map),
            other => Err(not_an_object(&other)),
        }
    }

    /// For routes that take no body (`POST /customers/{id}`, `POST /__admin/reset`): a body
    /// that is sent follows the same media-type, encoding and size rules as every other body
    /// and must be JSON; its content is ignored. No body is always fine.
    pub fn check_ignored(&self, rules: BodyRules) -> Result<(), ApiError> {
        // No body, nothing to check: a GET that carries `Content-Type` but no body is fine.
        if matches!(&self.bytes, Ok(bytes) if bytes.is_empty()) {
            return Ok(());
        }
        let decoded = self.decoded(rules)?;
        if is_blank(&decoded) {
            return Ok(());
        }
        parse_json(&decoded, rules.max_depth).map(drop)
    }

    /// Decode, check and parse the body as any JSON value (the front door checks shapes itself).
    pub fn json_value(&self, rules: BodyRules) -> Result<Value, ApiError> {
        let decoded = self.decoded(rules)?;
        parse_json(&decoded, rules.max_depth)
    }

    /// The body after the media-type, encoding and size checks, decoded.
    fn decoded(&self, rules: BodyRules) -> Result<std::borrow::Cow<'_, [u8]>, ApiError> {
        check_media_type(&self.headers, rules.allow_text_plain)?;
        let gzip = check_encoding(&self.headers)?;
        let raw = match &self.bytes {
            Ok(bytes) => bytes,
            Err(BodyProblem::TooLarge(read)) => return Err(too_large(rules, *read)),
            Err(BodyProblem::TimedOut) => {
                return Err(ApiError::new(
                    ErrorCode::RequestTimeout,
                    format!(
                        "the request body did not arrive within {} seconds",
                        BODY_READ_TIMEOUT.as_secs()
                    ),
                ));
            }
            Err(BodyProblem::Unreadable(why)) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidBody,
                    format!("the request body could not be read: {why}"),
                ));
            }
        };
        // An empty body is empty whatever its encoding says (a GET with a client-wide
        // `Content-Encoding: gzip` header carries no gzip stream at all).
        if gzip && !raw.is_empty() {
            return gunzip(raw, rules).map(std::borrow::Cow::Owned);
        }
        if raw.len() > rules.limit {
            return Err(too_large(rules, raw.len()));
        }
        Ok(std::borrow::Cow::Borrowed(raw))
    }
}

/// The kind of a JSON value, as error messages name it ("a string", "null", ...).
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn not_an_object(value: &Value) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidBody,
        format!(
            "the request body must be a JSON object, got {}",
            json_kind(value)
        ),
    )
}

fn too_large(rules: BodyRules, size: usize) -> ApiError {
    ApiError::new(
        rules.too_large,
        format!(
            "the request body is larger than the limit of {} bytes",
            rules.limit
        ),
    )
    .with_details(json!({ "limit_bytes": rules.limit, "received_bytes_at_least": size }))
}

fn check_media_type(headers: &HeaderMap, allow_text_plain: bool) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or("");
    let essence = text.split(';').next().unwrap_or("").trim();
    let ok = essence.eq_ignore_ascii_case("application/json")
        || (allow_text_plain && essence.eq_ignore_ascii_case("text/plain"));
    if ok {
        Ok(())
    } else {
        let accepted = if allow_text_plain {
            "application/json or text/plain"
        } else {
            "application/json"
        };
        Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("Content-Type {text:?} is not supported; send {accepted}"),
        )
        .with_details(json!({ "content_type": text })))
    }
}

/// `Ok(true)` for gzip, `Ok(false)` for no encoding or `identity`.
fn check_encoding(headers: &HeaderMap) -> Result<bool, ApiError> {
    let mut gzip = false;
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let text = value.to_str().unwrap_or("");
        for coding in text.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if coding.eq_ignore_ascii_case("gzip") {
                if gzip {
                    return Err(unsupported_encoding(text));
                }
                gzip = true;
            } else if !coding.eq_ignore_ascii_case("identity") {
                return Err(unsupported_encoding(text));
            }
        }
    }
    Ok(gzip)
}

fn unsupported_encoding(text: &str) -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedEncoding,
        format!("Content-Encoding {text:?} is not supported; send gzip or no encoding"),
    )
    .with_details(json!({ "content_encoding": text }))
}

/// Decodes a gzip body whole: every member of a multi-member stream (what `cat a.gz b.gz`
/// makes, and what RFC 1952 allows), so nothing after the first member is silently lost.
/// Bytes after the last member that are not another gzip member make the body unreadable.
fn gunzip(raw: &[u8], rules: BodyRules) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    let mut decoder = MultiGzDecoder::new(raw).take(rules.limit as u64 + 1);
    decoder.read_to_end(&mut out).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidBody,
            format!("the gzip-encoded request body could not be decoded: {e}"),
        )
    })?;
    if out.len() > rules.limit {
        return Err(too_large(rules, out.len()));
    }
    Ok(out)
}

/// The four bytes JSON counts as white space (a form feed is not one of them).
fn is_json_whitespace(byte: &u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// `bytes` without a leading UTF-8 byte-order mark.
fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Whether a body is empty but for a byte-order mark and JSON white space.
fn is_blank(bytes: &[u8]) -> bool {
    without_bom(bytes).iter().all(is_json_whitespace)
}

/// Parse bytes as JSON: BOM skipped, blank body refused as `INVALID_BODY`.
pub fn parse_json(bytes: &[u8], max_depth: usize) -> Result<Value, ApiError> {
    let bytes = without_bom(bytes);
    if is_blank(bytes) {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "the request body is empty; send a JSON object",
        ));
    }
    if deeper_than(bytes, max_depth).is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidJson,
            format!("the request body is nested deeper than {max_depth} levels"),
        )
        .with_details(json!({ "max_depth": max_depth })));
    }
    // serde_json's own limit stops at 127 levels; the scan above has bounded the depth.
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    deserializer.disable_recursion_limit();
    serde::Deserialize::deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value))
        .map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidJson,
                format!("the request body is not valid JSON: {e}"),
            )
            .with_details(json!({ "line": e.line(), "column": e.column() }))
        })
}

/// The deepest nesting of arrays and objects a request body may have (the outermost is
/// level 1).
pub const MAX_DEPTH: usize = 128;

/// Levels a state document adds above a customer's metadata: the document, `data`, the
/// application, `customers`, the customer record.
const STATE_WRAPPING_DEPTH: usize = 5;

/// Where `bytes` first nests arrays and objects deeper than `limit` levels: the byte offset
/// of the bracket that opens level `limit + 1`, brackets inside strings not counted; `None`
/// when it never does.
///
/// Exact for valid JSON; for invalid JSON it agrees with the parser up to the first error.
/// One pass, no parsing: callers run it before a parser without a recursion limit.
///
/// ```
/// use rehook_mock::body::deeper_than;
///
/// assert_eq!(deeper_than(br#"{"a": [1, "[[["]}"#, 2), None);
/// assert_eq!(deeper_than(br#"{"a": [[1]]}"#, 2), Some(7));
/// ```
pub fn deeper_than(bytes: &[u8], limit: usize) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (at, &byte) in bytes.iter().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(at);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn body(content_type: Option<&str>, bytes: &'static [u8]) -> RawBody {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        }
        RawBody::new(headers, Bytes::from_static(bytes))
    }

    fn code(result: Result<Map<String, Value>, ApiError>) -> ErrorCode {
        result.unwrap_err().code
    }

    #[test]
    fn media_type_is_matched_in_any_case_with_parameters() {
        let b = body(Some("Application/JSON; charset=UTF-8"), b"{\"a\":1}");
        assert_eq!(b.json_object(BodyRules::API).unwrap()["a"], json!(1));
        let b = body(None, b"{}");
        assert!(b.json_object(BodyRules::API).unwrap().is_empty());
    }

    #[test]
    fn text_plain_is_only_for_the_front_door() {
        let b = body(Some("text/plain"), b"{}");
        assert_eq!(
            code(b.json_object(BodyRules::API)),
            ErrorCode::UnsupportedMediaType
        );
        let front = BodyRules {
            allow_text_plain: true,
            ..BodyRules::API
        };
        assert!(b.json_object(front).is_ok());
    }

    #[test]
    fn bom_is_skipped_and_last_duplicate_key_wins() {
        let b = body(None, b"\xEF\xBB\xBF{\"k\":1,\"k\":2}");
        assert_eq!(b.json_object(BodyRules::API).unwrap()["k"], json!(2));
    }

    #[test]
    fn shapes_and_syntax_get_their_own_codes() {
        for (bytes, expected) in [
            (&b""[..], ErrorCode::InvalidBody),
            (b"  \n", ErrorCode::InvalidBody),
            (b" \x0c ", ErrorCode::InvalidJson),
            (b"null", ErrorCode::InvalidBody),
            (b"[]", ErrorCode::InvalidBody),
            (b"\"x\"", ErrorCode::InvalidBody),
            (b"{", ErrorCode::InvalidJson),
            (b"{\"a\": NaN}", ErrorCode::InvalidJson),
            (b"{\"a\": Infinity}", ErrorCode::InvalidJson),
            (b"{\"a\": 1e400}", ErrorCode::InvalidJson),
        ] {
            let b = RawBody::new(HeaderMap::new(), Bytes::from_static(bytes));
            assert_eq!(
                code(b.json_object(BodyRules::API)),
                expected,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn nesting_deeper_than_128_is_invalid_json() {
        let deep = |n: usize| format!("{{\"a\":{}{}}}", "[".repeat(n), "]".repeat(n));
        let ok = RawBody::new(HeaderMap::new(), Bytes::from(deep(100)));
        assert!(ok.json_object(BodyRules::API).is_ok());
        // The outer object plus 127 arrays: 128 levels, the most allowed.
        let limit = RawBody::new(HeaderMap::new(), Bytes::from(deep(127)));
        assert!(limit.json_object(BodyRules::API).is_ok());
        let over = RawBody::new(HeaderMap::new(), Bytes::from(deep(128)));
        assert_eq!(
            code(over.json_object(BodyRules::API)),
            ErrorCode::InvalidJson
        );
        let quoted = format!("{{\"a\":\"{}\\\"{}\"}}", "[".repeat(500), "{".repeat(500));
        let quoted = RawBody::new(HeaderMap::new(), Bytes::from(quoted));
        assert!(
            quoted.json_object(BodyRules::API).is_ok(),
            "brackets in strings do not nest"
        );
        let too_deep = RawBody::new(HeaderMap::new(), Bytes::from(deep(200)));
        assert_eq!(
            code(too_deep.json_object(BodyRules::API)),
            ErrorCode::InvalidJson
        );
    }

    #[test]
    fn encodings() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        let b = RawBody::new(headers.clone(), Bytes::from_static(b"{}"));
        assert_eq!(
            code(b.json_object(BodyRules::API)),
            ErrorCode::UnsupportedEncoding
        );
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        let corrupt = RawBody::new(headers.clone(), Bytes::from_static(b"not gzip"));
        assert_eq!(
            code(corrupt.json_object(BodyRules::API)),
            ErrorCode::InvalidBody
        );
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut encoder, b"{\"z\":true}").unwrap();
        let gz = RawBody::new(headers, Bytes::from(encoder.finish().unwrap()));
        assert_eq!(gz.json_object(BodyRules::API).unwrap()["z"], json!(true));
    }

    #[test]
    fn the_limit_applies_to_the_decoded_body() {
        let small = BodyRules {
            limit: 16,
            ..BodyRules::API
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(1000));
        std::io::Write::write_all(&mut encoder, big.as_bytes()).unwrap();
        let compressed = encoder.finish().unwrap();
        assert!(compressed.len() < 1000);
        let gz = RawBody::new(headers, Bytes::from(compressed));
        assert_eq!(code(gz.json_object(small)), ErrorCode::PayloadTooLarge);
    }
}
