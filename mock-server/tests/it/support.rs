//! What every test module shares: a started fake with a client, requests that carry the right
//! credentials, answers read once into a [`Reply`], and the contract's checks on error bodies.
//!
//! Tests talk real HTTP to a [`MockRehook`] on `127.0.0.1:0`; [`oneshot`] drives the router
//! without a socket where that is simpler, and [`raw`] writes a request line by hand when the
//! path must reach the server exactly as written (`//customers`).

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use rehook_mock::{Config, MockRehook, MockRehookBuilder, Store};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

/// `Basic base64(key:secret)`.
pub fn basic(key: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{key}:{secret}")))
}

/// `bytes`, gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

/// A JSON value as body bytes.
pub fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("a JSON value serialises")
}

/// Whether `text` is `prefix` followed by exactly 21 ASCII alphanumerics.
pub fn is_id(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 21 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Whether `text` is a generated referral code: six letters A-Z.
pub fn is_generated_code(text: &str) -> bool {
    text.len() == 6 && text.bytes().all(|b| b.is_ascii_uppercase())
}

/// Whether `text` is an RFC 3339 UTC timestamp.
pub fn is_utc_timestamp(text: &str) -> bool {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .is_ok_and(|t| t.offset().is_utc())
        && text.ends_with('Z')
}

/// A fake on a free loopback port and a client that never follows redirects.
pub struct Fake {
    /// The running server.
    pub mock: MockRehook,
    /// A client for it.
    pub http: reqwest::Client,
}

/// A client that shows redirects instead of following them (the contract forbids them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client")
}

impl Fake {
    /// A fake with the default settings.
    pub async fn start() -> Self {
        Self::with(MockRehook::builder()).await
    }

    /// A fake with the given settings.
    pub async fn with(builder: MockRehookBuilder) -> Self {
        Self {
            mock: builder.start().await,
            http: client(),
        }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.mock.base_url())
    }

    /// The default application's `Authorization` value.
    pub fn auth(&self) -> String {
        basic(self.mock.api_key(), self.mock.api_secret())
    }

    /// A request with no credentials.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// A request with the default application's credentials.
    pub fn authed(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path)
            .header(reqwest::header::AUTHORIZATION, self.auth())
    }

    /// POST `body` as JSON with the default credentials.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        send(self.authed(Method::POST, path).json(body)).await
    }

    /// GET with the default credentials.
    pub async fn get(&self, path: &str) -> Reply {
        send(self.authed(Method::GET, path)).await
    }

    /// `POST /customers`.
    pub async fn upsert(&self, body: Value) -> Reply {
        self.post("/customers", &body).await
    }

    /// `POST /events/invoke`.
    pub async fn invoke(&self, body: Value) -> Reply {
        self.post("/events/invoke", &body).await
    }

    /// Create or update `source_id` and return the customer, asserting success.
    pub async fn customer(&self, body: Value) -> Value {
        let reply = self.upsert(body).await;
        assert!(
            reply.status == 200 || reply.status == 201,
            "upsert failed: {reply:?}"
        );
        reply.body
    }

    /// A conversion (`signup`) of `friend` with `code`, asserting success.
    pub async fn convert(&self, friend: &str, code: &str) -> Value {
        self.invoke(json!({"event_name": "signup", "source_id": friend, "metadata": {"referral_code": code}}))
            .await
            .ok(200)
            .clone()
    }

    /// An admin request (no Basic auth).
    pub async fn admin(&self, method: Method, path: &str) -> Reply {
        send(self.request(method, path)).await
    }

    /// An admin GET answered `200`; its body.
    pub async fn admin_get(&self, path: &str) -> Value {
        self.admin(Method::GET, path).await.ok(200).clone()
    }

    /// The whole exported state, secrets included.
    pub async fn state(&self) -> Value {
        self.admin_get("/__admin/state?secrets=true").await
    }

    /// Everything but the drop logs: what a refused call must leave exactly as it was.
    pub async fn stored(&self) -> Value {
        without_drops(self.state().await)
    }
}

/// A state document without its drop logs (a refused call adds to them, nothing else).
pub fn without_drops(mut state: Value) -> Value {
    if let Some(data) = state["data"].as_object_mut() {
        for app in data.values_mut() {
            if let Some(app) = app.as_object_mut() {
                app.remove("drops");
            }
        }
    }
    state
}

