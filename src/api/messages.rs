use std::time::Duration;

use poem::{http::HeaderMap, web::Data};
use poem_openapi::{
    param::{Header, Path, Query},
    payload::Json,
    Object, OpenApi, Union,
};
use uuid::Uuid;

use super::{
    bot::BotExchange,
    json::JsonOut,
    pagination::{self, MessageCursor, SeqCursor},
    stream::{self, EventStreamBody},
    text::{NotNull, Text},
    types::{trimmed, ChatKind, Message, MessagePage, PeerCorrection},
    ApiTags, NoContent,
};
use crate::{
    auth::BearerAuth,
    bot::exchange,
    db::corrections::Saved,
    db::messages as store,
    error::{ApiError, ApiResult, BotError},
    service::{
        chats, corrections, idempotency,
        messages::{self, BotTurn},
    },
    state::AppState,
};

pub struct MessagesApi;

/// Longest note with a correction, in characters.
const NOTE_MAX_LEN: usize = 200;

#[derive(Debug, Object)]
pub struct NewMessage {
    /// 1..2000 characters after trimming.
    pub content: Text,
    /// Chats with people: the message this one answers (of the same chat).
    pub reply_to: Option<Uuid>,
}

/// Replies are for chats with people.
fn no_reply_to_the_bot(body: &NewMessage) -> ApiResult<()> {
    match body.reply_to {
        Some(_) => Err(ApiError::validation(
            "reply_to",
            "replies are for chats with people, not with the bot",
        )),
        None => Ok(()),
    }
}

/// A member's correction of another member's message.
#[derive(Debug, Object)]
pub struct NewCorrection {
    /// The message as it should be written: 1..2000 characters after trimming,
    /// keeping most of the author's words.
    pub corrected_text: Text,
    /// A word to the author, at most 200 characters.
    pub note: NotNull<Text>,
}

#[derive(poem_openapi::ApiResponse)]
pub enum CorrectionSaved {
    /// The correction, shown under the message for every member
    /// (`message.corrected`) and in the author's notebook.
    #[oai(status = 201)]
    Created(Json<PeerCorrection>),
    /// The caller's earlier correction of this message was replaced.
    #[oai(status = 200)]
    Replaced(Json<PeerCorrection>),
}

#[derive(Debug, Object)]
pub struct ReadMarker {
    /// The newest message read; everything up to it counts as read.
    pub message_id: Uuid,
}

/// Direct chats: the stored `Message`. Bot chats: a `BotExchange`.
#[derive(Debug, Union)]
pub enum Posted {
    Message(Box<Message>),
    BotExchange(Box<BotExchange>),
}

quota_response!(
    MessageCreated,
    201,
    Json<Posted>,
    optional,
    "Stored. In a direct chat the body is the `Message`, pushed to the friend; in a bot chat it is \
     `{message, reply, quota}` and the `RateLimit-*` headers give the bot quota."
);

