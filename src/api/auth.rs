use std::sync::Arc;

use chrono::Duration;
use poem::web::Data;
use poem_openapi::{payload::Json, ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::{
    text::{NotNull, Text},
    types::{trimmed, Level, Me, TokenPair},
    ApiTags, NoContent,
};
use crate::{
    auth::{password, BearerAuth},
    db::{
        self,
        links::{self, Purpose},
        users,
    },
    domain::practice::DailyGoal,
    entity::user,
    error::{ApiError, ApiResult},
    state::AppState,
};

pub struct AuthApi;

#[derive(Debug, Object)]
pub struct RegisterRequest {
    /// 3..32 characters of `A-Z a-z 0-9 _ . -`; unique regardless of letter case.
    pub username: Text,
    /// 8..128 characters.
    pub password: Text,
    /// 1..64 characters after trimming; defaults to the username.
    pub display_name: NotNull<Text>,
    pub level: NotNull<Level>,
}

#[derive(Debug, Object)]
pub struct Registered {
    pub user: Me,
    pub tokens: TokenPair,
}

#[derive(Debug, Object)]
pub struct LoginRequest {
    pub username: Text,
    pub password: Text,
}

#[derive(Debug, Object)]
pub struct RefreshRequest {
    /// The refresh token from the last register, login or refresh.
    pub refresh_token: Text,
}

#[derive(Debug, Object)]
pub struct UpdateMe {
    /// 1..64 characters after trimming.
    pub display_name: NotNull<Text>,
    pub level: NotNull<Level>,
    /// Practice messages with the tutor per day to aim for: 1 up to the daily
    /// bot allowance. Days with the goal met make the streak of `GET /me/progress`.
    pub daily_goal: NotNull<u32>,
    /// An address for password reset links (`""` removes it). It is
    /// unconfirmed until the link mailed to it is opened; only on a server
    /// that sends e-mail (400 otherwise).
    pub email: NotNull<Text>,
}

#[derive(Debug, Object)]
pub struct ForgotPassword {
    /// A username, or an account's confirmed e-mail address.
    pub login: Text,
}

/// What "forgot my password" did.
#[derive(Debug, Object)]
pub struct ForgotOutcome {
    /// Whether this server sends e-mail. `true`: a link went to the account's
    /// confirmed address, if there is such an account. `false`: ask an operator.
    pub mail: bool,
}

#[derive(ApiResponse)]
pub enum ForgotResponse {
    /// Taken; see `mail`.
    #[oai(status = 202)]
    Accepted(Json<ForgotOutcome>),
}

#[derive(Debug, Object)]
pub struct ConfirmEmail {
    /// The token from the confirmation link (`.../#/confirm-email/<token>`).
    pub token: Text,
}

#[derive(Debug, Object)]
pub struct ResetPassword {
    /// The token from the reset link (`.../#/reset/<token>`).
    pub token: Text,
    /// 8..128 characters.
    pub new_password: Text,
}

#[derive(Debug, Object)]
pub struct ChangePassword {
    pub current_password: Text,
    /// 8..128 characters.
    pub new_password: Text,
}

#[derive(ApiResponse)]
pub enum RegisterResponse {
    /// The account was created; the caller is signed in.
    #[oai(status = 201)]
    Created(Json<Registered>),
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create an account
    ///
    /// Registers a new user and signs them in. Usernames are unique regardless of
    /// letter case: `Alice` and `alice` cannot both exist (409). `level` (the
    /// learner's English, where practice chats start) defaults to `B1`.
    #[oai(path = "/auth/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        state: Data<&AppState>,
        req: &poem::Request,
        body: Json<RegisterRequest>,
    ) -> ApiResult<RegisterResponse> {
        state
            .limits
            .register(&state.limits.client_ip(req), body.username.trim())?;
        let s = &state.settings;
        let username = validate_username(&body.username, s.username_min_len, s.username_max_len)?;
        validate_password("password", &body.password, s.password_min_len, s.password_max_len)?;
        let display_name = match &body.display_name.0 {
            Some(name) => trimmed("display_name", name, 1, s.display_name_max_len)?,
            None => username.clone(),
        };
        if users::find_by_username(state.db.r(), &username).await?.is_some() {
            return Err(taken());
        }
        let hash = password::hash(body.password.0.clone())
            .await
            .map_err(ApiError::internal)?;
        let level = body.level.0.unwrap_or(Level::DEFAULT);
        let user = users::insert(state.db.w(), &username, &display_name, level, hash)
            .await
            .map_err(|e| ApiError::conflict_on_unique(e, &taken().to_string()))?;
        tracing::info!(user_id = %user.id, "user registered");
        let tokens = TokenPair::from(state.sessions.start(user.id).await?);
        Ok(RegisterResponse::Created(Json(Registered {
            user: Me::from_model(&user, false),
            tokens,
        })))
    }

    /// Sign in
    ///
    /// Exchanges a username and password for tokens. An unknown username and a
    /// wrong password get the same 401, in the same time.
    #[oai(path = "/auth/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&AppState>,
        req: &poem::Request,
        body: Json<LoginRequest>,
    ) -> ApiResult<Json<TokenPair>> {
        state.limits.login(&state.limits.client_ip(req), body.username.trim())?;
        let user = users::find_by_username(state.db.r(), body.username.trim()).await?;
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let ok = password::verify(body.password.0.clone(), stored)
            .await
            .map_err(ApiError::internal)?;
        match user {
            Some(user) if ok => Ok(Json(TokenPair::from(state.sessions.start(user.id).await?))),
            _ => Err(ApiError::Unauthorized("the username or password is incorrect".into())),
        }
    }

    /// Refresh tokens
    ///
    /// Exchanges a refresh token for a new pair. Each refresh token works once;
    /// presenting a used one again revokes every token descended from the same
    /// sign-in, since it was probably stolen.
    #[oai(path = "/auth/refresh", method = "post", operation_id = "refreshTokens")]
    async fn refresh(&self, state: Data<&AppState>, body: Json<RefreshRequest>) -> ApiResult<Json<TokenPair>> {
        Ok(Json(state.sessions.rotate(&body.refresh_token).await?.into()))
    }

    /// Sign out
    ///
    /// Revokes the refresh token and every token rotated from the same sign-in.
    /// Answers 204 even for a token that is unknown or already revoked.
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(&self, state: Data<&AppState>, body: Json<RefreshRequest>) -> ApiResult<NoContent> {
        state.sessions.sign_out(&body.refresh_token).await?;
        Ok(NoContent::Done)
    }

    /// Get my profile
    #[oai(path = "/me", method = "get", operation_id = "getMe")]
    async fn me(&self, state: Data<&AppState>, auth: BearerAuth) -> ApiResult<Json<Me>> {
        let user = current_user(&state, auth.0.id).await?;
        let online = state.realtime.is_online(user.id).await;
        Ok(Json(Me::from_model(&user, online)))
    }

    /// Update my profile
    ///
    /// Changes the display name, English level and/or daily goal; omitted
    /// fields stay as they are.
    #[oai(path = "/me", method = "patch", operation_id = "updateMe")]
    async fn update_me(&self, state: Data<&AppState>, auth: BearerAuth, body: Json<UpdateMe>) -> ApiResult<Json<Me>> {
        let display_name = body
            .display_name
            .as_deref()
            .map(|n| trimmed("display_name", n, 1, state.settings.display_name_max_len))
            .transpose()?;
        let daily_goal = body
            .daily_goal
            .map(|g| DailyGoal::parse(g, state.settings.bot_daily_limit))
            .transpose()
            .map_err(|e| ApiError::validation("daily_goal", e))?;
        let email = body.email.as_ref().map(|e| e.trim().to_lowercase());
        if let Some(address) = email.as_deref().filter(|a| !a.is_empty()) {
            if state.mailer.is_none() {
                return Err(ApiError::validation(
                    "email",
                    "this server does not send e-mail, so an address cannot be confirmed; if you forget your password, ask the operator for a reset link",
                ));
            }
            if !crate::mail::valid_address(address) {
                return Err(ApiError::validation(
                    "email",
                    "email must be an e-mail address, like ana@example.com",
                ));
            }
        }
        let user = fresh_user(&state, auth.0.id).await?;
        let level = body.level.0;
        let mut user = users::update_profile(state.db.w(), user, display_name, level, daily_goal).await?;
        if let Some(address) = email.filter(|a| user.email.as_deref() != Some(a.as_str()) || !user.email_confirmed) {
            let address = (!address.is_empty()).then_some(address);
            users::set_email(state.db.w(), user.id, address.clone()).await?;
            (user.email, user.email_confirmed) = (address.clone(), false);
            if let (Some(address), Some(mailer)) = (address, &state.mailer) {
                let (name, username) = (user.display_name.clone(), user.username.clone());
                let subject = "Confirm your e-mail address for ChattConnect";
                mail_link(
                    &state,
                    mailer,
                    &user,
                    &address,
                    Purpose::ConfirmEmail,
                    subject,
                    |link| {
                        format!(
                            "Hello {name},\n\nPlease confirm this address for your ChattConnect account ({username}); \
                         the link works once, for a day:\n\n{link}\n\n\
                         With a confirmed address you can get a reset link if you forget your password.\n"
                        )
                    },
                )
                .await?;
            }
        }
        if let Some(goal) = daily_goal {
            let today = crate::domain::practice::day_key(state.quota.today());
            db::progress::set_today_goal(state.db.w(), user.id, &today, goal.get() as i32).await?;
        }
        // Read fresh at once here, and on the other instances through the bus.
        state.profiles.forget(user.id);
        state.realtime.profile_changed(user.id);
        let online = state.realtime.is_online(user.id).await;
        Ok(Json(Me::from_model(&user, online)))
    }

    /// Reset a forgotten password
    ///
    /// With the token of a one-time link an admin made
    /// (`chattconnect admin reset-link USERNAME`): sets the new password and
    /// signs the account out everywhere. A link works once, for an hour; a
    /// used, expired or unknown one is a 400 naming `token`.
    #[oai(path = "/auth/reset-password", method = "post", operation_id = "resetPassword")]
    async fn reset_password(&self, state: Data<&AppState>, body: Json<ResetPassword>) -> ApiResult<NoContent> {
        let s = &state.settings;
        // Checked first: a password that will not do leaves the link unused.
        validate_password(
            "new_password",
            &body.new_password,
            s.password_min_len,
            s.password_max_len,
        )?;
        let now = state.quota.clock().now();
        let user_id = links::take(state.db.w(), &body.token, Purpose::Reset, now)
            .await?
            .map(|link| link.user_id)
            .ok_or_else(|| {
                ApiError::validation(
                    "token",
                    "this reset link does not work: it was used already, is more than an hour old, or is not a link we made; ask for a new one",
                )
            })?;
        let hash = password::hash(body.new_password.0.clone())
            .await
            .map_err(ApiError::internal)?;
        users::set_password(state.db.w(), user_id, hash).await?;
        state.sessions.end_all(user_id).await?;
        tracing::info!(user_id = %user_id, "password reset with a link; every session ended");
        Ok(NoContent::Done)
    }

    /// Forgot my password
    ///
    /// With e-mail set up on this server (`mail: true`), mails a one-time reset
    /// link (an hour) to the account's confirmed address, found by username or
    /// by that address; the answer is the same whether or not such an account
    /// exists, so it tells nobody who is registered. At most one mail a minute
    /// per account. Without e-mail (`mail: false`) nothing is sent: an operator
    /// makes the link (`chattconnect admin reset-link USERNAME`).
    #[oai(path = "/auth/forgot-password", method = "post", operation_id = "forgotPassword")]
    async fn forgot_password(
        &self,
        state: Data<&AppState>,
        req: &poem::Request,
        body: Json<ForgotPassword>,
    ) -> ApiResult<ForgotResponse> {
        let login = body.login.trim();
        state.limits.login(&state.limits.client_ip(req), login)?;
        let Some(mailer) = &state.mailer else {
            return Ok(ForgotResponse::Accepted(Json(ForgotOutcome { mail: false })));
        };
        let user = match users::find_by_username(state.db.r(), login).await? {
            Some(u) if u.email_confirmed => Some(u),
            Some(_) => None,
            None if login.contains('@') => users::find_by_confirmed_email(state.db.r(), login).await?,
            None => None,
        };
        let now = state.quota.clock().now();
        if let Some((user, email)) = user.and_then(|u| u.email.clone().map(|e| (u, e))) {
            let recent = links::last_made(state.db.r(), user.id, Purpose::Reset)
                .await?
                .is_some_and(|at| now - at < Duration::minutes(1));
            if !recent {
                let name = user.display_name.clone();
                mail_link(
                    &state,
                    mailer,
                    &user,
                    &email,
                    Purpose::Reset,
                    "Reset your ChattConnect password",
                    |link| {
                        format!(
                            "Hello {name},\n\nSomeone (we hope you) asked to reset your ChattConnect password.\n\
                         Choose a new one here; the link works once, for an hour:\n\n{link}\n\n\
                         If it was not you, ignore this e-mail: your password stays as it is.\n"
                        )
                    },
                )
                .await?;
            }
        }
        Ok(ForgotResponse::Accepted(Json(ForgotOutcome { mail: true })))
    }

    /// Confirm my e-mail address
    ///
    /// With the token of the link mailed when the address was set (it works
    /// once, for a day). A used, expired or unknown link, or one for an
    /// address the account no longer has, is a 400 naming `token`.
    #[oai(path = "/auth/confirm-email", method = "post", operation_id = "confirmEmail")]
    async fn confirm_email(&self, state: Data<&AppState>, body: Json<ConfirmEmail>) -> ApiResult<NoContent> {
        let invalid = || {
            ApiError::validation(
                "token",
                "this confirmation link does not work: it was used already, is more than a day old, or is for another address; save your address again for a new one",
            )
        };
        let now = state.quota.clock().now();
        let link = links::take(state.db.w(), &body.token, Purpose::ConfirmEmail, now)
            .await?
            .ok_or_else(invalid)?;
        let email = link.email.ok_or_else(invalid)?;
        if !users::confirm_email(state.db.w(), link.user_id, &email).await? {
            return Err(invalid());
        }
        state.profiles.forget(link.user_id);
        tracing::info!(user_id = %link.user_id, "e-mail address confirmed");
        Ok(NoContent::Done)
    }

    /// Change my password
    ///
    /// Needs the current password (401 if wrong). Signs out every session:
    /// all refresh tokens are revoked.
    #[oai(path = "/me/password", method = "put", operation_id = "changePassword")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<ChangePassword>,
    ) -> ApiResult<NoContent> {
        let s = &state.settings;
        validate_password(
            "new_password",
            &body.new_password,
            s.password_min_len,
            s.password_max_len,
        )?;
        let user = fresh_user(&state, auth.0.id).await?;
        let ok = password::verify(body.current_password.0.clone(), Some(user.password_hash.clone()))
            .await
            .map_err(ApiError::internal)?;
        if !ok {
            return Err(ApiError::Unauthorized("the current password is incorrect".into()));
        }
        let hash = password::hash(body.new_password.0.clone())
            .await
            .map_err(ApiError::internal)?;
        users::set_password(state.db.w(), user.id, hash).await?;
        state.sessions.end_all(user.id).await?;
        tracing::info!(user_id = %user.id, "password changed; every session ended");
        Ok(NoContent::Done)
    }
}

