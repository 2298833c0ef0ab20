//! A typed HTTP client for the Rehook API (Basic auth) and the fake's admin API (`/__admin`).
//!
//! Rehook API calls go under the whole base URL, path included (`https://host/api/customers`);
//! admin calls go under its origin (`https://host/__admin/customers`), because the fake serves
//! the Rehook API both at `/` and under `/api` but the admin API only at `/__admin`.
//!
//! Rehook API calls return an [`Answer`] whatever the status, because the harness judges
//! statuses itself: a `409` is a result to record, not a failure of the client. Only transport
//! problems (no connection, a timeout, a body that is not JSON) are [`ClientError`]s. Admin
//! calls are the opposite: they are the harness's own plumbing, so anything but a success is
//! an error and their bodies are decoded into the wire types below.

use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// API key of the fake's default application.
pub const DEFAULT_API_KEY: &str = "rk_test_key";
/// API secret of the fake's default application.
pub const DEFAULT_API_SECRET: &str = "rk_test_secret";

/// How long one call may take before it counts as a transport error.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a call produced no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL is not an absolute `http` or `https` URL.
    #[error("invalid base URL {url:?}: {reason}")]
    BaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request could not be sent or its answer not read (refused, reset, timed out).
    ///
    /// Its `Display` names the call and reqwest's own message only (`POST <url>: error sending
    /// request`); the root cause (`tcp connect error: Connection refused`, ...) is further down
    /// [`source`](std::error::Error::source): write it with [`error_text`](crate::error_text()).
    #[error("{method} {url}: {source}")]
    Transport {
        /// The request's method.
        method: Method,
        /// The full URL called.
        url: String,
        /// The underlying error, without its URL (the variant already names it).
        #[source]
        source: reqwest::Error,
    },
    /// An answer with a body that is neither empty nor JSON, or not of the expected shape.
    #[error("{method} {url}: answered {status} with an unreadable body: {reason}")]
    Body {
        /// The request's method.
        method: Method,
        /// The full URL called.
        url: String,
        /// The answer's status.
        status: u16,
        /// What could not be read.
        reason: String,
    },
    /// An admin call answered with something other than a success.
    #[error("{method} {url}: answered {status}: {body}")]
    Status {
        /// The request's method.
        method: Method,
        /// The full URL called.
        url: String,
        /// The answer's status.
        status: u16,
        /// The answer's body.
        body: Value,
    },
}

/// One answer of the server: its status, its JSON body and its request id.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body (`null` when the body was empty, as for `HEAD`).
    pub body: Value,
    /// The `x-request-id` header, when there was one.
    pub request_id: Option<String>,
}

impl Answer {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error body's `code` for a 4xx or 5xx answer (`REFERRAL_CODE_TAKEN`, ...).
    pub fn error_code(&self) -> Option<&str> {
        if self.status >= 400 {
            self.body.get("code").and_then(Value::as_str)
        } else {
            None
        }
    }

    /// The reason of a drop answered in drop mode `accept`:
    /// `200 {"status": "dropped", "reason": CODE}`.
    pub fn accepted_drop_reason(&self) -> Option<&str> {
        if self.is_success() && self.body.get("status").and_then(Value::as_str) == Some("dropped") {
            Some(
                self.body
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("UNKNOWN"),
            )
        } else {
            None
        }
    }

    /// The `referral.status` of a `POST /events/invoke` answer: `attributed` or
    /// `already_referred`; `None` when the event attributed nothing.
    pub fn referral_status(&self) -> Option<&str> {
        self.body
            .get("referral")
            .and_then(|r| r.get("status"))
            .and_then(Value::as_str)
    }
}

