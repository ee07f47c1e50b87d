//! The sockets connected to this instance, by user. Each socket has a bounded
//! queue: delivery never waits, and a socket whose queue is full is dropped, so
//! a slow or dead client never delays anyone else.
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use tokio::sync::mpsc;
use uuid::Uuid;

pub type Frame = Arc<str>;

#[derive(Default)]
pub struct LocalHub {
    sockets: Mutex<HashMap<Uuid, HashMap<u64, mpsc::Sender<Frame>>>>,
    next_id: AtomicU64,
    dropped_slow: AtomicU64,
}

impl LocalHub {
    /// Adds a socket; returns its id and whether it is the user's first here.
    pub fn add(&self, user: Uuid, tx: mpsc::Sender<Frame>) -> (u64, bool) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut sockets = self.sockets.lock().expect("hub lock");
        let mine = sockets.entry(user).or_default();
        mine.insert(id, tx);
        (id, mine.len() == 1)
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

    /// Queues `frame` on every socket of every recipient here. Full queues lose
    /// their socket: the writer sees its queue close and hangs up.
    pub fn deliver(&self, recipients: &[Uuid], frame: &Frame) {
        let mut sockets = self.sockets.lock().expect("hub lock");
        for user in recipients {
            let Some(mine) = sockets.get_mut(user) else { continue };
            mine.retain(|_, tx| match tx.try_send(frame.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.dropped_slow.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(user_id = %user, "dropping a WebSocket whose queue is full");
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            });
        }
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

    #[test]
    fn a_full_queue_drops_only_that_socket() {
        let hub = LocalHub::default();
        let user = Uuid::now_v7();
        let (slow_tx, _slow_rx) = mpsc::channel(2);
        let (fast_tx, mut fast_rx) = mpsc::channel(2);
        hub.add(user, slow_tx);
        hub.add(user, fast_tx);
        for i in 0..10 {
            hub.deliver(&[user], &Frame::from(format!("{i}")));
            // The fast socket keeps up.
            assert_eq!(&*fast_rx.try_recv().unwrap(), format!("{i}"));
        }
        assert_eq!(hub.connections(), 1);
        assert_eq!(hub.dropped_slow(), 1);
    }

    #[test]
    fn first_and_last_sockets_are_reported() {
        let hub = LocalHub::default();
        let user = Uuid::now_v7();
        let (a, _ra) = mpsc::channel(1);
        let (b, _rb) = mpsc::channel(1);
        let (id_a, first) = hub.add(user, a);
        assert!(first);
        let (id_b, first) = hub.add(user, b);
        assert!(!first);
        assert!(!hub.remove(user, id_a));
        assert!(hub.is_connected(user));
        assert!(hub.remove(user, id_b));
        assert!(!hub.is_connected(user));
    }
}
