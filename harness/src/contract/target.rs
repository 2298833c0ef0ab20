//! The server under check, as the named scenarios call it: any request (other methods, other
//! headers, bodies that are not JSON), every answer recorded with the headers the contract
//! speaks about, and each request written back as a `curl` line a person can paste.
//!
//! [`Client`] covers the calls an application makes; the scenarios also need the calls an
//! application must not make (no credentials, a wrong media type, a broken body), so they
//! build requests here, with the client's base URL and credentials.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, Url};
use serde::Serialize;
use serde_json::Value;

use crate::client::Client;
use crate::error_text::error_text;

/// How long one call may take before it counts as no answer.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The answer headers a scenario may check, and the only ones recorded
/// (`x-delivery-log-length` is the delivery log's cursor).
const KEPT_HEADERS: [&str; 4] = [
    "allow",
    "content-type",
    "www-authenticate",
    "x-delivery-log-length",
];

/// Which API a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// The Rehook API, under the whole base URL (path included).
    Rehook,
    /// The admin API, under the base URL's origin at `/__admin`, for the client's application.
    Admin,
    /// The Segment front door, under the base URL's origin (`/v1/batch`), with the write key.
    Segment,
}

/// The `Authorization` a request carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Auth {
    /// The client's own: Basic for the Rehook API, the admin token (if any) for the admin API,
    /// `Basic base64(writeKey:)` for the Segment front door.
    Client,
    /// No `Authorization` header.
    Missing,
    /// This exact header value (a wrong secret, a malformed one).
    Header(String),
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// JSON, sent compact.
    Json(Value),
    /// These exact characters (broken JSON, a form body).
    Raw(String),
}

impl Body {
    /// The bytes on the wire.
    fn text(&self) -> String {
        match self {
            Body::Json(value) => value.to_string(),
            Body::Raw(text) => text.clone(),
        }
    }
}

/// One request a scenario makes.
///
/// Serialised compactly for transcripts: `{"call": "POST /customers", "body": {...}}`, with
/// `auth`, `content_type` and `raw_body` only where they differ from the usual.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The HTTP method.
    pub method: String,
    /// Which API it goes to.
    pub api: Api,
    /// The path below the API's root, percent-encoded (`/customers/u%201`).
    pub path: String,
    /// The `Authorization` it carries.
    pub auth: Auth,
    /// The `Content-Type` it carries (`application/json` for JSON bodies unless set).
    pub content_type: Option<String>,
    /// Its body.
    pub body: Option<Body>,
}

impl Serialize for Request {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("call", &self.line())?;
        if self.auth != Auth::Client {
            map.serialize_entry("auth", &self.auth)?;
        }
        let usual_type = matches!(self.body, Some(Body::Json(_)))
            && self.content_type.as_deref() == Some("application/json");
        if !usual_type && (self.content_type.is_some() || self.body.is_some()) {
            map.serialize_entry("content_type", &self.content_type)?;
        }
        match &self.body {
            Some(Body::Json(value)) => map.serialize_entry("body", value)?,
            Some(Body::Raw(text)) => map.serialize_entry("raw_body", text)?,
            None => {}
        }
        map.end()
    }
}

impl Request {
    /// `POST /customers`, `GET /__admin/drops`: the method and the path as the server sees
    /// it below the base URL.
    pub fn line(&self) -> String {
        let admin = if self.api == Api::Admin {
            "/__admin"
        } else {
            ""
        };
        format!("{} {admin}{}", self.method, self.path)
    }

    /// A request with the client's credentials and no body.
    pub fn new(method: &str, api: Api, path: impl Into<String>) -> Self {
        Self {
            method: method.to_owned(),
            api,
            path: path.into(),
            auth: Auth::Client,
            content_type: None,
            body: None,
        }
    }

    /// The same request with a JSON body (sent as `application/json`).
    pub fn json(mut self, body: Value) -> Self {
        self.content_type = Some("application/json".to_owned());
        self.body = Some(Body::Json(body));
        self
    }

