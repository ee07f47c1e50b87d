//! Shared pieces of the load tools: signing users up and summarising latencies.
use std::time::Duration;

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use serde_json::{json, Value};

pub struct User {
    pub id: String,
    pub token: String,
}

/// Registers a user with a throwaway password and returns its id and access token.
pub async fn signup(client: &reqwest::Client, base: &str, username: &str) -> Result<User> {
    let body: Value = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"username": username, "password": "bench-password"}))
        .send()
        .await?
        .error_for_status()
        .context("register")?
        .json()
        .await?;
    Ok(User {
        id: body["user"]["id"].as_str().context("user id")?.to_owned(),
        token: body["tokens"]["access_token"].as_str().context("token")?.to_owned(),
    })
}

/// Makes `a` and `b` friends and returns their direct chat's id.
pub async fn direct_chat(client: &reqwest::Client, base: &str, a: &User, b: &User, b_name: &str) -> Result<String> {
    client
        .post(format!("{base}/api/v1/friends"))
        .bearer_auth(&a.token)
        .json(&json!({"username": b_name}))
        .send()
        .await?
        .error_for_status()?;
    client
        .post(format!("{base}/api/v1/friends/{}/accept", a.id))
        .bearer_auth(&b.token)
        .json(&json!({}))
        .send()
        .await?
        .error_for_status()?;
    let chat: Value = client
        .post(format!("{base}/api/v1/chats"))
        .bearer_auth(&a.token)
        .json(&json!({"kind": "direct", "user_id": b.id}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(chat["id"].as_str().context("chat id")?.to_owned())
}

pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

pub fn record(h: &mut Histogram<u64>, d: Duration) {
    let _ = h.record(d.as_micros().max(1) as u64);
}

/// `p50 / p99 / max` in milliseconds.
pub fn summary(h: &Histogram<u64>) -> String {
    let ms = |us: u64| us as f64 / 1000.0;
    format!(
        "p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    )
}

/// Reads a socket's events until it closes, sending for each `message.created`
/// whose content is `at <µs since epoch> us` how long it took to arrive.
pub fn time_deliveries<S>(
    stream: tokio_tungstenite::WebSocketStream<S>,
    epoch: std::time::Instant,
    latencies: tokio::sync::mpsc::UnboundedSender<Duration>,
) -> tokio::task::JoinHandle<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use futures_util::StreamExt;
    tokio::spawn(async move {
        let (_sink, mut read) = stream.split();
        while let Some(Ok(frame)) = read.next().await {
            let tokio_tungstenite::tungstenite::Message::Text(text) = frame else {
                continue;
            };
            let Ok(event) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if event["type"] != "message.created" {
                continue;
            }
            let sent: u64 = event["message"]["content"]
                .as_str()
                .and_then(|c| c.split(' ').nth(1))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let now = epoch.elapsed().as_micros() as u64;
            let _ = latencies.send(Duration::from_micros(now.saturating_sub(sent)));
        }
    })
}