/// A customer as the Rehook API and the admin API show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// `cust_` + 21 alphanumerics.
    pub id: String,
    /// The caller's own id for the customer.
    pub source_id: String,
    /// The customer's unique referral code.
    pub referral_code: String,
    /// Properties, merged shallowly on every update.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// How many customers this one referred.
    pub referral_count: u64,
    /// The advocate's source_id, once a conversion attributed this customer.
    pub referred_by: Option<String>,
    /// `<referral link base>/<code>`.
    #[serde(default)]
    pub referral_link: String,
    /// When the customer was created (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// When the customer was last written (RFC 3339).
    #[serde(default)]
    pub updated_at: String,
}

/// A stored event as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `evt_` + 21 alphanumerics.
    pub id: String,
    /// The event's name.
    #[serde(alias = "name")]
    pub event_name: String,
    /// Who sent it.
    pub source_id: String,
    /// Properties as sent (`{}` when none).
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// When the server received it (RFC 3339).
    #[serde(default)]
    pub received_at: String,
}

/// A business-rule refusal as the admin drop log shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropEntry {
    /// The `x-request-id` of the refused request.
    pub request_id: String,
    /// When it was refused (RFC 3339).
    #[serde(default)]
    pub at: String,
    /// The layer that refused it (`rehook`).
    pub layer: String,
    /// `"METHOD /path"` of the refused call.
    pub endpoint: String,
    /// The rule's code (`REFERRAL_CODE_TAKEN`, ...).
    pub reason: String,
    /// The rule's status (409 or 422).
    pub status: u16,
    /// The request body as received.
    #[serde(default)]
    pub body: Value,
}

/// One message's entry in the fake's front-door delivery log (`GET /__admin/deliveries`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryLogEntry {
    /// The message's `messageId` as text.
    #[serde(default)]
    pub message_id: Option<String>,
    /// The message's `type` as sent.
    #[serde(rename = "type", default)]
    pub message_type: Option<String>,
    /// The destination action that matched (`identify_user`, `track_event`).
    #[serde(default)]
    pub action: Option<String>,
    /// `delivered`, `dropped` or `filtered`.
    pub outcome: String,
    /// The Rehook API's status for the mapped call, when one ran.
    #[serde(default)]
    pub status: Option<u16>,
    /// Why it was dropped.
    #[serde(default)]
    pub reason: Option<String>,
    /// When the front door processed it (RFC 3339).
    #[serde(default)]
    pub at: String,
}

