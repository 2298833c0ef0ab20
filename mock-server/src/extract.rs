//! Extractors whose rejections are [`ApiError`]s, so no framework text ever reaches a client.

use std::sync::{Arc, OnceLock};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::ApiError;

/// The one path parameter of a route (always its last segment), percent-decoded.
///
/// A parameter whose bytes are not UTF-8 once decoded (`/customers/%FF`) cannot name any
/// customer or code, so it is kept as "names nothing" and the handler answers its own `404`.
#[derive(Debug, Clone)]
pub struct PathParam {
    /// The decoded text; lossy when `exact` is false.
    text: String,
    /// Whether `text` is exactly what was sent.
    exact: bool,
}

impl PathParam {
    /// The parameter, when it can name something.
    pub fn key(&self) -> Option<&str> {
        self.exact.then_some(self.text.as_str())
    }

    /// The parameter for messages (invalid bytes shown as U+FFFD).
    pub fn shown(&self) -> &str {
        &self.text
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Every route with a parameter ends with it, and the router has matched the route, so
        // the last segment of the raw path is the parameter, still percent-encoded (the
        // framework's own extractors refuse undecodable bytes instead).
        let raw = parts.uri.path().rsplit('/').next().unwrap_or("");
        let decoded = percent_encoding::percent_decode_str(raw);
        Ok(match decoded.clone().decode_utf8() {
            Ok(text) => PathParam {
                text: text.into_owned(),
                exact: true,
            },
            Err(_) => PathParam {
                text: decoded.decode_utf8_lossy().into_owned(),
                exact: false,
            },
        })
    }
}

/// A slot the request middleware puts in every request; whoever resolves the application
/// (the auth extractors) writes its key here so the journal and the logs can tag the request.
#[derive(Debug, Clone, Default)]
pub(crate) struct AppSlot(pub(crate) Arc<OnceLock<String>>);

impl AppSlot {
    /// Tag the request with `api_key` (first writer wins).
    pub(crate) fn tag(parts: &Parts, api_key: &str) {
        if let Some(slot) = parts.extensions.get::<AppSlot>() {
            let _ = slot.0.set(api_key.to_owned());
        }
    }

    /// The application the request was tagged with.
    pub(crate) fn get(&self) -> Option<String> {
        self.0.get().cloned()
    }
}

/// Where [`crate::body::RawBody`] leaves the request body it read, for the journal.
#[derive(Debug, Clone, Default)]
pub(crate) struct BodySlot(pub(crate) Arc<OnceLock<crate::store::Captured>>);

impl BodySlot {
    /// The body as captured, if a handler read it.
    pub(crate) fn get(&self) -> Option<crate::store::Captured> {
        self.0.get().cloned()
    }
}
