//! The daily bot quota: which day it is in the quota time zone, when it resets,
//! and reserving, refunding and granting requests.
use std::{
    future::Future,
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
};

use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use uuid::Uuid;

use crate::db::{quota as store, Db};
pub use crate::domain::quota::QuotaStatus;

/// Wall-clock time, with an offset that can be moved forward. The offset is zero
/// in production; tests move it to cross midnight without waiting.
#[derive(Clone, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.offset_secs.load(Ordering::Relaxed))
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.offset_secs.fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

/// A reserved request, refundable on the day it was taken.
#[derive(Debug, Clone)]
pub struct Reservation {
    /// Its row in `bot_reservations`.
    pub id: Uuid,
    pub user_id: Uuid,
    pub day: String,
    pub status: QuotaStatus,
}

/// Why a request got no unit.
#[derive(Debug, Clone)]
pub enum Denied {
    /// Today's allowance is used up.
    Exhausted(QuotaStatus),
    /// What is left is held by requests still being answered; one may be
    /// refunded, so retry shortly.
    Busy(QuotaStatus),
}

#[derive(Clone)]
pub struct QuotaService {
    daily_limit: u32,
    tz: Tz,
    clock: Clock,
    /// How long an in-flight unit is trusted; older ones are leftovers of a crash.
    in_flight_ttl: chrono::Duration,
}

