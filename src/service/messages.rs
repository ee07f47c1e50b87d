//! Messages: posting to a friend or to the bot (once per `Idempotency-Key`),
//! editing and deleting one's own.
use uuid::Uuid;

use super::{
    chats::{self, member_ids},
    idempotency::{self, Prior},
};
use crate::{
    bot::{exchange, quota::QuotaStatus},
    db::{
        chats::{self as db_chats, Membership},
        messages, Db,
    },
    domain::{
        chat::Message,
        kinds::{ChatKind, MessageRole},
        lounge::{Recent, SPAM_MUTE},
    },
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

/// Stores `content` in a chat of people (direct, group or lounge) and tells
/// its members; a retry with the same `key` gets the message the first request
/// stored. In a lounge the spam rule applies first.
pub async fn post_to_people(
    state: &AppState,
    me: Uuid,
    key: Option<&str>,
    membership: &Membership,
    content: String,
) -> ApiResult<Message> {
    let chat = &membership.chat;
    let planned = match idempotency::begin(state, me, key, chat.id, &content, false).await? {
        Prior::Stored(message) => return Ok(message.into()),
        Prior::Fresh(planned) => planned,
    };
    let stored = async {
        state.limits.message(me)?;
        if chat.kind == ChatKind::Lounge {
            lounge_rules(&state.db, me, membership, &content).await?;
        }
        let stored = messages::insert_as(
            &state.db,
            planned,
            chat.id,
            Some(me),
            MessageRole::User,
            content.clone(),
            None,
        )
        .await?;
        if chat.kind == ChatKind::Lounge {
            let recent = Recent::parse(membership.member.recent_posts.as_deref()).after(&content);
            db_chats::set_recent_posts(state.db.w(), chat.id, me, recent).await?;
        }
        Ok::<_, ApiError>(stored)
    }
    .await;
    if stored.is_err() {
        idempotency::failed(state, me, key, planned).await?;
    }
    let message: Message = stored?.into();
    state.realtime.publish(
        member_ids(&state.db, chat, me).await?,
        Event::message_created(message.clone()),
    );
    Ok(message)
}

/// A lounge member may post unless muted; a post that would make four of
/// their last five messages the same mutes them instead.
async fn lounge_rules(db: &Db, me: Uuid, membership: &Membership, content: &str) -> ApiResult<()> {
    let now = chrono::Utc::now();
    if let Some(until) = membership.member.muted_until.filter(|until| *until > now) {
        return Err(ApiError::Muted {
            message: "you are muted in this lounge".into(),
            retry_after: (until - now).num_seconds().max(1) as u64,
        });
    }
    if Recent::parse(membership.member.recent_posts.as_deref()).would_spam(content) {
        let until = now + SPAM_MUTE;
        db_chats::set_muted(db.w(), membership.chat.id, me, Some(until)).await?;
        tracing::info!(target: "audit", lounge = %membership.chat.id, user = %me, "muted by the spam rule for 10 minutes");
        return Err(ApiError::Muted {
            message: "four of your last five messages here would be the same, so you are muted in this lounge for \
                      10 minutes"
                .into(),
            retry_after: SPAM_MUTE.as_secs(),
        });
    }
    Ok(())
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

/// Replaces the text of `me`'s own message in a chat of people (a direct chat
/// only while the two are friends).
pub async fn edit(
    db: &Db,
    realtime: &Realtime,
    me: Uuid,
    chat_id: Uuid,
    message_id: Uuid,
    content: String,
) -> ApiResult<Message> {
    let (membership, message) = chats::own_message(db, me, chat_id, message_id).await?;
    chats::ensure_writable(&membership)?;
    let message: Message = messages::edit(db.w(), message, content).await?.into();
    realtime.publish(
        member_ids(db, &membership.chat, me).await?,
        Event::message_updated(message.clone()),
    );
    Ok(message)
}

/// Deletes `me`'s own message in a chat of people.
pub async fn delete(db: &Db, realtime: &Realtime, me: Uuid, chat_id: Uuid, message_id: Uuid) -> ApiResult<()> {
    let (Membership { chat, .. }, message) = chats::own_message(db, me, chat_id, message_id).await?;
    messages::delete(db.w(), message.id).await?;
    realtime.publish(
        member_ids(db, &chat, me).await?,
        Event::MessageDeleted {
            chat_id: message.chat_id,
            message_id: message.id,
        },
    );
    Ok(())
}
