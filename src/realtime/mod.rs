//! Real-time events over WebSockets. REST stays the source of truth; sockets
//! only notify. One instance delivers in-process; with `REDIS_URL` every event
//! goes through Redis pub/sub so a socket on any instance receives it.
use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use tokio::{sync::mpsc, task::JoinHandle};
use uuid::Uuid;

use crate::config::Settings;

pub mod events;
pub mod hub;
pub mod redis_bus;

use hub::{Frame, LocalHub};
pub use hub::{Outbound, Refused};
use redis_bus::{BusMessage, Envelope, RedisBus};

#[derive(Clone)]
pub struct Realtime {
    inner: Arc<Inner>,
}

struct Inner {
    local: Arc<LocalHub>,
    redis: Option<(Arc<RedisBus>, mpsc::UnboundedSender<Envelope>)>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
    queue_capacity: usize,
    /// Envelopes handed to the Redis publisher and not yet published.
    unpublished: Arc<AtomicUsize>,
}

impl Realtime {
    /// Starts the Redis bus when `REDIS_URL` is set. Redis being down at start
    /// is not fatal: the instance serves its own sockets and keeps retrying.
    pub fn start(settings: &Settings) -> anyhow::Result<Self> {
        let local = Arc::new(LocalHub::new(settings.ws_max_per_user, settings.ws_max_connections));
        let mut tasks = Vec::new();
        let unpublished = Arc::new(AtomicUsize::new(0));
        let redis = match settings.redis_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => {
                let bus = RedisBus::new(url, &settings.redis_prefix)?;
                let (tx, rx) = mpsc::unbounded_channel();
                tasks.push(tokio::spawn(bus.clone().subscribe_forever(local.clone())));
                tasks.push(tokio::spawn(bus.clone().heartbeat_forever()));
                tasks.push(tokio::spawn(redis_bus::publish_forever(
                    bus.clone(),
                    local.clone(),
                    rx,
                    unpublished.clone(),
                )));
                tracing::info!("real-time events go through Redis");
                Some((bus, tx))
            }
            None => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                local,
                redis,
                tasks: std::sync::Mutex::new(tasks),
                queue_capacity: settings.ws_queue_capacity.max(1),
                unpublished,
            }),
        })
    }

    /// Sends `event` to every socket of every user in `to`, on every instance.
    pub fn publish(&self, to: Vec<Uuid>, event: events::Event) {
        if to.is_empty() {
            return;
        }
        let event = serde_json::to_value(&event).expect("events serialize");
        self.send(Envelope {
            to,
            message: BusMessage::Event { event },
        });
    }

    /// Sends `event` to the sockets on this instance only of the users in `to`
    /// (for what every instance works out for its own sockets).
    pub fn deliver_local(&self, to: &[Uuid], event: events::Event) {
        if !to.is_empty() {
            self.inner.local.deliver(to, &Frame::from(event.to_text()));
        }
    }

    /// Users with a socket on this instance.
    pub fn local_users(&self) -> HashSet<Uuid> {
        self.inner.local.users().into_iter().collect()
    }

    /// Closes `user`'s sockets of the given sessions (`None`: all of them), on
    /// every instance.
    pub fn end_sessions(&self, user: Uuid, sessions: Option<Vec<Uuid>>) {
        self.send(Envelope {
            to: vec![user],
            message: BusMessage::EndSessions { sessions },
        });
    }

    /// Tells every instance that `user`'s profile changed.
    pub fn profile_changed(&self, user: Uuid) {
        self.send(Envelope {
            to: vec![user],
            message: BusMessage::ProfileChanged,
        });
    }

    /// Runs `hook` whenever a profile changes, whichever instance changed it.
    pub fn on_profile_changed(&self, hook: impl Fn(Uuid) + Send + Sync + 'static) {
        self.inner.local.on_profile_changed(Box::new(hook));
    }

    /// Runs `hook` whenever sessions end, whichever instance ended them.
    pub fn on_sessions_ended(&self, hook: impl Fn(Uuid, Option<&[Uuid]>) + Send + Sync + 'static) {
        self.inner.local.on_sessions_ended(Box::new(hook));
    }

    fn send(&self, envelope: Envelope) {
        match &self.inner.redis {
            Some((_, tx)) => {
                self.inner.unpublished.fetch_add(1, Ordering::SeqCst);
                if tx.send(envelope).is_err() {
                    self.inner.unpublished.fetch_sub(1, Ordering::SeqCst);
                }
            }
            None => dispatch(&self.inner.local, &envelope),
        }
    }

    /// A new socket for `user` in `session`: its queue, and whether the user
    /// just came online (their first socket anywhere); or why it was refused.
    pub async fn connect(
        &self,
        user: Uuid,
        session: Uuid,
    ) -> Result<(Connection, mpsc::Receiver<Outbound>, bool), Refused> {
        let (tx, rx) = mpsc::channel(self.inner.queue_capacity);
        let (id, first_here) = self.inner.local.add(user, session, tx)?;
        let came_online = match (&self.inner.redis, first_here) {
            (_, false) => false,
            (None, true) => true,
            (Some((bus, _)), true) => bus.presence_add(user, 1).await.is_none_or(|total| total <= 1),
        };
        let conn = Connection {
            realtime: self.clone(),
            user,
            id,
            closed: false,
        };
        Ok((conn, rx, came_online))
    }

    /// Which of `users` have a live socket on any instance.
    pub async fn online(&self, users: &[Uuid]) -> HashSet<Uuid> {
        let mut online: HashSet<Uuid> = users
            .iter()
            .copied()
            .filter(|u| self.inner.local.is_connected(*u))
            .collect();
        if let Some((bus, _)) = &self.inner.redis {
            if let Some(remote) = bus.online(users).await {
                online.extend(remote);
            }
        }
        online
    }

    pub async fn is_online(&self, user: Uuid) -> bool {
        self.online(&[user]).await.contains(&user)
    }

    pub fn connections(&self) -> usize {
        self.inner.local.connections()
    }

    pub fn dropped_slow(&self) -> u64 {
        self.inner.local.dropped_slow()
    }

    /// Whether cross-instance delivery is working (always true without Redis).
    pub fn bus_ready(&self) -> bool {
        self.inner.redis.as_ref().is_none_or(|(bus, _)| bus.is_subscribed())
    }

    /// Tells every socket on this instance to close with 1012 (the instance
    /// is restarting); `shutdown` waits for them.
    pub fn restart_sockets(&self) {
        self.inner.local.restart_all();
    }

    /// Waits (up to 2 s) for sockets to finish closing and for what is still
    /// queued to be published (the events of the last requests), then leaves
    /// the bus.
    pub async fn shutdown(&self) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        while (self.connections() > 0 || self.inner.unpublished.load(Ordering::SeqCst) > 0)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        for task in self.inner.tasks.lock().expect("tasks lock").drain(..) {
            task.abort();
        }
        if let Some((bus, _)) = &self.inner.redis {
            bus.retire().await;
        }
    }
}

