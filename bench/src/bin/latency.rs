//! Latency of one GET, one request at a time: what a single user waits.
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use bench::{histogram, record};
use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:3997")]
    url: String,
    /// Bearer token.
    #[arg(long)]
    token: String,
    /// Path and query, e.g. `/api/v1/chats?limit=50`.
    #[arg(long)]
    path: String,
    #[arg(long, default_value_t = 200)]
    requests: usize,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let url = format!("{}{}", args.url.trim_end_matches('/'), args.path);
    let mut h = histogram();
    for i in 0..args.requests + 10 {
        let started = Instant::now();
        let resp = client.get(&url).bearer_auth(&args.token).send().await?;
        let status = resp.status();
        let _ = resp.bytes().await?;
        ensure!(status.is_success(), "{} answered {status}", args.path);
        // The first requests warm caches and connections.
        if i >= 10 {
            record(&mut h, started.elapsed());
        }
    }
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "p50 {:.2} ms  p99 {:.2} ms",
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.99))
    );
    Ok(())
}
