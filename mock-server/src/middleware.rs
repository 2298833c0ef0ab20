//! What wraps every request: the request id, JSON for every error the framework makes,
//! buffering of the body, the journal and the log line.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::body::{API_BODY_LIMIT, BodyProblem, STATE_BODY_LIMIT};
use crate::error::{ApiError, ErrorCode};
use crate::extract::AppSlot;
use crate::request_id;
use crate::store::ids::now;
use crate::store::{JournalEntry, Store};

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Raw bytes buffered per request before the body counts as too large (gzip needs headroom
/// over the decoded limit).
const RAW_CAP: usize = 8 * API_BODY_LIMIT;
/// Raw bytes buffered for `PUT /__admin/state`.
const STATE_RAW_CAP: usize = STATE_BODY_LIMIT + STATE_BODY_LIMIT / 4;
/// The largest body the journal keeps (as JSON or text).
const JOURNAL_BODY_CAP: usize = 64 * 1024;

/// The outermost layer of every request.
pub(crate) async fn observe(State(store): State<Arc<Store>>, req: Request, next: Next) -> Response {
    let id = store.next_request_id();
    let at = now();
    let method = req.method().clone();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), ToString::to_string);
    let path = req.uri().path().to_owned();
    let journaled = !(path == "/__admin" || path.starts_with("/__admin/"));
    let cap = if path == "/__admin/state" {
        STATE_RAW_CAP
    } else {
        RAW_CAP
    };

    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, cap).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let error = error.into_inner();
            let problem = if error.is::<http_body_util::LengthLimitError>() {
                BodyProblem::TooLarge(cap)
            } else {
                BodyProblem::Unreadable(error.to_string())
            };
            parts.extensions.insert(problem);
            Bytes::new()
        }
    };
    let slot = AppSlot::default();
    parts.extensions.insert(slot.clone());
    let request_headers = journaled.then(|| redacted_headers(&parts.headers));
    let req = Request::from_parts(parts, Body::from(bytes.clone()));

    let response = request_id::scope(id.clone(), next.run(req)).await;
    let mut response = ensure_json_error(response, &id, &method, &path);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let status = response.status();
    let app = slot.get();
    tracing::info!(
        request_id = %id,
        method = %method,
        path = %path_and_query,
        status = status.as_u16(),
        app = app.as_deref().unwrap_or("-"),
        "request"
    );
    let Some(headers) = request_headers else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let response_bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    store.journal().push(JournalEntry {
        request_id: id,
        at,
        app,
        method: method.to_string(),
        path: path_and_query,
        headers,
        body: journal_body(&bytes),
        status: status.as_u16(),
        response: journal_body(&response_bytes),
    });
    Response::from_parts(parts, Body::from(response_bytes))
}

/// Headers as a JSON object. Credentials are redacted: `Authorization` and
/// `Proxy-Authorization` keep only a well-known scheme name, `Cookie` nothing.
fn redacted_headers(headers: &HeaderMap) -> Map<String, Value> {
    const SCHEMES: [&str; 4] = ["Basic", "Bearer", "Digest", "Negotiate"];
    let mut out = Map::new();
    for (name, value) in headers {
        let text = if name == header::AUTHORIZATION || name == header::PROXY_AUTHORIZATION {
            let sent = value.to_str().unwrap_or("").trim_start();
            let scheme = sent.split(' ').next().unwrap_or("");
            match SCHEMES.iter().find(|s| s.eq_ignore_ascii_case(scheme)) {
                Some(_) => format!("{scheme} [redacted]"),
                None => "[redacted]".to_owned(),
            }
        } else if name == header::COOKIE {
            "[redacted]".to_owned()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        out.insert(name.as_str().to_owned(), Value::String(text));
    }
    out
}

/// A body as the journal keeps it: JSON when it parses, else text, else its size. Bodies over
/// [`JOURNAL_BODY_CAP`] are kept as their size only, so a full journal stays small in memory.
fn journal_body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if bytes.len() > JOURNAL_BODY_CAP {
        return json!({ "bytes": bytes.len(), "omitted": "larger than the journal keeps" });
    }
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        return value;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Value::String(text.to_owned()),
        Err(_) => json!({ "bytes": bytes.len() }),
    }
}

/// Replace an error the framework made (an empty 405, a panic's 500, ...) by a JSON error.
fn ensure_json_error(
    response: Response,
    id: &str,
    method: &axum::http::Method,
    path: &str,
) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let methods: Vec<String> = response
                .headers()
                .get_all(header::ALLOW)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect();
            let allow = methods.join(", ");
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                format!("method {method} is not allowed on {path}; allowed: {allow}"),
            )
            .with_details(json!({ "allow": methods }))
        }
        StatusCode::NOT_FOUND => ApiError::no_route(path),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "the request's media type is not supported",
        ),
        s if s.is_server_error() => ApiError::new(
            ErrorCode::Internal,
            "the fake failed to answer this request",
        ),
        _ => ApiError::new(ErrorCode::BadRequest, "the request could not be understood"),
    };
    let mut fixed = (error.status(), axum::Json(error.body(id))).into_response();
    if let Some(methods) = error.details.as_ref().and_then(|d| d["allow"].as_array()) {
        let joined: Vec<&str> = methods.iter().filter_map(Value::as_str).collect();
        if let Ok(value) = HeaderValue::from_str(&joined.join(", ")) {
            fixed.headers_mut().insert(header::ALLOW, value);
        }
    }
    fixed
}
