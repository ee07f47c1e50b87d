//! Who hears about what: presence goes to friends, friend events to both
//! people, each with their own view. (Chat events go to the chat's members,
//! which the chat itself names: see `chats::member_ids`.)
use uuid::Uuid;

use super::events;
use crate::{
    api::{friends::friend_view, types::User},
    db::{friends, users},
    entity::friendship,
    state::AppState,
};

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
            let view = friend_view(me, row, User::from_model(other_user, online.contains(&other)));
            state.realtime.publish(vec![me], events::friend(&view, removed));
        }
    }
}
