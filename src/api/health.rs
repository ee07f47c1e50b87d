//! Liveness and readiness probes, outside the versioned API.
use poem::{handler, http::StatusCode, web::Data, IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// The process is up.
#[handler]
pub fn healthz() -> Response {
    (StatusCode::OK, "ok").into_response()
}

/// The process can serve: its database answers (503 otherwise). The body also
/// says whether the realtime bus (Redis) is connected: while it is not, the
/// instance still serves everything, but its events reach only its own
/// sockets, so it stays in rotation (every instance shares that Redis).
#[handler]
pub async fn readyz(state: Data<&AppState>) -> Response {
    let database = state.db.ping().await;
    let bus = match (state.settings.redis_url.is_some(), state.realtime.bus_ready()) {
        (false, _) => "not_configured",
        (true, true) => "up",
        (true, false) => "down",
    };
    let status = if database {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if database { "ready" } else { "database unreachable" },
        "database": if database { "up" } else { "down" },
        "realtime_bus": bus,
    });
    (status, poem::web::Json(body)).into_response()
}
