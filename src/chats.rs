//! Chat rules shared by the HTTP API and the WebSocket: who may see a chat, and
//! who may write in it.
use uuid::Uuid;

use crate::{
    db::chats::{self, Membership},
    entity::chat,
    error::{ApiError, ApiResult},
    state::AppState,
};

/// The chat if the caller is a member; 404 otherwise, whether or not it exists.
pub async fn member_chat(state: &AppState, chat_id: Uuid, me: Uuid) -> ApiResult<Membership> {
    chats::membership(state.db.r(), chat_id, me)
        .await?
        .ok_or_else(|| ApiError::not_found("chat"))
}

/// The other member of a direct chat, read off its key.
pub fn peer_id(chat: &chat::Model, me: Uuid) -> Option<Uuid> {
    let (a, b) = chat.direct_key.as_deref()?.split_once(':')?;
    let (a, b) = (a.parse().ok()?, b.parse().ok()?);
    Some(if a == me { b } else { a })
}

/// Everyone in the chat, read off the chat itself: both people of a direct
/// chat, the learner alone in a bot chat (`me` must be a member).
pub fn member_ids(chat: &chat::Model, me: Uuid) -> Vec<Uuid> {
    match peer_id(chat, me) {
        Some(peer) => vec![me, peer],
        None => vec![me],
    }
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

/// The members other than `me` of a chat `me` may write in.
pub async fn writable_peers(state: &AppState, me: Uuid, chat_id: Uuid) -> ApiResult<Vec<Uuid>> {
    let membership = member_chat(state, chat_id, me).await?;
    ensure_writable(&membership)?;
    Ok(member_ids(&membership.chat, me)
        .into_iter()
        .filter(|id| *id != me)
        .collect())
}
