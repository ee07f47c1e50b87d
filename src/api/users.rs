use poem::web::Data;
use poem_openapi::{
    param::{Path, Query},
    payload::Json,
    OpenApi,
};
use uuid::Uuid;

use super::{
    json::JsonOut,
    pagination,
    types::{User, UserPage},
    ApiTags,
};
use crate::{
    auth::BearerAuth,
    db::users,
    error::{ApiError, ApiResult},
    service::presence,
    state::AppState,
};

pub struct UsersApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Users")]
impl UsersApi {
    /// List users
    ///
    /// Everyone on ChattConnect, ordered by username. `q` keeps those whose
    /// username or display name starts with it (case-insensitively).
    #[oai(path = "/users", method = "get", operation_id = "listUsers")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Prefix of the username or display name (at most 100 characters).
        #[oai(validator(max_length = 100))]
        q: Query<Option<String>>,
        /// Page size, 1..100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` from the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<JsonOut<UserPage>> {
        let limit = pagination::limit(limit.0);
        let after = pagination::given(&cursor.0).map(pagination::decode).transpose()?;
        let rows = users::list(state.db.r(), q.0.as_deref().map(str::trim), after.as_deref(), limit + 1).await?;
        let (rows, next_cursor) = pagination::split(rows, limit, |u| u.username_lower.clone());
        let ids: Vec<Uuid> = rows.iter().map(|u| u.id).collect();
        let online = presence::visible_online(&state.db, &state.realtime, auth.0.id, &ids).await?;
        let items = rows
            .into_iter()
            .map(|u| {
                let is_online = online.contains(&u.id);
                User::from_model(&u, is_online)
            })
            .collect();
        Ok(JsonOut(UserPage { items, next_cursor }))
    }

    /// Get a user
    ///
    /// `online` is shown for friends (and yourself); for anyone else it is `false`.
    #[oai(path = "/users/:id", method = "get", operation_id = "getUser")]
    async fn get(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> ApiResult<Json<User>> {
        let user = users::find_by_id(state.db.r(), id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("user"))?;
        let online = presence::visible_online(&state.db, &state.realtime, auth.0.id, &[user.id])
            .await?
            .contains(&user.id);
        Ok(Json(User::from_model(&user, online)))
    }
}
