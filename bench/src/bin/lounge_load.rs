//! A lounge under load: N members with sockets open, one member posting; how
//! long each post takes to answer, and to reach every connected member
//! (fan-out latency, p50/p99).
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bench::{histogram, record, summary};
use clap::Parser;
use futures_util::future::join_all;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::connect_async;

#[derive(Parser)]
#[command(about = "Lounge fan-out benchmark: connected members, posting latency and delivery latency")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// The lounge's id.
    #[arg(long)]
    lounge: String,
    /// The posting member's access token.
    #[arg(long)]
    token: String,
    /// Members to connect: user_000000, user_000001, ... (seeded, password `bench-password`).
    #[arg(long, default_value_t = 200)]
    connected: usize,
    /// Messages to post.
    #[arg(long, default_value_t = 200)]
    messages: usize,
    /// Pause between posts, in milliseconds.
    #[arg(long, default_value_t = 50)]
    every_ms: u64,
}

async fn login(client: &reqwest::Client, base: &str, username: &str) -> Result<String> {
    let body: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": "bench-password"}))
        .send()
        .await?
        .error_for_status()
        .context("login")?
        .json()
        .await?;
    Ok(body["access_token"].as_str().context("token")?.to_owned())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::new();
    let ws_base = args.url.replacen("http", "ws", 1);
    client
        .post(format!("{}/api/v1/lounges/{}/join", args.url, args.lounge))
        .bearer_auth(&args.token)
        .json(&json!({}))
        .send()
        .await?
        .error_for_status()
        .context("joining the lounge")?;

    eprintln!("signing in {} members...", args.connected);
    let mut tokens = Vec::new();
    for chunk in (0..args.connected).collect::<Vec<_>>().chunks(8) {
        let got = join_all(chunk.iter().map(|i| {
            let (client, url) = (client.clone(), args.url.clone());
            async move { login(&client, &url, &format!("user_{i:06}")).await }
        }))
        .await;
        for token in got {
            tokens.push(token?);
        }
    }

    eprintln!("opening {} sockets...", tokens.len());
    let (lat_tx, mut lat_rx) = mpsc::unbounded_channel::<Duration>();
    let epoch = Instant::now();
    let mut readers = Vec::new();
    for token in &tokens {
        let (stream, _) = connect_async(format!("{ws_base}/api/v1/ws?access_token={token}"))
            .await
            .context("opening a socket")?;
        readers.push(bench::time_deliveries(stream, epoch, lat_tx.clone()));
    }
    drop(lat_tx);
    tokio::time::sleep(Duration::from_secs(2)).await;

    eprintln!("posting {} messages...", args.messages);
    let mut posting = histogram();
    let started = Instant::now();
    for _ in 0..args.messages {
        let stamp = epoch.elapsed().as_micros();
        let sent = Instant::now();
        client
            .post(format!("{}/api/v1/chats/{}/messages", args.url, args.lounge))
            .bearer_auth(&args.token)
            .json(&json!({"content": format!("at {stamp} us")}))
            .send()
            .await?
            .error_for_status()?;
        record(&mut posting, sent.elapsed());
        tokio::time::sleep(Duration::from_millis(args.every_ms)).await;
    }
    let expected = args.messages * tokens.len();
    let mut delivery = histogram();
    let deadline = Instant::now() + Duration::from_secs(15);
    while let Ok(Some(d)) = tokio::time::timeout_at(deadline.into(), lat_rx.recv()).await {
        record(&mut delivery, d);
        if delivery.len() as usize >= expected {
            break;
        }
    }
    println!(
        "connected: {}  messages: {}  deliveries: {} of {expected}  ({:.1} s)",
        tokens.len(),
        args.messages,
        delivery.len(),
        started.elapsed().as_secs_f64()
    );
    println!("POST to the lounge (answered): {}", summary(&posting));
    println!("fan-out (POST sent to each member's socket): {}", summary(&delivery));
    for r in readers {
        r.abort();
    }
    Ok(())
}
