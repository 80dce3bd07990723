//! `GET /healthz` and `GET /readyz`: for load balancers and orchestrators.
//! Neither needs credentials, and neither says more than which part fails
//! (the reason goes to the log, under the request's log id).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::response::json_response;
use crate::AppState;

/// 200 while the process serves requests.
pub async fn healthz() -> Response {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

/// 200 when the database and the blob store both answer; 503 naming those
/// that do not.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let (database, blobs) = tokio::join!(state.meta.check(), state.blobs.check());
    let mut failing = Vec::new();
    for (part, result) in [("database", database), ("blobs", blobs)] {
        if let Err(e) = result {
            tracing::warn!(error = %e, "not ready: {part}");
            failing.push(part);
        }
    }
    if failing.is_empty() {
        json_response(StatusCode::OK, &json!({"status": "ready"}))
    } else {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "not ready", "failing": failing}),
        )
    }
}
