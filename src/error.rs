//! The one error type of the API and its mapping to the contract's JSON body.
use std::borrow::Cow;

use poem::{error::ResponseError, http::StatusCode, Body, Response};
use poem_openapi::{
    registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry},
    types::Type,
    ApiResponse, Object,
};
use sea_orm::{DbErr, SqlErr};

use crate::domain::{quota::QuotaStatus, timestamp::Timestamp};

/// The body of every error response.
#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    /// Machine-readable code: `validation_failed`, `unauthorized`, `forbidden`, `not_found`,
    /// `conflict`, `payload_too_large`, `request_timeout`, `rate_limited`, `daily_quota_exceeded`,
    /// `bot_unavailable`, `bot_busy`, `bot_upstream_error`, `bot_upstream_timeout` or `internal`.
    pub error: String,
    /// A sentence for humans.
    pub message: String,
    /// The request field that failed validation.
    #[oai(skip_serializing_if_is_none)]
    pub field: Option<String>,
    /// Seconds until the request may be retried (429s, `bot_busy`).
    #[oai(skip_serializing_if_is_none)]
    pub retry_after: Option<u64>,
    /// Daily bot request limit (`daily_quota_exceeded`).
    #[oai(skip_serializing_if_is_none)]
    pub limit: Option<u32>,
    /// Bot requests left today (`daily_quota_exceeded`).
    #[oai(skip_serializing_if_is_none)]
    pub remaining: Option<u32>,
    /// When the daily bot quota resets (`daily_quota_exceeded`).
    #[oai(skip_serializing_if_is_none)]
    pub resets_at: Option<Timestamp>,
    /// The request's id, also in the `X-Request-Id` header: quote it when
    /// reporting a problem.
    #[oai(skip_serializing_if_is_none)]
    pub request_id: Option<String>,
}

/// The one line an internal error logs: the cause, and the request and caller
/// it happened to (also when the request's span is off, below INFO).
fn log_internal(err: &anyhow::Error) {
    let request_id = crate::request_id::current();
    let user_id = crate::request_id::current_user();
    tracing::error!(
        error = ?err,
        request_id = request_id.as_deref(),
        user_id = user_id.map(tracing::field::display),
        "internal error"
    );
}

