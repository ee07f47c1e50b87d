//! The baseline the service is measured against: a bare poem handler that
//! verifies the same JWT (with the service's own `JwtKeys`) and answers a small
//! JSON object, with no database, no middleware and no log line.
use std::time::Duration;

use chattconnect::auth::jwt::JwtKeys;
use clap::Parser;
use futures_util::FutureExt;
use poem::{
    get, handler, http::StatusCode, listener::TcpListener, web::Data, EndpointExt, IntoResponse, Request, Response,
    Route, Server,
};
use serde_json::json;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:3996")]
    bind: String,
    /// The JWT secret the tokens were signed with.
    #[arg(long, env = "JWT_SECRET")]
    secret: String,
}

#[handler]
fn me(req: &Request, keys: Data<&JwtKeys>) -> Response {
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default();
    match keys.verify(token) {
        Some(claims) => poem::web::Json(json!({
            "id": claims.sub, "username": "bench", "display_name": "Bench",
            "created_at": "2026-11-22T00:00:00Z", "online": false, "role": "user", "level": "B1"
        }))
        .into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let keys = JwtKeys::new(args.secret.as_bytes(), "chattconnect", 900);
    let app = Route::new().at("/api/v1/me", get(me)).data(keys);
    Server::new(TcpListener::bind(args.bind))
        .run_with_graceful_shutdown(app, tokio::signal::ctrl_c().map(|_| ()), Some(Duration::from_secs(1)))
        .await
}
