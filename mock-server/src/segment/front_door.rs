//! The Segment front door: the Tracking API paths (`/v1/...`) real Segment SDKs post to.
//!
//! One handler serves every path. Its checks run in this order:
//!
//! 1. a pending fault (`POST /__admin/faults`) answers `500 INJECTED_FAULT` before anything
//!    else, so nothing of the request is stored and no messageId is marked;
//! 2. the body rules: media type (`application/json` or `text/plain`) and encoding (`415`),
//!    the decoded request size (`400 REQUEST_TOO_LARGE` over 512,000 bytes), JSON
//!    (`INVALID_JSON`) and a top-level object (`INVALID_BODY`);
//! 3. the write key: `Authorization: Basic base64(writeKey:)`, else `writeKey` in the body
//!    (the header wins); neither is `400 WRITE_KEY_REQUIRED`;
//! 4. the messages: a batch needs a `batch` array of objects (`INVALID_BODY`), at most 2,500
//!    of them (`TOO_MANY_MESSAGES`), each at most 32 KiB as compact JSON (`MESSAGE_TOO_LARGE`);
//! 5. then the request is accepted (`200 {"success": true}`) and its messages are delivered in
//!    array order, all under one shared hold of the registry, so a reset or an import falls
//!    wholly before or wholly after the request. A write key no application owns stores
//!    nothing: its messages go to the server-wide unknown-source log.
//!
//! The body rules come before the write key because a key sent in the body can only be read
//! from a body that passes them; a request with an unknown key in the header and a bad body
//! is therefore refused by the body rule rather than answered `200`.

use std::sync::Arc;

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde_json::{Map, Value, json};

use super::deliver::deliver;
use crate::api::auth::basic_credentials_in;
use crate::body::{BodyRules, MAX_DEPTH, RawBody};
use crate::error::{ApiError, ErrorCode};
use crate::extract::AppSlot;
use crate::store::Store;
use crate::store::ids::now;

/// The largest message accepted, measured as its compact JSON: 32 KiB.
pub const MESSAGE_LIMIT: usize = 32 * 1024;
/// The largest decoded request body accepted: 500 KiB as Segment counts them (512,000 bytes).
pub const REQUEST_LIMIT: usize = 512_000;
/// The most messages one batch may carry.
pub const BATCH_LIMIT: usize = 2_500;

/// A value's size as compact JSON, as [`MESSAGE_LIMIT`] measures a message: counted while
/// serialising, nothing kept. `usize::MAX` for a value that cannot be written.
///
/// ```
/// use rehook_mock::segment::compact_size;
/// use serde_json::json;
///
/// assert_eq!(compact_size(&json!({"type": "track", "n": [1, 2]})), 26);
/// ```
pub fn compact_size<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    /// A writer that only counts.
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// How the front door reads bodies: JSON or `text/plain` (browser SDKs send that), 512,000
/// bytes decoded.
const RULES: BodyRules = BodyRules {
    limit: REQUEST_LIMIT,
    too_large: ErrorCode::RequestTooLarge,
    allow_text_plain: true,
    max_depth: MAX_DEPTH,
};

/// The single-message paths, each with the type it sets on its message.
const SINGLE: [(&str, &str); 12] = [
    ("/v1/identify", "identify"),
    ("/v1/track", "track"),
    ("/v1/page", "page"),
    ("/v1/screen", "screen"),
    ("/v1/group", "group"),
    ("/v1/alias", "alias"),
    ("/v1/i", "identify"),
    ("/v1/t", "track"),
    ("/v1/p", "page"),
    ("/v1/s", "screen"),
    ("/v1/g", "group"),
    ("/v1/a", "alias"),
];

/// The batch paths: a `{"batch": [...]}` envelope.
const BATCH: [&str; 3] = ["/v1/batch", "/v1/import", "/v1/b"];

/// The front-door routes: `POST` on every path, `OPTIONS` for CORS preflights, and CORS
/// headers on every answer.
pub(crate) fn routes() -> Router<Arc<Store>> {
    let mut router = Router::new();
    for path in SINGLE.iter().map(|(path, _)| *path).chain(BATCH) {
        router = router.route(path, post(front_door).options(preflight));
    }
    router.layer(axum::middleware::map_response(cors))
}

/// What a path carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One message, whose `type` the path sets.
    Single(&'static str),
    /// A batch envelope.
    Batch,
}

impl Shape {
    fn of(path: &str) -> Self {
        SINGLE
            .iter()
            .find(|(p, _)| *p == path)
            .map_or(Shape::Batch, |(_, t)| Shape::Single(t))
    }
}

