//! Tokens per second of the embedded model (the same code the server runs),
//! for a fixed prompt, as one JSON line per run.
use std::path::PathBuf;

use chattconnect::bot::local::{
    engine::{Engine, Sampler},
    Output,
};
use clap::Parser;
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// The GGUF model file.
    #[arg(long)]
    model: PathBuf,
    /// Tokens to generate per run (the model may stop earlier).
    #[arg(long, default_value_t = 128)]
    tokens: usize,
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Sentences of context before the question (a longer prompt to read).
    #[arg(long, default_value_t = 0)]
    context: usize,
    /// Greedy sampling (the structured answers' sampler) instead of the chat sampler.
    #[arg(long)]
    exact: bool,
}

/// Keeps the text; never stops the model.
struct Collect(String);

impl Output for Collect {
    fn cancelled(&self) -> bool {
        false
    }
    fn text(&mut self, piece: &str) -> bool {
        self.0.push_str(piece);
        true
    }
}

fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = std::time::Instant::now();
    let engine = Engine::load(&args.model)?;
    let load_ms = started.elapsed().as_millis();
    let messages = vec![
        json!({"role": "system", "content": "You are a friendly English teacher."}),
        json!({"role": "user", "content": format!(
            "{}Tell me a long story about a trip to the seaside, with many details.",
            "Yesterday we talked about travelling by train and the places we would like to visit. ".repeat(args.context)
        )}),
    ];
    let prompt = engine.prompt(&messages, "")?;
    let sampler = if args.exact { Sampler::EXACT } else { Sampler::CHAT };
    for run in 0..args.runs {
        let mut out = Collect(String::new());
        let stats = engine.generate(&prompt, args.tokens, &sampler, None, &mut out)?;
        println!(
            "{}",
            json!({
                "run": run,
                "load_ms": load_ms,
                "prompt_tokens": stats.prompt_tokens,
                "prefill_ms": stats.prefill.as_millis(),
                "tokens": stats.tokens,
                "tokens_per_second": (stats.tokens_per_second() * 10.0).round() / 10.0,
                "peak_rss_mib": rss_mib(),
            })
        );
    }
    Ok(())
}
