//! The sockets connected to this instance, by user. Each socket has a bounded
//! queue: delivery never waits, and a socket whose queue is full is cut off, so
//! a slow or dead client never delays anyone else. The hub also enforces how
//! many sockets one account, and the instance as a whole, may hold.
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

use tokio::sync::mpsc;
use uuid::Uuid;

pub type Frame = std::sync::Arc<str>;

/// What a socket's writer receives.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// An event to send as a text frame.
    Event(Frame),
    /// The session behind the socket ended (sign-out, password change): close it.
    SessionEnded,
    /// Everything may have been missed (the cross-instance bus was away): the
    /// client should catch up from the REST API.
    Resync,
    /// The instance is restarting: close with 1012 so the client reconnects at once.
    Restart,
}

/// Why a socket was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The account already has the most sockets allowed.
    PerUser(usize),
    /// The instance has the most sockets allowed.
    Total(usize),
}

struct Slot {
    session: Uuid,
    /// `None` once the hub cut the socket off; the socket task still removes it.
    tx: Option<mpsc::Sender<Outbound>>,
}

impl Slot {
    /// Queues `out`; a full or closed queue cuts the socket off. Returns whether
    /// the socket was cut off because it was too slow.
    fn offer(&mut self, out: Outbound) -> bool {
        let Some(tx) = &self.tx else { return false };
        match tx.try_send(out) {
            Ok(()) => false,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.tx = None;
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.tx = None;
                false
            }
        }
    }
}

/// Called with a user and their ended sessions (all for `None`).
pub type SessionsEnded = Box<dyn Fn(Uuid, Option<&[Uuid]>) + Send + Sync>;
/// Called with a user whose profile changed.
pub type ProfileChanged = Box<dyn Fn(Uuid) + Send + Sync>;

pub struct LocalHub {
    sockets: Mutex<HashMap<Uuid, HashMap<u64, Slot>>>,
    on_sessions_ended: std::sync::OnceLock<SessionsEnded>,
    on_profile_changed: std::sync::OnceLock<ProfileChanged>,
    next_id: AtomicU64,
    dropped_slow: AtomicU64,
    max_per_user: usize,
    max_total: usize,
}

impl Default for LocalHub {
    fn default() -> Self {
        Self::new(usize::MAX, usize::MAX)
    }
}

impl LocalHub {
    pub fn new(max_per_user: usize, max_total: usize) -> Self {
        Self {
            sockets: Mutex::default(),
            on_sessions_ended: std::sync::OnceLock::new(),
            on_profile_changed: std::sync::OnceLock::new(),
            next_id: AtomicU64::new(0),
            dropped_slow: AtomicU64::new(0),
            max_per_user: max_per_user.max(1),
            max_total: max_total.max(1),
        }
    }