/// Hands an envelope to this instance's sockets.
pub(crate) fn dispatch(local: &LocalHub, envelope: &Envelope) {
    match &envelope.message {
        BusMessage::Event { event } => local.deliver(&envelope.to, &Frame::from(event.to_string())),
        BusMessage::EndSessions { sessions } => {
            for user in &envelope.to {
                local.end_sessions(*user, sessions.as_deref());
            }
        }
        BusMessage::ProfileChanged => envelope.to.iter().for_each(|user| local.profile_changed(*user)),
    }
}

/// One open socket. Dropping it unregisters the socket; `close` also reports
/// whether the user went offline everywhere.
pub struct Connection {
    realtime: Realtime,
    user: Uuid,
    id: u64,
    closed: bool,
}

impl Connection {
    /// Unregisters the socket; true when it was the user's last one anywhere.
    pub async fn close(mut self) -> bool {
        self.closed = true;
        let last_here = self.realtime.inner.local.remove(self.user, self.id);
        let went_offline = match (&self.realtime.inner.redis, last_here) {
            (_, false) => false,
            (None, true) => true,
            (Some((bus, _)), true) => bus.presence_add(self.user, -1).await.is_none_or(|total| total == 0),
        };
        went_offline
    }
}

impl Drop for Connection {
    /// A socket task that ended without `close` (a panic, a cancelled task)
    /// still leaves the hub; its presence count is fixed by the heartbeat.
    fn drop(&mut self) {
        if !self.closed && self.realtime.inner.local.remove(self.user, self.id) {
            if let Some((bus, _)) = self.realtime.inner.redis.clone() {
                let user = self.user;
                tokio::spawn(async move {
                    bus.presence_add(user, -1).await;
                });
            }
        }
    }
}
