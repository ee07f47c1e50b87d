//! Short-burst limits kept in memory (governor), keyed by client address,
//! username or user id. The daily bot quota is separate and lives in the database.
use std::{net::IpAddr, num::NonZeroU32, sync::Arc};

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};
use poem::Request;

use crate::{config::Settings, error::ApiError};

type Limiter = Arc<DefaultKeyedRateLimiter<String>>;

#[derive(Clone)]
pub struct RateLimits {
    login_ip: Option<Limiter>,
    login_username: Option<Limiter>,
    register_ip: Option<Limiter>,
    bot_user: Option<Limiter>,
    messages_user: Option<Limiter>,
    lint_user: Option<Limiter>,
    trust_forwarded_for: bool,
}

fn per_minute(n: u32) -> Option<Limiter> {
    NonZeroU32::new(n).map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n).allow_burst(n))))
}

fn check(limiter: &Option<Limiter>, key: &str) -> Result<(), ApiError> {
    let Some(limiter) = limiter else { return Ok(()) };
    limiter.check_key(&key.to_owned()).map_err(|not_until| {
        let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
        ApiError::RateLimited {
            retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    })
}

impl RateLimits {
    pub fn new(settings: &Settings) -> Self {
        Self {
            login_ip: per_minute(settings.rate_login_per_ip),
            login_username: per_minute(settings.rate_login_per_username),
            register_ip: per_minute(settings.rate_register_per_ip),
            bot_user: per_minute(settings.rate_bot_per_user),
            messages_user: per_minute(settings.rate_messages_per_user),
            lint_user: per_minute(settings.rate_lint_per_user),
            trust_forwarded_for: settings.trust_forwarded_for,
        }
    }

    /// The client's address: the peer, or the first `X-Forwarded-For` hop when trusted.
    pub fn client_ip(&self, req: &Request) -> String {
        if self.trust_forwarded_for {
            if let Some(ip) = req
                .header("x-forwarded-for")
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok())
            {
                return ip.to_string();
            }
        }
        req.remote_addr()
            .as_socket_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default()
    }

    pub fn login(&self, ip: &str, username: &str) -> Result<(), ApiError> {
        check(&self.login_ip, ip)?;
        check(&self.login_username, &username.to_lowercase())
    }

    /// Sign-ups per address, and attempts at one username (shared with logins'
    /// per-username allowance under its own key).
    pub fn register(&self, ip: &str, username: &str) -> Result<(), ApiError> {
        check(&self.register_ip, ip)?;
        check(&self.login_username, &format!("register:{}", username.to_lowercase()))
    }

    pub fn bot(&self, user: uuid::Uuid) -> Result<(), ApiError> {
        check(&self.bot_user, &user.to_string())
    }

    pub fn message(&self, user: uuid::Uuid) -> Result<(), ApiError> {
        check(&self.messages_user, &user.to_string())
    }

    pub fn lint(&self, user: uuid::Uuid) -> Result<(), ApiError> {
        check(&self.lint_user, &user.to_string())
    }

    /// Forgets keys whose limits have fully recovered, so memory stays bounded.
    pub fn cleanup(&self) {
        for limiter in [
            &self.login_ip,
            &self.login_username,
            &self.register_ip,
            &self.bot_user,
            &self.messages_user,
            &self.lint_user,
        ]
        .into_iter()
        .flatten()
        {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}
