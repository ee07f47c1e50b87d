//! The HTTP server: poem's endpoint served over hyper's HTTP/1.1, with the limits
//! a public server needs and poem's `Server` does not set. A client must send a
//! complete request head within `http_header_timeout_secs` (idle keep-alive
//! connections are closed after the same time), the number of open connections
//! is capped, and the process raises its own open-file limit so the cap, not
//! the operating system, is what a flood of connections meets.
use std::{convert::Infallible, future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use futures_util::FutureExt;

use hyper::server::conn::http1;
use hyper::{body::Incoming, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use poem::{http::uri::Scheme, Addr, Endpoint, EndpointExt, IntoResponse, Request};
use tokio::{
    net::TcpListener,
    sync::{watch, Semaphore},
};

/// File descriptors kept free for the database pool, Redis, the LLM client and logs.
const RESERVED_FDS: u64 = 128;

/// Connection limits, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time allowed for a complete request head, and for an idle keep-alive connection.
    pub header_timeout: Duration,
    /// Open HTTP connections at most (WebSockets, once upgraded, are capped
    /// separately by the real-time hub).
    pub max_connections: usize,
    /// How long shutdown waits for requests in flight.
    pub drain_timeout: Duration,
}

/// Raises the soft open-file limit to the hard limit and returns what is now
/// allowed (`None` where the platform has no such limit).
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).ok().map(|(soft, _)| soft)
        }
    }
}

/// The connection cap actually used: the configured one, lowered to what the
/// open-file limit can hold with room to spare.
pub fn effective_max_connections(configured: usize, open_files: Option<u64>) -> usize {
    let by_files = open_files.map_or(usize::MAX, |n| n.saturating_sub(RESERVED_FDS).max(16) as usize);
    configured.clamp(1, by_files)
}

/// Serves `ep` on `listener` until `signal` completes, then stops accepting
/// (calling `on_closed` once the listener is gone) and waits up to
/// `drain_timeout` for connections to finish.
pub async fn serve<E>(
    listener: TcpListener,
    ep: E,
    limits: Limits,
    signal: impl Future<Output = ()> + Send,
    on_closed: impl FnOnce(),
) -> io::Result<()>
where
    E: Endpoint + 'static,
{
    let local = listener.local_addr()?;
    let ep = Arc::new(ep.map_to_response());
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut http1 = http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    // Connections already queued in the kernel when the signal comes are still
    // served, one request each: closing the listener would reset them, and a
    // proxy may already have sent them a request it cannot repeat.
    let mut last_call = http1.clone();
    last_call.keep_alive(false);
    let mut closing = false;
    let (stop_tx, stop_rx) = watch::channel(false);
    // Past the drain timeout, connections still open are dropped: a bot stream
    // then ends as when its client leaves (its partial reply kept, its quota settled).
    let (cut_tx, cut_rx) = watch::channel(false);
    tokio::pin!(signal);
    let mut warned_full = false;

    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) if closing => break,
            Err(_) => {
                if !warned_full {
                    tracing::warn!(
                        max = limits.max_connections,
                        "connection limit reached; new connections wait"
                    );
                    warned_full = true;
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                    () = &mut signal => break,
                }
            }
        };
        let (stream, remote) = if closing {
            match listener.accept().now_or_never() {
                Some(Ok(pair)) => pair,
                Some(Err(_)) => continue,
                None => break,
            }
        } else {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors or a transient network error: wait, never spin.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut signal => {
                    closing = true;
                    continue;
                }
            }
        };
        warned_full = false;
        let _ = stream.set_nodelay(true);
        let service = service_fn({
            let ep = ep.clone();
            move |req: hyper::Request<Incoming>| {
                let ep = ep.clone();
                async move { Ok::<_, Infallible>(respond(&*ep, req, local, remote).await) }
            }
        });
        let builder = if closing { &last_call } else { &http1 };
        let conn = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
        let mut stop = stop_rx.clone();
        let stoppable = !closing;
        let mut cut = cut_rx.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            // Errors here are clients that went away or timed out: nothing to report.
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed(), if stoppable => {
                    conn.as_mut().graceful_shutdown();
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = cut.changed() => {}
                    }
                }
                _ = cut.changed(), if !stoppable => {}
            }
            drop(slot);
        });
    }
    drop(listener);
    on_closed();
    let _ = stop_tx.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.drain_timeout, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after the drain timeout: closing them");
        let _ = cut_tx.send(true);
    }
    Ok(())
}

async fn respond<E: Endpoint>(
    ep: &E,
    req: hyper::Request<Incoming>,
    local: SocketAddr,
    remote: SocketAddr,
) -> hyper::Response<impl hyper::body::Body<Data = bytes::Bytes, Error = io::Error>> {
    let req = Request::from((
        req,
        poem::web::LocalAddr(Addr::SocketAddr(local)),
        poem::web::RemoteAddr(Addr::SocketAddr(remote)),
        Scheme::HTTP,
    ));
    let resp = ep.get_response(req).await.into_response();
    hyper::Response::from(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_open_file_limit_is_raised_to_the_hard_one() {
        let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        rlimit::setrlimit(rlimit::Resource::NOFILE, hard.min(1024), hard).unwrap();
        let raised = raise_open_file_limit();
        let (soft, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        assert_eq!(raised, Some(soft));
        // macOS caps the soft limit below an "unlimited" hard one.
        assert!(soft == hard || cfg!(target_os = "macos"), "{soft} < {hard}");
    }

    #[test]
    fn the_connection_cap_leaves_room_under_the_open_file_limit() {
        assert_eq!(effective_max_connections(10_000, Some(1_024)), 896);
        assert_eq!(effective_max_connections(500, Some(1_024)), 500);
        assert_eq!(effective_max_connections(10_000, None), 10_000);
        assert_eq!(effective_max_connections(10_000, Some(10)), 16);
    }
}
