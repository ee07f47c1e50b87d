//! A span per request: method, path, the matched operation, the caller and a
//! request id. Every log line inside the request (and in the tasks it spawns,
//! which `.in_current_span()`) carries them. The id goes back to the client in
//! `X-Request-Id` and in error bodies, so a report of a failure can be matched
//! to its log lines. A client may send its own `X-Request-Id` (1..64 of
//! `A-Z a-z 0-9 - _ .`); anything else is replaced by a new UUID.
use std::{cell::Cell, time::Instant};

use poem::{http::HeaderValue, Endpoint, IntoResponse, Request, Response};
use tracing::{field::Empty, Instrument};
use uuid::Uuid;

pub const HEADER: &str = "x-request-id";

/// What the request's task knows of it, for the lines that must name it
/// whatever the log level (an internal error's).
struct Current {
    id: String,
    user: Cell<Option<Uuid>>,
}

tokio::task_local! {
    static CURRENT: Current;
}

/// The id of the request this task serves, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(|c| c.id.clone()).ok()
}

/// The authenticated caller of the request this task serves, if known.
pub fn current_user() -> Option<Uuid> {
    CURRENT.try_with(|c| c.user.get()).ok().flatten()
}

/// Names the authenticated caller on the request's span (and for `current_user`).
pub fn record_user(user: Uuid) {
    let _ = CURRENT.try_with(|c| c.user.set(Some(user)));
    tracing::Span::current().record("user_id", tracing::field::display(user));
}

fn accepted(given: &str) -> bool {
    (1..=64).contains(&given.len())
        && given
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Runs the request in its span and logs one line when it ends. Errors are
/// turned into responses here, inside the span, so the one line an internal
/// error logs names its request.
pub async fn traced<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| accepted(v))
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    // At INFO, the default level; below it (`RUST_LOG=warn`) the span costs
    // nothing, and the lines that must name their request (an internal
    // error's, a 5xx's) carry its id themselves.
    let span = tracing::info_span!(
        "request",
        %method,
        %path,
        request_id = %id,
        operation = Empty,
        user_id = Empty,
    );
    let started = Instant::now();
    let call = async {
        let result = ep.call(req).await.map(IntoResponse::into_response);
        let operation = match &result {
            Ok(resp) => resp.data::<poem_openapi::OperationId>().map(|op| op.0),
            Err(err) => err.data::<poem_openapi::OperationId>().map(|op| op.0),
        };
        if let Some(operation) = operation {
            tracing::Span::current().record("operation", operation);
        }
        let resp = result.unwrap_or_else(|err| err.into_response());
        let status = resp.status();
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), elapsed_ms, request_id = %id, "request");
        } else {
            tracing::info!(status = status.as_u16(), elapsed_ms, "request");
        }
        resp
    };
    let current = Current {
        id: id.clone(),
        user: Cell::new(None),
    };
    let mut resp = CURRENT.scope(current, call.instrument(span)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER, value);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_id_is_kept_only_when_it_is_short_and_plain() {
        assert!(accepted("0b7c-retry_2.a"));
        assert!(!accepted(""));
        assert!(!accepted(&"a".repeat(65)));
        assert!(!accepted("a b"));
        assert!(!accepted("a\"b"));
    }
}
