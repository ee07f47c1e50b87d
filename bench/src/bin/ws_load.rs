//! WebSocket load: opens N sockets spread over many users, measures the server's
//! memory per socket, then posts messages and measures how long each takes to
//! reach every socket of the recipient (p50, p99).
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bench::{direct_chat, histogram, record, signup, summary};
use clap::Parser;
use futures_util::future::join_all;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::connect_async;

#[derive(Parser)]
#[command(about = "WebSocket load benchmark: N sockets, delivery latency and memory per socket")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// Sockets to open.
    #[arg(long, default_value_t = 1000)]
    sockets: usize,
    /// Users holding them (in pairs of friends); each has sockets/users tabs.
    #[arg(long, default_value_t = 200)]
    users: usize,
    /// Messages to post while all sockets are open.
    #[arg(long, default_value_t = 400)]
    messages: usize,
    /// PID of the server, to read its resident memory.
    #[arg(long)]
    server_pid: Option<u32>,
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.users >= 2 && args.users % 2 == 0, "--users must be even");
    let client = reqwest::Client::new();
    let run = std::process::id();
    let ws_base = args.url.replacen("http", "ws", 1);

    eprintln!("signing up {} users...", args.users);
    let mut users = Vec::new();
    for chunk in (0..args.users).collect::<Vec<_>>().chunks(16) {
        let made = join_all(chunk.iter().map(|i| {
            let name = format!("w{run}_{i}");
            let (client, url) = (client.clone(), args.url.clone());
            async move { signup(&client, &url, &name).await.map(|u| (name, u)) }
        }))
        .await;
        for m in made {
            users.push(m?);
        }
    }
    let mut pairs = Vec::new();
    for pair in users.chunks(2) {
        let ((_, a), (b_name, b)) = (&pair[0], &pair[1]);
        let chat = direct_chat(&client, &args.url, a, b, b_name).await?;
        pairs.push((a.token.clone(), chat, b.token.clone()));
    }

    let before = args.server_pid.and_then(rss_kib);
    eprintln!("opening {} sockets...", args.sockets);
    let (lat_tx, mut lat_rx) = mpsc::unbounded_channel::<Duration>();
    let epoch = Instant::now();
    let per_user = args.sockets.div_ceil(args.users);
    let mut opened = 0;
    let mut per_pair = vec![0usize; pairs.len()];
    let mut readers = Vec::new();
    'open: for (pair, (_, _, recipient_token)) in pairs.iter().enumerate() {
        // Every socket belongs to a recipient, so each message fans out to per_user*2 tabs at most.
        for _ in 0..per_user * 2 {
            if opened == args.sockets {
                break 'open;
            }
            let url = format!("{ws_base}/api/v1/ws?access_token={recipient_token}");
            let (stream, _) = connect_async(url).await.context("opening a socket")?;
            opened += 1;
            per_pair[pair] += 1;
            readers.push(bench::time_deliveries(stream, epoch, lat_tx.clone()));
        }
    }
    drop(lat_tx);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = args.server_pid.and_then(rss_kib);

    eprintln!("posting {} messages...", args.messages);
    let expected: usize = (0..args.messages).map(|i| per_pair[i % pairs.len()]).sum();
    let started = Instant::now();
    for i in 0..args.messages {
        let (token, chat, _) = &pairs[i % pairs.len()];
        let stamp = epoch.elapsed().as_micros();
        client
            .post(format!("{}/api/v1/chats/{chat}/messages", args.url))
            .bearer_auth(token)
            .json(&json!({"content": format!("at {stamp} us")}))
            .send()
            .await?
            .error_for_status()?;
        // About 50 messages a second: latency, not throughput, is measured here.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut latency = histogram();
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Ok(Some(d)) = tokio::time::timeout_at(deadline.into(), lat_rx.recv()).await {
        record(&mut latency, d);
        if latency.len() as usize >= expected {
            break;
        }
    }
    println!(
        "sockets: {opened}  users: {}  messages: {}  deliveries: {} of {expected}  ({:.1} s)",
        args.users,
        args.messages,
        latency.len(),
        started.elapsed().as_secs_f64()
    );
    println!("delivery latency (POST to socket): {}", summary(&latency));
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "server RSS: {:.1} MiB before, {:.1} MiB with sockets open: {:.1} KiB per socket",
            b as f64 / 1024.0,
            a as f64 / 1024.0,
            (a.saturating_sub(b)) as f64 / opened as f64
        );
    }
    for r in readers {
        r.abort();
    }
    Ok(())
}
