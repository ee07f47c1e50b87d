//! Chats: who may see one and who may write in it (for the HTTP API and the
//! WebSocket alike), how each member sees it, and read markers.
use uuid::Uuid;

use super::presence;
use crate::{
    auth::profiles::Profiles,
    db::{
        chats::{self, Membership},
        messages, Db,
    },
    domain::{
        chat::{Chat, Message},
        kinds::{ChatKind, MessageRole},
        people::User,
    },
    entity::{chat, message},
    error::{ApiError, ApiResult},
    realtime::{events::Event, Realtime},
};

/// The chat if the caller is a member; 404 otherwise, whether or not it exists.
pub async fn member_chat(db: &Db, chat_id: Uuid, me: Uuid) -> ApiResult<Membership> {
    chats::membership(db.r(), chat_id, me)
        .await?
        .ok_or_else(|| ApiError::not_found("chat"))
}

/// A bot chat of the caller's; for a direct chat, a validation error on
/// `chat` that says `refusal`.
pub async fn bot_chat(db: &Db, me: Uuid, chat_id: Uuid, refusal: impl Into<String>) -> ApiResult<chat::Model> {
    let chat = member_chat(db, chat_id, me).await?.chat;
    if chat.kind != ChatKind::Bot {
        return Err(ApiError::validation("chat", refusal));
    }
    Ok(chat)
}

/// The other member of a direct chat, read off its key.
pub fn peer_id(chat: &chat::Model, me: Uuid) -> Option<Uuid> {
    let (a, b) = chat.direct_key.as_deref()?.split_once(':')?;
    let (a, b) = (a.parse().ok()?, b.parse().ok()?);
    Some(if a == me { b } else { a })
}

/// Everyone in the chat (`me` must be a member): read off a direct or bot
/// chat itself (both people, or the learner alone), from the members of a
/// group or lounge.
pub async fn member_ids(db: &Db, chat: &chat::Model, me: Uuid) -> ApiResult<Vec<Uuid>> {
    if chat.kind.is_room() {
        return Ok(chats::member_ids(db.r(), chat.id).await?);
    }
    Ok(match peer_id(chat, me) {
        Some(peer) => vec![me, peer],
        None => vec![me],
    })
}

/// Posting, editing and typing in a direct chat need the two people to be
/// friends: after an unfriending the chat stays readable but is closed (403)
/// until they are friends again. Bot chats are always open to their owner.
pub fn ensure_writable(membership: &Membership) -> ApiResult<()> {
    if membership.writable {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "you are no longer friends; this chat is read-only until you are friends again".into(),
        ))
    }
}

/// Who sees `me` typing in a chat `me` may write in: the other members of a
/// direct chat or a group (nobody in a lounge, where it would be noise).
pub async fn typing_audience(db: &Db, me: Uuid, chat_id: Uuid) -> ApiResult<Vec<Uuid>> {
    let membership = member_chat(db, chat_id, me).await?;
    ensure_writable(&membership)?;
    if membership.chat.kind == ChatKind::Lounge {
        return Ok(Vec::new());
    }
    Ok(member_ids(db, &membership.chat, me)
        .await?
        .into_iter()
        .filter(|id| *id != me)
        .collect())
}

/// The chats as `me` sees them: each direct chat with the other person (from
/// the profile cache) and their presence while they are friends (which the
/// listing read). One statement at most (profiles not cached).
pub async fn views(
    db: &Db,
    profiles: &Profiles,
    realtime: &Realtime,
    me: Uuid,
    rows: Vec<chats::Listed>,
) -> ApiResult<Vec<Chat>> {
    let peer_ids: Vec<Uuid> = rows.iter().filter_map(|l| peer_id(&l.chat, me)).collect();
    let peers = profiles.get_many(db.r(), &peer_ids).await?;
    // A direct chat is writable exactly while the two are friends.
    let online = presence::online_among(
        realtime,
        rows.iter().filter_map(|l| Some((peer_id(&l.chat, me)?, l.writable))),
    )
    .await;
    Ok(rows
        .into_iter()
        .map(|l| {
            let peer = peer_id(&l.chat, me)
                .and_then(|id| peers.get(&id))
                .map(|u| User::from_model(u, online.contains(&u.id)));
            Chat::build(l.chat, peer, l.last_message.map(Message::from), l.unread).with_members(
                l.member_count,
                l.role,
                l.last_sender_name,
            )
        })
        .collect())
}

/// One chat as the caller sees it; 404 unless they are a member.
pub async fn view(db: &Db, profiles: &Profiles, realtime: &Realtime, me: Uuid, chat_id: Uuid) -> ApiResult<Chat> {
    let rows = chats::listed(db.r(), me, chats::Listing::One(chat_id)).await?;
    views(db, profiles, realtime, me, rows)
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("chat"))
}

/// Moves the caller's read marker and tells the chat's members (in a lounge,
/// only the caller's other tabs: a thousand members need not know).
pub async fn mark_read(db: &Db, realtime: &Realtime, me: Uuid, chat_id: Uuid, message_id: Uuid) -> ApiResult<()> {
    let chat = member_chat(db, chat_id, me).await?.chat;
    let message = messages::find_in_chat(db.r(), chat_id, message_id)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    if chats::mark_read(db.w(), me, &message).await? {
        let audience = if chat.kind == ChatKind::Lounge {
            vec![me]
        } else {
            member_ids(db, &chat, me).await?
        };
        realtime.publish(
            audience,
            Event::Read {
                chat_id,
                user_id: me,
                message_id,
                seq: message.seq,
            },
        );
    }
    Ok(())
}

/// A message the caller may change: 404 if they cannot see it, 403 if it is not
/// theirs, not a person's, or in a bot chat.
pub async fn own_message(
    db: &Db,
    me: Uuid,
    chat_id: Uuid,
    message_id: Uuid,
) -> ApiResult<(Membership, message::Model)> {
    let membership = member_chat(db, chat_id, me).await?;
    let message = messages::find_in_chat(db.r(), chat_id, message_id)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    if membership.chat.kind == ChatKind::Bot {
        return Err(ApiError::Forbidden("messages in bot chats cannot be changed".into()));
    }
    if message.sender_id != Some(me) || message.role != MessageRole::User {
        return Err(ApiError::Forbidden("you can only change your own messages".into()));
    }
    Ok((membership, message))
}
