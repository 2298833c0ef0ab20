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

use crate::error::ApiError;
use crate::extract::AppSlot;
use crate::store::Store;

/// Standard base64, with or without padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The application a request authenticated as.
#[derive(Debug, Clone)]
pub(crate) struct RehookAuth {
    /// The application's API key.
    pub(crate) api_key: String,
}

/// Split `Authorization: Basic base64(user:password)` into its two parts.
pub(crate) fn basic_credentials(parts: &Parts) -> Result<(String, String), &'static str> {
    let value = parts
        .headers
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
        let registry = store.read();
        let app = registry
            .by_api_key(&key)
            .ok_or_else(|| ApiError::unauthorized("unknown API key or wrong secret"))?;
        let expected = app.config().api_secret.as_bytes();
        if !bool::from(expected.ct_eq(secret.as_bytes())) {
            return Err(ApiError::unauthorized("unknown API key or wrong secret"));
        }
        AppSlot::tag(parts, &key);
        Ok(RehookAuth { api_key: key })
    }
}

/// `GET /events/segment/check-auth`: `200 {"status": "ok"}` for valid credentials.
pub(crate) async fn auth_check(_auth: RehookAuth) -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
