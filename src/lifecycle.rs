//! A restart nobody notices. On SIGTERM an instance goes through two phases
//! before it exits:
//!
//! 1. **Draining** (`shutdown_grace_secs`): `/readyz` answers 503 so a load
//!    balancer takes the instance out of rotation, while every request is
//!    still served. Responses carry `Connection: close`, so a proxy's pooled
//!    connections to this instance end instead of meeting a closed socket.
//! 2. **Closing**: the listener closes (a proxy's next attempt is refused, so
//!    it tries another instance), WebSockets are closed with 1012 ("service
//!    restart": the browser app reconnects at once, elsewhere), and requests in
//!    flight, bot streams among them, get up to `shutdown_timeout_secs` to
//!    finish. Bot quota this process still holds after that is settled.
use std::sync::Arc;

use poem::{http::header, Endpoint, IntoResponse, Request, Response};
use tokio::sync::watch;

/// Where the process is in its life, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Serving,
    Draining,
    Closing,
}

/// The process's phase, shared by the server, the probes and the sockets.
#[derive(Clone)]
pub struct Lifecycle {
    phase: Arc<watch::Sender<Phase>>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            phase: Arc::new(watch::Sender::new(Phase::Serving)),
        }
    }
}

impl Lifecycle {
    pub fn phase(&self) -> Phase {
        *self.phase.borrow()
    }

    pub fn is_serving(&self) -> bool {
        self.phase() == Phase::Serving
    }

    /// Moves on to `phase`; never back.
    pub fn enter(&self, phase: Phase) {
        self.phase.send_if_modified(|now| {
            let later = phase > *now;
            if later {
                *now = phase;
            }
            later
        });
    }

    /// Completes once the process has reached `phase`.
    pub async fn reached(&self, phase: Phase) {
        let mut rx = self.phase.subscribe();
        let _ = rx.wait_for(|now| *now >= phase).await;
    }
}

/// While the process drains, every response (but a WebSocket upgrade) ends
/// its connection, so nothing is sent on a connection about to close.
pub async fn close_connections_when_draining<E: Endpoint>(
    ep: E,
    req: Request,
    lifecycle: Lifecycle,
) -> poem::Result<Response> {
    let mut resp = ep.call(req).await?.into_response();
    if !lifecycle.is_serving() && resp.status() != poem::http::StatusCode::SWITCHING_PROTOCOLS {
        resp.headers_mut()
            .insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn phases_only_move_forward_and_wake_who_waits() {
        let life = Lifecycle::default();
        assert!(life.is_serving());
        let waiter = tokio::spawn({
            let life = life.clone();
            async move { life.reached(Phase::Closing).await }
        });
        life.enter(Phase::Draining);
        assert_eq!(life.phase(), Phase::Draining);
        assert!(!waiter.is_finished());
        life.enter(Phase::Closing);
        life.enter(Phase::Serving);
        assert_eq!(life.phase(), Phase::Closing);
        tokio::time::timeout(std::time::Duration::from_secs(1), waiter)
            .await
            .expect("woken")
            .unwrap();
    }
}
