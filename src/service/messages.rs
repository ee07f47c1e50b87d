//! Messages: posting to a friend or to the bot (once per `Idempotency-Key`),
//! editing and deleting one's own.
use uuid::Uuid;

use super::{
    chats::{self, member_ids},
    idempotency::{self, Prior},
};
use crate::{
    bot::{exchange, quota::QuotaStatus},
    db::{chats::Membership, messages, Db},
    domain::{chat::Message, kinds::MessageRole},
    entity::{chat, message},
    error::{ApiError, ApiResult},
    realtime::{events::Event, Realtime},
    state::AppState,
};

/// A learner's turn in a bot chat.
pub enum BotTurn {
    /// A retry of a turn that was already answered: what the first request stored.
    Replayed {
        message: message::Model,
        reply: message::Model,
        quota: QuotaStatus,
    },
    /// A new exchange: the learner's turn is stored and the reply is coming.
    Started(exchange::Started),
}

/// Stores `content` in the direct chat `chat` and tells its members; a retry
/// with the same `key` gets the message the first request stored.
pub async fn post_direct(
    state: &AppState,
    me: Uuid,
    key: Option<&str>,
    chat: &chat::Model,
    content: String,
) -> ApiResult<Message> {
    let planned = match idempotency::begin(state, me, key, chat.id, &content, false).await? {
        Prior::Stored(message) => return Ok(message.into()),
        Prior::Fresh(planned) => planned,
    };
    let stored = async {
        state.limits.message(me)?;
        let stored =
            messages::insert_as(&state.db, planned, chat.id, Some(me), MessageRole::User, content, None).await?;
        Ok::<_, ApiError>(stored)
    }
    .await;
    if stored.is_err() {
        idempotency::failed(state, me, key, planned).await?;
    }
    let message: Message = stored?.into();
    state
        .realtime
        .publish(member_ids(chat, me), Event::message_created(message.clone()));
    Ok(message)
}

/// Posts the learner's `content` to the bot chat `chat`: starts the exchange,
/// or, for a retry with the same `key`, finds what the first request stored.
pub async fn post_to_bot(
    state: &AppState,
    me: Uuid,
    key: Option<&str>,
    chat: chat::Model,
    content: String,
) -> ApiResult<BotTurn> {
    match idempotency::begin(state, me, key, chat.id, &content, true).await? {
        Prior::Stored(message) => {
            let reply = idempotency::reply_to(state, &message).await?;
            let quota = state.quota.status(state.db.r(), me).await?;
            Ok(BotTurn::Replayed { message, reply, quota })
        }
        Prior::Fresh(planned) => {
            let started = exchange::start(state, me, chat, content, planned).await;
            if started.is_err() {
                idempotency::failed(state, me, key, planned).await?;
            }
            Ok(BotTurn::Started(started?))
        }
    }
}

/// Replaces the text of `me`'s own message in a direct chat with a friend.
pub async fn edit(
    db: &Db,
    realtime: &Realtime,
    me: Uuid,
    chat_id: Uuid,
    message_id: Uuid,
    content: String,
) -> ApiResult<Message> {
    let (membership, message) = chats::own_direct_message(db, me, chat_id, message_id).await?;
    chats::ensure_writable(&membership)?;
    let message: Message = messages::edit(db.w(), message, content).await?.into();
    realtime.publish(
        member_ids(&membership.chat, me),
        Event::message_updated(message.clone()),
    );
    Ok(message)
}

/// Deletes `me`'s own message in a direct chat.
pub async fn delete(db: &Db, realtime: &Realtime, me: Uuid, chat_id: Uuid, message_id: Uuid) -> ApiResult<()> {
    let (Membership { chat, .. }, message) = chats::own_direct_message(db, me, chat_id, message_id).await?;
    messages::delete(db.w(), message.id).await?;
    realtime.publish(
        member_ids(&chat, me),
        Event::MessageDeleted {
            chat_id: message.chat_id,
            message_id: message.id,
        },
    );
    Ok(())
}
