//! The tutor on a public benchmark: corrects every sentence of a JFLEG split
//! (tokenized as JFLEG ships it) with the rules only, the model only, or both
//! (what `POST /bot/check` does), and writes the corrections tokenized the same
//! way, for JFLEG's own `gleu.py`. Prints seconds per check and how often it
//! said "no mistakes" of a sentence every reference corrects.
use std::{path::PathBuf, time::Instant};

use anyhow::Context;
use chattconnect::{
    bot::{check, client::BotClient},
    config::Settings,
    domain::feedback::FeedbackStatus,
    metrics::Metrics,
    tutor::{diff, sentences, Tutor},
};
use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
enum Mode {
    Rules,
    Model,
    Both,
}

#[derive(Parser)]
struct Args {
    /// JFLEG's source sentences (e.g. dev/dev.src).
    #[arg(long)]
    src: PathBuf,
    /// Its references (dev.ref0 ...), to count missed mistakes.
    #[arg(long, num_args = 1..)]
    refs: Vec<PathBuf>,
    #[arg(long, value_enum)]
    mode: Mode,
    /// Where to write the corrected sentences, tokenized like the source.
    #[arg(long)]
    out: PathBuf,
    /// With `--mode both`: also write the model's own corrections here (the
    /// same model calls, before the rules), so one run measures both.
    #[arg(long)]
    out_model: Option<PathBuf>,
    /// A GGUF file for the built-in engine.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Or an OpenAI-compatible server.
    #[arg(long)]
    base_url: Option<String>,
    /// Only the first N sentences (after --skip).
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long, default_value_t = 0)]
    skip: usize,
    /// Print each sentence and its correction.
    #[arg(long)]
    verbose: bool,
}

/// JFLEG's tokens as a learner would type them: "do n't ." → "don't.".
fn detokenize(line: &str) -> String {
    let mut out = String::new();
    for token in line.split_whitespace() {
        let glue = matches!(token, "." | "," | "!" | "?" | ";" | ":" | "%" | ")" | "...")
            || token == "n't"
            || (token.starts_with('\'') && token.len() <= 3 && token[1..].chars().all(|c| c.is_ascii_lowercase()));
        if !out.is_empty() && !glue && !out.ends_with('(') {
            out.push(' ');
        }
        out.push_str(token);
    }
    out
}