/// An answer read once: status, headers and body (JSON when it is JSON, else a string).
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body: JSON, `Value::String` for other text, `Null` for none.
    pub body: Value,
}

/// Send and read the whole answer.
pub async fn send(request: RequestBuilder) -> Reply {
    let response = request.send().await.expect("the fake answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let raw = response.bytes().await.expect("the body arrives");
    Reply {
        status,
        headers,
        body: parse_body(&raw),
    }
}

fn parse_body(raw: &[u8]) -> Value {
    if raw.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(raw)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(raw).into_owned()))
    }
}

impl Reply {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `x-request-id`, checked to be `req_` + exactly 21 ASCII alphanumerics.
    #[track_caller]
    pub fn request_id(&self) -> &str {
        checked_request_id(self.header("x-request-id"))
    }

    /// Assert a success status; the body.
    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "unexpected answer: {self:#?}");
        self.request_id();
        &self.body
    }

    /// Assert the contract's error answer: status, code, the four keys, the request id in
    /// both places, JSON content type. The body.
    #[track_caller]
    pub fn error(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            (self.status, self.body["code"].as_str()),
            (status, Some(code)),
            "unexpected answer: {self:#?}"
        );
        assert_error_shape(&self.body, self.request_id());
        let content_type = self.header("content-type").unwrap_or("");
        assert!(
            content_type.starts_with("application/json"),
            "error content type {content_type:?}"
        );
        &self.body
    }
}

/// An `x-request-id` value, asserted present and `req_` + exactly 21 ASCII alphanumerics.
#[track_caller]
pub fn checked_request_id(id: Option<&str>) -> &str {
    let id = id.expect("x-request-id header");
    assert!(
        is_id(id, "req_"),
        "x-request-id {id:?} is not req_ + 21 ASCII alphanumerics"
    );
    id
}

/// `{code, message, details, request_id}` and nothing else; the request id as given.
#[track_caller]
pub fn assert_error_shape(body: &Value, request_id: &str) {
    let object = body.as_object().expect("error body is an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "details", "message", "request_id"], "{body}");
    let code = body["code"].as_str().expect("code is text");
    assert!(
        !code.is_empty() && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
        "code {code:?} is not UPPER_SNAKE"
    );
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| !m.trim().is_empty()),
        "message must be a sentence: {body}"
    );
    assert!(
        body["details"].is_null() || body["details"].is_object(),
        "details must be an object or null: {body}"
    );
    assert_eq!(body["request_id"], json!(request_id), "{body}");
}

/// An answer to a request written by hand over TCP.
#[derive(Debug)]
pub struct RawReply {
    /// The status code.
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, parsed like [`Reply::body`].
    pub body: Value,
}

impl RawReply {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `x-request-id`, checked like [`Reply::request_id`].
    #[track_caller]
    pub fn request_id(&self) -> &str {
        checked_request_id(self.header("x-request-id"))
    }
}

/// Send `head` (request line and headers, without the final blank line) and `body` on a fresh
/// connection, exactly as written, and read the answer until the server closes.
pub async fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> RawReply {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to the fake");
    let mut request = format!(
        "{head}\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).await.expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("receive");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    RawReply {
        status,
        headers,
        body: parse_body(&answer[split + 4..]),
    }
}

/// A store with the default settings, for [`oneshot`].
pub fn store() -> Arc<Store> {
    Arc::new(Store::new(Config::default()))
}

/// Drive the router once, without a socket.
pub async fn oneshot(store: &Arc<Store>, request: axum::http::Request<axum::body::Body>) -> Reply {
    let response = rehook_mock::app(store.clone())
        .oneshot(request)
        .await
        .expect("the router never fails");
    let (parts, body) = response.into_parts();
    let raw = body.collect().await.expect("the body").to_bytes();
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        headers.append(name.clone(), value.clone());
    }
    Reply {
        status: parts.status.as_u16(),
        headers,
        body: parse_body(&raw),
    }
}

/// The default credentials as a header value, for [`oneshot`] requests.
pub fn default_auth() -> String {
    basic("rk_test_key", "rk_test_secret")
}

/// The keys of a JSON object, sorted: for asserting an answer's exact shape.
#[track_caller]
pub fn sorted_keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}
