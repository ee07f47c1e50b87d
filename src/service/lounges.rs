//! Lounges, the public rooms: listed with how many are in them and online,
//! joined by anyone, muted by the spam rule or an admin. Presence stays for
//! friends: a lounge's members are counted online, never listed as online.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    db::{chats as store, Db},
    domain::chat::Lounge,
    entity::chat,
    error::{ApiError, ApiResult},
    realtime::{events::Event, Realtime},
};

/// How many of each lounge's `members` (`(lounge, user)`) are online, by lounge.
async fn online_counts(realtime: &Realtime, lounges: &[Uuid], members: &[(Uuid, Uuid)]) -> HashMap<Uuid, u64> {
    let everyone: Vec<Uuid> = members.iter().map(|(_, user)| *user).collect();
    let online = realtime.online(&everyone).await;
    let mut counts: HashMap<Uuid, u64> = lounges.iter().map(|id| (*id, 0)).collect();
    for (lounge, user) in members {
        if online.contains(user) {
            *counts.entry(*lounge).or_default() += 1;
        }
    }
    counts
}

/// A page of lounges, oldest first, after the lounge `after`.
pub async fn page(db: &Db, realtime: &Realtime, me: Uuid, after: Option<Uuid>, limit: u64) -> ApiResult<Vec<Lounge>> {
    let rows = store::lounges(db.r(), me, after, limit).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.chat.id).collect();
    let members = store::members_of(db.r(), &ids).await?;
    let online = online_counts(realtime, &ids, &members).await;
    Ok(rows
        .into_iter()
        .map(|r| Lounge {
            id: r.chat.id,
            online_count: online.get(&r.chat.id).copied().unwrap_or_default(),
            title: r.chat.title.unwrap_or_default(),
            member_count: r.member_count.max(0) as u64,
            joined: r.joined,
        })
        .collect())
}

/// `me` joins the lounge (again, if they had): it appears in their chat list.
pub async fn join(db: &Db, me: Uuid, lounge_id: Uuid) -> ApiResult<chat::Model> {
    let lounge = store::lounge(db.r(), lounge_id)
        .await?
        .ok_or_else(|| ApiError::not_found("lounge"))?;
    match store::add_member(db.w(), lounge_id, me, None).await? {
        Ok(_) | Err(store::AddRefused::Already) => Ok(lounge),
        Err(_) => Err(ApiError::not_found("lounge")),
    }
}

/// An admin mutes a member of a lounge until `until` (`None` lifts a mute).
pub async fn mute(db: &Db, admin: Uuid, lounge_id: Uuid, user_id: Uuid, until: Option<DateTime<Utc>>) -> ApiResult<()> {
    store::lounge(db.r(), lounge_id)
        .await?
        .ok_or_else(|| ApiError::not_found("lounge"))?;
    if !store::set_muted(db.w(), lounge_id, user_id, until).await? {
        return Err(ApiError::not_found("member"));
    }
    tracing::info!(target: "audit", admin_id = %admin, lounge = %lounge_id, user_id = %user_id, until = ?until, "muted in a lounge");
    Ok(())
}

/// Tells each lounge's members on this instance how many are online, when it
/// changed since the last round; run about once a second. Each instance
/// tells only its own sockets, so no member hears it twice.
pub struct OnlineTicker {
    last: HashMap<Uuid, u64>,
}

impl OnlineTicker {
    pub fn new() -> Self {
        Self { last: HashMap::new() }
    }

    pub async fn tick(&mut self, db: &Db, realtime: &Realtime) -> ApiResult<()> {
        let here = realtime.local_users();
        if here.is_empty() {
            self.last.clear();
            return Ok(());
        }
        let lounges = store::lounge_ids(db.r()).await?;
        let members = store::members_of(db.r(), &lounges).await?;
        let counts = online_counts(realtime, &lounges, &members).await;
        for (lounge, count) in counts {
            if self.last.insert(lounge, count) == Some(count) {
                continue;
            }
            let audience: Vec<Uuid> = members
                .iter()
                .filter(|(l, user)| *l == lounge && here.contains(user))
                .map(|(_, user)| *user)
                .collect();
            realtime.deliver_local(
                &audience,
                Event::LoungeOnline {
                    chat_id: lounge,
                    online_count: count,
                },
            );
        }
        Ok(())
    }
}

impl Default for OnlineTicker {
    fn default() -> Self {
        Self::new()
    }
}
