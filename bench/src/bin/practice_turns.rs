//! What a learner waits for, through the API of a running server (built-in
//! model or a remote one): practice turns in one chat (first words of the
//! reply, and reply plus feedback done), then checks of 15-word sentences
//! (`POST /bot/check`, each sentence new). Prints one JSON line with every
//! timing and the medians.
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use clap::Parser;
use futures_util::StreamExt;
use serde_json::{json, Value};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:3993")]
    url: String,
    /// A new user is signed up with this name.
    #[arg(long)]
    user: String,
    #[arg(long, default_value_t = 6)]
    turns: usize,
    #[arg(long, default_value_t = 6)]
    checks: usize,
}

/// A learner in a restaurant, with the usual mistakes.
const TURNS: [&str; 8] = [
    "Hello, I would like a table for two person please.",
    "Yes, we are wanting to sit near the window if it is possible.",
    "What do you recommend? I don't eat meat since three years.",
    "Ok, I will take the pasta and my friend want the fish.",
    "Can we have some water? We are very thirsty after walk all day.",
    "The food was delicious, thank you. Can you bring me the bill?",
    "Do you accept card? I have not enough cash with me today.",
    "Thank you so much, we will come back here next week for sure.",
];

/// Fifteen-word sentences with a mistake or two.
const CHECKS: [&str; 8] = [
    "Yesterday I goed to the market with my sister and we buyed some fresh vegetables.",
    "My brother don't like to study on the evening because he is always very tired.",
    "I have visited my grandmother last summer and she cooked a delicious cake for us.",
    "If I will have enough money next year, I want to travel around the whole world.",
    "She is more taller than her mother and she play basketball every day after school.",
    "We discussed about the new project for two hours but nobody could explain me it.",
    "The childrens in my class are very friendly and they always help me with homework.",
    "I am agree with you that learning english is important for finding a good job.",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.get(v.len() / 2).copied().unwrap_or(0.0);
    (m * 1000.0).round() / 1000.0
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(600)).build()?;
    let base = args.url.trim_end_matches('/');
    let user = bench::signup(&client, base, &args.user).await?;
    let chat: Value = client
        .post(format!("{base}/api/v1/chats"))
        .bearer_auth(&user.token)
        .json(&json!({"kind": "bot", "scenario_id": "restaurant"}))
        .send()
        .await?
        .json()
        .await?;
    let chat = chat["id"].as_str().context("no chat id")?.to_owned();
    let (mut first_words, mut done) = (Vec::new(), Vec::new());
    for content in TURNS.iter().cycle().take(args.turns) {
        let started = Instant::now();
        let resp = client
            .post(format!("{base}/api/v1/chats/{chat}/messages/stream"))
            .bearer_auth(&user.token)
            .json(&json!({"content": content}))
            .send()
            .await?;
        ensure!(resp.status().is_success(), "stream answered {}", resp.status());
        let mut body = resp.bytes_stream();
        let mut seen = String::new();
        let mut first = None;
        while let Some(chunk) = body.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk?));
            if first.is_none() && seen.contains("event: delta") {
                first = Some(started.elapsed().as_secs_f64());
            }
            if seen.contains("event: done") || seen.contains("event: error") {
                break;
            }
        }
        ensure!(seen.contains("event: done"), "the turn failed: {seen}");
        first_words.push(first.context("no words came")?);
        done.push(started.elapsed().as_secs_f64());
    }
    let mut checks = Vec::new();
    // A new user each run, and a new sentence each time: nothing comes from
    // the tutor's cache.
    for text in CHECKS.iter().take(args.checks) {
        let started = Instant::now();
        let resp = client
            .post(format!("{base}/api/v1/bot/check"))
            .bearer_auth(&user.token)
            .json(&json!({"text": text}))
            .send()
            .await?;
        ensure!(resp.status().is_success(), "check answered {}", resp.status());
        let _: Value = resp.json().await?;
        checks.push(started.elapsed().as_secs_f64());
    }
    println!(
        "{}",
        json!({
            "first_words_median_s": median(first_words.clone()),
            "turn_done_median_s": median(done.clone()),
            "check_median_s": median(checks.clone()),
            "first_words_s": first_words,
            "turn_done_s": done,
            "check_s": checks,
        })
    );
    Ok(())
}
