//! Request guards that run before any handler: the body size cap and deadline,
//! and the rules every text input follows whatever endpoint it reaches.
//!
//! Text rule: no string in a JSON body or a query parameter may contain the NUL
//! character (U+0000). PostgreSQL cannot store it and no person types it, so it
//! is refused on every database alike with `400 validation_failed` naming the
//! field. Query parameters are at most `MAX_QUERY_VALUE` characters.
use std::time::Duration;

use futures_util::StreamExt;
use poem::{
    http::{header, Method},
    Body, Endpoint, IntoResponse, Request, Response,
};
use serde_json::Value;

use crate::{
    api::describe,
    error::{ApiError, BotError},
};

/// Longest value any query parameter may have. Tokens and cursors are far shorter.
pub const MAX_QUERY_VALUE: usize = 2048;

/// Reads the body of POST, PUT and PATCH requests in full before the handler
/// runs: at most `max` bytes (413 above, whether or not a length is declared),
/// within `deadline` (408 after), and with no NUL character in its strings.
///
/// A request the framework cannot parse (a path, query or body that does not fit
/// the spec) gets a 400 that names the field at fault.
pub async fn read_body<E: Endpoint>(ep: E, mut req: Request, max: usize, deadline: Duration) -> poem::Result<Response> {
    check_query(&req)?;
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    if !matches!(method, Method::POST | Method::PUT | Method::PATCH) {
        let result = ep.call(req).await.map(IntoResponse::into_response);
        return result.map_err(|e| named(e, &method, &path, None));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > max) {
        return Err(ApiError::PayloadTooLarge(Some(max)).into());
    }
    let body = req.take_body();
    let buf = tokio::time::timeout(deadline, collect(body, max))
        .await
        .map_err(|_| ApiError::RequestTimeout(deadline.as_secs()))??;
    if let Some(field) = nul_field(&buf) {
        return Err(nul_error(field).into());
    }
    let buf = bytes::Bytes::from(buf);
    req.set_body(Body::from(buf.clone()));
    let result = ep.call(req).await.map(IntoResponse::into_response);
    result.map_err(|e| named(e, &method, &path, Some(&buf)))
}

/// A framework 400 (not one of ours), described with the field at fault.
fn named(err: poem::Error, method: &Method, path: &str, body: Option<&[u8]>) -> poem::Error {
    if err.status() != poem::http::StatusCode::BAD_REQUEST || err.is::<ApiError>() || err.is::<BotError>() {
        return err;
    }
    match describe::parse_error(method.as_str(), path, body, &err.to_string()) {
        Some(described) => described.into(),
        None => err,
    }
}

async fn collect(body: Body, max: usize) -> Result<Vec<u8>, ApiError> {
    let mut stream = body.into_bytes_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::Validation {
            message: "the request body could not be read".into(),
            field: None,
        })?;
        if buf.len() + chunk.len() > max {
            return Err(ApiError::PayloadTooLarge(Some(max)));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

fn nul_error(field: String) -> ApiError {
    ApiError::Validation {
        message: format!("{field} must not contain the NUL character (U+0000)"),
        field: Some(field.into()),
    }
}

/// The name of the first JSON field whose string (or key) holds a NUL. JSON can
/// only carry NUL escaped, so bodies without `\u0000` are not parsed here.
fn nul_field(body: &[u8]) -> Option<String> {
    const ESCAPE: &[u8] = b"\\u0000";
    if !body.windows(ESCAPE.len()).any(|w| w == ESCAPE) {
        return None;
    }
    // Unparseable bodies are left to the handler's parser and its error.
    let value: Value = serde_json::from_slice(body).ok()?;
    find_nul(&value, "body")
}

fn find_nul(value: &Value, name: &str) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(name.to_owned()),
        Value::Array(items) => items.iter().find_map(|v| find_nul(v, name)),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(name.to_owned())
            } else {
                find_nul(v, k)
            }
        }),
        _ => None,
    }
}

fn check_query(req: &Request) -> Result<(), ApiError> {
    let Some(query) = req.uri().query() else {
        return Ok(());
    };
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(&text.replace('+', " "))
            .decode_utf8()
            .map(|t| t.into_owned())
    };
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let name = decode(name).unwrap_or_else(|_| name.to_owned());
        // A value whose bytes are not UTF-8 would be read with replacement
        // characters (and a search for "\u{FFFD}" answered): refused, named.
        let Ok(value) = decode(value) else {
            return Err(ApiError::validation(
                name.clone(),
                format!("{name} must be UTF-8 text (percent-encoded as UTF-8)"),
            ));
        };
        if name.contains('\0') || value.contains('\0') {
            return Err(nul_error(name.replace('\0', "")));
        }
        let len = value.chars().count();
        if len > MAX_QUERY_VALUE {
            return Err(ApiError::validation(
                name.clone(),
                format!("{name} must be at most {MAX_QUERY_VALUE} characters; it has {len}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_is_found_in_any_field_and_named() {
        assert_eq!(nul_field(br#"{"content":"hi\u0000"}"#).as_deref(), Some("content"));
        assert_eq!(
            nul_field(br#"{"a":"x","b":{"title":"\u0000"}}"#).as_deref(),
            Some("title")
        );
        assert_eq!(nul_field(br#"{"tags":["ok","\u0000"]}"#).as_deref(), Some("tags"));
    }

    #[test]
    fn an_escaped_backslash_before_u0000_is_not_a_nul() {
        assert_eq!(nul_field(br#"{"content":"C:\\u0000 is a path"}"#), None);
        assert_eq!(nul_field(br#"{"content":"plain"}"#), None);
    }
}
