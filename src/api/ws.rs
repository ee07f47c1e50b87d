use poem::{
    web::{
        websocket::{BoxWebSocketUpgraded, WebSocket, WebSocketConfig},
        Data,
    },
    Request,
};
use poem_openapi::{param::Query, OpenApi};

use super::ApiTags;
use crate::{
    api::socket,
    error::{ApiError, ApiResult},
    state::AppState,
};

pub struct RealtimeApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Realtime")]
impl RealtimeApi {
    /// Open the event WebSocket
    ///
    /// Authenticate with `?access_token=` (browsers cannot set headers on
    /// WebSockets) or `Authorization: Bearer`; checked before the upgrade (401).
    ///
    /// Server to client, one JSON object per text frame: `message.created`,
    /// `message.updated` (`chat_id`, `message`), `message.deleted` (`chat_id`,
    /// `message_id`), `typing` (`chat_id`, `user_id`), `presence` (`user_id`,
    /// `online`; friends only), `read` (`chat_id`, `user_id`, `message_id`,
    /// `seq`), `friend` (`friend`, and `removed: true` when it ended), `pong`,
    /// and `resync` (events may have been missed, e.g. while the server's
    /// Redis was away: catch up with `GET /chats`, `GET /friends` and the open
    /// chat's messages).
    ///
    /// Client to server: `{"type": "typing", "chat_id"}`, `{"type": "read",
    /// "chat_id", "message_id"}`, `{"type": "ping"}`, and `{"type": "auth",
    /// "access_token"}` to extend the socket past the current token's expiry;
    /// otherwise the server closes it (code 4001) when the token expires.
    ///
    /// Every tab gets every event. Events are notifications: after a reconnect,
    /// catch up with `GET /chats/{id}/messages`.
    #[oai(path = "/ws", method = "get", operation_id = "openWebSocket")]
    async fn ws(
        &self,
        state: Data<&AppState>,
        req: &Request,
        ws: WebSocket,
        /// An access token.
        access_token: Query<Option<String>>,
    ) -> ApiResult<BoxWebSocketUpgraded> {
        let header = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::to_owned);
        let token = access_token.0.or(header).ok_or_else(|| {
            ApiError::Unauthorized("pass an access token as ?access_token= or a bearer header".into())
        })?;
        let claims = state.sessions.verify(&token).await?;
        let state = state.clone();
        Ok(ws
            .config(socket_config())
            .on_upgrade(move |stream| socket::serve(state, claims.sub, claims.sid, claims.exp, stream))
            .boxed())
    }
}

/// Clients only send small JSON frames: a 4 KiB read buffer (the default is 128 KiB,
/// allocated for every socket) and a 64 KiB cap on what they may send.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}
