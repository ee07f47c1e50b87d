//! Cross-instance events and presence through Redis. Events go through one
//! pub/sub channel that every instance subscribes to; presence is a hash per
//! user of socket counts per instance, counted only for instances whose
//! heartbeat is recent. While Redis is away the instance serves its own sockets
//! and keeps trying to reconnect. Events published elsewhere meanwhile are
//! lost, so when the subscription comes back the instance writes its presence
//! again (a restarted Redis has none) and tells every local socket to `resync`.
use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use futures_util::StreamExt;
use redis::{aio::ConnectionManager, AsyncCommands};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::hub::LocalHub;

const HEARTBEAT: Duration = Duration::from_secs(10);
/// After a failed connection attempt, how long requests skip Redis.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Reconnection backoff of the subscription: first wait and longest wait.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// After the subscription is back, how long to wait before telling clients to
/// resync, so that the other instances (reconnecting on the same backoff) have
/// written their presence again by the time clients ask for it.
const RESYNC_SETTLE: Duration = Duration::from_millis(1500);
/// An instance silent for this long no longer counts towards presence.
const INSTANCE_TTL_SECS: i64 = 30;

/// What travels on the channel: for whom, and what.
#[derive(Serialize, Deserialize)]
pub struct Envelope {
    pub to: Vec<Uuid>,
    pub message: BusMessage,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BusMessage {
    /// An event for the recipients' sockets.
    Event { event: Value },
    /// Close the recipients' sockets of these sessions (all for `None`).
    EndSessions { sessions: Option<Vec<Uuid>> },
    /// The recipients' profiles changed: drop cached copies.
    ProfileChanged,
}

pub struct RedisBus {
    client: redis::Client,
    channel: String,
    prefix: String,
    instance: String,
    conn: tokio::sync::Mutex<Option<ConnectionManager>>,
    /// When connecting last failed: requests do not wait on Redis again until
    /// `RETRY_AFTER` has passed.
    failed_at: Mutex<Option<std::time::Instant>>,
    subscribed: AtomicBool,
    live_instances: Mutex<HashSet<String>>,
}

impl RedisBus {
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Arc<Self>> {
        let instance = Uuid::now_v7().to_string();
        let bus = Arc::new(Self {
            client: redis::Client::open(url)?,
            channel: format!("{prefix}:events"),
            prefix: prefix.to_owned(),
            live_instances: Mutex::new(HashSet::from([instance.clone()])),
            instance,
            conn: tokio::sync::Mutex::new(None),
            failed_at: Mutex::new(None),
            subscribed: AtomicBool::new(false),
        });
        Ok(bus)
    }

    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::SeqCst)
    }

    async fn connection(&self) -> Option<ConnectionManager> {
        let recently_failed = self
            .failed_at
            .lock()
            .expect("failed_at lock")
            .is_some_and(|at| at.elapsed() < RETRY_AFTER);
        if recently_failed {
            return None;
        }
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            let config = redis::aio::ConnectionManagerConfig::new()
                .set_number_of_retries(1)
                .set_connection_timeout(Some(Duration::from_secs(2)));
            let connect = ConnectionManager::new_with_config(self.client.clone(), config);
            match tokio::time::timeout(Duration::from_secs(3), connect).await {
                Ok(Ok(c)) => *guard = Some(c),
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot connect to Redis"),
                Err(_) => tracing::warn!("connecting to Redis timed out"),
            }
            if guard.is_none() {
                *self.failed_at.lock().expect("failed_at lock") = Some(std::time::Instant::now());
            }
        }
        guard.clone()
    }

    /// Publishes; `false` when Redis could not take it (deliver locally then).
    pub async fn publish(&self, envelope: &Envelope) -> bool {
        if !self.is_subscribed() {
            return false;
        }
        let Some(mut conn) = self.connection().await else {
            return false;
        };
        let payload = serde_json::to_string(envelope).unwrap_or_default();
        match conn.publish::<_, _, i64>(&self.channel, payload).await {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "publishing to Redis failed; delivering locally");
                false
            }
        }
    }

    /// Receives every instance's events and delivers them to local sockets,
    /// reconnecting with backoff whenever the subscription drops. Every
    /// subscription after a loss (or after a failed first attempt) is followed
    /// by a presence rewrite and a `resync` to local sockets.
    pub async fn subscribe_forever(self: Arc<Self>, local: Arc<LocalHub>) {
        let mut backoff = BACKOFF_MIN;
        let mut missed = false;
        loop {
            match self.client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(&self.channel).await {
                    Ok(()) => {
                        self.subscribed.store(true, Ordering::SeqCst);
                        tracing::info!(channel = %self.channel, "subscribed to Redis events");
                        backoff = BACKOFF_MIN;
                        if missed {
                            tokio::spawn(self.clone().recover(local.clone()));
                        }
                        let mut messages = pubsub.into_on_message();
                        while let Some(msg) = messages.next().await {
                            let Ok(payload) = msg.get_payload::<String>() else {
                                continue;
                            };
                            if let Ok(envelope) = serde_json::from_str::<Envelope>(&payload) {
                                super::dispatch(&local, &envelope);
                            }
                        }
                        self.subscribed.store(false, Ordering::SeqCst);
                        tracing::warn!("lost the Redis subscription; serving local sockets only until it is back");
                    }
                    Err(e) => tracing::warn!(error = %e, "subscribing to Redis failed"),
                },
                Err(e) => tracing::warn!(error = %e, "cannot reach Redis; retrying"),
            }
            missed = true;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// After an outage: announce this instance, write its users' presence
    /// again, then tell local sockets to catch up. The first commands after a
    /// Redis restart may fail while the connection is re-established; retry.
    async fn recover(self: Arc<Self>, local: Arc<LocalHub>) {
        for _ in 0..20 {
            *self.failed_at.lock().expect("failed_at lock") = None;
            if let Some(mut conn) = self.connection().await {
                match self.rewrite_presence(&mut conn, &local.users()).await {
                    Ok(()) => break,
                    Err(e) => tracing::debug!(error = %e, "rewriting presence failed; retrying"),
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        tokio::time::sleep(RESYNC_SETTLE).await;
        local.resync_all();
    }

    async fn rewrite_presence(&self, conn: &mut ConnectionManager, users: &[Uuid]) -> redis::RedisResult<()> {
        let now = chrono::Utc::now().timestamp();
        let mut pipe = redis::pipe();
        pipe.zadd(self.instances_key(), &self.instance, now).ignore();
        for user in users {
            pipe.hset(self.presence_key(*user), &self.instance, 1).ignore();
        }
        pipe.query_async::<()>(conn).await?;
        self.refresh_live(conn).await;
        tracing::info!(users = users.len(), "presence written again after a Redis outage");
        Ok(())
    }

    fn instances_key(&self) -> String {
        format!("{}:instances", self.prefix)
    }

    fn presence_key(&self, user: Uuid) -> String {
        format!("{}:presence:{user}", self.prefix)
    }

    /// Announces this instance as alive and refreshes the list of live ones.
    pub async fn heartbeat_forever(self: Arc<Self>) {
        let mut tick = tokio::time::interval(HEARTBEAT);
        loop {
            tick.tick().await;
            if let Some(mut conn) = self.connection().await {
                self.beat(&mut conn).await;
            }
        }
    }

    async fn beat(&self, conn: &mut ConnectionManager) {
        let now = chrono::Utc::now().timestamp();
        let key = self.instances_key();
        let beat: redis::RedisResult<()> = async {
            let _: () = conn.zadd(&key, &self.instance, now).await?;
            conn.zrembyscore(&key, 0, now - INSTANCE_TTL_SECS * 10).await
        }
        .await;
        if beat.is_ok() {
            self.refresh_live(conn).await;
        }
    }

    async fn refresh_live(&self, conn: &mut ConnectionManager) {
        let now = chrono::Utc::now().timestamp();
        let live: redis::RedisResult<Vec<String>> = conn
            .zrangebyscore(self.instances_key(), now - INSTANCE_TTL_SECS, "+inf")
            .await;
        if let Ok(live) = live {
            let mut set: HashSet<String> = live.into_iter().collect();
            set.insert(self.instance.clone());
            *self.live_instances.lock().expect("live instances lock") = set;
        }
    }

    /// Sockets across live instances. Counts from an instance not known to be
    /// alive trigger a refresh; those of dead instances are pruned.
    async fn live_total(&self, conn: &mut ConnectionManager, key: &str, counts: &HashMap<String, i64>) -> i64 {
        let unknown = {
            let live = self.live_instances.lock().expect("live instances lock");
            counts.keys().any(|i| !live.contains(i))
        };
        if unknown {
            self.refresh_live(conn).await;
        }
        let (total, dead): (i64, Vec<&String>) = {
            let live = self.live_instances.lock().expect("live instances lock");
            let total = counts
                .iter()
                .filter(|(i, _)| live.contains(*i))
                .map(|(_, n)| (*n).max(0))
                .sum();
            (total, counts.keys().filter(|i| !live.contains(*i)).collect())
        };
        if !dead.is_empty() {
            let _: redis::RedisResult<()> = conn.hdel(key, dead).await;
        }
        total
    }

    /// Changes this instance's socket count for `user` by `delta` and returns
    /// the user's socket count across live instances.
    pub async fn presence_add(&self, user: Uuid, delta: i64) -> Option<i64> {
        let mut conn = self.connection().await?;
        let key = self.presence_key(user);
        let result: redis::RedisResult<HashMap<String, i64>> = async {
            let n: i64 = conn.hincr(&key, &self.instance, delta).await?;
            if n <= 0 {
                let _: () = conn.hdel(&key, &self.instance).await?;
            }
            conn.hgetall(&key).await
        }
        .await;
        match result {
            Ok(counts) => Some(self.live_total(&mut conn, &key, &counts).await),
            Err(e) => {
                tracing::warn!(error = %e, "updating presence in Redis failed");
                None
            }
        }
    }

    /// Which of `users` have a socket on a live instance; `None` if Redis is away.
    pub async fn online(&self, users: &[Uuid]) -> Option<HashSet<Uuid>> {
        if users.is_empty() {
            return Some(HashSet::new());
        }
        let mut conn = self.connection().await?;
        let mut pipe = redis::pipe();
        for user in users {
            pipe.hgetall(self.presence_key(*user));
        }
        let counts: Vec<HashMap<String, i64>> = pipe.query_async(&mut conn).await.ok()?;
        let mut online = HashSet::new();
        for (user, c) in users.iter().zip(counts) {
            if !c.is_empty() && self.live_total(&mut conn, &self.presence_key(*user), &c).await > 0 {
                online.insert(*user);
            }
        }
        Some(online)
    }

    /// Leaves the live list at shutdown so presence drops at once.
    pub async fn retire(&self) {
        if let Some(mut conn) = self.connection().await {
            let _: redis::RedisResult<()> = conn.zrem(self.instances_key(), &self.instance).await;
        }
    }
}

/// Forwards published envelopes in order: through Redis when it is there,
/// straight to local sockets when it is not. `unpublished` counts what is
/// still queued, so a shutdown can wait for it.
pub async fn publish_forever(
    bus: Arc<RedisBus>,
    local: Arc<LocalHub>,
    mut rx: mpsc::UnboundedReceiver<Envelope>,
    unpublished: Arc<std::sync::atomic::AtomicUsize>,
) {
    while let Some(envelope) = rx.recv().await {
        if !bus.publish(&envelope).await {
            super::dispatch(&local, &envelope);
        }
        unpublished.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}
