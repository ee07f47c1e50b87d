//! Who hears about what: chat events go to the chat's members, presence to
//! friends, friend events to both people, each with their own view.
use uuid::Uuid;

use super::events;
use crate::{
    api::{friends::friend_view, types::User},
    db::{chats, friends, users},
    entity::friendship,
    state::AppState,
};

/// The chat's members, if `user` is one of them.
pub async fn member_ids(state: &AppState, user: Uuid, chat_id: Uuid) -> Option<Vec<Uuid>> {
    let members = chats::members(state.db.r(), chat_id).await.ok()?;
    let ids: Vec<Uuid> = members.into_iter().map(|m| m.user_id).collect();
    ids.contains(&user).then_some(ids)
}

/// Sends `event` to every member of the chat (every tab, every instance).
pub async fn chat(state: &AppState, chat_id: Uuid, event: serde_json::Value) {
    match chats::members(state.db.r(), chat_id).await {
        Ok(members) => state
            .realtime
            .publish(members.into_iter().map(|m| m.user_id).collect(), event),
        Err(e) => tracing::warn!(error = %e, %chat_id, "could not load chat members for an event"),
    }
}

/// Tells the user's friends that they came online or went offline.
pub async fn presence(state: &AppState, user: Uuid, online: bool) {
    match friends::friend_ids(state.db.r(), user).await {
        Ok(ids) => state.realtime.publish(ids, events::presence(user, online)),
        Err(e) => tracing::warn!(error = %e, "could not load friends for a presence event"),
    }
}

/// Sends each side of a friendship its own view of it.
pub async fn friendship(state: &AppState, row: &friendship::Model, removed: bool) {
    let (a, b) = (row.user_low, row.user_high);
    let Ok(people) = users::find_many(state.db.r(), &[a, b]).await else {
        return;
    };
    // Presence is for friends: a request or an ended friendship shows none.
    let online = if row.status == friends::ACCEPTED && !removed {
        state.realtime.online(&[a, b]).await
    } else {
        Default::default()
    };
    for (me, other) in [(a, b), (b, a)] {
        if let Some(other_user) = people.get(&other) {
            let view = friend_view(me, row, User::from_model(other_user.clone(), online.contains(&other)));
            state.realtime.publish(vec![me], events::friend(&view, removed));
        }
    }
}
