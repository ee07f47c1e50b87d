//! HTTP load: `clients` concurrent users, each in a direct chat with a partner,
//! alternately posting a message and listing the latest page of the chat.
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Result;
use bench::{direct_chat, histogram, record, signup, summary};
use clap::Parser;
use serde_json::json;

#[derive(Parser)]
#[command(about = "HTTP load benchmark: post and list messages with N concurrent clients")]
struct Args {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Measured duration in seconds (after a 2 s warm-up).
    #[arg(long, default_value_t = 20)]
    seconds: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .build()?;
    let run = std::process::id();

    eprintln!("setting up {} clients...", args.clients);
    let mut chats = Vec::new();
    for i in 0..args.clients {
        let a = signup(&client, &args.url, &format!("b{run}_{i}a")).await?;
        let b_name = format!("b{run}_{i}b");
        let b = signup(&client, &args.url, &b_name).await?;
        let chat = direct_chat(&client, &args.url, &a, &b, &b_name).await?;
        chats.push((a.token, chat));
    }

    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (token, chat) in chats {
        let (client, url, measuring, stop) = (client.clone(), args.url.clone(), measuring.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let (mut post, mut list, mut errors) = (histogram(), histogram(), 0u64);
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let started = Instant::now();
                let ok = client
                    .post(format!("{url}/api/v1/chats/{chat}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"content": format!("benchmark message number {n}")}))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 201);
                let posted = started.elapsed();
                let started = Instant::now();
                let listed_ok = client
                    .get(format!("{url}/api/v1/chats/{chat}/messages?limit=50"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200);
                let listed = started.elapsed();
                if measuring.load(Ordering::Relaxed) {
                    record(&mut post, posted);
                    record(&mut list, listed);
                    errors += u64::from(!ok) + u64::from(!listed_ok);
                }
            }
            (post, list, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);

    let (mut post, mut list, mut errors) = (histogram(), histogram(), 0);
    for t in tasks {
        let (p, l, e) = t.await?;
        post.add(p)?;
        list.add(l)?;
        errors += e;
    }
    let total = post.len() + list.len();
    println!(
        "clients: {}  duration: {:.1} s  requests: {}  errors: {}",
        args.clients, elapsed, total, errors
    );
    println!("overall:              {:.0} req/s", total as f64 / elapsed);
    println!(
        "POST messages:        {:.0} req/s  {}",
        post.len() as f64 / elapsed,
        summary(&post)
    );
    println!(
        "GET messages (50):    {:.0} req/s  {}",
        list.len() as f64 / elapsed,
        summary(&list)
    );
    Ok(())
}
