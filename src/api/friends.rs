use poem::web::Data;
use poem_openapi::{
    param::{Path, Query},
    payload::Json,
    ApiResponse, Object, OpenApi,
};
use uuid::Uuid;

use super::{
    auth::NoContent,
    json::JsonOut,
    pagination,
    text::Text,
    types::{Friend, FriendPage, FriendStatus, User},
    ApiTags,
};
use crate::{
    auth::BearerAuth,
    db::{friends, users},
    entity::friendship,
    error::{ApiError, ApiResult},
    realtime::notify,
    state::AppState,
};

pub struct FriendsApi;

#[derive(Debug, Object)]
pub struct FriendRequest {
    /// Who to befriend.
    pub username: Text,
}

#[derive(ApiResponse)]
pub enum FriendCreated {
    /// The request was sent (`outgoing`), or accepted at once (`accepted`)
    /// because they had already asked you.
    #[oai(status = 201)]
    Created(Json<Friend>),
}

/// Builds the caller's view of a friendship row.
pub fn friend_view(me: Uuid, row: &friendship::Model, other: User) -> Friend {
    let status = if row.status == friends::ACCEPTED {
        FriendStatus::Accepted
    } else if row.requester_id == me {
        FriendStatus::Outgoing
    } else {
        FriendStatus::Incoming
    };
    Friend {
        user: other,
        status,
        since: row.accepted_at.unwrap_or(row.created_at).into(),
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Friends")]
impl FriendsApi {
    /// List friends and requests
    ///
    /// Newest first. `status` keeps only `accepted` friends, `incoming` or `outgoing` requests.
    #[oai(path = "/friends", method = "get", operation_id = "listFriends")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        status: Query<Option<FriendStatus>>,
        /// Page size, 1..100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` from the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<JsonOut<FriendPage>> {
        let me = auth.0.id;
        let limit = pagination::limit(limit.0);
        let rows = friends::list_for(state.db.r(), me).await?;
        let others: Vec<Uuid> = rows.iter().map(|r| r.other(me)).collect();
        let people = users::find_many(state.db.r(), &others).await?;
        // Presence is for friends: pending requests never show it.
        let accepted: Vec<Uuid> = rows
            .iter()
            .filter(|r| r.status == friends::ACCEPTED)
            .map(|r| r.other(me))
            .collect();
        let online = state.realtime.online(&accepted).await;
        let mut all: Vec<Friend> = rows
            .iter()
            .filter_map(|r| {
                let other = people.get(&r.other(me))?.clone();
                let is_online = online.contains(&other.id);
                Some(friend_view(me, r, User::from_model(&other, is_online)))
            })
            .filter(|f| status.0.is_none_or(|s| s == f.status))
            .collect();
        all.sort_by(|a, b| b.since.cmp(&a.since).then(b.user.id.cmp(&a.user.id)));
        let key = |f: &Friend| format!("{}|{}", f.since.to_rfc3339(), f.user.id);
        if let Some(cursor) = pagination::given(&cursor.0) {
            let after = pagination::decode(cursor)?;
            let pos = all
                .iter()
                .position(|f| key(f) == after)
                .ok_or_else(pagination::bad_cursor)?;
            all.drain(..=pos);
        }
        let (items, next_cursor) = pagination::split(all, limit, key);
        Ok(JsonOut(FriendPage { items, next_cursor }))
    }

    /// Send a friend request
    ///
    /// If they had already asked you, this accepts their request instead.
    /// 409 for yourself, an existing friend, or a request you already sent.
    #[oai(path = "/friends", method = "post", operation_id = "sendFriendRequest")]
    async fn request(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<FriendRequest>,
    ) -> ApiResult<FriendCreated> {
        let me = auth.0.id;
        let other = users::find_by_username(state.db.r(), body.username.trim())
            .await?
            .ok_or_else(|| ApiError::not_found("user"))?;
        if other.id == me {
            return Err(ApiError::Conflict(
                "you cannot send a friend request to yourself".into(),
            ));
        }
        let row = match friends::find(state.db.r(), me, other.id).await? {
            Some(row) if row.status == friends::ACCEPTED => {
                return Err(ApiError::Conflict("you are already friends".into()))
            }
            Some(row) if row.requester_id == me => {
                return Err(ApiError::Conflict("you have already sent this request".into()))
            }
            Some(row) => friends::accept(state.db.w(), row)
                .await?
                .ok_or_else(|| ApiError::Conflict("the request changed; try again".into()))?,
            None => friends::insert_request(state.db.w(), me, other.id)
                .await
                .map_err(|e| ApiError::conflict_on_unique(e, "a request between you already exists"))?,
        };
        notify::friendship(&state, &row, false).await;
        let online = row.status == friends::ACCEPTED && state.realtime.is_online(other.id).await;
        Ok(FriendCreated::Created(Json(friend_view(
            me,
            &row,
            User::from_model(&other, online),
        ))))
    }

    /// Accept a friend request
    ///
    /// 404 unless that user has sent you a request that is still pending.
    #[oai(
        path = "/friends/:user_id/accept",
        method = "post",
        operation_id = "acceptFriendRequest"
    )]
    async fn accept(&self, state: Data<&AppState>, auth: BearerAuth, user_id: Path<Uuid>) -> ApiResult<Json<Friend>> {
        let me = auth.0.id;
        let no_request = || ApiError::NotFound("no pending friend request from that user".into());
        let row = friends::find(state.db.r(), me, user_id.0)
            .await?
            .filter(|r| r.status == friends::PENDING && r.requester_id == user_id.0)
            .ok_or_else(no_request)?;
        let row = friends::accept(state.db.w(), row).await?.ok_or_else(no_request)?;
        let other = users::find_by_id(state.db.r(), user_id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("user"))?;
        notify::friendship(&state, &row, false).await;
        let online = state.realtime.is_online(other.id).await;
        Ok(Json(friend_view(me, &row, User::from_model(&other, online))))
    }

    /// Unfriend, decline or cancel
    ///
    /// Removes the friendship or pending request with that user, whichever exists.
    #[oai(path = "/friends/:user_id", method = "delete", operation_id = "removeFriend")]
    async fn remove(&self, state: Data<&AppState>, auth: BearerAuth, user_id: Path<Uuid>) -> ApiResult<NoContent> {
        let gone = || ApiError::NotFound("no friendship or request with that user".into());
        let row = friends::find(state.db.r(), auth.0.id, user_id.0)
            .await?
            .ok_or_else(gone)?;
        if !friends::delete(state.db.w(), auth.0.id, user_id.0).await? {
            return Err(gone());
        }
        notify::friendship(&state, &row, true).await;
        Ok(NoContent::Done)
    }
}
