//! The request id every response carries in `x-request-id` and every error body repeats.
//!
//! The request middleware draws an id and runs the rest of the request inside a task-local
//! scope, so code deep inside a request (error rendering, the drop log) reads the same id
//! without threading it through every signature.

use std::future::Future;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served, or `req_unscoped` outside of one.
pub fn current() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "req_unscoped".to_owned())
}

/// Run `fut` with `id` as the current request id.
pub(crate) async fn scope<F: Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}