/// A client for one application of a Rehook-compatible server.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: Url,
    /// The base URL's origin (`scheme://host[:port]`), under which the admin API lives.
    origin: Url,
    authorization: HeaderValue,
    api_key: String,
    admin_token: Option<String>,
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:8080`, or a base with a
    /// path such as `https://host/api`) using the application `api_key` / `api_secret`.
    ///
    /// Rehook API calls keep the whole base: with `https://host/api`, `POST /customers` is
    /// `https://host/api/customers`. Admin calls use the base's origin only: the drop log is
    /// `https://host/__admin/drops`, not `https://host/api/__admin/drops`, as the fake serves
    /// the admin API at `/__admin` whatever prefix its Rehook API is reached under.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), rehook_harness::client::ClientError> {
    /// use rehook_harness::client::Client;
    ///
    /// let mock = rehook_mock::MockRehook::start().await;
    /// let client = Client::new(mock.base_url(), "rk_test_key", "rk_test_secret")?;
    /// assert_eq!(client.check_auth().await?.status, 200);
    ///
    /// let answer = client
    ///     .upsert_customer(&serde_json::json!({"source_id": "u-1", "referral_code": "ADA"}))
    ///     .await?;
    /// assert_eq!(answer.status, 201);
    /// assert_eq!(client.validate_code("ADA").await?.body["source_id"], "u-1");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(base_url: &str, api_key: &str, api_secret: &str) -> Result<Self, ClientError> {
        let bad = |reason: &str| ClientError::BaseUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let mut url = Url::parse(base_url).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("the scheme must be http or https"));
        }
        if url.cannot_be_a_base() || url.host().is_none() {
            return Err(bad("it has no host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("it must not have a query or a fragment"));
        }
        // Keep the base path without a trailing slash, so that joining segments is uniform.
        let trimmed = url.path().trim_end_matches('/').to_owned();
        url.set_path(&trimmed);
        let mut origin = url.clone();
        origin.set_path("");

        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{api_key}:{api_secret}"));
        let mut authorization = HeaderValue::from_str(&format!("Basic {credentials}"))
            .map_err(|_| bad("the credentials cannot be sent in a header"))?;
        // Keeps the secret out of `Debug` output.
        authorization.set_sensitive(true);

        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent(concat!("rehook-harness/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| bad(&format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            http,
            base_url: url,
            origin,
            authorization,
            api_key: api_key.to_owned(),
            admin_token: None,
        })
    }

    /// The same client, sending `Authorization: Bearer <token>` on admin calls (for a server
    /// started with `--admin-token`).
    pub fn with_admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.base_url.as_str().trim_end_matches('/')
    }

    /// The application's API key.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The admin token sent on admin calls, when there is one.
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref()
    }

    /// The `Authorization: Basic ...` value of Rehook API calls (marked sensitive), for
    /// callers that build their own requests (the contract checks).
    pub(crate) fn authorization(&self) -> &HeaderValue {
        &self.authorization
    }

    /// `POST /customers`: create or update a customer.
    pub async fn upsert_customer(&self, body: &Value) -> Result<Answer, ClientError> {
        self.rehook(Method::POST, &["customers"], Some(body)).await
    }

    /// `POST /events/invoke`: store an event, attributing a referral for conversion events.
    pub async fn invoke_event(&self, body: &Value) -> Result<Answer, ClientError> {
        self.rehook(Method::POST, &["events", "invoke"], Some(body))
            .await
    }

    /// `GET /customers/{id}`: one customer by source_id or `cust_` id.
    pub async fn get_customer(&self, id: &str) -> Result<Answer, ClientError> {
        self.rehook(Method::GET, &["customers", id], None).await
    }

    /// `GET /customers/validate-code/{code}`: the advocate who owns `code`.
    pub async fn validate_code(&self, code: &str) -> Result<Answer, ClientError> {
        self.rehook(Method::GET, &["customers", "validate-code", code], None)
            .await
    }

    /// `GET /customers/referral/list/{source_id}`: the customers this one referred.
    pub async fn referral_list(&self, source_id: &str) -> Result<Answer, ClientError> {
        self.rehook(
            Method::GET,
            &["customers", "referral", "list", source_id],
            None,
        )
        .await
    }

    /// `GET /events/segment/check-auth`: whether the credentials are accepted.
    pub async fn check_auth(&self) -> Result<Answer, ClientError> {
        self.rehook(Method::GET, &["events", "segment", "check-auth"], None)
            .await
    }

    /// Any Rehook API call, with Basic auth: `segments` are appended to the base URL, each
    /// percent-encoded, so ids with `/` or spaces stay one path segment.
    pub async fn rehook(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<Answer, ClientError> {
        let url = self.url(segments);
        let request = self
            .http
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, self.authorization.clone());
        self.send(method, url, request, body).await
    }

    /// `GET /__admin/customers`: every customer of this client's application, by source_id.
    pub async fn admin_customers(&self) -> Result<Vec<Customer>, ClientError> {
        self.admin_json(Method::GET, &["customers"]).await
    }

    /// `GET /__admin/events`: every event of this client's application, in arrival order.
    pub async fn admin_events(&self) -> Result<Vec<Event>, ClientError> {
        self.admin_json(Method::GET, &["events"]).await
    }

    /// `GET /__admin/drops`: the drop log of this client's application, in arrival order.
    pub async fn admin_drops(&self) -> Result<Vec<DropEntry>, ClientError> {
        self.admin_json(Method::GET, &["drops"]).await
    }

    /// `GET /__admin/customers/{source_id}`: one customer of this client's application;
    /// `None` when it answers `404`.
    pub async fn admin_customer(&self, source_id: &str) -> Result<Option<Customer>, ClientError> {
        match self
            .admin_json(Method::GET, &["customers", source_id])
            .await
        {
            Err(ClientError::Status { status: 404, .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    /// `GET /__admin/events?source_id=`: one customer's events, in arrival order.
    pub async fn admin_events_of(&self, source_id: &str) -> Result<Vec<Event>, ClientError> {
        self.admin_json_of(&["events"], source_id).await
    }

    /// `GET /__admin/drops?source_id=`: the refusals of requests naming one customer, in
    /// arrival order.
    pub async fn admin_drops_of(&self, source_id: &str) -> Result<Vec<DropEntry>, ClientError> {
        self.admin_json_of(&["drops"], source_id).await
    }

    /// `GET /__admin/deliveries`: the front-door delivery log of this client's application.
    pub async fn admin_deliveries(&self) -> Result<Vec<DeliveryLogEntry>, ClientError> {
        self.admin_json(Method::GET, &["deliveries"]).await
    }

    /// `GET /__admin/deliveries?after=N`: the entries of the delivery log after its first
    /// `after`, so a reader that has read `after` entries fetches only the new ones (its next
    /// cursor is `after` plus the number returned). A cursor past the end (the log was reset
    /// since) is an error.
    pub async fn admin_deliveries_after(
        &self,
        after: usize,
    ) -> Result<Vec<DeliveryLogEntry>, ClientError> {
        let mut url = self.admin_url(&["deliveries"]);
        url.query_pairs_mut()
            .append_pair("after", &after.to_string());
        let answer = self.admin_at(Method::GET, url.clone()).await?;
        decode(Method::GET, &url, answer)
    }

    /// The delivery log's length, the cursor after its last entry, without reading the log:
    /// `GET /__admin/deliveries?limit=0` and its `x-delivery-log-length` header.
    pub async fn admin_delivery_log_length(&self) -> Result<usize, ClientError> {
        let mut url = self.admin_url(&["deliveries"]);
        url.query_pairs_mut().append_pair("limit", "0");
        let (answer, headers) = self.admin_with_headers(Method::GET, url.clone()).await?;
        headers
            .get("x-delivery-log-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .ok_or_else(|| ClientError::Status {
                method: Method::GET,
                url: url.to_string(),
                status: answer.status,
                body: answer.body,
            })
    }

    /// `GET /__admin/config`: the applications and their settings (secrets left out). The
    /// config is server-wide, so the request names no application: it works whatever API
    /// key this client has.
    pub async fn admin_config(&self) -> Result<Value, ClientError> {
        let url = join(&self.origin, ["__admin", "config"]);
        let answer = self.admin_at(Method::GET, url.clone()).await?;
        decode(Method::GET, &url, answer)
    }

    /// The same server, for the application with API key `api_key` (admin calls select it
    /// with `?app=`; Rehook API calls keep this client's credentials).
    pub fn for_app(&self, api_key: &str) -> Self {
        let mut client = self.clone();
        client.api_key = api_key.to_owned();
        client
    }

    /// `POST /v1/<path>` on the base URL's origin: the Segment front door, with
    /// `Authorization: Basic base64(writeKey:)` as the SDKs send it.
    pub async fn front_door<B: Serialize + ?Sized>(
        &self,
        path: &str,
        write_key: &str,
        body: &B,
    ) -> Result<Answer, ClientError> {
        let url = join(&self.origin, ["v1", path]);
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{write_key}:"));
        // A body of JSON values and text always serialises; the empty fallback is never sent
        // in practice, and the door would refuse it as a client error.
        let body = serde_json::to_vec(body).unwrap_or_default();
        let request = self
            .http
            .post(url.clone())
            .header(AUTHORIZATION, format!("Basic {credentials}"));
        self.send_with_headers(Method::POST, url, request, Some(body))
            .await
            .map(|(answer, _)| answer)
    }

    /// `POST /__admin/reset`: empties this client's application.
    pub async fn admin_reset(&self) -> Result<(), ClientError> {
        self.admin(Method::POST, &["reset"]).await.map(|_| ())
    }

    /// An admin call that must succeed, decoded into `T`.
    async fn admin_json<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
    ) -> Result<T, ClientError> {
        let (url, answer) = self.admin(method.clone(), segments).await?;
        decode(method, &url, answer)
    }

    /// An admin `GET` of `segments` with `?source_id=`, decoded as JSON.
    async fn admin_json_of<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        source_id: &str,
    ) -> Result<T, ClientError> {
        let mut url = self.admin_url(segments);
        url.query_pairs_mut().append_pair("source_id", source_id);
        let answer = self.admin_at(Method::GET, url.clone()).await?;
        decode(Method::GET, &url, answer)
    }

    /// An admin call under the origin's `/__admin` (whatever the base URL's path), for this
    /// client's application (`?app=<api key>`).
    async fn admin(&self, method: Method, segments: &[&str]) -> Result<(Url, Answer), ClientError> {
        let url = self.admin_url(segments);
        let answer = self.admin_at(method, url.clone()).await?;
        Ok((url, answer))
    }

    /// An admin call to `url` that must succeed, with the admin token when there is one.
    async fn admin_at(&self, method: Method, url: Url) -> Result<Answer, ClientError> {
        Ok(self.admin_with_headers(method, url).await?.0)
    }

    /// [`Client::admin_at`], with the answer's headers.
    async fn admin_with_headers(
        &self,
        method: Method,
        url: Url,
    ) -> Result<(Answer, HeaderMap), ClientError> {
        let mut request = self.http.request(method.clone(), url.clone());
        if let Some(token) = &self.admin_token {
            request = request.bearer_auth(token);
        }
        let (answer, headers) = self
            .send_with_headers(method.clone(), url.clone(), request, None)
            .await?;
        if !answer.is_success() {
            return Err(ClientError::Status {
                method,
                url: url.to_string(),
                status: answer.status,
                body: answer.body,
            });
        }
        Ok((answer, headers))
    }

    /// A Rehook API URL: the base URL, path included, then `segments`, each percent-encoded.
    fn url(&self, segments: &[&str]) -> Url {
        join(&self.base_url, segments)
    }

    /// An admin API URL: the origin, `/__admin`, `segments` (each percent-encoded) and
    /// `?app=<api key>`.
    fn admin_url(&self, segments: &[&str]) -> Url {
        let mut url = join(&self.origin, ["__admin"].iter().chain(segments));
        url.query_pairs_mut().append_pair("app", &self.api_key);
        url
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        request: reqwest::RequestBuilder,
        body: Option<&Value>,
    ) -> Result<Answer, ClientError> {
        let body = body.map(|body| body.to_string().into_bytes());
        Ok(self.send_with_headers(method, url, request, body).await?.0)
    }

    /// Sends `request` (with `body` as JSON) and reads the answer, keeping its headers.
    async fn send_with_headers(
        &self,
        method: Method,
        url: Url,
        mut request: reqwest::RequestBuilder,
        body: Option<Vec<u8>>,
    ) -> Result<(Answer, HeaderMap), ClientError> {
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let transport = |source: reqwest::Error| ClientError::Transport {
            method: method.clone(),
            url: url.to_string(),
            source: source.without_url(),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.map_err(transport)?;
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            read_json(&bytes).map_err(|reason| ClientError::Body {
                method: method.clone(),
                url: url.to_string(),
                status,
                reason,
            })?
        };
        let answer = Answer {
            status,
            body,
            request_id,
        };
        Ok((answer, headers))
    }
}

