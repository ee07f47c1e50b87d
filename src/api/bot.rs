use poem::web::Data;
use poem_openapi::{param::Path, payload::Json, Object, OpenApi};
use uuid::Uuid;

use super::{
    auth::fresh_user,
    types::{Message, Role},
    ApiTags,
};
pub use crate::domain::quota::Quota;
use crate::{
    auth::BearerAuth,
    bot::scenarios,
    db::users,
    error::{ApiError, ApiResult},
    state::AppState,
};

/// A role-play to practise.
#[derive(Debug, Clone, Object)]
pub struct Scenario {
    /// Pass as `scenario_id` when creating a bot chat.
    pub id: String,
    pub title: String,
    pub description: String,
    /// How the bot opens the conversation.
    pub opening_line: String,
    /// What to manage in the conversation; the summary says which were reached.
    pub goals: Vec<String>,
}

/// Every practice scenario, in one page (`next_cursor` is always `null`): all
/// lists have the same `{items, next_cursor}` shape.
#[derive(Debug, Clone, Object)]
pub struct ScenarioPage {
    pub items: Vec<Scenario>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

/// One bot request's result: the learner's stored turn, the bot's reply, and the quota after it.
#[derive(Debug, Clone, Object)]
pub struct BotExchange {
    pub message: Message,
    pub reply: Message,
    pub quota: Quota,
}

#[derive(Debug, Object)]
pub struct GrantRequest {
    /// Extra bot requests for today, 1..1000.
    #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
    pub extra: u32,
}

quota_response!(QuotaResponse, 200, Json<Quota>, "Today's quota.");

pub struct BotApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Bot")]
impl BotApi {
    /// My bot quota today
    ///
    /// Five requests per calendar day by default; the day ends at midnight in the
    /// server's quota time zone.
    #[oai(path = "/bot/quota", method = "get", operation_id = "getBotQuota")]
    async fn quota(&self, state: Data<&AppState>, auth: BearerAuth) -> ApiResult<QuotaResponse> {
        let q = state.quota.status(state.db.r(), auth.0.id).await?;
        Ok(QuotaResponse::new(Json((&q).into()), &q))
    }

    /// List practice scenarios
    ///
    /// All of them in one page, in the same `{items, next_cursor}` shape as every list.
    #[oai(path = "/bot/scenarios", method = "get", operation_id = "listScenarios")]
    async fn scenarios(&self, _auth: BearerAuth) -> ApiResult<Json<ScenarioPage>> {
        let items = scenarios::SCENARIOS
            .iter()
            .map(|s| Scenario {
                id: s.id.into(),
                title: s.title.into(),
                description: s.description.into(),
                opening_line: s.opening_line.into(),
                goals: s.goals.iter().map(|g| g.text.into()).collect(),
            })
            .collect();
        Ok(Json(ScenarioPage {
            items,
            next_cursor: None,
        }))
    }
}

pub struct AdminApi;

pub(crate) async fn require_admin(state: &AppState, auth: &BearerAuth) -> ApiResult<()> {
    if fresh_user(state, auth.0.id).await?.role != Role::Admin {
        return Err(ApiError::Forbidden("only admins may do this".into()));
    }
    Ok(())
}

async fn target_user(state: &AppState, id: Uuid) -> ApiResult<()> {
    users::find_by_id(state.db.r(), id)
        .await?
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found("user"))
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Admin")]
impl AdminApi {
    /// A user's bot quota today
    ///
    /// Admins only (403 otherwise). Admins are made with
    /// `chattconnect admin promote <username>`, never through the API.
    #[oai(path = "/admin/users/:id/quota", method = "get", operation_id = "adminGetQuota")]
    async fn get_quota(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> ApiResult<Json<Quota>> {
        require_admin(&state, &auth).await?;
        target_user(&state, id.0).await?;
        let q = state.quota.status(state.db.r(), id.0).await?;
        Ok(Json((&q).into()))
    }

    /// Grant extra bot requests for today
    ///
    /// Admins only. Adds `extra` to the user's allowance for the current quota
    /// day; it is written to the audit log.
    #[oai(path = "/admin/users/:id/quota", method = "post", operation_id = "adminGrantQuota")]
    async fn grant(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<GrantRequest>,
    ) -> ApiResult<Json<Quota>> {
        require_admin(&state, &auth).await?;
        if !(1..=1000).contains(&body.extra) {
            return Err(ApiError::validation("extra", "extra must be between 1 and 1000"));
        }
        target_user(&state, id.0).await?;
        let q = state.quota.grant(state.db.w(), id.0, body.extra).await?;
        tracing::info!(target: "audit", admin_id = %auth.0.id, user_id = %id.0, extra = body.extra, limit = q.limit, "granted extra bot requests");
        Ok(Json((&q).into()))
    }
}
