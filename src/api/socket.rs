//! One WebSocket: forwards queued events, answers client frames (typing, read,
//! ping, auth), pings the client, and hangs up on idleness or token expiry.
use std::{collections::HashMap, time::Duration};

use futures_util::{SinkExt, StreamExt};
use poem::web::websocket::{CloseCode, Message as WsMessage, WebSocketStream};
use serde::Deserialize;
use tokio::time::{sleep_until, Instant};
use uuid::Uuid;

use crate::{
    realtime::{events::Event, Outbound, Refused},
    service::{chats, presence},
    state::AppState,
};

/// How often one socket may announce typing in one chat.
const TYPING_EVERY: Duration = Duration::from_secs(2);
/// A write that takes longer than this means the client is gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Close code for an expired or replaced-by-invalid access token, or a session
/// that was signed out.
const TOKEN_EXPIRED: u16 = 4001;
/// Close code for a socket over the account's limit.
const TOO_MANY_SOCKETS: u16 = 4008;
/// Close code for a socket over the instance's limit (the standard "try again later").
const TRY_AGAIN_LATER: u16 = 1013;
/// Close code for a socket of an instance that is restarting: reconnect at once.
const SERVICE_RESTART: u16 = 1012;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Ping,
    Typing { chat_id: Uuid },
    Read { chat_id: Uuid, message_id: Uuid },
    Auth { access_token: String },
}

/// Seconds-since-epoch to an `Instant` on the monotonic clock.
fn deadline(exp: i64) -> Instant {
    let left = exp - chrono::Utc::now().timestamp();
    Instant::now() + Duration::from_secs(left.max(0) as u64)
}

pub async fn serve(state: AppState, user: Uuid, session: Uuid, token_exp: i64, stream: WebSocketStream) {
    let (mut sink, mut incoming) = stream.split();
    let realtime = state.realtime.clone();
    let (conn, mut queue, came_online) = match realtime.connect(user, session).await {
        Ok(admitted) => admitted,
        Err(refused) => {
            let (code, reason) = match refused {
                Refused::PerUser(n) => (
                    TOO_MANY_SOCKETS,
                    format!("this account already has {n} connections open here; close another tab"),
                ),
                Refused::Total(_) => (
                    TRY_AGAIN_LATER,
                    "the server has too many connections; retry later".into(),
                ),
            };
            close(&mut sink, code, &reason).await;
            return;
        }
    };
    if came_online {
        presence::announce(&state.db, &state.realtime, user, true).await;
    }
    let ping_every = Duration::from_secs(state.settings.ws_ping_interval_secs.max(1));
    let idle_limit = Duration::from_secs(state.settings.ws_idle_timeout_secs.max(1));
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    let mut expires = deadline(token_exp);
    let mut last_heard = Instant::now();
    let mut typing_sent: HashMap<Uuid, Instant> = HashMap::new();

    loop {
        tokio::select! {
            out = queue.recv() => {
                // `None`: the hub cut this socket off because its queue was full.
                let text = match out {
                    None => break,
                    Some(Outbound::SessionEnded) => {
                        close(&mut sink, TOKEN_EXPIRED, "the session was signed out").await;
                        break;
                    }
                    Some(Outbound::Restart) => {
                        close(&mut sink, SERVICE_RESTART, "the server is restarting; reconnect now").await;
                        break;
                    }
                    Some(Outbound::Event(frame)) => frame.to_string(),
                    Some(Outbound::Resync) => Event::Resync.to_text(),
                };
                let send = sink.send(WsMessage::Text(text));
                if !matches!(tokio::time::timeout(WRITE_TIMEOUT, send).await, Ok(Ok(()))) {
                    break;
                }
            }
            incoming_frame = incoming.next() => {
                let Some(Ok(msg)) = incoming_frame else { break };
                last_heard = Instant::now();
                let WsMessage::Text(text) = msg else {
                    if matches!(msg, WsMessage::Close(_)) { break }
                    continue;
                };
                match serde_json::from_str::<ClientFrame>(&text) {
                    Ok(ClientFrame::Ping) => {
                        let pong = sink.send(WsMessage::Text(Event::Pong.to_text()));
                        if tokio::time::timeout(WRITE_TIMEOUT, pong).await.is_err() { break }
                    }
                    Ok(ClientFrame::Typing { chat_id }) => {
                        let recent = typing_sent.get(&chat_id).is_some_and(|at| at.elapsed() < TYPING_EVERY);
                        if !recent {
                            typing_sent.insert(chat_id, Instant::now());
                            typing(&state, user, chat_id).await;
                        }
                    }
                    Ok(ClientFrame::Read { chat_id, message_id }) => {
                        // Errors (not a member, no such message) are ignored: the socket only notifies.
                        let _ = chats::mark_read(&state.db, &state.realtime, user, chat_id, message_id).await;
                    }
                    Ok(ClientFrame::Auth { access_token }) => match state.sessions.verify(&access_token).await {
                        Ok(claims) if claims.sub == user && claims.sid == session => expires = deadline(claims.exp),
                        _ => {
                            close(&mut sink, TOKEN_EXPIRED, "the new access token is not valid for this session").await;
                            break;
                        }
                    },
                    Err(_) => tracing::debug!(user_id = %user, "ignoring an unknown WebSocket frame"),
                }
            }
            _ = sleep_until(expires) => {
                close(&mut sink, TOKEN_EXPIRED, "the access token expired; reconnect with a fresh one").await;
                break;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > idle_limit {
                    tracing::debug!(user_id = %user, "closing an idle WebSocket");
                    break;
                }
                // A session can end where no event reaches this instance (an
                // account deleted in the database): looked up again (cached
                // for `session_cache_secs`) at every ping.
                if let Ok(false) = state.sessions.still_active(user, session).await {
                    close(&mut sink, TOKEN_EXPIRED, "the session was signed out").await;
                    break;
                }
                if tokio::time::timeout(WRITE_TIMEOUT, sink.send(WsMessage::Ping(Vec::new()))).await.is_err() {
                    break;
                }
            }
        }
    }
    if conn.close().await {
        presence::announce(&state.db, &state.realtime, user, false).await;
    }
}

async fn close<S>(sink: &mut S, code: u16, reason: &str)
where
    S: SinkExt<WsMessage> + Unpin,
{
    let frame = WsMessage::Close(Some((CloseCode::from(code), reason.to_owned())));
    let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.send(frame)).await;
}

/// Tells the chat's other members that `user` is typing, if `user` may post there.
async fn typing(state: &AppState, user: Uuid, chat_id: Uuid) {
    if let Ok(others) = chats::typing_audience(&state.db, user, chat_id).await {
        state.realtime.publish(others, Event::Typing { chat_id, user_id: user });
    }
}
