//! The Rehook HTTP surface (contract section 2): one file per resource.
//!
//! The same routes are served at the root and under `/api`.

pub(crate) mod auth;
mod customers;
mod events;

use auth::RehookAuth;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use axum::http::{Method, Uri};

use crate::body::{BodyRules, RawBody};
use crate::error::ApiError;
use crate::rehook::{self, Answer, Call, CallContext};
use crate::store::Store;
use crate::store::ids::now;

/// The Rehook API routes.
pub(crate) fn routes() -> Router<Arc<Store>> {
    Router::new()
        .route("/customers", post(customers::customers_upsert))
        .route(
            "/customers/{id}",
            get(customers::customers_get).post(customers::customers_get),
        )
        .route(
            "/customers/validate-code/{code}",
            get(customers::customers_validate_code).post(customers::customers_validate_code),
        )
        .route(
            "/customers/referral/list/{source_id}",
            get(customers::customers_referrals),
        )
        .route(
            "/customers/referrals/{source_id}",
            get(customers::customers_referrals),
        )
        .route("/events/invoke", post(events::events_invoke))
        .route("/events/segment/check-auth", get(auth::auth_check))
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// Read the body and run one writing call for the authenticated application.
pub(crate) fn write_call(
    store: &Store,
    auth: &RehookAuth,
    call: Call,
    method: &Method,
    uri: &Uri,
    body: &RawBody,
) -> Result<Answer, ApiError> {
    let body = body.json_object(BodyRules::API)?;
    let ctx = CallContext {
        request_id: crate::request_id::current(),
        endpoint: format!("{method} {}", uri.path()),
        now: now(),
    };
    auth.with_app(store, |app| rehook::apply(app, call, &body, &ctx))
}
