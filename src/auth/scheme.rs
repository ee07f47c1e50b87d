use poem::Request;
use poem_openapi::{auth::Bearer, SecurityScheme};
use uuid::Uuid;

use crate::{error::ApiError, state::AppState};

/// The authenticated caller, taken from a valid access token of an active session.
#[derive(Clone, Copy, Debug)]
pub struct AuthUser {
    pub id: Uuid,
    pub session: Uuid,
}

/// An access token from `POST /auth/login`, `/auth/register` or `/auth/refresh`,
/// sent as `Authorization: Bearer <token>`.
#[derive(SecurityScheme)]
#[oai(
    rename = "bearerAuth",
    ty = "bearer",
    bearer_format = "JWT",
    checker = "check_bearer"
)]
pub struct BearerAuth(pub AuthUser);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<AuthUser> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("application state missing")))?;
    let claims = state.sessions.verify(&bearer.token).await?;
    crate::request_id::record_user(claims.sub);
    Ok(AuthUser {
        id: claims.sub,
        session: claims.sid,
    })
}
