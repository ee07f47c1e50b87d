use std::sync::Arc;

use crate::{
    auth::{jwt::JwtKeys, profiles::Profiles, sessions::Sessions},
    bot::{client::BotClient, quota::QuotaService},
    config::Settings,
    db::Db,
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
    /// `None` when no bot is configured.
    pub bot: Option<BotClient>,
    pub quota: QuotaService,
    pub limits: RateLimits,
    pub realtime: Realtime,
    /// The tutor's rules and its recent corrections.
    pub tutor: Tutor,
}
