//! The model's half of the tutor's check: one sentence in, the corrected
//! sentence out, under a JSON schema where the server supports one. What the
//! corrections are, and why, is worked out from a diff and the rules
//! (`crate::tutor`), so they always quote the learner and never depend on
//! explanations a small model gets wrong.
use serde_json::{json, Value};

use super::{client::BotClient, provider::UpstreamError};

/// The system prompt of every check (the fake LLM in the tests recognises
/// check requests by it).
pub const SYSTEM_PROMPT: &str = "You are an English teacher. Correct the learner's sentence: fix every grammar, \
spelling, word-choice and punctuation mistake. Make the smallest changes that make it correct and natural; keep the \
learner's words and meaning wherever they are right. If it is already correct, copy it unchanged. Never answer, \
explain or continue it. Reply with one JSON object: {\"corrected\": \"...\"}.";

/// Worked examples, one or more for each common kind of learner mistake:
/// small models follow examples far better than rules. Each makes minimal edits;
/// the last three are written like an essay, as learners write for exams.
const EXAMPLES: [(&str, &str); 14] = [
    (
        "Yesterday I goed to the park and buyed a ice cream.",
        "Yesterday I went to the park and bought an ice cream.",
    ),
    (
        "She don't like when people discuss about politics.",
        "She doesn't like it when people discuss politics.",
    ),
    (
        "I have seen him two days ago in monday.",
        "I saw him two days ago, on Monday.",
    ),
    (
        "If I will have time, I make my homework after dinner.",
        "If I have time, I will do my homework after dinner.",
    ),
    (
        "Can you explain me why you enjoy to swim?",
        "Can you explain to me why you enjoy swimming?",
    ),
    (
        "He said me that the informations were wrong.",
        "He told me that the information was wrong.",
    ),
    (
        "My sister is more taller then me and very good in math.",
        "My sister is taller than me and very good at math.",
    ),
    (
        "I am agree with you becouse this idea is very usefull.",
        "I agree with you because this idea is very useful.",
    ),
    (
        "Where you are going with this childs?",
        "Where are you going with these children?",
    ),
    (
        "In my opinion people should to travel more for learn other cultures.",
        "In my opinion, people should travel more to learn about other cultures.",
    ),
    (
        "In my country the goverment dont care about the people who lives in the villages and this is a big problem \
for everyone.",
        "In my country, the government doesn't care about the people who live in the villages, and this is a big \
problem for everyone.",
    ),
    (
        "Nowadays many young people prefers to spend there free time with watching TV instead to do sports.",
        "Nowadays, many young people prefer to spend their free time watching TV instead of doing sports.",
    ),
    (
        "Although it have many advantage, but I think that the disadvantages are more important.",
        "Although it has many advantages, I think that the disadvantages are more important.",
    ),
    ("Where is the nearest station?", "Where is the nearest station?"),
];

/// Has the model read the instructions and examples every check starts with
/// (in the background, at start), so the first learner's check reads only
/// their sentence.
pub fn prepare(bot: &BotClient) {
    bot.prepare(messages("Hello."), messages("Thank you."));
}

fn messages(sentence: &str) -> Vec<Value> {
    let mut messages = vec![json!({"role": "system", "content": SYSTEM_PROMPT})];
    for (learner, corrected) in EXAMPLES {
        messages.push(json!({"role": "user", "content": learner}));
        messages.push(json!({"role": "assistant", "content": json!({"corrected": corrected}).to_string()}));
    }
    messages.push(json!({"role": "user", "content": sentence}));
    messages
}

/// The answer's shape: one string. `maxLength` keeps a looping model from
/// running on.
fn schema(text: &str) -> Value {
    json!({
        "type": "object",
        "properties": {
            "corrected": {"type": "string", "maxLength": text.chars().count() * 2 + 20}
        },
        "required": ["corrected"],
        "additionalProperties": false
    })
}

/// Enough tokens for the corrected sentence (about 3 characters a token) and
/// the JSON around it.
fn max_tokens(text: &str) -> u32 {
    (text.chars().count() as u32 / 2 + 40).min(2_000)
}

