//! Messages: posting to people or to the bot (once per `Idempotency-Key`),
//! replies, reactions, editing and deleting one's own, and what a page of
//! messages shows besides them.
use std::collections::HashMap;

use uuid::Uuid;

use super::{
    chats::{self, member_ids},
    corrections,
    idempotency::{self, Prior},
};
use crate::{
    bot::{exchange, quota::QuotaStatus},
    db::{
        chats::{self as db_chats, Membership},
        messages, reactions, Db,
    },
    domain::{
        chat::{Extras, Message, Quote, REACTIONS},
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
    reply_to: Option<Uuid>,
) -> ApiResult<Message> {
    let chat = &membership.chat;
    let quoted = match reply_to {
        Some(id) => Some(
            messages::find_in_chat(state.db.r(), chat.id, id)
                .await?
                .ok_or_else(|| ApiError::validation("reply_to", "reply_to must be a message of this chat"))?,
        ),
        None => None,
    };
    let planned = match idempotency::begin(state, me, key, chat.id, &content, false).await? {
        Prior::Stored(message) => return Ok(message.into()),
        Prior::Fresh(planned) => planned,
    };
    let stored = async {
        state.limits.message(me)?;
        if chat.kind == ChatKind::Lounge {
            lounge_rules(&state.db, me, membership, &content).await?;
        }
        if quoted.is_some() {
            db_chats::add_extras(state.db.w(), chat.id, Extras::REPLIES).await?;
        }
        let stored = messages::insert_model(
            &state.db,
            message::Model {
                id: planned,
                chat_id: chat.id,
                sender_id: Some(me),
                role: MessageRole::User,
                content: content.clone(),
                feedback: None,
                created_at: crate::db::now(),
                edited_at: None,
                seq: 0,
                reply_to_id: reply_to,
            },
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
    let mut message: Message = stored?.into();
    message.reply_to = quoted.as_ref().map(Quote::of);
    state.realtime.publish(
        member_ids(&state.db, chat, me).await?,
        Event::message_created(message.clone()),
    );
    Ok(message)
}

/// Fills in what a page of `chat`'s messages shows besides them: other
/// members' corrections, reactions as `me` sees them, and the messages that
/// replies quote. Only what the chat has ever had is looked up (`extras`):
/// at most three statements, run together.
pub async fn decorate(db: &Db, me: Uuid, chat: &chat::Model, page: &mut [Message]) -> ApiResult<()> {
    let has = |bit: i32| chat.extras & bit != 0;
    if !has(Extras::CORRECTIONS | Extras::REACTIONS | Extras::REPLIES) {
        return Ok(());
    }
    let ids: Vec<Uuid> = page.iter().map(|m| m.id).collect();
    let quoted: Vec<Uuid> = page.iter().filter_map(|m| m.reply_to_id).collect();
    let (mut fixes, mut reacted, quotes) = tokio::try_join!(
        async {
            match has(Extras::CORRECTIONS) {
                true => corrections::of(db, &ids).await,
                false => Ok(HashMap::new()),
            }
        },
        async {
            match has(Extras::REACTIONS) {
                true => Ok::<_, ApiError>(reactions::of_messages(db.r(), me, &ids).await?),
                false => Ok(HashMap::new()),
            }
        },
        async { Ok::<_, ApiError>(messages::in_chat(db.r(), chat.id, &quoted).await?) },
    )?;
    let quotes: HashMap<Uuid, Quote> = quotes.iter().map(|m| (m.id, Quote::of(m))).collect();
    for message in page {
        message.peer_corrections = fixes.remove(&message.id).unwrap_or_default();
        message.reactions = reacted.remove(&message.id).unwrap_or_default();
        message.reply_to = message.reply_to_id.and_then(|id| quotes.get(&id).cloned());
    }
    Ok(())
}

/// `me` adds (`add`) or takes back their `emoji` on a message of a chat they
/// may write in; the members hear of it when something changed.
pub async fn react(
    db: &Db,
    realtime: &Realtime,
    me: Uuid,
    chat_id: Uuid,
    message_id: Uuid,
    emoji: &str,
    add: bool,
) -> ApiResult<()> {
    if !REACTIONS.contains(&emoji) {
        return Err(ApiError::validation(
            "emoji",
            format!("emoji must be one of {}", REACTIONS.join(" ")),
        ));
    }
    let membership = chats::member_chat(db, chat_id, me).await?;
    chats::ensure_writable(&membership)?;
    let message = messages::find_in_chat(db.r(), chat_id, message_id)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    if message.role == MessageRole::System {
        return Err(ApiError::Forbidden(
            "notes of what happened in a group take no reactions".into(),
        ));
    }
    let changed = if add {
        db_chats::add_extras(db.w(), chat_id, Extras::REACTIONS).await?;
        reactions::add(db.w(), chat_id, message_id, me, emoji).await?
    } else {
        reactions::remove(db.w(), message_id, me, emoji).await?
    };
    if changed {
        realtime.publish(
            member_ids(db, &membership.chat, me).await?,
            Event::Reaction {
                chat_id,
                message_id,
                user_id: me,
                emoji: emoji.to_owned(),
                added: add,
            },
        );
    }
    Ok(())
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