/// The quota day (`YYYY-MM-DD`) that `now` falls in, and the instant it ends.
pub fn quota_day(now: DateTime<Utc>, tz: Tz) -> (String, DateTime<Utc>) {
    let date = now.with_timezone(&tz).date_naive();
    let next = date.checked_add_days(Days::new(1)).unwrap_or(date);
    // Midnight can fall in a DST gap; the first instant of the next day is then
    // found an hour later.
    let resets_at = (0..3)
        .find_map(|h| {
            tz.from_local_datetime(&next.and_time(NaiveTime::from_hms_opt(h, 0, 0)?))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| now + chrono::Duration::days(1));
    (date.format("%Y-%m-%d").to_string(), resets_at)
}

impl QuotaService {
    pub fn new(daily_limit: u32, tz: Tz, clock: Clock, in_flight_ttl: std::time::Duration) -> Self {
        Self {
            daily_limit,
            tz,
            clock,
            in_flight_ttl: chrono::Duration::from_std(in_flight_ttl).unwrap_or(chrono::Duration::minutes(5)),
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Today's date in the quota time zone: the day practice counts for.
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.now().with_timezone(&self.tz).date_naive()
    }

    fn status_from(&self, used: u32, extra: u32, resets_at: DateTime<Utc>) -> QuotaStatus {
        let limit = self.daily_limit + extra;
        let reset_secs = (resets_at - self.clock.now()).num_seconds().max(1) as u64;
        QuotaStatus {
            limit,
            used,
            remaining: limit.saturating_sub(used),
            resets_at,
            reset_secs,
        }
    }

    pub async fn status(&self, db: &impl ConnectionTrait, user_id: Uuid) -> Result<QuotaStatus, DbErr> {
        let (day, resets_at) = quota_day(self.clock.now(), self.tz);
        let usage = store::usage(db, user_id, &day).await?;
        Ok(self.status_from(usage.used, usage.extra, resets_at))
    }

    /// Takes one request, or says why not: the day is used up, or what is left
    /// is held by requests still in flight.
    /// `owner` is the lease of this process; `message_id` the learner's turn
    /// the unit answers, if any (it is stored next).
    pub async fn reserve(
        &self,
        db: &DatabaseConnection,
        user_id: Uuid,
        owner: Uuid,
        message_id: Option<Uuid>,
    ) -> Result<Result<Reservation, Denied>, DbErr> {
        let (day, resets_at) = quota_day(self.clock.now(), self.tz);
        let held = store::Held {
            id: Uuid::now_v7(),
            user_id,
            day: day.clone(),
            owner,
            message_id,
        };
        let granted = store::reserve(db, &held, self.daily_limit).await?;
        let usage = store::usage(db, user_id, &day).await?;
        let status = self.status_from(usage.used, usage.extra, resets_at);
        if granted {
            return Ok(Ok(Reservation {
                id: held.id,
                user_id,
                day,
                status,
            }));
        }
        let recent = usage
            .reserved_at
            .is_some_and(|at| at > chrono::Utc::now() - self.in_flight_ttl);
        Ok(Err(if usage.in_flight > 0 && recent {
            Denied::Busy(status)
        } else {
            Denied::Exhausted(status)
        }))
    }

    pub async fn grant(&self, db: &impl ConnectionTrait, user_id: Uuid, extra: u32) -> Result<QuotaStatus, DbErr> {
        let (day, _) = quota_day(self.clock.now(), self.tz);
        store::grant(db, user_id, &day, extra).await?;
        self.status(db, user_id).await
    }
}

/// One unit of a user's quota, held for one request until it is settled (the
/// request counts) or refunded (it does not): the one charge/settle/refund
/// cycle of every bot request, the exchange's and the tutor's alike.
pub struct Charge {
    pub reservation: Reservation,
    db: Db,
}

impl Charge {
    pub fn new(db: Db, reservation: Reservation) -> Self {
        Self { reservation, db }
    }

    /// The request was answered: it counts and is no longer in flight.
    pub async fn settle(&self) -> Result<(), DbErr> {
        self.end(store::End::Settle).await
    }

    /// Nothing came of the request: the unit is given back.
    pub async fn refund(&self) -> Result<(), DbErr> {
        self.end(store::End::Refund).await
    }

    async fn end(&self, how: store::End) -> Result<(), DbErr> {
        let r = &self.reservation;
        store::end(self.db.w(), r.id, r.user_id, &r.day, how).await.map(|_| ())
    }

    /// Runs `work` on this unit: kept when the work succeeds, given back when
    /// it fails, or when `abandoned` resolves first (the work is then dropped,
    /// which cancels a model call, and the answer is `None`).
    pub async fn run<T, E: From<DbErr>>(
        self,
        work: impl Future<Output = Result<T, E>>,
        abandoned: impl Future<Output = ()>,
    ) -> Option<Result<T, E>> {
        let outcome = tokio::select! {
            r = work => r,
            () = abandoned => {
                if let Err(e) = self.refund().await {
                    tracing::error!(error = ?e, "refunding an abandoned bot request failed");
                }
                return None;
            }
        };
        Some(match outcome {
            Ok(value) => self.settle().await.map(|()| value).map_err(E::from),
            Err(e) => match self.refund().await {
                Ok(()) => Err(e),
                Err(db) => Err(db.into()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_day_follows_the_configured_time_zone() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 23, 30, 0).unwrap();
        let (day, resets) = quota_day(now, chrono_tz::UTC);
        assert_eq!(day, "2026-11-21");
        assert_eq!(resets, Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap());

        // 23:30 UTC is already the 22nd in Tokyo (UTC+9); it resets at 15:00 UTC.
        let (day, resets) = quota_day(now, chrono_tz::Asia::Tokyo);
        assert_eq!(day, "2026-11-22");
        assert_eq!(resets, Utc.with_ymd_and_hms(2026, 11, 22, 15, 0, 0).unwrap());
    }

    #[test]
    fn a_midnight_inside_a_dst_gap_resets_at_the_first_real_instant() {
        // Santiago skipped 2026-09-06 00:00 (clocks jumped to 01:00).
        let now = Utc.with_ymd_and_hms(2026, 9, 5, 12, 0, 0).unwrap();
        let (_, resets) = quota_day(now, chrono_tz::America::Santiago);
        assert!(resets > now && resets - now < chrono::Duration::hours(24));
    }
}
