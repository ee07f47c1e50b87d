use poem::web::Data;
use poem_openapi::{
    param::{Path, Query},
    payload::Json,
    ApiResponse, Object, OpenApi,
};
use uuid::Uuid;

use super::{
    auth::NoContent,
    chats::member_chat,
    pagination,
    text::Text,
    types::{trimmed, Message, MessagePage},
    ApiTags,
};
use crate::{
    auth::BearerAuth,
    db::{chats, messages},
    error::{ApiError, ApiResult},
    state::AppState,
};

pub struct MessagesApi;

#[derive(Debug, Object)]
pub struct NewMessage {
    /// 1..2000 characters after trimming.
    pub content: Text,
}

#[derive(Debug, Object)]
pub struct ReadMarker {
    /// The newest message read; everything up to it counts as read.
    pub message_id: Uuid,
}

#[derive(ApiResponse)]
pub enum MessageCreated {
    /// The message was stored and sent to the chat's members.
    #[oai(status = 201)]
    Created(Json<Message>),
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Messages")]
impl MessagesApi {
    /// List messages
    ///
    /// Newest first; follow `next_cursor` to page back through older messages.
    /// Each message appears on exactly one page.
    #[oai(
        path = "/chats/:id/messages",
        method = "get",
        operation_id = "listMessages"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// Page size, 1..100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` from the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<MessagePage>> {
        member_chat(&state, id.0, auth.0.id).await?;
        let limit = pagination::limit(limit.0);
        let before = cursor
            .0
            .as_deref()
            .map(|c| {
                pagination::decode(c)?
                    .parse::<Uuid>()
                    .map_err(|_| pagination::bad_cursor())
            })
            .transpose()?;
        let rows = messages::list(state.db.r(), id.0, before, limit + 1).await?;
        let (rows, next_cursor) = pagination::split(rows, limit, |m| m.id.to_string());
        Ok(Json(MessagePage {
            items: rows.into_iter().map(Message::from).collect(),
            next_cursor,
        }))
    }

    /// Send a message
    ///
    /// In a direct chat the message is stored and pushed to the friend.
    #[oai(
        path = "/chats/:id/messages",
        method = "post",
        operation_id = "sendMessage"
    )]
    async fn send(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<NewMessage>,
    ) -> ApiResult<MessageCreated> {
        let (chat, _) = member_chat(&state, id.0, auth.0.id).await?;
        let content = trimmed("content", &body.content, 1, state.settings.message_max_len)?;
        if chat.kind == chats::BOT {
            return Err(ApiError::BotUnavailable(
                "no bot is configured on this server; set BOT_BASE_URL and BOT_MODEL".into(),
            ));
        }
        let message = messages::insert(
            state.db.w(),
            chat.id,
            Some(auth.0.id),
            messages::USER,
            content,
            None,
        )
        .await?;
        Ok(MessageCreated::Created(Json(message.into())))
    }

    /// Edit a message
    ///
    /// Only your own messages in direct chats (403 otherwise).
    #[oai(
        path = "/chats/:id/messages/:mid",
        method = "patch",
        operation_id = "editMessage"
    )]
    async fn edit(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        mid: Path<Uuid>,
        body: Json<NewMessage>,
    ) -> ApiResult<Json<Message>> {
        let message = own_direct_message(&state, auth.0.id, id.0, mid.0).await?;
        let content = trimmed("content", &body.content, 1, state.settings.message_max_len)?;
        let message = messages::edit(state.db.w(), message, content).await?;
        Ok(Json(message.into()))
    }

    /// Delete a message
    ///
    /// Only your own messages in direct chats (403 otherwise).
    #[oai(
        path = "/chats/:id/messages/:mid",
        method = "delete",
        operation_id = "deleteMessage"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        mid: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let message = own_direct_message(&state, auth.0.id, id.0, mid.0).await?;
        messages::delete(state.db.w(), message.id).await?;
        Ok(NoContent::Done)
    }

    /// Mark messages read
    ///
    /// Marks everything up to `message_id` read for the caller. A marker never
    /// moves backwards.
    #[oai(path = "/chats/:id/read", method = "post", operation_id = "markRead")]
    async fn read(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<ReadMarker>,
    ) -> ApiResult<NoContent> {
        member_chat(&state, id.0, auth.0.id).await?;
        messages::find_in_chat(state.db.r(), id.0, body.message_id)
            .await?
            .ok_or_else(|| ApiError::not_found("message"))?;
        chats::mark_read(state.db.w(), id.0, auth.0.id, body.message_id).await?;
        Ok(NoContent::Done)
    }
}

/// A message the caller may change: 404 if they cannot see it, 403 if it is not
/// theirs or not in a direct chat.
async fn own_direct_message(
    state: &AppState,
    me: Uuid,
    chat_id: Uuid,
    message_id: Uuid,
) -> ApiResult<crate::entity::message::Model> {
    let (chat, _) = member_chat(state, chat_id, me).await?;
    let message = messages::find_in_chat(state.db.r(), chat_id, message_id)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    if chat.kind != chats::DIRECT {
        return Err(ApiError::Forbidden(
            "messages in bot chats cannot be changed".into(),
        ));
    }
    if message.sender_id != Some(me) {
        return Err(ApiError::Forbidden(
            "you can only change your own messages".into(),
        ));
    }
    Ok(message)
}
