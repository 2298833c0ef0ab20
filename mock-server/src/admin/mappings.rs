//! `GET`/`PUT /__admin/mappings?app=KEY`: one application's custom mappings.
//!
//! The document is a mapping file's (`{"mappings": [...]}`); `GET` shows the defaults' when no
//! custom mappings are loaded, so what it shows can always be `PUT` back. A refused document
//! (`400 INVALID_MAPPINGS`, `details` naming the mapping's index, its name and the field)
//! changes nothing.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use super::Admin;
use crate::body::{BodyRules, RawBody};
use crate::error::ApiError;
use crate::segment::MappingSet;
use crate::store::Store;

/// `GET /__admin/mappings[?app=]`: the application's mappings.
pub(crate) async fn admin_mappings_get(
    Admin(q): Admin,
    State(store): State<Arc<Store>>,
) -> Result<Json<Value>, ApiError> {
    store.mappings_doc(q.app.as_deref()).map(Json)
}

/// `PUT /__admin/mappings[?app=]`: replace the application's mappings; answers with them.
pub(crate) async fn admin_mappings_put(
    Admin(q): Admin,
    State(store): State<Arc<Store>>,
    body: RawBody,
) -> Result<Json<Value>, ApiError> {
    let doc = body.json_object(BodyRules::API)?;
    let set = MappingSet::from_json(&Value::Object(doc))?;
    store.put_mappings(q.app.as_deref(), set)?;
    store.mappings_doc(q.app.as_deref()).map(Json)
}