/// The deepest answer the client reads: a server may answer with more levels than it takes
/// (the fake echoes 128-level metadata inside a customer, inside a list), and serde_json's
/// own limit (127) would refuse those; a bound is kept so that no answer can exhaust the stack.
pub const MAX_ANSWER_DEPTH: usize = 256;

/// Reads an answer body as JSON, nested up to [`MAX_ANSWER_DEPTH`] levels.
fn read_json(bytes: &[u8]) -> Result<Value, String> {
    rehook_mock::body::parse_json(bytes, MAX_ANSWER_DEPTH).map_err(|e| {
        format!(
            "{} in {:?}",
            e.message.replace("the request body", "the body"),
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        )
    })
}

/// An admin answer's body decoded into `T`.
fn decode<T: DeserializeOwned>(
    method: Method,
    url: &Url,
    answer: Answer,
) -> Result<T, ClientError> {
    serde_json::from_value(answer.body).map_err(|e| ClientError::Body {
        method,
        url: url.to_string(),
        status: answer.status,
        reason: e.to_string(),
    })
}

/// `base` with `segments` appended to its path, each percent-encoded as one segment.
fn join<S: AsRef<str>>(base: &Url, segments: impl IntoIterator<Item = S>) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        let client = Client::new("http://127.0.0.1:9/", "k", "s").expect("valid");
        assert_eq!(client.base_url(), "http://127.0.0.1:9");
        let client = Client::new("https://example.test/api/", "k", "s").expect("valid");
        assert_eq!(client.base_url(), "https://example.test/api");
        for bad in [
            "127.0.0.1:9",
            "ftp://x",
            "not a url",
            "http://x/?a=1",
            "mailto:a@b",
        ] {
            assert!(
                matches!(Client::new(bad, "k", "s"), Err(ClientError::BaseUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn rehook_urls_keep_the_base_path_and_admin_urls_use_the_origin() {
        let client = Client::new("https://example.test/api", "k&1", "s").expect("valid");
        let url = client.url(&["customers", "a/b c"]);
        assert_eq!(url.as_str(), "https://example.test/api/customers/a%2Fb%20c");
        assert_eq!(
            client.admin_url(&["drops"]).as_str(),
            "https://example.test/__admin/drops?app=k%261"
        );
        let client = Client::new("http://127.0.0.1:8080/a/b/", "k", "s").expect("valid");
        assert_eq!(
            client.url(&["events", "invoke"]).as_str(),
            "http://127.0.0.1:8080/a/b/events/invoke"
        );
        assert_eq!(
            client.admin_url(&["customers"]).as_str(),
            "http://127.0.0.1:8080/__admin/customers?app=k"
        );
        let client = Client::new("http://127.0.0.1:8080", "k", "s").expect("valid");
        assert_eq!(
            client.admin_url(&["reset"]).as_str(),
            "http://127.0.0.1:8080/__admin/reset?app=k"
        );
    }

    #[test]
    fn debug_output_does_not_show_the_secret() {
        let client = Client::new("http://127.0.0.1:9", "rk_test_key", "s3cr3t").expect("valid");
        let debug = format!("{client:?}");
        assert!(!debug.contains("s3cr3t"));
        let encoded = base64::engine::general_purpose::STANDARD.encode("rk_test_key:s3cr3t");
        assert!(!debug.contains(&encoded));
    }

    #[test]
    fn answers_are_read_as_the_contract_writes_them() {
        let dropped = Answer {
            status: 200,
            body: json!({"status": "dropped", "reason": "SELF_REFERRAL"}),
            request_id: None,
        };
        assert_eq!(dropped.accepted_drop_reason(), Some("SELF_REFERRAL"));
        assert_eq!(dropped.error_code(), None);
        let refused = Answer {
            status: 409,
            body: json!({"code": "REFERRAL_CODE_TAKEN", "message": "taken"}),
            request_id: Some("req_1".into()),
        };
        assert_eq!(refused.error_code(), Some("REFERRAL_CODE_TAKEN"));
        assert_eq!(refused.accepted_drop_reason(), None);
        let event = Answer {
            status: 200,
            body: json!({"status": "ok", "event": {}, "referral": {"advocate": "u-1", "status": "attributed"}}),
            request_id: None,
        };
        assert_eq!(event.referral_status(), Some("attributed"));
        assert_eq!(event.accepted_drop_reason(), None);
    }
}