fn taken() -> ApiError {
    ApiError::Conflict("that username is taken".into())
}

/// Mails `user` a one-time link for `purpose` to `address`. A failure to send
/// is logged, not returned: asking again sends another.
async fn mail_link(
    state: &AppState,
    mailer: &crate::mail::Mailer,
    user: &user::Model,
    address: &str,
    purpose: Purpose,
    subject: &str,
    text: impl FnOnce(&str) -> String,
) -> ApiResult<()> {
    let now = state.quota.clock().now();
    let confirms = (purpose == Purpose::ConfirmEmail).then(|| address.to_owned());
    let token = links::create(state.db.w(), user.id, purpose, confirms, now).await?;
    let route = match purpose {
        Purpose::Reset => "reset",
        Purpose::ConfirmEmail => "confirm-email",
    };
    let link = format!("{}/#/{route}/{token}", state.settings.app_url());
    match mailer.send(address, subject, text(&link)).await {
        Ok(()) => tracing::info!(user_id = %user.id, ?purpose, "link mailed"),
        Err(e) => tracing::warn!(user_id = %user.id, ?purpose, error = %e, "the e-mail could not be sent"),
    }
    Ok(())
}

/// The caller's user row, as read within `session_cache_secs` (see
/// `auth::profiles`); 401 when the account behind a valid token is gone.
pub async fn current_user(state: &AppState, id: Uuid) -> ApiResult<Arc<user::Model>> {
    state.profiles.get(state.db.r(), id).await?.ok_or_else(gone)
}

/// The user's row as the database has it now: for changing it, checking a
/// password or deciding a permission.
pub async fn fresh_user(state: &AppState, id: Uuid) -> ApiResult<user::Model> {
    users::find_by_id(state.db.r(), id).await?.ok_or_else(gone)
}

fn gone() -> ApiError {
    ApiError::Unauthorized("the account no longer exists".into())
}

fn validate_username(raw: &str, min: usize, max: usize) -> ApiResult<String> {
    let name = raw.trim();
    let len = name.chars().count();
    if len < min || len > max {
        return Err(ApiError::validation(
            "username",
            format!("username must be {min} to {max} characters long"),
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(ApiError::validation(
            "username",
            "username may only contain letters A-Z, digits, '_', '.' and '-'",
        ));
    }
    Ok(name.to_owned())
}

fn validate_password(field: &'static str, password: &str, min: usize, max: usize) -> ApiResult<()> {
    let len = password.chars().count();
    if len < min || len > max {
        return Err(ApiError::validation(
            field,
            format!("{field} must be {min} to {max} characters long"),
        ));
    }
    Ok(())
}
