//! Admin handlers, one per route; each answers with owned data taken from the store.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::Admin;
use crate::body::{BodyRules, RawBody};
use crate::config::ConfigDoc;
use crate::error::{ApiError, ErrorCode};
use crate::extract::PathParam;
use crate::store::{Customer, DeliveryEntry, DropEntry, Event, JournalEntry, StateDoc, Store};

/// `GET /__admin/health` (server-wide: a valid `?app=` is accepted and ignored).
pub(crate) async fn admin_health(_: Admin) -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// `GET /__admin/customers`: all customers, sorted by source_id.
pub(crate) async fn admin_customers(
    Admin(q): Admin,
    State(store): State<Arc<Store>>,
) -> Result<Json<Vec<Customer>>, ApiError> {
    store.customers(q.app.as_deref()).map(Json)
}

/// `GET /__admin/customers/{source_id}`.
pub(crate) async fn admin_customer(
    Admin(q): Admin,
    State(store): State<Arc<Store>>,
    source_id: PathParam,
) -> Result<Json<Customer>, ApiError> {
    store
        .with_app(q.app.as_deref(), |app| {
            source_id.key().and_then(|k| app.customer(k))
        })?
        .map(Json)
        .ok_or_else(|| ApiError::customer_not_found(source_id.shown()))
}

/// `GET /__admin/events[?source_id=]`: events in arrival order.
pub(crate) async fn admin_events(
    Admin(q): Admin,
    State(store): State<Arc<Store>>,
) -> Result<Json<Vec<Event>>, ApiError> {
    store
        .with_app(q.app.as_deref(), |app| app.events(q.source_id.as_deref()))
        .map(Json)
}

/// `GET /__admin/drops[?source_id=]`: the drop log in arrival order; with `source_id`, only
/// the refusals of requests whose body names that customer (so a reader checking a few
/// customers need not read the whole log).
pub(crate) async fn admin_drops(
    Admin(q): Admin,
    State(store): State<Arc<Store>>,
) -> Result<Json<Vec<DropEntry>>, ApiError> {
    match q.source_id.as_deref() {
        Some(source_id) => store.with_app(q.app.as_deref(), |app| app.drops_of(source_id)),
        None => store.drops(q.app.as_deref()),
    }
    .map(Json)
}

/// The answer header of `GET /__admin/deliveries` giving the log's length: the cursor
/// (`?after=`) that reads only entries written after this answer.
pub(crate) const DELIVERY_LOG_LENGTH: &str = "x-delivery-log-length";

/// `GET /__admin/deliveries[?after=N][&limit=M]`: the front-door delivery log in arrival
/// order; with `after`, only the entries after the first N, so a reader that has seen N
/// entries fetches just the new ones (its next cursor is N plus the number returned); with
/// `limit`, at most M of them. The `x-delivery-log-length` header gives the log's length, so
/// `?limit=0` learns the current cursor without reading the log.
pub(crate) async fn admin_deliveries(
    Admin(q): Admin,
    State(store): State<Arc<Store>>,
) -> Result<([(&'static str, String); 1], Json<Vec<DeliveryEntry>>), ApiError> {
    let after = q.after.unwrap_or(0);
    let (entries, len) = store
        .with_app(q.app.as_deref(), |app| {
            app.deliveries_after(after, q.limit.unwrap_or(usize::MAX))
        })?
        .map_err(|len| {
            ApiError::new(
                ErrorCode::InvalidQuery,
                format!(
                    "the delivery log holds {len} entries, fewer than after={after}: it was reset or replaced since that cursor was taken"
                ),
            )
            .with_details(json!({ "parameter": "after", "after": after, "entries": len }))
        })?;
    Ok(([(DELIVERY_LOG_LENGTH, len.to_string())], Json(entries)))
}

/// `GET /__admin/requests[?app=]`: the journal, newest last; `?app=` keeps one application's.
pub(crate) async fn admin_requests(
    Admin(q): Admin,
    State(store): State<Arc<Store>>,
) -> Result<Json<Vec<JournalEntry>>, ApiError> {
    // `Admin` has checked that a named application exists.
    Ok(Json(store.journal().entries(q.app.as_deref())))
}

/// `GET /__admin/unknown-sources`: front-door messages for write keys no application owns
/// (server-wide: a valid `?app=` is accepted and ignored).
pub(crate) async fn admin_unknown_sources(
    _: Admin,
    State(store): State<Arc<Store>>,
) -> Json<Vec<Value>> {
    Json(store.unknown_sources())
}

/// `POST /__admin/reset[?all=true]`: empty one application, or all of them.
pub(crate) async fn admin_reset(
    Admin(q): Admin,
    State(store): State<Arc<Store>>,
    body: RawBody,
) -> Result<Json<Value>, ApiError> {
    body.check_ignored(BodyRules::API)?;
    store.reset(q.app.as_deref(), q.all)?;
    Ok(Json(json!({ "status": "ok" })))
}

/// `GET /__admin/config[?secrets=true]` (server-wide: a valid `?app=` is accepted and
/// ignored).
pub(crate) async fn admin_config_get(
    Admin(q): Admin,
    State(store): State<Arc<Store>>,
) -> Json<Value> {
    Json(store.config_doc(q.secrets))
}

/// `PUT /__admin/config`: replace the applications and their settings (server-wide: a valid
/// `?app=` is accepted and ignored).
pub(crate) async fn admin_config_put(
    _: Admin,
    State(store): State<Arc<Store>>,
    body: RawBody,
) -> Result<Json<Value>, ApiError> {
    let doc = body.json_object(BodyRules::API)?;
    let doc: ConfigDoc = serde_json::from_value(Value::Object(doc)).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidConfig,
            format!("the config is not valid: {e}"),
        )
    })?;
    store.put_config(doc)?;
    Ok(Json(store.config_doc(false)))
}

