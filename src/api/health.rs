//! Liveness and readiness probes, outside the versioned API.
use poem::{handler, http::StatusCode, web::Data, IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// The process is up.
#[handler]
pub fn healthz() -> Response {
    (StatusCode::OK, "ok").into_response()
}

/// The process can serve: it is not shutting down, its database answers and,
/// when `REDIS_URL` is set, its realtime bus (Redis) is connected; 503
/// otherwise. Without the bus an instance's events would reach only its own
/// sockets, so a load balancer should send its users elsewhere. On SIGTERM this
/// turns to 503 at once while requests are still served (the drain). A
/// built-in model is ready once it has read what every check starts with
/// (after a start, before that, a learner's first turn waits for it).
#[handler]
pub async fn readyz(state: Data<&AppState>) -> Response {
    let draining = !state.lifecycle.is_serving();
    let database = state.db.ping().await;
    let bus = match (state.settings.redis_url.is_some(), state.realtime.bus_ready()) {
        (false, _) => "not_configured",
        (true, true) => "up",
        (true, false) => "down",
    };
    let model = match &state.bot {
        Err(_) => "not_configured",
        Ok(bot) if bot.warming() => "warming_up",
        Ok(_) => "ready",
    };
    let status = if draining {
        "draining"
    } else if !database {
        "database unreachable"
    } else if bus == "down" {
        "realtime bus unreachable"
    } else if model == "warming_up" {
        "model warming up"
    } else {
        "ready"
    };
    let code = if status == "ready" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": status,
        "database": if database { "up" } else { "down" },
        "realtime_bus": bus,
        "model": model,
    });
    (code, poem::web::Json(body)).into_response()
}
