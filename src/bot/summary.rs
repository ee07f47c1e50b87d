//! The end-of-practice summary. What can be counted is counted here (messages,
//! words, recurring mistakes from the notebook, which goals the learner's own
//! words reached); the model writes only the praise and the phrases to
//! remember, under a JSON schema, and those have fallbacks when its answer is
//! not usable.
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    client::{json_object, BotClient},
    provider::UpstreamError,
    scenarios::Scenario,
};
use crate::{domain::kinds::MessageRole, entity::message};

/// How much of the conversation the model reads, newest turns first.
const TRANSCRIPT_CHARS: usize = 3_000;
const PHRASES: usize = 3;

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "went_well": {"type": "string", "maxLength": 300},
            "phrases": {
                "type": "array",
                "maxItems": PHRASES,
                "items": {"type": "string", "maxLength": 80}
            }
        },
        "required": ["went_well", "phrases"],
        "additionalProperties": false
    })
}

/// The newest turns that fit the budget, oldest first, as "Learner:" / "Partner:" lines.
fn transcript(newest_first: &[message::Model]) -> String {
    let mut lines = Vec::new();
    let mut used = 0;
    for m in newest_first {
        let who = if m.role == MessageRole::Assistant {
            "Partner"
        } else {
            "Learner"
        };
        let line = format!("{who}: {}", m.content);
        used += line.len();
        if used > TRANSCRIPT_CHARS && !lines.is_empty() {
            break;
        }
        lines.push(line);
    }
    lines.reverse();
    lines.join("\n")
}

fn messages(scenario: &Scenario, newest_first: &[message::Model]) -> Vec<Value> {
    let system = format!(
        "You are an English tutor reviewing a learner's practice conversation (\"{}\"). Reply with one JSON \
         object: {{\"went_well\": \"...\", \"phrases\": [\"...\", \"...\", \"...\"]}}. In went_well, write one or \
         two encouraging sentences to the learner about what they did well. In phrases, give three short, natural \
         English phrases that are useful in this situation for the learner to remember.",
        scenario.title
    );
    vec![
        json!({"role": "system", "content": system}),
        json!({"role": "user", "content": transcript(newest_first)}),
    ]
}

#[derive(Deserialize, Default)]
struct Answer {
    #[serde(default)]
    went_well: String,
    #[serde(default)]
    phrases: Vec<String>,
}

/// What the model wrote, cleaned; empty parts when its answer was not usable.
#[derive(Debug, Default, PartialEq)]
pub struct Written {
    pub went_well: Option<String>,
    pub phrases: Vec<String>,
}

/// Lower-case words of `text`.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether `text` mostly repeats one of the learner's messages: small models
/// often echo the conversation instead of commenting on it.
fn echoes(text: &str, learner: &[&str]) -> bool {
    let mine = words(text);
    !mine.is_empty()
        && learner.iter().any(|m| {
            let theirs = words(m);
            mine.iter().filter(|w| theirs.contains(w)).count() * 10 >= mine.len() * 6
        })
}

fn clean(answer: &str, learner: &[&str]) -> Written {
    let parsed: Answer = json_object(answer).unwrap_or_default();
    let went_well =
        Some(parsed.went_well.trim().to_owned()).filter(|w| (10..=400).contains(&w.len()) && !echoes(w, learner));
    let mut phrases: Vec<String> = Vec::new();
    for p in parsed.phrases {
        let p = p.trim().trim_matches(|c| c == '"' || c == '\'').trim().to_owned();
        let words = p.split_whitespace().count();
        let seen = phrases.iter().any(|q| q.eq_ignore_ascii_case(&p));
        if (2..=15).contains(&words) && p.len() <= 100 && !seen {
            phrases.push(p);
        }
    }
    phrases.truncate(PHRASES);
    Written { went_well, phrases }
}

/// Asks the model for the written parts. Dropping the future cancels the request.
pub async fn write(
    bot: &BotClient,
    scenario: &Scenario,
    newest_first: &[message::Model],
) -> Result<Written, UpstreamError> {
    let answer = tokio::time::timeout(
        bot.total_timeout,
        bot.complete_json(messages(scenario, newest_first), schema(), 300),
    )
    .await
    .map_err(|_| UpstreamError::Timeout)??;
    let learner: Vec<&str> = newest_first
        .iter()
        .filter(|m| m.role != MessageRole::Assistant)
        .map(|m| m.content.as_str())
        .collect();
    Ok(clean(&answer, &learner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_parts_are_cleaned_and_bounded() {
        let w = clean(
            r#"{"went_well": "You ordered clearly and politely.", "phrases": ["Could I have the bill, please?", "could I have the bill, please?", "x", "\"I'd like the soup.\"", "Is service included?", "A fourth one here"]}"#,
            &["I'd like the soup"],
        );
        assert_eq!(w.went_well.as_deref(), Some("You ordered clearly and politely."));
        assert_eq!(
            w.phrases,
            [
                "Could I have the bill, please?",
                "I'd like the soup.",
                "Is service included?"
            ]
        );
        assert_eq!(clean("not json", &[]), Written::default());
        assert_eq!(clean(r#"{"went_well": "ok", "phrases": []}"#, &[]).went_well, None);
        let echo = r#"{"went_well": "Yesterday I went to the cinema with my friend, and I loved it!", "phrases": []}"#;
        assert_eq!(
            clean(echo, &["Yesterday I goed to the cinema with my freind."]).went_well,
            None
        );
    }

    #[test]
    fn the_transcript_keeps_the_newest_turns_within_budget() {
        let m = |role: MessageRole, content: String| message::Model {
            reply_to_id: None,
            id: uuid::Uuid::now_v7(),
            chat_id: uuid::Uuid::nil(),
            sender_id: None,
            role,
            content,
            feedback: None,
            created_at: chrono::Utc::now(),
            edited_at: None,
            seq: 0,
        };
        let newest_first = [
            m(MessageRole::Assistant, "Anything else?".into()),
            m(MessageRole::User, "The soup, please.".into()),
            m(MessageRole::User, "x".repeat(5_000)),
        ];
        assert_eq!(
            transcript(&newest_first),
            "Learner: The soup, please.\nPartner: Anything else?"
        );
    }
}
