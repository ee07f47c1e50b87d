use std::time::Duration;

use futures_util::StreamExt;
use poem::{
    http::HeaderMap,
    web::{sse::Event as SseEvent, Data},
    IntoResponse,
};
use poem_openapi::{
    param::{Header, Path, Query},
    payload::{EventStream, Json},
    types::ToJSON,
    ApiResponse, Object, OpenApi, Union,
};
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use super::{
    auth::NoContent,
    bot::{BotExchange, Quota},
    chats::member_chat,
    idempotency::{self, Prior},
    json::JsonOut,
    pagination::{self, MessageCursor, SeqCursor},
    sse::EventStreamBody,
    text::Text,
    types::{trimmed, Message, MessagePage},
    ApiTags,
};
use crate::{
    auth::BearerAuth,
    bot::{
        exchange::{self, Event},
        quota::QuotaStatus,
    },
    db::{
        chats::{self, Membership},
        messages,
    },
    entity::chat,
    error::{ApiError, ApiResult, BotError, ErrorBody},
    realtime::events,
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

/// Direct chats: the stored `Message`. Bot chats: a `BotExchange`.
#[derive(Debug, Union)]
pub enum Posted {
    Message(Message),
    BotExchange(Box<BotExchange>),
}

#[derive(ApiResponse)]
pub enum MessageCreated {
    /// Stored. In a direct chat the body is the `Message`, pushed to the friend;
    /// in a bot chat it is `{message, reply, quota}` and the `RateLimit-*`
    /// headers give the bot quota.
    #[oai(status = 201)]
    Created(
        Json<Posted>,
        /// Bot chats: requests allowed today.
        #[oai(header = "RateLimit-Limit")]
        Option<u32>,
        /// Bot chats: requests left today.
        #[oai(header = "RateLimit-Remaining")]
        Option<u32>,
        /// Bot chats: seconds until the quota resets.
        #[oai(header = "RateLimit-Reset")]
        Option<u64>,
    ),
}

/// Reply text as it arrives.
#[derive(Debug, Object)]
pub struct StreamDelta {
    pub text: String,
}

/// The stored reply and the quota after this request.
#[derive(Debug, Object)]
pub struct StreamDone {
    pub reply: Message,
    pub quota: Quota,
}

/// The data of one server-sent event; the event name tells which.
#[derive(Debug, Union)]
pub enum StreamEvent {
    /// Event `message`: the learner's stored turn.
    Message(Message),
    /// Event `delta`.
    Delta(StreamDelta),
    /// Event `done`.
    Done(StreamDone),
    /// Event `error`: the exchange failed; the body says whether it counted.
    Error(ErrorBody),
}

#[derive(ApiResponse)]
pub enum StreamResponse {
    /// `text/event-stream` with events `message` (the stored learner turn),
    /// `delta` (`{text}`, repeated), then `done` (`{reply, quota}`) or `error`
    /// (an error body). Read it as a stream of text, not as JSON.
    #[oai(status = 200)]
    Stream(
        EventStreamBody,
        /// Requests allowed today.
        #[oai(header = "RateLimit-Limit")]
        u32,
        /// Requests left today.
        #[oai(header = "RateLimit-Remaining")]
        u32,
        /// Seconds until the quota resets.
        #[oai(header = "RateLimit-Reset")]
        u64,
    ),
}

/// Adds the caller's quota to errors from bot endpoints (`RateLimit-*` headers).
pub(crate) async fn with_quota<T>(state: &AppState, user: Uuid, result: ApiResult<T>) -> ApiResult<T> {
    match result {
        Err(e @ ApiError::QuotaExceeded(_)) => Err(e),
        Err(e) => match state.quota.status(state.db.r(), user).await {
            Ok(q) => Err(e.with_quota(q)),
            Err(_) => Err(e),
        },
        ok => ok,
    }
}

async fn bot_chat(state: &AppState, me: Uuid, chat_id: Uuid) -> ApiResult<chat::Model> {
    let chat = member_chat(state, chat_id, me).await?.chat;
    if chat.kind != chats::BOT {
        return Err(ApiError::validation(
            "chat",
            "streaming replies exist only in bot chats",
        ));
    }
    Ok(chat)
}

fn quota_headers(q: &QuotaStatus) -> (Option<u32>, Option<u32>, Option<u64>) {
    (Some(q.limit), Some(q.remaining), Some(q.reset_secs))
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Messages")]
impl MessagesApi {
    /// List messages
    ///
    /// Newest first; follow `next_cursor` to page back through older messages.
    /// With `after` (a message's `seq`): oldest first from just after it, to
    /// catch up; follow `next_cursor` forwards until it is `null`. Messages are
    /// ordered by `seq`, which follows commit order, so each message appears on
    /// exactly one page and none can later appear before one already listed.
    #[oai(path = "/chats/:id/messages", method = "get", operation_id = "listMessages")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// Page size, 1..100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` from the previous page (it keeps the page's direction).
        cursor: Query<Option<String>>,
        /// Catch up: the messages after the one with this `seq`, oldest first
        /// (0: from the start). Ignored when `cursor` is given.
        #[oai(validator(minimum(value = "0")))]
        after: Query<Option<i64>>,
    ) -> ApiResult<JsonOut<MessagePage>> {
        member_chat(&state, id.0, auth.0.id).await?;
        let limit = pagination::limit(limit.0);
        let from = match pagination::message_cursor(&cursor.0)? {
            Some(MessageCursor::Seq(from)) => from,
            Some(MessageCursor::Legacy(before)) => {
                let message = messages::find_in_chat(state.db.r(), id.0, before).await?;
                SeqCursor::Before(Some(message.ok_or_else(pagination::bad_cursor)?.seq))
            }
            None => after.0.map_or(SeqCursor::Before(None), SeqCursor::After),
        };
        let rows = match from {
            SeqCursor::Before(before) => messages::list(state.db.r(), id.0, before, limit + 1).await?,
            SeqCursor::After(after) => messages::list_after(state.db.r(), id.0, after, limit + 1).await?,
        };
        let (rows, next_cursor) = pagination::split(rows, limit, |m| match from {
            SeqCursor::Before(_) => format!("b{}", m.seq),
            SeqCursor::After(_) => format!("a{}", m.seq),
        });
        Ok(JsonOut(MessagePage {
            items: rows.into_iter().map(Message::from).collect(),
            next_cursor,
        }))
    }

    /// Send a message
    ///
    /// In a direct chat the message is stored and pushed to the friend; 403 when
    /// the two are no longer friends (the chat stays readable).
    #[oai(path = "/chats/:id/messages", method = "post", operation_id = "sendMessage")]
    async fn send(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<NewMessage>,
        /// Makes retries safe: a repeated post with the same key (per user, kept
        /// a day) returns what the first one stored instead of posting again.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        headers: &HeaderMap,
    ) -> Result<MessageCreated, BotError> {
        let me = auth.0.id;
        let key = idempotency::key(headers, &idempotency_key.0)?;
        let membership = member_chat(&state, id.0, me).await?;
        // Bot chats are always writable; a direct chat only between friends.
        crate::chats::ensure_writable(&membership)?;
        let chat = membership.chat;
        if chat.kind == chats::BOT {
            let result = async {
                let content = trimmed("content", &body.content, 1, state.settings.message_max_len)?;
                let (message, reply, quota) = match idempotency::begin(&state, me, key, chat.id, &content, true).await?
                {
                    Prior::Stored(message) => {
                        let reply = idempotency::reply_to(&state, &message).await?;
                        let quota = state.quota.status(state.db.r(), me).await?;
                        (message.into(), reply.into(), quota)
                    }
                    Prior::Fresh(planned) => {
                        let started = exchange::start(&state, me, chat, content, planned).await;
                        if started.is_err() {
                            idempotency::failed(&state, me, key, planned).await?;
                        }
                        let started = started?;
                        let message = started.message.clone();
                        let idle = Duration::from_secs(state.settings.bot_total_timeout_secs + 30);
                        let (reply, quota) = exchange::complete(started, idle).await?;
                        (message, reply, quota)
                    }
                };
                let (limit, remaining, reset) = quota_headers(&quota);
                Ok(MessageCreated::Created(
                    Json(Posted::BotExchange(Box::new(BotExchange {
                        message,
                        reply,
                        quota: (&quota).into(),
                    }))),
                    limit,
                    remaining,
                    reset,
                ))
            }
            .await;
            return Ok(with_quota(&state, me, result).await?);
        }
        let content = trimmed("content", &body.content, 1, state.settings.message_max_len)?;
        let planned = match idempotency::begin(&state, me, key, chat.id, &content, false).await? {
            Prior::Stored(message) => {
                return Ok(MessageCreated::Created(
                    Json(Posted::Message(message.into())),
                    None,
                    None,
                    None,
                ))
            }
            Prior::Fresh(planned) => planned,
        };
        let stored = async {
            state.limits.message(me)?;
            let stored =
                messages::insert_as(&state.db, planned, chat.id, Some(me), messages::USER, content, None).await?;
            Ok::<_, ApiError>(stored)
        }
        .await;
        if stored.is_err() {
            idempotency::failed(&state, me, key, planned).await?;
        }
        let message: Message = stored?.into();
        state
            .realtime
            .publish(crate::chats::member_ids(&chat, me), events::message_created(&message));
        Ok(MessageCreated::Created(
            Json(Posted::Message(message)),
            None,
            None,
            None,
        ))
    }

    /// Talk to the bot, streamed
    ///
    /// Bot chats only. Same body as `sendMessage`; answers `text/event-stream`
    /// with events `message`, `delta` (repeated), then `done` or `error`.
    /// Errors found before the stream starts (quota, limits, no bot) are
    /// ordinary JSON error responses. Closing the connection cancels the model
    /// call; any partial reply is kept.
    #[oai(
        path = "/chats/:id/messages/stream",
        method = "post",
        operation_id = "streamBotMessage"
    )]
    async fn stream(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<NewMessage>,
        /// As for `sendMessage`: a repeat with the same key gets the first
        /// request's `message` and `done` events instead of a new exchange.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        headers: &HeaderMap,
    ) -> Result<StreamResponse, BotError> {
        let me = auth.0.id;
        let key = idempotency::key(headers, &idempotency_key.0)?;
        let result = async {
            let chat = bot_chat(&state, me, id.0).await?;
            let content = trimmed("content", &body.content, 1, state.settings.message_max_len)?;
            match idempotency::begin(&state, me, key, chat.id, &content, true).await? {
                Prior::Stored(message) => {
                    let reply = idempotency::reply_to(&state, &message).await?;
                    let quota = state.quota.status(state.db.r(), me).await?;
                    let events = vec![
                        StreamEvent::Message(message.into()),
                        StreamEvent::Done(StreamDone {
                            reply: reply.into(),
                            quota: (&quota).into(),
                        }),
                    ];
                    Ok((futures_util::stream::iter(events).boxed(), quota))
                }
                Prior::Fresh(planned) => {
                    let started = exchange::start(&state, me, chat, content, planned).await;
                    if started.is_err() {
                        idempotency::failed(&state, me, key, planned).await?;
                    }
                    let started = started?;
                    let q = started.reservation.status.clone();
                    let first = futures_util::stream::once(async move { StreamEvent::Message(started.message) });
                    let rest = ReceiverStream::new(started.events).map(|event| match event {
                        Event::Delta(text) => StreamEvent::Delta(StreamDelta { text }),
                        Event::Done { reply, quota } => StreamEvent::Done(StreamDone {
                            reply,
                            quota: (&quota).into(),
                        }),
                        Event::Failed(e) => StreamEvent::Error(e.body()),
                    });
                    Ok((first.chain(rest).boxed(), q))
                }
            }
        }
        .await;
        let (stream, q) = with_quota(&state, me, result).await?;
        let events = EventStream::new(stream)
            .keep_alive(Duration::from_secs(15))
            .to_event(|event| {
                let name = match &event {
                    StreamEvent::Message(_) => "message",
                    StreamEvent::Delta(_) => "delta",
                    StreamEvent::Done(_) => "done",
                    StreamEvent::Error(_) => "error",
                };
                let data = event.to_json().map(|v| v.to_string()).unwrap_or_default();
                SseEvent::message(data).event_type(name)
            });
        Ok(StreamResponse::Stream(
            EventStreamBody(events.into_response()),
            q.limit,
            q.remaining,
            q.reset_secs,
        ))
    }

    /// Edit a message
    ///
    /// Only your own messages in direct chats with a current friend (403 otherwise).
    #[oai(path = "/chats/:id/messages/:mid", method = "patch", operation_id = "editMessage")]
    async fn edit(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        mid: Path<Uuid>,
        body: Json<NewMessage>,
    ) -> ApiResult<Json<Message>> {
        let (membership, message) = own_direct_message(&state, auth.0.id, id.0, mid.0).await?;
        crate::chats::ensure_writable(&membership)?;
        let chat = membership.chat;
        let content = trimmed("content", &body.content, 1, state.settings.message_max_len)?;
        let message: Message = messages::edit(state.db.w(), message, content).await?.into();
        state.realtime.publish(
            crate::chats::member_ids(&chat, auth.0.id),
            events::message_updated(&message),
        );
        Ok(Json(message))
    }

    /// Delete a message
    ///
    /// Only your own messages in direct chats (403 otherwise).
    #[oai(path = "/chats/:id/messages/:mid", method = "delete", operation_id = "deleteMessage")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        mid: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let (membership, message) = own_direct_message(&state, auth.0.id, id.0, mid.0).await?;
        let chat = membership.chat;
        messages::delete(state.db.w(), message.id).await?;
        state.realtime.publish(
            crate::chats::member_ids(&chat, auth.0.id),
            events::message_deleted(message.chat_id, message.id),
        );
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
        mark_read(&state, auth.0.id, id.0, body.message_id).await?;
        Ok(NoContent::Done)
    }
}

