//! Latency of `POST /lint` on texts of a given length, one request at a time:
//! what a learner typing waits for the underlines. Every text is new (each
//! sentence carries the request's number), so no cache answers for the rules;
//! or, with `--typing`, only the last sentence changes, as when typing.
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use bench::{histogram, record};
use clap::Parser;
use serde_json::json;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:3997")]
    url: String,
    /// Bearer token.
    #[arg(long)]
    token: String,
    /// Characters per text.
    #[arg(long, default_value_t = 2000)]
    chars: usize,
    #[arg(long, default_value_t = 300)]
    requests: usize,
    /// As a learner types: the text is the same but for its last sentence,
    /// which changes every request (else every sentence is new).
    #[arg(long)]
    typing: bool,
}

/// Sentences as learners write them, mistakes included.
const SENTENCES: [&str; 16] = [
    "Yesterday I goed to the cinema with my freind.",
    "She don't like apples but she eat many oranges.",
    "I have went to Paris two years ago.",
    "Can you explain me why the informations are wrong?",
    "If I will have time, I will make my homework.",
    "We discussed about the problem in monday.",
    "My brother is more taller then me.",
    "I enjoy to swim and I want go to the beach.",
    "Where you are going after the class?",
    "He said me that there are several reason.",
    "I am agree with you, it is a very usefull idea.",
    "The childs are playing in the garden every days.",
    "I look forward to meet you next week.",
    "People should to travel more for learn other cultures.",
    "I was born on 1999 in a small town near the sea.",
    "It depends of the weather and of my mood.",
];

fn text(n: usize, chars: usize) -> String {
    let mut out = String::new();
    let mut i = n;
    while out.chars().count() < chars {
        let sentence = SENTENCES[i % SENTENCES.len()];
        out.push_str(&format!("On day {}, {} ", n * 100 + i, sentence));
        i += 7;
    }
    out.chars().take(chars).collect()
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let url = format!("{}/api/v1/lint", args.url.trim_end_matches('/'));
    let mut h = histogram();
    let mut suggestions = 0;
    for i in 0..args.requests + 10 {
        let text = if args.typing {
            let tail = format!(" Then on day {i} I goed home.");
            let head: String = text(0, args.chars.saturating_sub(tail.chars().count()));
            head + &tail
        } else {
            text(i, args.chars)
        };
        let body = json!({"text": text});
        let started = Instant::now();
        let resp = client.post(&url).bearer_auth(&args.token).json(&body).send().await?;
        let status = resp.status();
        let answer: serde_json::Value = resp.json().await?;
        let took = started.elapsed();
        ensure!(status.is_success(), "/lint answered {status}: {answer}");
        // The first requests build the rules' checkers and warm connections.
        if i >= 10 {
            record(&mut h, took);
            suggestions += answer["suggestions"].as_array().map_or(0, Vec::len);
        }
    }
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "{} characters{}: p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({:.1} suggestions a text)",
        args.chars,
        if args.typing {
            ", one sentence changed each time"
        } else {
            ", every sentence new"
        },
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max()),
        suggestions as f64 / args.requests as f64
    );
    Ok(())
}
