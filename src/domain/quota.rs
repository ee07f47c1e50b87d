//! The daily bot allowance: what the quota service counts, and how the API
//! shows it.
use chrono::{DateTime, Utc};
use poem_openapi::Object;

use super::timestamp::Timestamp;

/// Today's bot allowance as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaStatus {
    /// The daily limit plus any extra granted today.
    pub limit: u32,
    pub used: u32,
    pub remaining: u32,
    pub resets_at: DateTime<Utc>,
    /// Whole seconds from now until `resets_at` (at least 1).
    pub reset_secs: u64,
}

/// The caller's bot allowance for today.
#[derive(Debug, Clone, Object)]
pub struct Quota {
    /// Requests allowed today (the daily limit plus any extra granted).
    pub limit: u32,
    pub used: u32,
    pub remaining: u32,
    /// Midnight in the quota time zone, when `used` goes back to 0.
    pub resets_at: Timestamp,
}

impl From<&QuotaStatus> for Quota {
    fn from(q: &QuotaStatus) -> Self {
        Self {
            limit: q.limit,
            used: q.used,
            remaining: q.remaining,
            resets_at: q.resets_at.into(),
        }
    }
}
