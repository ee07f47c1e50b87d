//! Who may see whom online. The one rule: presence is for friends (and
//! oneself), never for strangers or people with a pending request. Every view
//! that shows `online` asks here.
use std::collections::HashSet;

use uuid::Uuid;

use crate::{
    db::{friends, Db},
    error::ApiResult,
    realtime::Realtime,
};

/// Which of `people` the viewer may see as online right now. Each comes with
/// whether the viewer may see their presence at all: themself, or a friend.
pub async fn online_among(realtime: &Realtime, people: impl IntoIterator<Item = (Uuid, bool)>) -> HashSet<Uuid> {
    let shown: Vec<Uuid> = people
        .into_iter()
        .filter(|(_, shown)| *shown)
        .map(|(id, _)| id)
        .collect();
    if shown.is_empty() {
        return HashSet::new();
    }
    realtime.online(&shown).await
}

/// Which of `ids` the caller `me` may see as online right now, looking up
/// which of them are friends (one statement).
pub async fn visible_online(db: &Db, realtime: &Realtime, me: Uuid, ids: &[Uuid]) -> ApiResult<HashSet<Uuid>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let friends = friends::accepted_among(db.r(), me, ids).await?;
    Ok(online_among(realtime, ids.iter().map(|id| (*id, *id == me || friends.contains(id)))).await)
}

/// Tells `user`'s friends that they came online or went offline.
pub async fn announce(db: &Db, realtime: &Realtime, user: Uuid, online: bool) {
    match friends::friend_ids(db.r(), user).await {
        Ok(ids) => realtime.publish(ids, crate::realtime::events::Event::Presence { user_id: user, online }),
        Err(e) => tracing::warn!(error = %e, "could not load friends for a presence event"),
    }
}
