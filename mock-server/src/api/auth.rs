//! Basic auth of the Rehook API, and `GET /events/segment/check-auth`.

use std::sync::Arc;

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::body::{BodyRules, RawBody};
use crate::error::ApiError;
use crate::extract::AppSlot;
use crate::store::{App, Registry, Store};

/// Standard base64, with or without padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Credentials that named an application when the request arrived.
///
/// Checking them at extraction keeps the contract's order (a `401` before any body rule);
/// [`RehookAuth::with_app`] checks them again under the same lock as the work itself, so a
/// configuration or state swap in between can never let a request run against an
/// application it no longer authenticates for.
#[derive(Debug, Clone)]
pub(crate) struct RehookAuth {
    /// The application's API key.
    api_key: String,
    /// The secret sent.
    secret: String,
}

/// The application these credentials open, or `401`; the secret compared in constant time.
fn authenticate<'r>(registry: &'r Registry, key: &str, secret: &str) -> Result<&'r App, ApiError> {
    let refused = || ApiError::unauthorized("unknown API key or wrong secret");
    let app = registry.by_api_key(key).ok_or_else(refused)?;
    if bool::from(app.config().api_secret.as_bytes().ct_eq(secret.as_bytes())) {
        Ok(app)
    } else {
        Err(refused())
    }
}

impl RehookAuth {
    /// Run `f` on the authenticated application, credentials and work under one lock.
    pub(crate) fn with_app<T>(
        &self,
        store: &Store,
        f: impl FnOnce(&App) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let registry = store.read();
        f(authenticate(&registry, &self.api_key, &self.secret)?)
    }
}

/// Split `Authorization: Basic base64(user:password)` into its two parts.
pub(crate) fn basic_credentials(parts: &Parts) -> Result<(String, String), &'static str> {
    basic_credentials_in(&parts.headers)
}

/// [`basic_credentials`] over a header map (the front door reads write keys with it).
pub(crate) fn basic_credentials_in(
    headers: &axum::http::HeaderMap,
) -> Result<(String, String), &'static str> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or("the Authorization header is missing")?;
    let text = value
        .to_str()
        .map_err(|_| "the Authorization header is not text")?;
    let (scheme, encoded) = text
        .trim()
        .split_once(' ')
        .ok_or("the Authorization header must be `Basic <credentials>`")?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err("the Authorization scheme must be Basic");
    }
    let decoded = BASE64
        .decode(encoded.trim())
        .map_err(|_| "the Basic credentials are not valid base64")?;
    let decoded = String::from_utf8(decoded).map_err(|_| "the Basic credentials are not UTF-8")?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or("the Basic credentials must be `key:secret`")?;
    Ok((user.to_owned(), password.to_owned()))
}

impl FromRequestParts<Arc<Store>> for RehookAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        store: &Arc<Store>,
    ) -> Result<Self, Self::Rejection> {
        let (key, secret) = basic_credentials(parts).map_err(ApiError::unauthorized)?;
        authenticate(&store.read(), &key, &secret)?;
        AppSlot::tag(parts, &key);
        Ok(RehookAuth {
            api_key: key,
            secret,
        })
    }
}

/// `GET /events/segment/check-auth`: `200 {"status": "ok"}` for valid credentials.
pub(crate) async fn auth_check(_auth: RehookAuth, body: RawBody) -> Result<Json<Value>, ApiError> {
    body.check_ignored(BodyRules::API)?;
    Ok(Json(json!({ "status": "ok" })))
}
