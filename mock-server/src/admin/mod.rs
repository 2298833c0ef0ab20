//! The `/__admin` control plane (contract section 4): inspect, reset, configure, export and
//! import. No Basic auth; with an admin token, `Authorization: Bearer <token>` is required.
//! `?app=KEY` selects an application, the default one without it.
//!
//! Every handler takes [`Admin`], which checks the token and then reads the query strictly:
//! an unknown parameter is `400 INVALID_QUERY` and an `?app=` that names no application is
//! `404 APP_NOT_FOUND` on every route, also on those (health, config, state, unknown-sources)
//! that are server-wide and otherwise ignore it.

mod handlers;
mod mappings;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ErrorCode};
use crate::extract::QueryParams;
use crate::store::Store;

/// The admin routes, to be nested under `/__admin`.
pub(crate) fn routes() -> Router<Arc<Store>> {
    Router::new()
        .route("/health", get(handlers::admin_health))
        .route("/customers", get(handlers::admin_customers))
        .route("/customers/{source_id}", get(handlers::admin_customer))
        .route("/events", get(handlers::admin_events))
        .route("/drops", get(handlers::admin_drops))
        .route("/deliveries", get(handlers::admin_deliveries))
        .route("/requests", get(handlers::admin_requests))
        .route("/unknown-sources", get(handlers::admin_unknown_sources))
        .route("/reset", post(handlers::admin_reset))
        .route(
            "/faults",
            get(handlers::admin_faults_get).post(handlers::admin_faults_set),
        )
        .route(
            "/config",
            get(handlers::admin_config_get).put(handlers::admin_config_put),
        )
        .route(
            "/state",
            get(handlers::admin_state_get).put(handlers::admin_state_put),
        )
        .route(
            "/mappings",
            get(mappings::admin_mappings_get).put(mappings::admin_mappings_put),
        )
}

/// The query parameters the admin API understands; any other is `400 INVALID_QUERY`, so a
/// typo (`?ALL=true`) is never read as "no parameter".
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdminQuery {
    /// Which application (API key); the default one when absent.
    pub(crate) app: Option<String>,
    /// `reset`: every application.
    #[serde(default)]
    pub(crate) all: bool,
    /// `config` and `state`: include API secrets.
    #[serde(default)]
    pub(crate) secrets: bool,
    /// `events`: only this customer's.
    pub(crate) source_id: Option<String>,
}

/// An admin request that may go on: the token (when one is required) matched, the query
/// holds only known parameters, and its `?app=`, when given, names a running application.
///
/// The application is checked here once for every route; the handlers that act on it select
/// it again under the lock, so one removed in between is still a clean `404 APP_NOT_FOUND`.
#[derive(Debug)]
pub(crate) struct Admin(pub(crate) AdminQuery);

impl FromRequestParts<Arc<Store>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        store: &Arc<Store>,
    ) -> Result<Self, Self::Rejection> {
        // Order of checks: auth (401) before anything the request says.
        AdminAccess::from_request_parts(parts, store).await?;
        let QueryParams(query) =
            QueryParams::<AdminQuery>::from_request_parts(parts, store).await?;
        if let Some(app) = query.app.as_deref() {
            store.with_app(Some(app), |_| ())?;
        }
        Ok(Admin(query))
    }
}

/// Proof that the caller may use the admin API.
#[derive(Debug, Clone, Copy)]
struct AdminAccess;

impl FromRequestParts<Arc<Store>> for AdminAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        store: &Arc<Store>,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = store.admin_token() else {
            return Ok(AdminAccess);
        };
        let sent = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim());
        match sent {
            Some(t) if bool::from(t.as_bytes().ct_eq(token.as_bytes())) => Ok(AdminAccess),
            _ => Err(ApiError::new(
                ErrorCode::Unauthorized,
                "the admin API needs `Authorization: Bearer <admin token>`",
            )
            .with_header(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rehook-admin\""),
            )),
        }
    }
}
