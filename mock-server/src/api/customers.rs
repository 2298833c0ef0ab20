//! Customer handlers: upsert, get, validate a code, list referrals.

use std::sync::Arc;

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::Method;
use serde_json::json;

use super::auth::RehookAuth;
use super::write_call;
use crate::body::{BodyRules, RawBody};
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
    write_call(&store, &auth, Call::UpsertCustomer, &method, &uri, &body)
}

/// `GET /customers/{id}`: by source_id, else by `cust_` id.
pub(crate) async fn customers_get(
    State(store): State<Arc<Store>>,
    auth: RehookAuth,
    key: PathParam,
    body: RawBody,
) -> Result<Json<Customer>, ApiError> {
    body.check_ignored(BodyRules::API)?;
    auth.with_app(&store, |app| {
        Ok(key.key().and_then(|k| app.customer_by_source_or_id(k)))
    })?
    .map(Json)
    .ok_or_else(|| ApiError::customer_not_found(key.shown()))
}

/// `GET /customers/validate-code/{code}`: the advocate who owns the code.
pub(crate) async fn customers_validate_code(
    State(store): State<Arc<Store>>,
    auth: RehookAuth,
    code: PathParam,
    body: RawBody,
) -> Result<Json<Customer>, ApiError> {
    body.check_ignored(BodyRules::API)?;
    auth.with_app(&store, |app| Ok(code.key().and_then(|c| app.code_owner(c))))?
        .map(Json)
        .ok_or_else(|| {
            let code = code.shown();
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
    source_id: PathParam,
    body: RawBody,
) -> Result<Json<Vec<Customer>>, ApiError> {
    body.check_ignored(BodyRules::API)?;
    auth.with_app(&store, |app| {
        Ok(source_id
            .key()
            .filter(|key| app.data.customers.contains_key(*key))
            .map(|key| app.referred_by(key)))
    })?
    .map(Json)
    .ok_or_else(|| ApiError::customer_not_found(source_id.shown()))
}