    /// The same request with a raw body and a `Content-Type` (none when `None`).
    pub fn raw(mut self, content_type: Option<&str>, body: &str) -> Self {
        self.content_type = content_type.map(str::to_owned);
        self.body = Some(Body::Raw(body.to_owned()));
        self
    }

    /// The same request with another `Authorization`.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }
}

/// One answer, with the headers a scenario may check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// `allow`, `content-type` and `www-authenticate`, when present.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The `x-request-id` header, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The JSON body; `null` when empty; a string holding the text when it is not JSON (so
    /// that a plain-text answer fails every expectation on its fields, and shows as sent).
    pub body: Value,
}

/// Paths below an API's root built from segments, each percent-encoded as one segment:
/// `path(&["customers", "u 1"])` is `/customers/u%201`.
pub fn path(segments: &[&str]) -> String {
    let mut url = Url::parse("http://x/").expect("a valid URL");
    if let Ok(mut p) = url.path_segments_mut() {
        p.pop_if_empty().extend(segments);
    }
    url.path().to_owned()
}

/// The server under check: where its APIs are and how to call them.
#[derive(Debug, Clone)]
pub struct Target {
    http: reqwest::Client,
    /// The Rehook API's base URL, without a trailing slash.
    base: String,
    /// The base URL's origin, under which `/__admin` lives.
    origin: String,
    authorization: HeaderValue,
    api_key: String,
    admin_token: Option<String>,
    write_key: String,
}

impl Target {
    /// The server behind `client`, with its base URL and credentials.
    pub fn new(client: &Client) -> Self {
        let base = client.base_url().to_owned();
        let origin = Url::parse(&base)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| base.clone());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent(concat!("rehook-harness/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            http,
            base,
            origin,
            authorization: client.authorization().clone(),
            api_key: client.api_key().to_owned(),
            admin_token: client.admin_token().map(str::to_owned),
            write_key: crate::via_segment::DEFAULT_WRITE_KEY.to_owned(),
        }
    }

    /// The same target, calling its Segment front door with `write_key`.
    pub fn with_write_key(mut self, write_key: &str) -> Self {
        write_key.clone_into(&mut self.write_key);
        self
    }

    /// The write key the Segment front door is called with.
    pub fn write_key(&self) -> &str {
        &self.write_key
    }

    /// The application's API key.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The full URL of `request`.
    pub fn url(&self, request: &Request) -> String {
        match request.api {
            Api::Rehook => format!("{}{}", self.base, request.path),
            Api::Admin => {
                let mut url = format!("{}/__admin{}", self.origin, request.path);
                let key: String = Url::parse_with_params("http://x/", [("app", &self.api_key)])
                    .ok()
                    .and_then(|u| u.query().map(str::to_owned))
                    .unwrap_or_default();
                url.push(if request.path.contains('?') { '&' } else { '?' });
                url.push_str(&key);
                url
            }
            Api::Segment => format!("{}{}", self.origin, request.path),
        }
    }

