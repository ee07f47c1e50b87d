//! The tutor's check of one learner message, as its own step: the model returns
//! the corrected sentence (under a JSON schema where the server supports one),
//! and the corrections are worked out here from a diff, so they always quote the
//! learner. Small models get the corrected sentence right far more often than a
//! list of mistakes, so that is all this step relies on.
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    client::{json_object, BotClient, UpstreamError},
    diff::{self, Note},
};
use crate::api::types::Feedback;

/// The system prompt of every check (the fake LLM in the tests recognises
/// check requests by it).
pub const SYSTEM_PROMPT: &str = "You correct English. Rewrite the learner's message with grammar, spelling and \
word-choice mistakes fixed, changing as little as possible and keeping the learner's meaning. If it is already \
correct, copy it unchanged. Never answer or continue the message. For each fix add a note: the wrong words, the \
right words, and why. Reply with one JSON object: {\"corrected\": \"...\", \"notes\": [{\"wrong\": \"...\", \
\"right\": \"...\", \"why\": \"...\"}]}.";

/// Two worked examples: small models follow examples far better than rules.
fn examples() -> [Value; 4] {
    [
        json!({"role": "user", "content": "He go to school every days."}),
        json!({"role": "assistant", "content": json!({
            "corrected": "He goes to school every day.",
            "notes": [
                {"wrong": "go", "right": "goes", "why": "he/she/it takes -s in the present simple"},
                {"wrong": "days", "right": "day", "why": "'every' is followed by a singular noun"}
            ]
        }).to_string()}),
        json!({"role": "user", "content": "Where is the station?"}),
        json!({"role": "assistant", "content": json!({"corrected": "Where is the station?", "notes": []}).to_string()}),
    ]
}

/// The answer's shape. `maxLength` keeps a looping model from running on.
fn schema(text: &str) -> Value {
    let max = text.chars().count() * 2 + 20;
    json!({
        "type": "object",
        "properties": {
            "corrected": {"type": "string", "maxLength": max},
            "notes": {
                "type": "array",
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {
                        "wrong": {"type": "string", "maxLength": 80},
                        "right": {"type": "string", "maxLength": 80},
                        "why": {"type": "string", "maxLength": 160}
                    },
                    "required": ["wrong", "right", "why"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["corrected", "notes"],
        "additionalProperties": false
    })
}

/// Enough tokens for the corrected text (about 3 characters a token, plus the
/// JSON) and three short notes.
fn max_tokens(text: &str) -> u32 {
    (text.chars().count() as u32 / 2 + 200).min(2_000)
}

#[derive(Deserialize)]
struct Answer {
    corrected: String,
    #[serde(default)]
    notes: Vec<Note>,
}

/// Reads the model's answer: the JSON object (also inside a code fence or
/// after some chatter), or, from a server without JSON mode, a bare sentence.
fn read(answer: &str) -> Option<Answer> {
    let object = json_object::<Answer>(answer);
    if object.is_some() {
        return object;
    }
    let line = answer.trim().trim_matches('`').trim().trim_matches('"').trim();
    (!line.is_empty() && !line.contains('\n') && !line.contains('{')).then(|| Answer {
        corrected: line.to_owned(),
        notes: Vec::new(),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The model answered, but not with a correction of this text.
    #[error("the bot's answer was not a usable correction")]
    Unusable,
}

/// Checks `text`. Dropping the future cancels the request.
pub async fn check(bot: &BotClient, text: &str) -> Result<Feedback, CheckError> {
    let mut messages = vec![json!({"role": "system", "content": SYSTEM_PROMPT})];
    messages.extend(examples());
    messages.push(json!({"role": "user", "content": text}));
    let answer = tokio::time::timeout(
        bot.total_timeout,
        bot.complete_json(messages, schema(text), max_tokens(text)),
    )
    .await
    .map_err(|_| UpstreamError::Timeout)??;
    let Some(parsed) = read(&answer) else {
        tracing::info!(answer_chars = answer.len(), "the check's answer was not readable");
        return Err(CheckError::Unusable);
    };
    let corrected = parsed.corrected.trim().to_owned();
    match diff::corrections(text, &corrected, &parsed.notes) {
        Ok(corrections) => Ok(Feedback::checked(corrected, corrections)),
        Err(why) => {
            tracing::info!(?why, "the check's corrected text was not used");
            Err(CheckError::Unusable)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_from_json_fences_and_bare_sentences() {
        let a = read("```json\n{\"corrected\": \"I went home.\", \"notes\": []}\n```").unwrap();
        assert_eq!(a.corrected, "I went home.");
        let a = read("Sure! {\"corrected\": \"I went.\"}").unwrap();
        assert_eq!(a.corrected, "I went.");
        assert!(a.notes.is_empty());
        assert_eq!(read("\"I went home.\"").unwrap().corrected, "I went home.");
        assert!(read("{\"corrected\": ").is_none());
        assert!(read("Line one\nLine two").is_none());
        assert!(read("   ").is_none());
    }

    #[test]
    fn the_schema_bounds_the_corrected_text() {
        let s = schema("abc");
        assert_eq!(s["properties"]["corrected"]["maxLength"], 26);
        assert_eq!(s["required"], json!(["corrected", "notes"]));
        assert!(max_tokens(&"x".repeat(100_000)) <= 2_000);
    }
}