/// Moves the caller's read marker and tells the chat's members.
pub async fn mark_read(state: &AppState, me: Uuid, chat_id: Uuid, message_id: Uuid) -> ApiResult<()> {
    let chat = member_chat(state, chat_id, me).await?.chat;
    let message = messages::find_in_chat(state.db.r(), chat_id, message_id)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    if chats::mark_read(state.db.w(), me, &message).await? {
        state.realtime.publish(
            crate::chats::member_ids(&chat, me),
            events::read(chat_id, me, message_id, message.seq),
        );
    }
    Ok(())
}

/// A message the caller may change: 404 if they cannot see it, 403 if it is not
/// theirs or not in a direct chat.
async fn own_direct_message(
    state: &AppState,
    me: Uuid,
    chat_id: Uuid,
    message_id: Uuid,
) -> ApiResult<(Membership, crate::entity::message::Model)> {
    let membership = member_chat(state, chat_id, me).await?;
    let message = messages::find_in_chat(state.db.r(), chat_id, message_id)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    if membership.chat.kind != chats::DIRECT {
        return Err(ApiError::Forbidden("messages in bot chats cannot be changed".into()));
    }
    if message.sender_id != Some(me) {
        return Err(ApiError::Forbidden("you can only change your own messages".into()));
    }
    Ok((membership, message))
}
