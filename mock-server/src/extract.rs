//! Extractors whose rejections are [`ApiError`]s, so no framework text ever reaches a client.

use std::sync::{Arc, OnceLock};

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::error::{ApiError, ErrorCode};

/// One path parameter, percent-decoded.
#[derive(Debug, Clone)]
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| PathParam(value))
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::BadRequest,
                    format!("the path could not be read: {}", e.body_text()),
                )
            })
    }
}

/// Query parameters, deserialised into `T`.
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| QueryParams(value))
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("the query string is not valid: {}", e.body_text()),
                )
                .with_details(json!({ "query": parts.uri.query() }))
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
