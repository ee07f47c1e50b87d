//! Sessions. Every sign-in starts one: its id is the family id of the refresh
//! tokens it rotates through, and every access token carries it as `sid`. An
//! access token is accepted only while its session is active, so signing out
//! and changing the password take effect at once, not when the token expires.
//! Checks are cached for `session_cache_secs`; ending a session clears it here
//! at once and, through the real-time bus, on every instance, and closes the
//! session's WebSockets.
use std::time::Duration;

use moka::sync::Cache;
use uuid::Uuid;

use super::{
    jwt::{Claims, JwtKeys},
    refresh,
};
use crate::{
    db::{self, tokens, Db},
    error::{ApiError, ApiResult},
    realtime::Realtime,
};

#[derive(Clone, Copy)]
struct Checked {
    user: Uuid,
    active: bool,
}

#[derive(Clone)]
pub struct Sessions {
    checked: Cache<Uuid, Checked>,
    db: Db,
    jwt: JwtKeys,
    realtime: Realtime,
    refresh_ttl: chrono::Duration,
}

/// The credentials of a new sign-in or a refresh.
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
}

fn ended() -> ApiError {
    ApiError::Unauthorized("the session has ended; sign in again".into())
}

impl Sessions {
    /// Sessions checked against `db` (cached for `cache_for`), signed with
    /// `jwt`, ended on every instance through `realtime`.
    pub fn new(cache_for: Duration, db: Db, jwt: JwtKeys, realtime: Realtime, refresh_ttl_days: u64) -> Self {
        Self {
            checked: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(cache_for)
                .support_invalidation_closures()
                .build(),
            db,
            jwt,
            realtime,
            refresh_ttl: chrono::Duration::days(refresh_ttl_days as i64),
        }
    }

    /// The claims of `token` if it is valid and its session is still active.
    pub async fn verify(&self, token: &str) -> ApiResult<Claims> {
        let claims = self
            .jwt
            .verify(token)
            .ok_or_else(|| ApiError::Unauthorized("the access token is invalid or has expired".into()))?;
        if self.still_active(claims.sub, claims.sid).await? {
            Ok(claims)
        } else {
            Err(ended())
        }
    }

    /// Whether `user`'s `session` is still active (its account exists, it was
    /// not signed out); cached like every check.
    pub async fn still_active(&self, user: Uuid, session: Uuid) -> ApiResult<bool> {
        if let Some(hit) = self.checked.get(&session) {
            return Ok(hit.active && hit.user == user);
        }
        let active = tokens::session_active(self.db.r(), session, user).await?;
        self.checked.insert(session, Checked { user, active });
        Ok(active)
    }

    /// Starts a session for `user`: a new access token and the first refresh
    /// token of a new family.
    pub async fn start(&self, user: Uuid) -> ApiResult<Issued> {
        self.issue(user, Uuid::now_v7()).await
    }

    /// Exchanges a refresh token for a new pair. Each works once: presenting a
    /// used (or revoked) one again ends its session, since it was probably stolen.
    pub async fn rotate(&self, presented: &str) -> ApiResult<Issued> {
        let invalid = || ApiError::Unauthorized("the refresh token is invalid, expired or revoked".into());
        let Some(token) = tokens::find_by_hash(self.db.r(), &refresh::hash(presented)).await? else {
            return Err(invalid());
        };
        if token.used_at.is_some() || token.revoked_at.is_some() {
            if token.used_at.is_some() {
                tracing::warn!(user_id = %token.user_id, family = %token.family_id, "refresh token reused; revoking its family");
            }
            self.end(token.user_id, token.family_id).await?;
            return Err(invalid());
        }
        if token.expires_at <= db::now() {
            return Err(invalid());
        }
        if !tokens::mark_used(self.db.w(), token.id).await? {
            self.end(token.user_id, token.family_id).await?;
            return Err(invalid());
        }
        self.issue(token.user_id, token.family_id).await
    }

    /// Ends the session of a refresh token, if it names one.
    pub async fn sign_out(&self, presented: &str) -> ApiResult<()> {
        if let Some(token) = tokens::find_by_hash(self.db.r(), &refresh::hash(presented)).await? {
            self.end(token.user_id, token.family_id).await?;
        }
        Ok(())
    }

    async fn issue(&self, user: Uuid, session: Uuid) -> ApiResult<Issued> {
        let access_token = self.jwt.issue(user, session).map_err(ApiError::internal)?;
        let refresh_token = refresh::generate();
        let expires_at = db::now() + self.refresh_ttl;
        tokens::insert(self.db.w(), user, session, refresh::hash(&refresh_token), expires_at).await?;
        Ok(Issued {
            access_token,
            refresh_token,
            expires_in: self.jwt.ttl_secs(),
        })
    }

    /// Ends one session: its refresh tokens are revoked and its sockets closed.
    pub async fn end(&self, user: Uuid, session: Uuid) -> ApiResult<()> {
        tokens::revoke_family(self.db.w(), session).await?;
        self.forget(user, Some(&[session]));
        self.realtime.end_sessions(user, Some(vec![session]));
        Ok(())
    }

    /// Ends every session of `user`.
    pub async fn end_all(&self, user: Uuid) -> ApiResult<()> {
        tokens::revoke_all_for_user(self.db.w(), user).await?;
        self.forget(user, None);
        self.realtime.end_sessions(user, None);
        Ok(())
    }

    /// Drops cached checks of `user`'s sessions (all of them for `None`), so
    /// the next request looks them up again.
    pub fn forget(&self, user: Uuid, sessions: Option<&[Uuid]>) {
        forget(&self.checked, user, sessions);
    }

    /// `forget` for the realtime bus's hook (sessions ended on another
    /// instance). It holds the cache alone: holding these `Sessions`, which
    /// hold the bus, would make a cycle that keeps the bus and the database
    /// pools alive after the application is dropped.
    pub fn forgetter(&self) -> impl Fn(Uuid, Option<&[Uuid]>) + Send + Sync + 'static {
        let checked = self.checked.clone();
        move |user, sessions| forget(&checked, user, sessions)
    }
}

fn forget(checked: &Cache<Uuid, Checked>, user: Uuid, sessions: Option<&[Uuid]>) {
    match sessions {
        Some(ids) => ids.iter().for_each(|id| checked.invalidate(id)),
        None => {
            // Only fails when closures are not enabled, which `new` does.
            let _ = checked.invalidate_entries_if(move |_, c| c.user == user);
        }
    }
}
