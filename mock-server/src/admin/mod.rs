//! The `/__admin` control plane (contract section 4): inspect, reset, configure, export and
//! import. No Basic auth; with an admin token, `Authorization: Bearer <token>` is required.
//! `?app=KEY` selects an application, the default one without it.
//!
//! Every handler takes [`Admin`], which checks the token and then reads the query strictly:
//! a parameter the route does not take is `400 INVALID_QUERY` and an `?app=` that names no application is
//! `404 APP_NOT_FOUND` on every route, also on those (health, config, state, unknown-sources)
//! that are server-wide and otherwise ignore it.

mod handlers;
mod mappings;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::routing::{get, post};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ErrorCode};
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

/// The query parameters of an admin request, read strictly: each route takes its own few
/// ([`route_parameters`]), and any other, a repeated one or a value that cannot be read is
/// `400 INVALID_QUERY` naming the parameter, so a typo (`?ALL=true`) or a parameter of another
/// route (`/deliveries?source_id=`) is never read as "no parameter".
#[derive(Debug, Default)]
pub(crate) struct AdminQuery {
    /// Which application (API key); the default one when absent.
    pub(crate) app: Option<String>,
    /// `reset`: every application.
    pub(crate) all: bool,
    /// `config` and `state`: include API secrets.
    pub(crate) secrets: bool,
    /// `events` and `drops`: only this customer's.
    pub(crate) source_id: Option<String>,
    /// `deliveries`: only the entries after the first `after` of the log (a cursor).
    pub(crate) after: Option<usize>,
    /// `deliveries`: at most this many entries.
    pub(crate) limit: Option<usize>,
}

/// The parameters a route takes, by method and path (inside `/__admin`).
fn route_parameters(method: &Method, path: &str) -> &'static [&'static str] {
    match (method.as_str(), path) {
        ("GET" | "HEAD", "/events" | "/drops") => &["app", "source_id"],
        ("GET" | "HEAD", "/deliveries") => &["app", "after", "limit"],
        ("POST", "/reset") => &["app", "all"],
        ("GET" | "HEAD", "/config" | "/state") => &["app", "secrets"],
        _ => &["app"],
    }
}

impl AdminQuery {
    /// Reads the query of `uri` for the route at `method` `uri`'s path.
    fn read(method: &Method, uri: &Uri) -> Result<Self, ApiError> {
        // Inside the nested router the path has lost its `/__admin` prefix.
        let path = uri.path();
        let mut out = AdminQuery::default();
        let Some(raw) = uri.query().filter(|q| !q.is_empty()) else {
            return Ok(out);
        };
        let invalid = |message: String, parameter: Option<&str>| {
            ApiError::new(ErrorCode::InvalidQuery, message)
                .with_details(json!({ "query": raw, "parameter": parameter }))
        };
        let Ok(Query(pairs)) = Query::<Vec<(String, String)>>::try_from_uri(uri) else {
            return Err(invalid(
                "the query string cannot be read: it is not percent-encoded UTF-8".to_owned(),
                None,
            ));
        };
        let allowed = route_parameters(method, path);
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in &pairs {
            let Some(&name) = allowed.iter().find(|a| **a == name.as_str()) else {
                return Err(invalid(
                    format!(
                        "{method} /__admin{path} takes no query parameter {name:?}; it takes {}",
                        allowed.join(", ")
                    ),
                    Some(name),
                ));
            };
            if seen.contains(&name) {
                return Err(invalid(
                    format!("the query parameter {name} is given twice"),
                    Some(name),
                ));
            }
            seen.push(name);
            let flag = || match value.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(invalid(
                    format!("the query parameter {name} must be true or false, got {value:?}"),
                    Some(name),
                )),
            };
            match name {
                "app" => out.app = Some(value.clone()),
                "source_id" => out.source_id = Some(value.clone()),
                "all" => out.all = flag()?,
                "secrets" => out.secrets = flag()?,
                "after" | "limit" => {
                    // Digits only: `+1`, `-1`, ` 1` and `1.0` are not a number of entries.
                    let read = value
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                        .then(|| value.parse::<usize>().ok())
                        .flatten()
                        .ok_or_else(|| {
                            invalid(
                                format!(
                                    "the query parameter {name} must be a whole number of entries, 0 or more, got {value:?}"
                                ),
                                Some(name),
                            )
                        })?;
                    if name == "after" {
                        out.after = Some(read);
                    } else {
                        out.limit = Some(read);
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

/// An admin request that may go on: the token (when one is required) matched, the query
/// holds only the route's parameters, and its `?app=`, when given, names a running
/// application.
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
        let query = AdminQuery::read(&parts.method, &parts.uri)?;
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