/// `POST /v1/...`: check the request, then deliver its messages.
async fn front_door(
    State(store): State<Arc<Store>>,
    OriginalUri(uri): OriginalUri,
    Extension(slot): Extension<AppSlot>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Json<Value>, ApiError> {
    if store.take_front_door_fault() {
        return Err(ApiError::new(
            ErrorCode::InjectedFault,
            "the fault setting answers this front-door request with 500 (POST /__admin/faults)",
        ));
    }
    let object = body.json_object(RULES)?;
    let write_key = header_write_key(&headers)
        .or_else(|| body_write_key(&object))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::WriteKeyRequired,
                "a write key is required: send `Authorization: Basic base64(writeKey:)` or `writeKey` in the body",
            )
        })?;
    let messages = messages(Shape::of(uri.path()), object)?;
    let request_id = crate::request_id::current();

    let known = store.with_write_key(&write_key, |app| {
        let _ = slot.0.set(app.config().api_key.clone());
        for message in &messages {
            deliver(app, message, &request_id);
        }
    });
    if known.is_none() {
        let at = now();
        store.log_unknown_sources(messages.into_iter().map(|message| {
            json!({"write_key": write_key, "request_id": request_id, "at": at, "message": message})
        }));
    }
    Ok(Json(json!({ "success": true })))
}

/// The write key of `Authorization: Basic base64(writeKey:)`; a header that is not readable
/// Basic credentials with a non-empty user counts as no header.
fn header_write_key(headers: &HeaderMap) -> Option<String> {
    basic_credentials_in(headers)
        .ok()
        .map(|(user, _)| user)
        .filter(|user| !user.is_empty())
}

/// `writeKey` in the body, when it is a non-empty string.
fn body_write_key(object: &Map<String, Value>) -> Option<String> {
    object
        .get("writeKey")
        .and_then(Value::as_str)
        .filter(|key| !key.is_empty())
        .map(str::to_owned)
}

/// The request's messages in order, with the limits checked: nothing is delivered unless
/// every message passes.
fn messages(shape: Shape, mut object: Map<String, Value>) -> Result<Vec<Value>, ApiError> {
    let messages = match shape {
        Shape::Single(message_type) => {
            let mut message = object;
            check_message_size(&message, None)?;
            message.insert("type".to_owned(), Value::String(message_type.to_owned()));
            vec![Value::Object(message)]
        }
        Shape::Batch => {
            let batch = match object.remove("batch") {
                Some(Value::Array(items)) => items,
                other => {
                    return Err(ApiError::new(
                        ErrorCode::InvalidBody,
                        format!(
                            "a batch body needs `batch`, an array of messages; got {}",
                            other.as_ref().map_or("nothing", crate::body::json_kind)
                        ),
                    )
                    .with_details(json!({ "field": "batch" })));
                }
            };
            if let Some(index) = batch.iter().position(|item| !item.is_object()) {
                return Err(ApiError::new(
                    ErrorCode::InvalidBody,
                    format!(
                        "batch[{index}] must be a JSON object, got {}",
                        crate::body::json_kind(&batch[index])
                    ),
                )
                .with_details(json!({ "field": "batch", "index": index })));
            }
            if batch.len() > BATCH_LIMIT {
                return Err(ApiError::new(
                    ErrorCode::TooManyMessages,
                    format!(
                        "a batch may carry at most {BATCH_LIMIT} messages, got {}",
                        batch.len()
                    ),
                )
                .with_details(
                    json!({ "limit_messages": BATCH_LIMIT, "received_messages": batch.len() }),
                ));
            }
            for (index, item) in batch.iter().enumerate() {
                if let Value::Object(message) = item {
                    check_message_size(message, Some(index))?;
                }
            }
            batch
        }
    };
    Ok(messages)
}

/// A message over [`MESSAGE_LIMIT`] bytes of compact JSON is `400 MESSAGE_TOO_LARGE`.
fn check_message_size(message: &Map<String, Value>, index: Option<usize>) -> Result<(), ApiError> {
    let size = compact_size(message);
    if size <= MESSAGE_LIMIT {
        return Ok(());
    }
    let which = index.map_or_else(|| "the message".to_owned(), |i| format!("batch[{i}]"));
    Err(ApiError::new(
        ErrorCode::MessageTooLarge,
        format!("{which} is {size} bytes as compact JSON; the limit is {MESSAGE_LIMIT} bytes"),
    )
    .with_details(json!({ "limit_bytes": MESSAGE_LIMIT, "message_bytes": size, "index": index })))
}

/// `OPTIONS /v1/...`: a CORS preflight, allowed from any origin.
async fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, authorization"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    response
}

/// Every front-door answer may be read by a page of any origin.
async fn cors(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_has_its_shape() {
        assert_eq!(Shape::of("/v1/t"), Shape::Single("track"));
        assert_eq!(Shape::of("/v1/identify"), Shape::Single("identify"));
        assert_eq!(Shape::of("/v1/import"), Shape::Batch);
        assert_eq!(Shape::of("/v1/b"), Shape::Batch);
    }

    #[test]
    fn a_message_exactly_at_the_limit_passes_and_one_byte_more_does_not() {
        let mut message = Map::new();
        // {"p":"..."} is 8 bytes around the padding.
        message.insert("p".into(), Value::String("x".repeat(MESSAGE_LIMIT - 8)));
        assert_eq!(serde_json::to_vec(&message).unwrap().len(), MESSAGE_LIMIT);
        assert!(check_message_size(&message, None).is_ok());
        message.insert("p".into(), Value::String("x".repeat(MESSAGE_LIMIT - 7)));
        let refused = check_message_size(&message, Some(3)).unwrap_err();
        assert_eq!(refused.code, ErrorCode::MessageTooLarge);
        assert_eq!(refused.details.unwrap()["index"], json!(3));
    }
}