/// `GET /__admin/state[?secrets=true]`: config and data as one document (server-wide: a valid
/// `?app=` is accepted and ignored).
pub(crate) async fn admin_state_get(
    Admin(q): Admin,
    State(store): State<Arc<Store>>,
) -> Json<StateDoc> {
    Json(store.export(q.secrets))
}

/// `PUT /__admin/state`: replace the whole state at once (server-wide: a valid `?app=` is
/// accepted and ignored).
pub(crate) async fn admin_state_put(
    _: Admin,
    State(store): State<Arc<Store>>,
    body: RawBody,
) -> Result<Json<Value>, ApiError> {
    let doc = body.json_object(BodyRules::STATE)?;
    let doc: StateDoc = serde_json::from_value(Value::Object(doc)).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidState,
            format!("the state document is not valid: {e}"),
        )
    })?;
    store.import(doc)?;
    Ok(Json(json!({ "status": "ok" })))
}

/// The fault settings as `GET` and `POST /__admin/faults` show them.
fn faults_doc(store: &Store) -> Value {
    json!({ "fail_front_door_requests": store.front_door_faults() })
}

/// `GET /__admin/faults`: how many of the next front-door requests will be answered `500`
/// (server-wide: a valid `?app=` is accepted and ignored).
pub(crate) async fn admin_faults_get(_: Admin, State(store): State<Arc<Store>>) -> Json<Value> {
    Json(faults_doc(&store))
}

/// `POST /__admin/faults` with `{"fail_front_door_requests": N}`: answer the next N front-door
/// requests with `500 INJECTED_FAULT` (`0` turns it off); the count replaces any pending one.
pub(crate) async fn admin_faults_set(
    _: Admin,
    State(store): State<Arc<Store>>,
    body: RawBody,
) -> Result<Json<Value>, ApiError> {
    let doc = body.json_object(BodyRules::API)?;
    let invalid = |message: String| {
        ApiError::new(ErrorCode::InvalidBody, message)
            .with_details(json!({ "field": "fail_front_door_requests" }))
    };
    if let Some(unknown) = doc.keys().find(|k| *k != "fail_front_door_requests") {
        return Err(invalid(format!(
            "unknown fault setting {unknown:?}; the one setting is fail_front_door_requests"
        )));
    }
    let count = match doc.get("fail_front_door_requests") {
        Some(value) => whole_number(value).ok_or_else(|| {
            invalid(format!(
                "fail_front_door_requests must be a whole number of requests, 0 or more; got {value}"
            ))
        })?,
        None => {
            return Err(invalid(
                "send {\"fail_front_door_requests\": N}, the number of front-door requests to answer with 500".to_owned(),
            ));
        }
    };
    store.fail_front_door_requests(count);
    Ok(Json(faults_doc(&store)))
}

/// A JSON number that is a whole number of 0 or more (`2`, and `2.0` as the product reads
/// `4021.0` elsewhere), as a count.
fn whole_number(value: &Value) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    let f = value.as_f64()?;
    // Below 2^64 every f64 that is whole converts exactly.
    (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < u64::MAX as f64).then_some(f as u64)
}