    /// Admits a socket of `user` in `session`; returns its id and whether it is
    /// the user's first here, or why it was refused.
    pub fn add(&self, user: Uuid, session: Uuid, tx: mpsc::Sender<Outbound>) -> Result<(u64, bool), Refused> {
        let mut sockets = self.sockets.lock().expect("hub lock");
        let total: usize = sockets.values().map(HashMap::len).sum();
        if total >= self.max_total {
            return Err(Refused::Total(self.max_total));
        }
        let mine = sockets.entry(user).or_default();
        if mine.len() >= self.max_per_user {
            let limit = self.max_per_user;
            if mine.is_empty() {
                sockets.remove(&user);
            }
            return Err(Refused::PerUser(limit));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        mine.insert(id, Slot { session, tx: Some(tx) });
        Ok((id, mine.len() == 1))
    }

    /// Removes a socket; returns whether it was the user's last here.
    pub fn remove(&self, user: Uuid, id: u64) -> bool {
        let mut sockets = self.sockets.lock().expect("hub lock");
        let Some(mine) = sockets.get_mut(&user) else {
            return false;
        };
        if mine.remove(&id).is_none() {
            return false;
        }
        if mine.is_empty() {
            sockets.remove(&user);
            return true;
        }
        false
    }

    /// Queues `frame` on every socket of every recipient here.
    pub fn deliver(&self, recipients: &[Uuid], frame: &Frame) {
        let mut sockets = self.sockets.lock().expect("hub lock");
        for user in recipients {
            let Some(mine) = sockets.get_mut(user) else { continue };
            for slot in mine.values_mut() {
                if slot.offer(Outbound::Event(frame.clone())) {
                    self.dropped_slow.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(user_id = %user, "cutting off a WebSocket whose queue is full");
                }
            }
        }
    }

    /// Sets what else happens when sessions end (once).
    pub fn on_sessions_ended(&self, hook: SessionsEnded) {
        let _ = self.on_sessions_ended.set(hook);
    }

    /// Sets what happens when a profile changes (once).
    pub fn on_profile_changed(&self, hook: ProfileChanged) {
        let _ = self.on_profile_changed.set(hook);
    }

    pub fn profile_changed(&self, user: Uuid) {
        if let Some(hook) = self.on_profile_changed.get() {
            hook(user);
        }
    }

    /// Closes `user`'s sockets of the given sessions (all of them for `None`).
    pub fn end_sessions(&self, user: Uuid, sessions: Option<&[Uuid]>) {
        if let Some(hook) = self.on_sessions_ended.get() {
            hook(user, sessions);
        }
        let mut sockets = self.sockets.lock().expect("hub lock");
        let Some(mine) = sockets.get_mut(&user) else { return };
        for slot in mine.values_mut() {
            if sessions.is_none_or(|s| s.contains(&slot.session)) {
                slot.offer(Outbound::SessionEnded);
                slot.tx = None;
            }
        }
    }

    /// Tells every socket here to catch up.
    pub fn resync_all(&self) {
        let mut sockets = self.sockets.lock().expect("hub lock");
        for slot in sockets.values_mut().flat_map(HashMap::values_mut) {
            slot.offer(Outbound::Resync);
        }
    }

    /// Tells every socket here that the instance is restarting; no event follows.
    pub fn restart_all(&self) {
        let mut sockets = self.sockets.lock().expect("hub lock");
        for slot in sockets.values_mut().flat_map(HashMap::values_mut) {
            slot.offer(Outbound::Restart);
            slot.tx = None;
        }
    }

    /// Users with at least one socket here.
    pub fn users(&self) -> Vec<Uuid> {
        self.sockets.lock().expect("hub lock").keys().copied().collect()
    }

    pub fn is_connected(&self, user: Uuid) -> bool {
        self.sockets
            .lock()
            .expect("hub lock")
            .get(&user)
            .is_some_and(|m| !m.is_empty())
    }

    pub fn connections(&self) -> usize {
        self.sockets.lock().expect("hub lock").values().map(HashMap::len).sum()
    }

    pub fn dropped_slow(&self) -> u64 {
        self.dropped_slow.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(out: Outbound) -> String {
        match out {
            Outbound::Event(f) => f.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn a_full_queue_cuts_off_only_that_socket() {
        let hub = LocalHub::default();
        let user = Uuid::now_v7();
        let session = Uuid::now_v7();
        let (slow_tx, _slow_rx) = mpsc::channel(2);
        let (fast_tx, mut fast_rx) = mpsc::channel(2);
        let (slow_id, _) = hub.add(user, session, slow_tx).unwrap();
        hub.add(user, session, fast_tx).unwrap();
        for i in 0..10 {
            hub.deliver(&[user], &Frame::from(format!("{i}")));
            // The fast socket keeps up.
            assert_eq!(text(fast_rx.try_recv().unwrap()), format!("{i}"));
        }
        assert_eq!(hub.dropped_slow(), 1);
        // The cut-off socket stays counted until its task removes it, so the
        // user's presence is reported exactly once when the last one goes.
        assert!(!hub.remove(user, slow_id));
        assert_eq!(hub.connections(), 1);
    }

    #[test]
    fn first_and_last_sockets_are_reported() {
        let hub = LocalHub::default();
        let user = Uuid::now_v7();
        let s = Uuid::now_v7();
        let (a, _ra) = mpsc::channel(1);
        let (b, _rb) = mpsc::channel(1);
        let (id_a, first) = hub.add(user, s, a).unwrap();
        assert!(first);
        let (id_b, first) = hub.add(user, s, b).unwrap();
        assert!(!first);
        assert!(!hub.remove(user, id_a));
        assert!(hub.is_connected(user));
        assert!(hub.remove(user, id_b));
        assert!(!hub.is_connected(user));
    }

    #[test]
    fn sockets_beyond_the_caps_are_refused() {
        let hub = LocalHub::new(2, 3);
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let s = Uuid::now_v7();
        let mut keep = Vec::new();
        for _ in 0..2 {
            let (tx, rx) = mpsc::channel(1);
            keep.push(rx);
            hub.add(alice, s, tx).unwrap();
        }
        let (tx, _rx) = mpsc::channel(1);
        assert_eq!(hub.add(alice, s, tx).unwrap_err(), Refused::PerUser(2));
        let (tx, _rx1) = mpsc::channel(1);
        hub.add(bob, s, tx).unwrap();
        let (tx, _rx2) = mpsc::channel(1);
        assert_eq!(hub.add(bob, s, tx).unwrap_err(), Refused::Total(3));
    }

    #[test]
    fn ending_a_session_closes_only_its_sockets() {
        let hub = LocalHub::default();
        let user = Uuid::now_v7();
        let (old, new) = (Uuid::now_v7(), Uuid::now_v7());
        let (tx_old, mut rx_old) = mpsc::channel(4);
        let (tx_new, mut rx_new) = mpsc::channel(4);
        hub.add(user, old, tx_old).unwrap();
        hub.add(user, new, tx_new).unwrap();
        hub.end_sessions(user, Some(&[old]));
        assert!(matches!(rx_old.try_recv(), Ok(Outbound::SessionEnded)));
        assert!(rx_new.try_recv().is_err());
        hub.deliver(&[user], &Frame::from("after"));
        assert_eq!(text(rx_new.try_recv().unwrap()), "after");
        assert!(rx_old.try_recv().is_err(), "an ended socket gets nothing more");
    }
}
