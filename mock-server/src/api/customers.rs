//! Customer handlers: upsert, get, validate a code, list referrals.

use std::sync::Arc;

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::Method;
use serde_json::json;

use super::auth::RehookAuth;
use super::write_call;
use crate::body::RawBody;
use crate::error::{ApiError, ErrorCode};
use crate::extract::PathParam;
use crate::rehook::{Answer, Call};
use crate::store::{Customer, Store};

/// `POST /customers`: create (`201`) or update (`200`) by source_id.
pub(crate) async fn customers_upsert(
    State(store): State<Arc<Store>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    auth: RehookAuth,
    body: RawBody,
) -> Result<Answer, ApiError> {
    write_call(
        &store,
        &auth.api_key,
        Call::UpsertCustomer,
        &method,
        &uri,
        &body,
    )
}

fn customer_not_found(key: &str) -> ApiError {
    ApiError::new(
        ErrorCode::CustomerNotFound,
        format!("no customer has the source_id or id {key:?}"),
    )
    .with_details(json!({ "source_id": key }))
}

/// `GET /customers/{id}`: by source_id, else by `cust_` id.
pub(crate) async fn customers_get(
    State(store): State<Arc<Store>>,
    auth: RehookAuth,
    PathParam(key): PathParam,
) -> Result<Json<Customer>, ApiError> {
    store
        .with_app(Some(&auth.api_key), |app| {
            app.customer_by_source_or_id(&key)
        })?
        .map(Json)
        .ok_or_else(|| customer_not_found(&key))
}

/// `GET /customers/validate-code/{code}`: the advocate who owns the code.
pub(crate) async fn customers_validate_code(
    State(store): State<Arc<Store>>,
    auth: RehookAuth,
    PathParam(code): PathParam,
) -> Result<Json<Customer>, ApiError> {
    store
        .with_app(Some(&auth.api_key), |app| app.code_owner(&code))?
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ReferralCodeNotFound,
                format!("no customer owns referral_code {code:?}"),
            )
            .with_details(json!({ "referral_code": code }))
        })
}

/// `GET /customers/referral/list/{source_id}`: the customers it referred, oldest first.
pub(crate) async fn customers_referrals(
    State(store): State<Arc<Store>>,
    auth: RehookAuth,
    PathParam(source_id): PathParam,
) -> Result<Json<Vec<Customer>>, ApiError> {
    store
        .with_app(Some(&auth.api_key), |app| {
            app.customer(&source_id)
                .map(|_| app.referred_by(&source_id))
        })?
        .map(Json)
        .ok_or_else(|| customer_not_found(&source_id))
}