quota_response!(
    StreamResponse,
    200,
    EventStreamBody,
    "`text/event-stream` with events `message` (the stored learner turn), `delta` (`{text}`, repeated), then \
     `done` (`{reply, quota}`) or `error` (an error body). Read it as a stream of text, not as JSON."
);

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
        let membership = chats::member_chat(&state.db, id.0, auth.0.id).await?;
        let limit = pagination::limit(limit.0);
        let from = match pagination::message_cursor(&cursor.0)? {
            Some(MessageCursor::Seq(from)) => from,
            Some(MessageCursor::Legacy(before)) => {
                let message = store::find_in_chat(state.db.r(), id.0, before).await?;
                SeqCursor::Before(Some(message.ok_or_else(pagination::bad_cursor)?.seq))
            }
            None => after.0.map_or(SeqCursor::Before(None), SeqCursor::After),
        };
        let rows = match from {
            SeqCursor::Before(before) => store::list(state.db.r(), id.0, before, limit + 1).await?,
            SeqCursor::After(after) => store::list_after(state.db.r(), id.0, after, limit + 1).await?,
        };
        let (rows, next_cursor) = pagination::split(rows, limit, |m| match from {
            SeqCursor::Before(_) => format!("b{}", m.seq),
            SeqCursor::After(_) => format!("a{}", m.seq),
        });
        let mut items: Vec<Message> = rows.into_iter().map(Message::from).collect();
        messages::decorate(&state.db, auth.0.id, &membership.chat, &mut items).await?;
        Ok(JsonOut(MessagePage { items, next_cursor }))
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
        let membership = chats::member_chat(&state.db, id.0, me).await?;
        // Bot chats are always writable; a direct chat only between friends.
        chats::ensure_writable(&membership)?;
        if membership.chat.kind != ChatKind::Bot {
            let content = trimmed("content", &body.content, 1, state.settings.message_max_len)?;
            let message = messages::post_to_people(&state, me, key, &membership, content, body.reply_to).await?;
            return Ok(MessageCreated::Ok(
                Json(Posted::Message(Box::new(message))),
                None,
                None,
                None,
            ));
        }
        let chat = membership.chat;
        let result = async {
            no_reply_to_the_bot(&body)?;
            let content = trimmed("content", &body.content, 1, state.settings.message_max_len)?;
            let (message, reply, quota) = match messages::post_to_bot(&state, me, key, chat, content).await? {
                BotTurn::Replayed { message, reply, quota } => (message.into(), reply.into(), quota),
                BotTurn::Started(started) => {
                    let message = started.message.clone();
                    let idle = Duration::from_secs(state.settings.bot_total_timeout_secs + 30);
                    let (reply, quota) = exchange::complete(started, idle).await?;
                    (message, reply, quota)
                }
            };
            let exchange = BotExchange {
                message,
                reply,
                quota: (&quota).into(),
            };
            Ok(MessageCreated::new(
                Json(Posted::BotExchange(Box::new(exchange))),
                &quota,
            ))
        }
        .await;
        Ok(with_quota(&state, me, result).await?)
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
            let chat = chats::bot_chat(&state.db, me, id.0, "streaming replies exist only in bot chats").await?;
            no_reply_to_the_bot(&body)?;
            let content = trimmed("content", &body.content, 1, state.settings.message_max_len)?;
            Ok(match messages::post_to_bot(&state, me, key, chat, content).await? {
                BotTurn::Replayed { message, reply, quota } => (stream::replayed(message, reply, &quota), quota),
                BotTurn::Started(started) => {
                    let quota = started.quota.clone();
                    (stream::live(started), quota)
                }
            })
        }
        .await;
        let (events, quota) = with_quota(&state, me, result).await?;
        Ok(StreamResponse::new(stream::body(events), &quota))
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
        let content = trimmed("content", &body.content, 1, state.settings.message_max_len)?;
        Ok(Json(
            messages::edit(&state.db, &state.realtime, auth.0.id, id.0, mid.0, content).await?,
        ))
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
        messages::delete(&state.db, &state.realtime, auth.0.id, id.0, mid.0).await?;
        Ok(NoContent::Done)
    }

    /// Correct a member's message
    ///
    /// Rewrites another member's message as it should be; the changes are
    /// worked out by the tutor's diff (each quoting the author's words) and go
    /// into the author's notebook with `source: "peer"`. Free: no bot quota.
    /// One correction per corrector and message: a second replaces the first
    /// (200). Not your own message, nor the bot's (403).
    #[oai(
        path = "/chats/:id/messages/:mid/corrections",
        method = "post",
        operation_id = "correctMessage"
    )]
    async fn correct(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        mid: Path<Uuid>,
        body: Json<NewCorrection>,
    ) -> ApiResult<CorrectionSaved> {
        let corrected_text = trimmed(
            "corrected_text",
            &body.corrected_text,
            1,
            state.settings.message_max_len,
        )?;
        let note = match body.note.as_deref() {
            Some(note) => trimmed("note", note, 0, NOTE_MAX_LEN)?,
            None => String::new(),
        };
        let proposed = corrections::Proposed {
            corrected_text,
            note,
            day: crate::domain::practice::day_key(state.quota.today()),
        };
        let (saved, shown) = corrections::correct(&state.db, &state.realtime, auth.0.id, id.0, mid.0, proposed).await?;
        Ok(match saved {
            Saved::New => CorrectionSaved::Created(Json(shown)),
            Saved::Replaced => CorrectionSaved::Replaced(Json(shown)),
        })
    }

    /// Thank a corrector
    ///
    /// The message's author thanks the member who corrected it; everyone sees
    /// it (`message.corrected` with `thanked: true`).
    #[oai(
        path = "/chats/:id/messages/:mid/corrections/:corrector_id/thanks",
        method = "put",
        operation_id = "thankCorrector"
    )]
    async fn thank(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        mid: Path<Uuid>,
        corrector_id: Path<Uuid>,
    ) -> ApiResult<Json<PeerCorrection>> {
        Ok(Json(
            corrections::thank(&state.db, &state.realtime, auth.0.id, id.0, mid.0, corrector_id.0).await?,
        ))
    }

    /// React to a message
    ///
    /// Adds the caller's `emoji` (one of 👍 ❤️ 😂 😮 🙏 ✅, URL-encoded) to a
    /// message of a chat they may write in; again changes nothing. Members get
    /// `message.reaction`.
    #[oai(
        path = "/chats/:id/messages/:mid/reactions/:emoji",
        method = "put",
        operation_id = "addReaction"
    )]
    async fn react(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        mid: Path<Uuid>,
        emoji: Path<String>,
    ) -> ApiResult<NoContent> {
        messages::react(&state.db, &state.realtime, auth.0.id, id.0, mid.0, &emoji.0, true).await?;
        Ok(NoContent::Done)
    }

    /// Take back a reaction
    ///
    /// Removes the caller's `emoji` from the message, if it was there.
    #[oai(
        path = "/chats/:id/messages/:mid/reactions/:emoji",
        method = "delete",
        operation_id = "removeReaction"
    )]
    async fn unreact(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        mid: Path<Uuid>,
        emoji: Path<String>,
    ) -> ApiResult<NoContent> {
        messages::react(&state.db, &state.realtime, auth.0.id, id.0, mid.0, &emoji.0, false).await?;
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
        chats::mark_read(&state.db, &state.realtime, auth.0.id, id.0, body.message_id).await?;
        Ok(NoContent::Done)
    }
}