fn too_large(limit: Option<usize>) -> String {
    match limit {
        Some(max) => format!("the request body is larger than {max} bytes"),
        None => "the request body is too large".into(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Validation {
        message: String,
        field: Option<Cow<'static, str>>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The body is over the limit, in bytes when it is known.
    #[error("{}", too_large(*.0))]
    PayloadTooLarge(Option<usize>),
    #[error("the request body did not arrive within {0} s")]
    RequestTimeout(u64),
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// Muted in a lounge (the spam rule or an admin) for `retry_after` more seconds.
    #[error("{message}; you can post here again in {retry_after} s")]
    Muted { message: String, retry_after: u64 },
    #[error("your other bot requests are still being answered and hold what is left of today's allowance; retry in {retry_after} s")]
    QuotaBusy { retry_after: u64 },
    #[error("you have used all {} bot requests for today; they reset at {}", .0.limit, .0.resets_at.format("%H:%M UTC"))]
    QuotaExceeded(QuotaStatus),
    #[error("{0}")]
    BotUnavailable(String),
    #[error("the tutor is answering other learners and its queue is full; this request was not counted, retry in {retry_after} s")]
    BotBusy { retry_after: u64 },
    #[error("{0}")]
    BotUpstream(String),
    #[error("{0}")]
    BotTimeout(String),
    /// Any error on a bot endpoint, carrying the caller's quota for the
    /// `RateLimit-*` headers.
    #[error("{0}")]
    WithQuota(Box<ApiError>, QuotaStatus),
    #[error("an internal error occurred")]
    Internal(#[source] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn validation(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::Validation {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    /// Maps a unique-constraint violation to 409 with `message`; anything else is internal.
    pub fn conflict_on_unique(err: DbErr, message: &str) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict(message.to_owned()),
            _ => Self::internal(err),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "validation_failed",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::RequestTimeout(_) => "request_timeout",
            Self::RateLimited { .. } | Self::QuotaBusy { .. } => "rate_limited",
            Self::Muted { .. } => "muted",
            Self::QuotaExceeded(_) => "daily_quota_exceeded",
            Self::BotUnavailable(_) => "bot_unavailable",
            Self::BotBusy { .. } => "bot_busy",
            Self::BotUpstream(_) => "bot_upstream_error",
            Self::BotTimeout(_) => "bot_upstream_timeout",
            Self::WithQuota(inner, _) => inner.code(),
            Self::Internal(_) => "internal",
        }
    }

    /// Attaches the caller's quota so the response carries `RateLimit-*` headers.
    pub fn with_quota(self, quota: QuotaStatus) -> Self {
        match self {
            Self::WithQuota(inner, _) => Self::WithQuota(inner, quota),
            other => Self::WithQuota(Box::new(other), quota),
        }
    }

    fn quota(&self) -> Option<&QuotaStatus> {
        match self {
            Self::QuotaExceeded(q) | Self::WithQuota(_, q) => Some(q),
            _ => None,
        }
    }

    pub fn body(&self) -> ErrorBody {
        if let Self::WithQuota(inner, _) = self {
            return inner.body();
        }
        let mut body = ErrorBody {
            error: self.code().to_owned(),
            message: self.to_string(),
            field: None,
            retry_after: None,
            limit: None,
            remaining: None,
            resets_at: None,
            request_id: crate::request_id::current(),
        };
        match self {
            Self::Validation { field, .. } => body.field = field.as_deref().map(str::to_owned),
            Self::RateLimited { retry_after }
            | Self::QuotaBusy { retry_after }
            | Self::BotBusy { retry_after }
            | Self::Muted { retry_after, .. } => body.retry_after = Some(*retry_after),
            Self::QuotaExceeded(q) => {
                body.retry_after = Some(q.reset_secs);
                body.limit = Some(q.limit);
                body.remaining = Some(0);
                body.resets_at = Some(q.resets_at.into());
            }
            _ => {}
        }
        body
    }

    /// Turns an error raised outside our handlers (routing, parsing, auth extraction,
    /// body limits) into the contract's shape, keeping the status.
    pub fn from_poem(err: &poem::Error) -> Self {
        let status = err.status();
        match status {
            StatusCode::BAD_REQUEST => Self::Validation {
                message: parse_error_message(&err.to_string()),
                field: None,
            },
            StatusCode::UNAUTHORIZED => Self::Unauthorized("a valid bearer access token is required".into()),
            StatusCode::NOT_FOUND => Self::NotFound("no such resource".into()),
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed("this method is not allowed on this path".into()),
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge(None),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::Validation {
                message: "the request body must be JSON (Content-Type: application/json)".into(),
                field: None,
            },
            s if s.is_client_error() => Self::Validation {
                message: parse_error_message(&err.to_string()),
                field: None,
            },
            _ => Self::Internal(anyhow::anyhow!("{err}")),
        }
    }
}

/// poem-openapi's parse errors are precise but wordy; keep what helps a client.
fn parse_error_message(raw: &str) -> String {
    let msg = raw
        .strip_prefix("parse request payload error: ")
        .or_else(|| raw.strip_prefix("failed to parse parameter "))
        .unwrap_or(raw);
    format!("invalid request: {msg}")
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        Self::internal(err)
    }
}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Validation { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::RateLimited { .. } | Self::QuotaBusy { .. } | Self::Muted { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::QuotaExceeded(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::BotUnavailable(_) | Self::BotBusy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::BotUpstream(_) => StatusCode::BAD_GATEWAY,
            Self::BotTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::WithQuota(inner, _) => inner.status(),
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_response(&self) -> Response {
        match self {
            Self::Internal(err) => log_internal(err),
            Self::WithQuota(inner, _) => {
                if let Self::Internal(err) = inner.as_ref() {
                    log_internal(err);
                }
            }
            _ => {}
        }
        let body = self.body();
        let mut builder = Response::builder()
            .status(self.status())
            .content_type("application/json; charset=utf-8");
        if let Some(secs) = body.retry_after {
            builder = builder.header("Retry-After", secs.to_string());
        }
        if let Some(q) = self.quota() {
            builder = builder
                .header("RateLimit-Limit", q.limit.to_string())
                .header("RateLimit-Remaining", q.remaining.to_string())
                .header("RateLimit-Reset", q.reset_secs.to_string());
        }
        let json = serde_json::to_vec(&poem_openapi::types::ToJSON::to_json(&body))
            .unwrap_or_else(|_| b"{\"error\":\"internal\",\"message\":\"an internal error occurred\"}".to_vec());
        builder.body(Body::from(json))
    }
}

fn error_response(status: u16, description: &'static str, retry_after: bool) -> MetaResponse {
    let headers = if retry_after {
        vec![MetaHeader {
            name: "Retry-After".into(),
            description: Some("Seconds until the request may be retried.".into()),
            required: true,
            deprecated: false,
            schema: <u64 as Type>::schema_ref(),
        }]
    } else {
        vec![]
    };
    MetaResponse {
        description,
        status: Some(status),
        status_range: None,
        content: vec![MetaMediaType {
            content_type: "application/json; charset=utf-8",
            schema: MetaSchemaRef::Reference("ErrorBody".into()),
        }],
        headers,
    }
}

fn standard_responses() -> Vec<MetaResponse> {
    vec![
        error_response(
            400,
            "`validation_failed`: the request is malformed or breaks a limit.",
            false,
        ),
        error_response(401, "`unauthorized`: missing, expired or invalid credentials.", false),
        error_response(
            403,
            "`forbidden`: the caller may see the resource but not do this.",
            false,
        ),
        error_response(
            404,
            "`not_found`: no such resource, or the caller may not see it.",
            false,
        ),
        error_response(409, "`conflict`: the request clashes with existing state.", false),
        error_response(
            413,
            "`payload_too_large`: the request body is over the size limit (64 KiB unless configured otherwise).",
            false,
        ),
        error_response(
            429,
            "`rate_limited`: too many requests in a short time; or `muted`: muted in this lounge for now. \
            Both carry `Retry-After`.",
            true,
        ),
        error_response(
            500,
            "`internal`: an unexpected server error; details are logged, never sent.",
            false,
        ),
    ]
}

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: standard_responses(),
        }
    }

    fn register(registry: &mut Registry) {
        <ErrorBody as Type>::register(registry);
    }
}

