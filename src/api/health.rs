//! Liveness and readiness probes, outside the versioned API.
use poem::{handler, http::StatusCode, web::Data, IntoResponse, Response};

use crate::state::AppState;

/// The process is up.
#[handler]
pub fn healthz() -> Response {
    (StatusCode::OK, "ok").into_response()
}

/// The process can serve: its database answers.
#[handler]
pub async fn readyz(state: Data<&AppState>) -> Response {
    if state.db.ping().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    }
}
