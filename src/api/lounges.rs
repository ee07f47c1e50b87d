//! Lounges, the public rooms.
use poem::web::Data;
use poem_openapi::{
    param::{Path, Query},
    payload::Json,
    Object, OpenApi,
};
use uuid::Uuid;

use super::{
    bot::require_admin,
    json::JsonOut,
    pagination,
    types::{Chat, Lounge},
    ApiTags,
};
use crate::{
    auth::BearerAuth,
    domain::timestamp::Timestamp,
    error::{ApiError, ApiResult},
    service,
    state::AppState,
};

pub struct LoungesApi;

page!(LoungePage, Lounge, "A page of lounges, oldest first.");

/// How long to mute a lounge member.
#[derive(Debug, Object)]
pub struct NewMute {
    pub user_id: Uuid,
    /// 1..10080 (a week); 0 lifts a mute.
    pub minutes: u32,
}

/// A lounge member's mute.
#[derive(Debug, Object)]
pub struct Mute {
    pub user_id: Uuid,
    /// Until when they cannot post there; `null`: not muted.
    #[oai(nullable)]
    pub muted_until: Option<Timestamp>,
}

/// Longest mute an admin may give, in minutes (a week).
const MAX_MUTE_MINUTES: u32 = 7 * 24 * 60;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Lounges")]
impl LoungesApi {
    /// List lounges
    ///
    /// The public rooms: an open lounge and one per CEFR band (A, B, C), and
    /// any an operator added. Each with how many people are in it and online
    /// now (counted, never listed), and whether the caller joined it.
    #[oai(path = "/lounges", method = "get", operation_id = "listLounges")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Page size, 1..100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` from the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<JsonOut<LoungePage>> {
        let limit = pagination::limit(limit.0);
        let after = pagination::id_cursor(&cursor.0)?;
        let rows = service::lounges::page(&state.db, &state.realtime, auth.0.id, after, limit + 1).await?;
        let (items, next_cursor) = pagination::split(rows, limit, |l| l.id.to_string());
        Ok(JsonOut(LoungePage { items, next_cursor }))
    }

    /// Join a lounge
    ///
    /// The lounge appears in the caller's chat list (`kind: "lounge"`); joining
    /// again changes nothing. Leave it as a group: `DELETE
    /// /chats/{id}/members/{your id}`.
    #[oai(path = "/lounges/:id/join", method = "post", operation_id = "joinLounge")]
    async fn join(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> ApiResult<Json<Chat>> {
        let me = auth.0.id;
        let lounge = service::lounges::join(&state.db, me, id.0).await?;
        Ok(Json(
            service::chats::view(&state.db, &state.profiles, &state.realtime, me, lounge.id).await?,
        ))
    }
}

pub struct AdminLoungesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Admin")]
impl AdminLoungesApi {
    /// Mute a lounge member
    ///
    /// Admins only. The member cannot post in the lounge for `minutes`
    /// (`429 muted` with `Retry-After`); 0 lifts a mute. Written to the audit
    /// log. To remove someone from a lounge: `DELETE /chats/{id}/members/{user_id}`.
    #[oai(
        path = "/admin/lounges/:id/mutes",
        method = "post",
        operation_id = "adminMuteInLounge"
    )]
    async fn mute(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<NewMute>,
    ) -> ApiResult<Json<Mute>> {
        require_admin(&state, &auth).await?;
        if body.minutes > MAX_MUTE_MINUTES {
            return Err(ApiError::validation(
                "minutes",
                format!("minutes must be between 0 and {MAX_MUTE_MINUTES}"),
            ));
        }
        let until = (body.minutes > 0).then(|| chrono::Utc::now() + chrono::Duration::minutes(body.minutes.into()));
        service::lounges::mute(&state.db, auth.0.id, id.0, body.user_id, until).await?;
        Ok(Json(Mute {
            user_id: body.user_id,
            muted_until: until.map(Into::into),
        }))
    }
}