/// Back to JFLEG's tokens: punctuation split off, "don't" → "do n't".
fn tokenize(text: &str) -> String {
    let mut out = Vec::new();
    for word in text.split_whitespace() {
        let mut word = word.to_owned();
        let mut tail = Vec::new();
        while let Some(c) = word.chars().last().filter(|c| ".,!?;:%)\"".contains(*c)) {
            word.pop();
            tail.push(c.to_string());
        }
        let mut head = Vec::new();
        while let Some(c) = word.chars().next().filter(|c| "(\"".contains(*c)) {
            word.remove(0);
            head.push(c.to_string());
        }
        out.extend(head);
        let lower = word.to_lowercase();
        if lower.ends_with("n't") && word.len() > 3 {
            out.push(word[..word.len() - 3].to_owned());
            out.push(word[word.len() - 3..].to_owned());
        } else if let Some(at) = ["'s", "'re", "'ve", "'ll", "'d", "'m"]
            .iter()
            .find(|s| lower.ends_with(*s) && word.len() > s.len())
            .map(|s| word.len() - s.len())
        {
            out.push(word[..at].to_owned());
            out.push(word[at..].to_owned());
        } else if !word.is_empty() {
            out.push(word);
        }
        out.extend(tail.into_iter().rev());
    }
    out.join(" ")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let lines: Vec<String> = std::fs::read_to_string(&args.src)
        .with_context(|| format!("reading {}", args.src.display()))?
        .lines()
        .map(str::to_owned)
        .collect();
    let refs: Vec<Vec<String>> = args
        .refs
        .iter()
        .map(|p| Ok(std::fs::read_to_string(p)?.lines().map(str::to_owned).collect()))
        .collect::<anyhow::Result<_>>()?;
    let end = args.limit.map_or(lines.len(), |n| (args.skip + n).min(lines.len()));
    let bot = if args.mode == Mode::Rules {
        None
    } else {
        let settings = Settings {
            bot_base_url: args.base_url.clone(),
            bot_local_model: args.model.clone(),
            bot_model: "bench".into(),
            bot_total_timeout_secs: 600,
            ..Settings::default()
        };
        Some(
            BotClient::from_settings(&settings, &Metrics::new())
                .await?
                .map_err(|why| anyhow::anyhow!("no model ({why}): give --model or --base-url"))?,
        )
    };
    let tutor = Tutor::new();
    let mut out = Vec::new();
    let mut model_out: Vec<String> = Vec::new();
    let mut seconds = Vec::new();
    let (mut with_mistakes, mut missed, mut failed) = (0, 0, 0);
    let user = uuid::Uuid::nil();
    for (i, line) in lines.iter().enumerate().take(end).skip(args.skip) {
        let text = detokenize(line);
        let started = Instant::now();
        let (corrected, no_mistakes) = match (args.mode, &bot) {
            (Mode::Rules, _) => {
                let lint = tutor.lint(&text).await;
                (lint.corrected_text, lint.suggestions.is_empty())
            }
            (Mode::Model, Some(bot)) => {
                let mut corrected = text.clone();
                for range in sentences::split(&text).into_iter().rev() {
                    let sentence = &text[range.clone()];
                    match check::correct(bot, sentence).await {
                        Ok(c) if diff::corrections(sentence, &c).is_ok() => corrected.replace_range(range, &c),
                        _ => failed += 1,
                    }
                }
                let none = diff::corrections(&text, &corrected)
                    .map(|c| c.is_empty())
                    .unwrap_or(true);
                (corrected, none)
            }
            (_, Some(bot)) => {
                let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(600);
                match tutor.model_answers(bot, user, &text, deadline).await {
                    Ok(answers) => {
                        model_out.push(tokenize(&answers.apply(&text)));
                        let f = tutor.merge(&text, answers).await;
                        failed += f.unchecked_sentences.len();
                        let none = f.status == FeedbackStatus::NoMistakes;
                        (f.corrected_text.unwrap_or(text.clone()), none)
                    }
                    Err(_) => {
                        failed += 1;
                        model_out.push(line.clone());
                        (text.clone(), true)
                    }
                }
            }
            _ => unreachable!(),
        };
        seconds.push(started.elapsed().as_secs_f64());
        let every_ref_corrects =
            !refs.is_empty() && refs.iter().all(|r| r.get(i).is_some_and(|r| r.trim() != line.trim()));
        if every_ref_corrects {
            with_mistakes += 1;
            if no_mistakes {
                missed += 1;
            }
        }
        if args.verbose {
            println!("{i}: {text}\n  -> {corrected}");
        }
        out.push(tokenize(&corrected));
    }
    std::fs::write(&args.out, out.join("\n") + "\n")?;
    if let Some(path) = &args.out_model {
        std::fs::write(path, model_out.join("\n") + "\n")?;
    }
    let n = seconds.len().max(1) as f64;
    seconds.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "mode": format!("{:?}", args.mode).to_lowercase(),
            "sentences": seconds.len(),
            "seconds_per_check_mean": (seconds.iter().sum::<f64>() / n * 1000.0).round() / 1000.0,
            "seconds_per_check_median": (seconds.get(seconds.len() / 2).copied().unwrap_or(0.0) * 1000.0).round() / 1000.0,
            "with_mistakes": with_mistakes,
            "said_no_mistakes_of_those": missed,
            "missed_share": if with_mistakes > 0 { (missed as f64 * 1000.0 / with_mistakes as f64).round() / 10.0 } else { 0.0 },
            "sentences_the_model_failed": failed,
        })
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jfleg_tokens_round_trip() {
        let line = "I do n't know , he 's ( maybe ) right .";
        let text = detokenize(line);
        assert_eq!(text, "I don't know, he's (maybe) right.");
        assert_eq!(tokenize(&text), line);
    }
}
