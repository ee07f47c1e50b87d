use poem::web::Data;
use poem_openapi::{
    param::{Path, Query},
    payload::Json,
    ApiResponse, Object, OpenApi,
};
use uuid::Uuid;

use super::{
    json::JsonOut,
    pagination,
    text::Text,
    types::{Friend, FriendPage, FriendStatus},
    ApiTags, NoContent,
};
use crate::{auth::BearerAuth, error::ApiResult, service::friends, state::AppState};

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
        let limit = pagination::limit(limit.0);
        let after = pagination::time_id_cursor(&cursor.0)?;
        let rows = friends::page(&state.db, &state.realtime, auth.0.id, status.0, after, limit + 1).await?;
        let (items, next_cursor) = pagination::split(rows, limit, |f| pagination::time_id_key(f.since.0, f.user.id));
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
        let requested = friends::request(&state.db, &state.realtime, auth.0.id, body.username.trim()).await?;
        Ok(FriendCreated::Created(Json(requested.friend())))
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
        Ok(Json(
            friends::accept(&state.db, &state.realtime, auth.0.id, user_id.0).await?,
        ))
    }

    /// Unfriend, decline or cancel
    ///
    /// Removes the friendship or pending request with that user, whichever exists.
    #[oai(path = "/friends/:user_id", method = "delete", operation_id = "removeFriend")]
    async fn remove(&self, state: Data<&AppState>, auth: BearerAuth, user_id: Path<Uuid>) -> ApiResult<NoContent> {
        friends::remove(&state.db, &state.realtime, auth.0.id, user_id.0).await?;
        Ok(NoContent::Done)
    }
}