/// The errors of endpoints that talk to the bot: the standard ones, the daily
/// quota, and the language model's failures. Same body, same mapping.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BotError(#[from] pub ApiError);

impl From<DbErr> for BotError {
    fn from(err: DbErr) -> Self {
        Self(err.into())
    }
}

impl ResponseError for BotError {
    fn status(&self) -> StatusCode {
        self.0.status()
    }

    fn as_response(&self) -> Response {
        self.0.as_response()
    }
}

impl ApiResponse for BotError {
    fn meta() -> MetaResponses {
        let mut responses = standard_responses();
        for r in &mut responses {
            if r.status == Some(429) {
                r.description = "`rate_limited`: too many requests in a short time; `muted`: muted in \
                    this lounge for now; or `daily_quota_exceeded`: no bot requests left today (with `limit`, \
                    `remaining: 0`, `resets_at`). All carry `Retry-After`.";
            }
        }
        responses.extend([
            error_response(
                502,
                "`bot_upstream_error`: the language model answered with an error; not counted.",
                false,
            ),
            error_response(
                503,
                "`bot_unavailable`: no bot is configured, or it cannot be reached; or `bot_busy`: the \
                local model's queue is full (with `retry_after` and a `Retry-After` header). Not counted.",
                false,
            ),
            error_response(
                504,
                "`bot_upstream_timeout`: the language model did not answer in time; not counted.",
                false,
            ),
        ]);
        MetaResponses { responses }
    }

    fn register(registry: &mut Registry) {
        <ErrorBody as Type>::register(registry);
    }
}

/// At most the first 40 characters of a value a client sent, for an error
/// message: enough to recognise it, never a whole 10,000-character echo.
pub fn excerpt(value: &str) -> String {
    const SHOWN: usize = 40;
    match value.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_reveal_their_cause() {
        let err = ApiError::internal(anyhow::anyhow!("SELECT * FROM users failed at /src/db.rs"));
        let body = err.body();
        assert_eq!(body.error, "internal");
        assert!(!body.message.contains("SELECT"));
        assert!(!body.message.contains("/src"));
    }

    #[test]
    fn a_busy_bot_is_503_with_a_time_to_come_back() {
        let err = ApiError::BotBusy { retry_after: 7 };
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = err.body();
        assert_eq!((body.error.as_str(), body.retry_after), ("bot_busy", Some(7)));
        assert!(body.message.contains("retry in 7 s"), "{}", body.message);
        let response = err.as_response();
        assert_eq!(response.headers().get("Retry-After").unwrap(), "7");
    }
}
