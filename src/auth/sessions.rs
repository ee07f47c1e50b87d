//! Sessions. Every sign-in starts one: its id is the family id of the refresh
//! tokens it rotates through, and every access token carries it as `sid`. An
//! access token is accepted only while its session is active, so signing out
//! and changing the password take effect at once, not when the token expires.
//! Checks are cached for `session_cache_secs`; ending a session clears it here
//! at once and, through the real-time bus, on every instance, and closes the
//! session's WebSockets.
use std::time::Duration;

use moka::sync::Cache;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::jwt::Claims;
use crate::{
    db::tokens,
    error::{ApiError, ApiResult},
    state::AppState,
};

#[derive(Clone, Copy)]
struct Checked {
    user: Uuid,
    active: bool,
}

#[derive(Clone)]
pub struct Sessions {
    checked: Cache<Uuid, Checked>,
}

fn ended() -> ApiError {
    ApiError::Unauthorized("the session has ended; sign in again".into())
}

impl Sessions {
    pub fn new(cache_for: Duration) -> Self {
        Self {
            checked: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(cache_for)
                .support_invalidation_closures()
                .build(),
        }
    }

    /// The claims of `token` if it is valid and its session is still active.
    pub async fn verify(&self, state: &AppState, token: &str) -> ApiResult<Claims> {
        let claims = state
            .jwt
            .verify(token)
            .ok_or_else(|| ApiError::Unauthorized("the access token is invalid or has expired".into()))?;
        if self.is_active(state.db.r(), claims.sid, claims.sub).await? {
            Ok(claims)
        } else {
            Err(ended())
        }
    }

    /// Whether `user`'s `session` is still active (its account exists, it was
    /// not signed out); cached like every check.
    pub async fn still_active(&self, state: &AppState, user: Uuid, session: Uuid) -> ApiResult<bool> {
        self.is_active(state.db.r(), session, user).await
    }

    async fn is_active(&self, db: &impl ConnectionTrait, session: Uuid, user: Uuid) -> ApiResult<bool> {
        if let Some(hit) = self.checked.get(&session) {
            return Ok(hit.active && hit.user == user);
        }
        let active = tokens::session_active(db, session, user).await?;
        self.checked.insert(session, Checked { user, active });
        Ok(active)
    }

    /// Ends one session: its refresh tokens are revoked and its sockets closed.
    pub async fn end(&self, state: &AppState, user: Uuid, session: Uuid) -> ApiResult<()> {
        tokens::revoke_family(state.db.w(), session).await?;
        self.forget(user, Some(&[session]));
        state.realtime.end_sessions(user, Some(vec![session]));
        Ok(())
    }

    /// Ends every session of `user`.
    pub async fn end_all(&self, state: &AppState, user: Uuid) -> ApiResult<()> {
        tokens::revoke_all_for_user(state.db.w(), user).await?;
        self.forget(user, None);
        state.realtime.end_sessions(user, None);
        Ok(())
    }

    /// Drops cached checks of `user`'s sessions (all of them for `None`), so
    /// the next request looks them up again.
    pub fn forget(&self, user: Uuid, sessions: Option<&[Uuid]>) {
        match sessions {
            Some(ids) => ids.iter().for_each(|id| self.checked.invalidate(id)),
            None => {
                // Only fails when closures are not enabled, which `new` does.
                let _ = self.checked.invalidate_entries_if(move |_, c| c.user == user);
            }
        }
    }
}