/// The corrected sentence in a model's answer: the string value of the first
/// `"corrected"` key (or another key starting with `correct`), taken as soon as
/// its closing quote is there, whatever follows it (repeated keys, notes cut
/// off, wrong types). From a server without JSON mode: a bare one-line
/// sentence, also inside quotes or a code fence.
pub fn read(answer: &str) -> Option<String> {
    let mut rest = answer;
    while let Some(at) = rest.find("\"correct") {
        let after_key = &rest[at + 1..];
        let Some(key_end) = after_key.find('"') else { break };
        let value = after_key[key_end + 1..].trim_start();
        if let Some(value) = value.strip_prefix(':').map(str::trim_start) {
            if value.starts_with('"') {
                if let Some(text) = json_string(value) {
                    return Some(text);
                }
            }
        }
        rest = &after_key[key_end + 1..];
    }
    if answer.contains('{') {
        return None;
    }
    let line = answer.trim().trim_matches('`').trim().trim_matches('"').trim();
    (!line.is_empty() && !line.contains('\n')).then(|| line.to_owned())
}

/// The JSON string literal at the start of `s` (which starts with its opening
/// quote), decoded; `None` until its closing quote.
fn json_string(s: &str) -> Option<String> {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => return serde_json::from_str(&s[..=i]).ok(),
            _ => {}
        }
    }
    None
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The model answered, but not with a correction of this text.
    #[error("the bot's answer was not a usable correction")]
    Unusable,
}

/// The model's correction of one sentence. Dropping the future cancels the
/// request.
pub async fn correct(bot: &BotClient, sentence: &str) -> Result<String, CheckError> {
    let answer = bot
        .correct(messages(sentence), schema(sentence), max_tokens(sentence), sentence)
        .await?;
    match read(&answer) {
        Some(corrected) => Ok(corrected.trim().to_owned()),
        None => {
            tracing::info!(answer_chars = answer.len(), "the check's answer was not readable");
            Err(CheckError::Unusable)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_from_json_fences_and_bare_sentences() {
        let read = |s| read(s).unwrap();
        assert_eq!(read("```json\n{\"corrected\": \"I went home.\"}\n```"), "I went home.");
        assert_eq!(read("Sure! {\"corrected\": \"I went.\"}"), "I went.");
        assert_eq!(read("\"I went home.\""), "I went home.");
        assert_eq!(
            read(r#"{"corrected": "He said \"hi\" \u00e9"}"#),
            "He said \"hi\" \u{e9}"
        );
        assert_eq!(read(r#"{"correction": "I went."}"#), "I went.");
    }

    #[test]
    fn the_corrected_sentence_survives_whatever_follows_it() {
        // Keys repeated inside a note (seen from Qwen2.5-1.5B), a note cut off,
        // notes of the wrong type, a second object.
        let answers = [
            r#"{"corrected": "I went home.", "notes": [{"wrong": "goed", "right": "went", "why": "x", "wrong": "y"}]}"#,
            r#"{"corrected": "I went home.", "notes": [{"wrong": "goed", "why": "'go' is irr"#,
            r#"{"corrected": "I went home.", "notes": "none"}"#,
            r#"{"corrected": "I went home."} {"corrected": "other"}"#,
            r#"{"notes": [], "corrected": "I went home.", "corrected": "again"}"#,
        ];
        for answer in answers {
            assert_eq!(read(answer).as_deref(), Some("I went home."), "{answer}");
        }
    }

    #[test]
    fn unfinished_or_missing_sentences_are_not_read() {
        assert_eq!(read("{\"corrected\": \"I went ho"), None);
        assert_eq!(read("{\"corrected\": "), None);
        assert_eq!(read("{\"corrected\": 42}"), None);
        assert_eq!(read("{\"notes\": []}"), None);
        assert_eq!(read("Line one\nLine two"), None);
        assert_eq!(read("   "), None);
    }

    #[test]
    fn the_schema_bounds_the_corrected_text() {
        let s = schema("abc");
        assert_eq!(s["properties"]["corrected"]["maxLength"], 26);
        assert_eq!(s["required"], json!(["corrected"]));
        assert!(max_tokens(&"x".repeat(100_000)) <= 2_000);
    }

    #[test]
    fn every_example_is_a_minimal_correction() {
        for (learner, corrected) in EXAMPLES {
            let fixes = crate::tutor::diff::corrections(learner, corrected).expect(learner);
            assert!(fixes.len() <= 6, "{learner}: {fixes:?}");
        }
    }
}
