//! The members of groups and lounges.
use poem::web::Data;
use poem_openapi::{
    param::{Path, Query},
    payload::Json,
    ApiResponse, Object, OpenApi,
};
use uuid::Uuid;

use super::{json::JsonOut, pagination, types::ChatMember, ApiTags, NoContent};
use crate::{
    api::auth::fresh_user, auth::BearerAuth, domain::kinds::Role, error::ApiResult, service::groups::Groups,
    state::AppState,
};

pub struct GroupsApi;

page!(
    MemberPage,
    ChatMember,
    "A page of a chat's members, longest-standing first."
);

/// Someone to add to a group.
#[derive(Debug, Object)]
pub struct NewMember {
    /// One of the caller's accepted friends.
    pub user_id: Uuid,
}

#[derive(ApiResponse)]
pub enum MemberAdded {
    /// They are in the group now; every member (them included) gets `member.joined`.
    #[oai(status = 201)]
    Created(Json<ChatMember>),
}

pub(crate) fn groups(state: &AppState) -> Groups<'_> {
    Groups {
        db: &state.db,
        profiles: &state.profiles,
        realtime: &state.realtime,
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Chats")]
impl GroupsApi {
    /// List a chat's members
    ///
    /// Longest-standing first, each with their `role`. `online` is shown only
    /// for the caller's friends (and the caller), as everywhere.
    #[oai(path = "/chats/:id/members", method = "get", operation_id = "listChatMembers")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// Page size, 1..100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` from the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<JsonOut<MemberPage>> {
        let limit = pagination::limit(limit.0);
        let after = pagination::time_id_cursor(&cursor.0)?;
        let rows = groups(&state).members(auth.0.id, id.0, after, limit + 1).await?;
        let (items, next_cursor) =
            pagination::split(rows, limit, |m| pagination::time_id_key(m.joined_at.0, m.user.id));
        Ok(JsonOut(MemberPage { items, next_cursor }))
    }

    /// Add a friend to a group
    ///
    /// Any member may add one of their accepted friends (403 otherwise), up to
    /// 50 people (409 when full, or when they are in it already). The history
    /// gets a system message.
    #[oai(path = "/chats/:id/members", method = "post", operation_id = "addChatMember")]
    async fn add(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<NewMember>,
    ) -> ApiResult<MemberAdded> {
        let member = groups(&state).add(auth.0.id, id.0, body.user_id).await?;
        Ok(MemberAdded::Created(Json(member)))
    }

    /// Remove a member, or leave
    ///
    /// Anyone removes themselves (leaving); the owner of a group removes others
    /// (403 for anyone else), and in a lounge an admin does. When the owner
    /// leaves, the longest-standing member becomes owner; when the last member
    /// leaves, the group is deleted. A removed member sees the chat no more (404).
    #[oai(
        path = "/chats/:id/members/:user_id",
        method = "delete",
        operation_id = "removeChatMember"
    )]
    async fn remove(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        user_id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let me = auth.0.id;
        let admin = user_id.0 != me && fresh_user(&state, me).await?.role == Role::Admin;
        groups(&state).remove(me, admin, id.0, user_id.0).await?;
        Ok(NoContent::Done)
    }
}
