//! Who may see whom online: presence is for friends (and oneself), never for
//! strangers or people with a pending request.
use std::collections::HashSet;

use uuid::Uuid;

use crate::{db::friends, error::ApiResult, state::AppState};

/// Which of `ids` the caller `me` may see as online right now.
pub async fn visible_online(state: &AppState, me: Uuid, ids: &[Uuid]) -> ApiResult<HashSet<Uuid>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let friends = friends::accepted_among(state.db.r(), me, ids).await?;
    let visible: Vec<Uuid> = ids
        .iter()
        .copied()
        .filter(|id| *id == me || friends.contains(id))
        .collect();
    Ok(state.realtime.online(&visible).await)
}
