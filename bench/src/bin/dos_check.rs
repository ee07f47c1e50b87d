//! Denial-of-service check: how `/healthz` and login answer while an attacker
//! (1) holds many connections open with request heads that never finish, and
//! (2) opens far more WebSockets with one account than it may.
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Result;
use bench::{histogram, record, signup, summary};
use clap::Parser;
use futures_util::{future::join_all, StreamExt};
use tokio::{io::AsyncWriteExt, net::TcpStream};
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:3999")]
    url: String,
    /// Slow (never finished) connections the attacker keeps open.
    #[arg(long, default_value_t = 1100)]
    slow: usize,
    /// WebSockets one account tries to open.
    #[arg(long, default_value_t = 1000)]
    sockets: usize,
    /// How long each attack runs, in seconds.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
}

/// Latency of `/healthz` and of a login, measured one request at a time.
async fn probe(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    until: Instant,
) -> Result<(String, String, usize)> {
    let mut health = histogram();
    let mut login = histogram();
    let mut failures = 0;
    while Instant::now() < until {
        for _ in 0..10 {
            let started = Instant::now();
            match client.get(format!("{base}/healthz")).send().await {
                Ok(r) if r.status().is_success() => record(&mut health, started.elapsed()),
                _ => failures += 1,
            }
        }
        let started = Instant::now();
        let ok = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": username, "password": "bench-password"}))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            record(&mut login, started.elapsed());
        } else {
            failures += 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((summary(&health), summary(&login), failures))
}

/// Keeps `n` connections open that send a request head a byte at a time and
/// never finish it; reopens each one the server closes. Returns how many
/// times the server closed one.
async fn slowloris(addr: String, n: usize, until: Instant) -> usize {
    let closed = Arc::new(AtomicUsize::new(0));
    let workers = (0..n).map(|_| {
        let addr = addr.clone();
        let closed = closed.clone();
        async move {
            while Instant::now() < until {
                let Ok(mut conn) = TcpStream::connect(&addr).await else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                };
                if conn
                    .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                    .await
                    .is_err()
                {
                    continue;
                }
                while Instant::now() < until {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    if conn.write_all(b"a").await.is_err() {
                        closed.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
            }
        }
    });
    join_all(workers).await;
    closed.load(Ordering::Relaxed)
}

/// One account opens `n` sockets; returns (admitted, refused with 4008, other failures).
async fn hoard(ws_base: String, token: String, n: usize) -> (usize, usize, usize, Vec<impl Sized>) {
    let mut admitted = Vec::new();
    let (mut refused, mut failed) = (0, 0);
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let attempts = chunk.iter().map(|_| {
            let url = format!("{ws_base}/api/v1/ws?access_token={token}");
            async move {
                let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await else {
                    return Err(false);
                };
                // Admitted sockets answer a ping; refused ones are closed with 4008.
                let _ = futures_util::SinkExt::send(&mut ws, Message::Text(r#"{"type":"ping"}"#.into())).await;
                match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                    Ok(Some(Ok(Message::Close(Some(frame))))) if u16::from(frame.code) == 4008 => Err(true),
                    Ok(Some(Ok(Message::Text(_)))) => Ok(ws),
                    _ => Err(false),
                }
            }
        });
        for result in join_all(attempts).await {
            match result {
                Ok(ws) => admitted.push(ws),
                Err(true) => refused += 1,
                Err(false) => failed += 1,
            }
        }
    }
    (admitted.len(), refused, failed, admitted)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let base = args.url.trim_end_matches('/').to_owned();
    let addr = base.trim_start_matches("http://").to_owned();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let suffix = std::process::id();
    let prober = format!("probe{suffix}");
    signup(&client, &base, &prober).await?;
    let attacker = signup(&client, &base, &format!("hoard{suffix}")).await?;
    let window = Duration::from_secs(args.seconds);

    let (health, login, failures) = probe(&client, &base, &prober, Instant::now() + window / 2).await?;
    println!("baseline                 healthz {health} | login {login} | failures {failures}");

    let until = Instant::now() + window;
    let attack = tokio::spawn(slowloris(addr.clone(), args.slow, until));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (health, login, failures) = probe(&client, &base, &prober, until).await?;
    let closed = attack.await?;
    println!(
        "{} slow connections     healthz {health} | login {login} | failures {failures} | server closed {closed} slow connections",
        args.slow
    );

    let ws_base = base.replacen("http", "ws", 1);
    let (admitted, refused, failed, held) = hoard(ws_base, attacker.token.clone(), args.sockets).await;
    let (health, login, failures) = probe(&client, &base, &prober, Instant::now() + window / 2).await?;
    println!(
        "{} sockets, one account  healthz {health} | login {login} | failures {failures} | admitted {admitted}, refused (4008) {refused}, other {failed}",
        args.sockets
    );
    drop(held);
    Ok(())
}
