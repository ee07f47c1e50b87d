//! The HTTP API: one poem-openapi struct per tag.
use poem_openapi::{OpenApi, OpenApiService, Tags};

/// A page of a list: `{items, next_cursor}`, the shape of every list.
macro_rules! page {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, poem_openapi::Object, serde::Serialize)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; `null` on the last page.
            #[oai(nullable)]
            pub next_cursor: Option<String>,
        }
    };
}

/// A response with the caller's bot quota in `RateLimit-*` headers, the one
/// shape of every endpoint that spends or reports quota: `quota_response!(Name,
/// status, Payload, "doc")`, or with `optional` before the doc when only some
/// answers carry the headers (posting in a direct chat spends no quota).
macro_rules! quota_response {
    ($name:ident, $status:tt, $payload:ty, $doc:literal) => {
        quota_response!(@ $name, $status, $payload, $doc, u32, u64, std::convert::identity);
    };
    ($name:ident, $status:tt, $payload:ty, optional, $doc:literal) => {
        quota_response!(@ $name, $status, $payload, $doc, Option<u32>, Option<u64>, Some);
    };
    (@ $name:ident, $status:tt, $payload:ty, $doc:literal, $count:ty, $secs:ty, $wrap:path) => {
        #[derive(poem_openapi::ApiResponse)]
        pub enum $name {
            #[doc = $doc]
            #[oai(status = $status)]
            Ok(
                $payload,
                /// Requests allowed today.
                #[oai(header = "RateLimit-Limit")]
                $count,
                /// Requests left today.
                #[oai(header = "RateLimit-Remaining")]
                $count,
                /// Seconds until the quota resets.
                #[oai(header = "RateLimit-Reset")]
                $secs,
            ),
        }

        impl $name {
            pub fn new(payload: $payload, q: &$crate::bot::quota::QuotaStatus) -> Self {
                Self::Ok(payload, $wrap(q.limit), $wrap(q.remaining), $wrap(q.reset_secs))
            }
        }
    };
}

/// The answer of an operation that has nothing to return.
#[derive(poem_openapi::ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    Done,
}

pub mod auth;
pub mod bot;
pub mod chats;
pub mod describe;
pub mod friends;
pub mod groups;
pub mod health;
pub mod json;
pub mod lounges;
pub mod messages;
pub mod pagination;
pub mod review;
pub mod socket;
pub mod spec;
pub mod stream;
pub mod text;
pub mod tutor;
pub mod types;
pub mod users;
pub mod ws;

#[derive(Tags)]
pub enum ApiTags {
    /// Sign up, sign in, refresh and revoke tokens; the caller's profile and password.
    Auth,
    /// Find people.
    Users,
    /// Friend requests and friendships. Only friends can chat directly.
    Friends,
    /// Direct chats with friends, groups of friends, and practice chats with the bot; members.
    Chats,
    /// Messages in chats: history, posting (to friends or the bot), editing, deleting and read receipts.
    Messages,
    /// Public rooms to practise with other learners.
    Lounges,
    /// The AI conversation partner: practice scenarios and the daily quota.
    Bot,
    /// The tutor: checking a draft, the mistake notebook and progress.
    Tutor,
    /// Administration; admins only.
    Admin,
    /// The WebSocket that pushes messages, typing, read receipts, presence and friend events.
    Realtime,
}

/// The OpenAPI service; the spec it generates is committed as `openapi/openapi.json`.
pub fn service() -> OpenApiService<impl OpenApi, ()> {
    OpenApiService::new(
        (
            auth::AuthApi,
            users::UsersApi,
            friends::FriendsApi,
            chats::ChatsApi,
            groups::GroupsApi,
            lounges::LoungesApi,
            messages::MessagesApi,
            bot::BotApi,
            tutor::TutorApi,
            review::ReviewApi,
            ws::RealtimeApi,
            bot::AdminApi,
            lounges::AdminLoungesApi,
        ),
        "ChattConnect API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Practise English conversation with friends in real time and with an AI \
         conversation partner. All endpoints live under `/api/v1`, take and return JSON, \
         and answer errors as `{\"error\": \"<code>\", \"message\": \"<sentence>\"}`. \
         Lists are paged with `limit` (1..100, default 50) and the opaque `cursor` from \
         the previous page's `next_cursor`.",
    )
}

/// The spec as clients get it (generated, then polished by `spec::polish`), as
/// pretty JSON with a trailing newline, exactly as committed.
pub fn spec_json() -> String {
    static SPEC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| {
        let raw: serde_json::Value = serde_json::from_str(&service().spec()).expect("poem-openapi emits valid JSON");
        // The stream's event types are documented though no schema refers to
        // them (the stream body is a string), so poem-openapi leaves them out.
        let mut events = poem_openapi::registry::Registry::new();
        <stream::StreamEvent as poem_openapi::types::Type>::register(&mut events);
        let events = serde_json::to_value(&events.schemas).expect("schemas serialise");
        let mut spec = serde_json::to_string_pretty(&spec::polish(raw, events)).expect("a JSON value serialises");
        spec.push('\n');
        spec
    })
    .clone()
}

/// The polished spec, parsed once.
pub fn spec_value() -> &'static serde_json::Value {
    static SPEC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| serde_json::from_str(&spec_json()).expect("the spec is JSON"))
}

/// The spec's path item for a concrete request path (`/api/v1/chats/{id}`
/// matches `/api/v1/chats/0193...`), with its template.
pub fn path_item(path: &str) -> Option<(&'static str, &'static serde_json::Value)> {
    let wanted: Vec<&str> = path.split('/').collect();
    spec_value()["paths"].as_object()?.iter().find_map(|(template, item)| {
        let segments: Vec<&str> = template.split('/').collect();
        let matches = segments.len() == wanted.len()
            && segments
                .iter()
                .zip(&wanted)
                .all(|(t, w)| t == w || (t.starts_with('{') && !w.is_empty()));
        matches.then_some((template.as_str(), item))
    })
}

/// Swagger UI showing the polished spec.
pub fn swagger_ui_html() -> String {
    let service = service();
    service
        .swagger_ui_html()
        .replace(&service.spec(), spec_json().trim_end())
}