    /// Sends `request`; `Err` says why no answer came (refused, timed out, reset).
    pub async fn send(&self, request: &Request) -> Result<Response, String> {
        let method = Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
        let mut builder = self.http.request(method, self.url(request));
        match (&request.auth, request.api) {
            (Auth::Client, Api::Rehook) => {
                builder = builder.header(AUTHORIZATION, self.authorization.clone());
            }
            (Auth::Client, Api::Admin) => {
                if let Some(token) = &self.admin_token {
                    builder = builder.bearer_auth(token);
                }
            }
            (Auth::Client, Api::Segment) => {
                builder = builder.basic_auth(&self.write_key, Some(""));
            }
            (Auth::Missing, _) => {}
            (Auth::Header(value), _) => builder = builder.header(AUTHORIZATION, value),
        }
        if let Some(content_type) = &request.content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.text());
        }
        let response = builder.send().await.map_err(|e| error_text(&e))?;
        let status = response.status().as_u16();
        let mut headers = BTreeMap::new();
        for name in KEPT_HEADERS {
            if let Some(value) = response.headers().get(name).and_then(|v| v.to_str().ok()) {
                headers.insert(name.to_owned(), value.to_owned());
            }
        }
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.map_err(|e| error_text(&e))?;
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok(Response {
            status,
            headers,
            request_id,
            body,
        })
    }

    /// `request` as one `curl` line. The API secret and the admin token stay out of it: they
    /// are read from `$REHOOK_API_SECRET` and `$REHOOK_ADMIN_TOKEN`, so that a failure report
    /// can be pasted into a ticket or a CI log.
    pub fn curl(&self, request: &Request) -> String {
        let mut line = String::from("curl -sS -i");
        match request.method.as_str() {
            "GET" => {}
            "HEAD" => line.push_str(" -I"),
            method => {
                line.push_str(" -X ");
                line.push_str(method);
            }
        }
        line.push(' ');
        line.push_str(&shell_quote(&self.url(request)));
        match (&request.auth, request.api) {
            (Auth::Client, Api::Rehook) => {
                line.push_str(" -u ");
                line.push_str(&shell_quote(&self.api_key));
                line.push_str(":\"$REHOOK_API_SECRET\"");
            }
            (Auth::Client, Api::Admin) => {
                if self.admin_token.is_some() {
                    line.push_str(" -H \"authorization: Bearer $REHOOK_ADMIN_TOKEN\"");
                }
            }
            (Auth::Client, Api::Segment) => {
                line.push_str(" -u ");
                line.push_str(&shell_quote(&format!("{}:", self.write_key)));
            }
            (Auth::Missing, _) => {}
            (Auth::Header(value), _) => {
                line.push_str(" -H ");
                line.push_str(&shell_quote(&format!("authorization: {value}")));
            }
        }
        match (&request.content_type, &request.body) {
            (Some(content_type), _) => {
                line.push_str(" -H ");
                line.push_str(&shell_quote(&format!("content-type: {content_type}")));
            }
            // Without this, curl would send a form's media type with the body.
            (None, Some(_)) => line.push_str(" -H 'content-type:'"),
            (None, None) => {}
        }
        if let Some(body) = &request.body {
            line.push_str(" --data-raw ");
            line.push_str(&shell_quote(&body.text()));
        }
        line
    }
}

/// `text` in single quotes for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(base: &str) -> Target {
        Target::new(&Client::new(base, "rk_key", "s3cret").expect("valid"))
    }

    #[test]
    fn paths_encode_each_segment() {
        assert_eq!(path(&["customers", "u 1/x"]), "/customers/u%201%2Fx");
        assert_eq!(path(&["events", "invoke"]), "/events/invoke");
    }

    #[test]
    fn admin_urls_use_the_origin_and_name_the_application() {
        let t = target("https://example.test/api");
        let admin = Request::new("GET", Api::Admin, "/drops");
        assert_eq!(
            t.url(&admin),
            "https://example.test/__admin/drops?app=rk_key"
        );
        let rehook = Request::new("GET", Api::Rehook, "/customers/u-1");
        assert_eq!(t.url(&rehook), "https://example.test/api/customers/u-1");
    }

    #[test]
    fn curl_lines_replay_the_request_without_the_secret() {
        let t = target("http://127.0.0.1:9");
        let line = t.curl(
            &Request::new("POST", Api::Rehook, "/customers").json(json!({"source_id": "o'k"})),
        );
        assert_eq!(
            line,
            "curl -sS -i -X POST 'http://127.0.0.1:9/customers' -u 'rk_key':\"$REHOOK_API_SECRET\" \
             -H 'content-type: application/json' --data-raw '{\"source_id\":\"o'\\''k\"}'"
        );
        assert!(!line.contains("s3cret"));
        let raw = t.curl(
            &Request::new("POST", Api::Rehook, "/customers")
                .raw(None, "{")
                .auth(Auth::Missing),
        );
        assert_eq!(
            raw,
            "curl -sS -i -X POST 'http://127.0.0.1:9/customers' -H 'content-type:' --data-raw '{'"
        );
    }
}
