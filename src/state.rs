use std::sync::Arc;

use crate::{
    auth::{jwt::JwtKeys, profiles::Profiles, sessions::Sessions},
    bot::{client::BotClient, quota::QuotaService},
    config::Settings,
    db::{lease::Lease, Db},
    lifecycle::Lifecycle,
    metrics::Metrics,
    ratelimit::RateLimits,
    realtime::Realtime,
    tutor::Tutor,
};

/// Everything a handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub jwt: JwtKeys,
    pub sessions: Sessions,
    pub profiles: Profiles,
    pub metrics: Metrics,
    /// The bot, or why there is none (bot endpoints answer 503 with it).
    pub bot: Result<BotClient, String>,
    pub quota: QuotaService,
    pub limits: RateLimits,
    pub realtime: Realtime,
    /// The tutor's rules and its recent corrections.
    pub tutor: Tutor,
    /// This process's lease: work it claims in the database names it.
    pub lease: Lease,
    /// E-mail, when the operator set `SMTP_URL`.
    pub mailer: Option<crate::mail::Mailer>,
    /// Serving, draining or closing (graceful restarts).
    pub lifecycle: Lifecycle,
}
