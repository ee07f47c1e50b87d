//! Bot turns one instance carries with a remote model: an OpenAI-compatible
//! stand-in (in this process) streams every reply at a set pace, `--learners`
//! learners take turns back to back for `--secs`, and the tool reports turns
//! per minute, each turn's latency, and the server's CPU time per turn (from
//! /proc, so the model's own time is not in it). The stand-in is not the
//! product: it is what a hosted model looks like from the server's side.
//!
//! Start the server with `BOT_BASE_URL=http://127.0.0.1:<--model-port>/v1`
//! (bench/capacity.sh does).
use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{ensure, Context, Result};
use bench::{histogram, record, signup, summary};
use clap::Parser;
use futures_util::StreamExt;
use poem::{
    handler,
    listener::TcpListener,
    post,
    web::{sse::Event, sse::SSE, Json},
    IntoResponse, Response, Route, Server,
};
use serde_json::{json, Value};

#[derive(Parser)]
struct Args {
    /// The server.
    #[arg(long, default_value = "http://127.0.0.1:3996")]
    url: String,
    /// Where the stand-in model listens.
    #[arg(long, default_value_t = 3990)]
    model_port: u16,
    /// Learners taking turns at once.
    #[arg(long, default_value_t = 32)]
    learners: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 20)]
    secs: u64,
    /// Milliseconds between the reply's chunks (40 chunks a reply).
    #[arg(long, default_value_t = 25)]
    chunk_ms: u64,
    /// Prefix of the learners' usernames (several runs on one database).
    #[arg(long, default_value = "learner")]
    prefix: String,
    /// The server's pid, for its CPU time.
    #[arg(long)]
    server_pid: u32,
}

/// Forty chunks of a reply, at `chunk_ms` each.
static CHUNK_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(25);

#[handler]
async fn completions(Json(body): Json<Value>) -> Response {
    if body["messages"][0]["content"] == chattconnect::bot::check::SYSTEM_PROMPT {
        // The tutor's check: the learner's text is already right.
        let learner = body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default();
        let content = json!({"corrected": learner}).to_string();
        return Json(
            json!({"id": "x", "object": "chat.completion", "created": 0, "model": "remote",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}),
        )
        .into_response();
    }
    let pace = Duration::from_millis(CHUNK_MS.load(Ordering::Relaxed));
    let chunks = futures_util::stream::iter(0..41).then(move |i| async move {
        tokio::time::sleep(pace).await;
        if i == 40 {
            return Event::message("[DONE]");
        }
        Event::message(
            json!({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "remote",
                "choices": [{"index": 0, "delta": {"content": "word "}, "finish_reason": null}]})
            .to_string(),
        )
    });
    SSE::new(chunks).into_response()
}

/// The process's user + system CPU time.
fn cpu(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).context("reading the server's /proc stat")?;
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok(Duration::from_millis(ticks * 10))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    CHUNK_MS.store(args.chunk_ms, Ordering::Relaxed);
    let app = Route::new().at("/v1/chat/completions", post(completions));
    let model = Server::new(TcpListener::bind(format!("127.0.0.1:{}", args.model_port)));
    tokio::spawn(model.run(app));

    let client = reqwest::Client::new();
    let mut learners = Vec::new();
    for i in 0..args.learners {
        let user = signup(&client, &args.url, &format!("{}{i}", args.prefix)).await?;
        let chat: Value = client
            .post(format!("{}/api/v1/chats", args.url))
            .bearer_auth(&user.token)
            .json(&json!({"kind": "bot"}))
            .send()
            .await?
            .json()
            .await?;
        learners.push((user, chat["id"].as_str().context("a bot chat")?.to_owned()));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu(args.server_pid)?;
    let started = Instant::now();
    let tasks: Vec<_> = learners
        .into_iter()
        .map(|(user, chat)| {
            let (client, url, stop, failed) = (client.clone(), args.url.clone(), stop.clone(), failed.clone());
            tokio::spawn(async move {
                let mut h = histogram();
                let mut turn = 0;
                while !stop.load(Ordering::Relaxed) {
                    turn += 1;
                    let t = Instant::now();
                    let resp = client
                        .post(format!("{url}/api/v1/chats/{chat}/messages/stream"))
                        .bearer_auth(&user.token)
                        .json(&json!({"content": format!("I worked as a nurse for {turn} years.")}))
                        .send()
                        .await;
                    let ok = match resp {
                        Ok(r) if r.status() == 200 => r.text().await.is_ok_and(|body| body.contains("event: done")),
                        _ => false,
                    };
                    if ok {
                        record(&mut h, t.elapsed());
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                h
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(args.secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = histogram();
    for task in tasks {
        all.add(task.await?)?;
    }
    let elapsed = started.elapsed();
    let cpu_used = cpu(args.server_pid)? - cpu_before;
    let turns = all.len();
    ensure!(turns > 0, "no turn completed");
    println!(
        "{} learners, reply of 40 chunks at {} ms: {turns} turns in {:.1} s = {:.0} turns/min, {} failed; turn {}; server CPU {:.2} ms per turn ({:.0} % of one core)",
        args.learners,
        args.chunk_ms,
        elapsed.as_secs_f64(),
        turns as f64 * 60.0 / elapsed.as_secs_f64(),
        failed.load(Ordering::Relaxed),
        summary(&all),
        cpu_used.as_secs_f64() * 1000.0 / turns as f64,
        cpu_used.as_secs_f64() * 100.0 / elapsed.as_secs_f64(),
    );
    Ok(())
}
