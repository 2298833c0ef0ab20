//! What wraps every request: the request id, JSON for every error the framework makes,
//! buffering of the body, the journal and the log line.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ErrorCode};
use crate::extract::{AppSlot, BodySlot};
use crate::request_id;
use crate::store::Store;
use crate::store::ids::now;
use crate::store::journal::{Captured, JournalEntry};

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The outermost layer of every request.
///
/// It does not read the request body: [`RawBody`](crate::body::RawBody) does, after routing
/// and auth, and leaves the bytes in the request's [`BodySlot`] for the journal. Requests that
/// fail before that (a 404, a 401) cost no body buffering at all.
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

    let (mut parts, body) = req.into_parts();
    let app_slot = AppSlot::default();
    let body_slot = BodySlot::default();
    parts.extensions.insert(app_slot.clone());
    parts.extensions.insert(body_slot.clone());
    let request_headers = journaled.then(|| redacted_headers(&parts.headers));
    let sent_a_body = parts.headers.contains_key(header::TRANSFER_ENCODING)
        || parts
            .headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|len| len.as_bytes() != b"0");
    let req = Request::from_parts(parts, body);

    let response = request_id::scope(id.clone(), next.run(req)).await;
    let mut response = ensure_json_error(response, &id, &method, &path);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let request_body = body_slot.get();
    if sent_a_body && request_body.is_none() {
        // Answered without reading the body (a 404, 405 or 401): the connection cannot carry
        // another request, so say it will close rather than let the client find out.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let status = response.status();
    let app = app_slot.get();
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
        body: request_body.unwrap_or(Captured::Nothing),
        status: status.as_u16(),
        response: Captured::of(Some(response_bytes.clone())),
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
