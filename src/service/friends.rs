//! Friendships: the request state machine (ask, accept, remove), each side's
//! view of one, and telling both people when one changes.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::presence;
use crate::{
    db::{friends, users, Db},
    domain::{
        kinds::FriendshipState,
        people::{Friend, FriendStatus, User},
    },
    entity::friendship,
    error::{ApiError, ApiResult},
    realtime::{events::Event, Realtime},
};

/// What asking someone to be friends did.
pub enum Requested {
    /// A new request, waiting for them.
    Sent(Friend),
    /// They had already asked: their request is accepted instead.
    Accepted(Friend),
}

impl Requested {
    pub fn friend(self) -> Friend {
        match self {
            Self::Sent(f) | Self::Accepted(f) => f,
        }
    }
}

/// A page of `me`'s friends and requests, newest first (by when they were
/// accepted or sent), after `after` (`(since, their id)` of the last one
/// shown), keeping only `status` when given: one statement, then presence.
pub async fn page(
    db: &Db,
    realtime: &Realtime,
    me: Uuid,
    status: Option<FriendStatus>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> ApiResult<Vec<Friend>> {
    let rows = friends::page(db.r(), me, status, after, limit).await?;
    let online = presence::online_among(
        realtime,
        rows.iter()
            .map(|(r, other)| (other.id, r.status == FriendshipState::Accepted)),
    )
    .await;
    Ok(rows
        .iter()
        .map(|(r, other)| Friend::seen_by(me, r, User::from_model(other, online.contains(&other.id))))
        .collect())
}

/// `me` asks `username` to be friends; if they had already asked, that
/// request is accepted instead. 409 for oneself, a friend, or a request `me`
/// already sent.
pub async fn request(db: &Db, realtime: &Realtime, me: Uuid, username: &str) -> ApiResult<Requested> {
    let other = users::find_by_username(db.r(), username)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    if other.id == me {
        return Err(ApiError::Conflict(
            "you cannot send a friend request to yourself".into(),
        ));
    }
    let (row, accepted) = match friends::find(db.r(), me, other.id).await? {
        Some(row) if row.status == FriendshipState::Accepted => {
            return Err(ApiError::Conflict("you are already friends".into()))
        }
        Some(row) if row.requester_id == me => {
            return Err(ApiError::Conflict("you have already sent this request".into()))
        }
        Some(row) => (
            friends::accept(db.w(), row)
                .await?
                .ok_or_else(|| ApiError::Conflict("the request changed; try again".into()))?,
            true,
        ),
        None => (
            friends::insert_request(db.w(), me, other.id)
                .await
                .map_err(|e| ApiError::conflict_on_unique(e, "a request between you already exists"))?,
            false,
        ),
    };
    let friend = changed(db, realtime, me, &row, false).await?;
    Ok(if accepted {
        Requested::Accepted(friend)
    } else {
        Requested::Sent(friend)
    })
}

/// `me` accepts `from`'s pending request; 404 unless there is one.
pub async fn accept(db: &Db, realtime: &Realtime, me: Uuid, from: Uuid) -> ApiResult<Friend> {
    let no_request = || ApiError::NotFound("no pending friend request from that user".into());
    let row = friends::find(db.r(), me, from)
        .await?
        .filter(|r| r.status == FriendshipState::Pending && r.requester_id == from)
        .ok_or_else(no_request)?;
    let row = friends::accept(db.w(), row).await?.ok_or_else(no_request)?;
    changed(db, realtime, me, &row, false).await
}

/// Ends the friendship or pending request between `me` and `other`, whichever exists.
pub async fn remove(db: &Db, realtime: &Realtime, me: Uuid, other: Uuid) -> ApiResult<()> {
    let gone = || ApiError::NotFound("no friendship or request with that user".into());
    let row = friends::find(db.r(), me, other).await?.ok_or_else(gone)?;
    if !friends::delete(db.w(), me, other).await? {
        return Err(gone());
    }
    changed(db, realtime, me, &row, true).await?;
    Ok(())
}

/// Sends each side of a changed friendship its own view of it, and returns
/// `me`'s.
async fn changed(db: &Db, realtime: &Realtime, me: Uuid, row: &friendship::Model, removed: bool) -> ApiResult<Friend> {
    let (a, b) = (row.user_low, row.user_high);
    let people = users::find_many(db.r(), &[a, b]).await?;
    // A request or an ended friendship shows no presence.
    let friends = row.status == FriendshipState::Accepted && !removed;
    let online = presence::online_among(realtime, [(a, friends), (b, friends)]).await;
    let mut mine = None;
    for (viewer, other) in [(a, b), (b, a)] {
        let Some(other_user) = people.get(&other) else {
            continue;
        };
        let view = Friend::seen_by(viewer, row, User::from_model(other_user, online.contains(&other)));
        realtime.publish(
            vec![viewer],
            Event::Friend {
                friend: view.clone(),
                removed,
            },
        );
        if viewer == me {
            mine = Some(view);
        }
    }
    mine.ok_or_else(|| ApiError::not_found("user"))
}
