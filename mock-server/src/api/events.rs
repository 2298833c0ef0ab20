//! `POST /events/invoke`.

use std::sync::Arc;

use axum::extract::{OriginalUri, State};
use axum::http::Method;

use super::auth::RehookAuth;
use super::write_call;
use crate::body::RawBody;
use crate::error::ApiError;
use crate::rehook::{Answer, Call};
use crate::store::Store;

/// `POST /events/invoke`: store an event; conversions attribute referrals.
pub(crate) async fn events_invoke(
    State(store): State<Arc<Store>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    auth: RehookAuth,
    body: RawBody,
) -> Result<Answer, ApiError> {
    write_call(&store, &auth, Call::InvokeEvent, &method, &uri, &body)
}
