//! Building the prompt: the scenario's role, the learner's level, and as much
//! recent history as fits the budget.
use serde_json::{json, Value};

use super::scenarios::Scenario;
use crate::{domain::kinds::Level, entity::message};

fn level_guidance(level: Level) -> &'static str {
    match level {
        Level::A1 => "a beginner (CEFR A1): use very simple, common words, short sentences and the present tense, and speak slowly",
        Level::A2 => "an elementary learner (CEFR A2): use simple everyday language and short sentences",
        Level::B1 => "an intermediate learner (CEFR B1): use everyday vocabulary, explain any idiom you use, and keep a relaxed pace",
        Level::B2 => "an upper-intermediate learner (CEFR B2): use natural language with varied vocabulary at a normal pace",
        Level::C1 => "an advanced learner (CEFR C1): use idiomatic, nuanced English at natural speed",
        Level::C2 => "a proficient speaker (CEFR C2): talk exactly as you would with a native speaker",
    }
}

pub fn system_prompt(scenario: &Scenario, level: Level) -> String {
    format!(
        "{role}\n\nYou are an English conversation partner for {level}. Stay in the scenario. \
         Keep each reply short (one to three sentences) and end it with a question or \
         prompt that keeps the learner talking. Do not correct the learner's English: \
         a separate tutor does that.",
        role = scenario.role,
        level = level_guidance(level),
    )
}

/// Chat messages for the model: the system prompt, then the newest history that
/// fits in `budget_chars` (oldest first), always including the learner's new
/// message. The scenario's opening line comes first when the whole chat fits.
pub fn messages(
    scenario: &Scenario,
    level: Level,
    newest_first: &[message::Model],
    budget_chars: usize,
    complete: bool,
) -> Vec<Value> {
    let mut turns = Vec::new();
    let mut used = 0;
    let mut everything_fits = complete;
    for (i, m) in newest_first.iter().enumerate() {
        let len = m.content.chars().count();
        if i > 0 && used + len > budget_chars {
            everything_fits = false;
            break;
        }
        used += len;
        let role = m.role.as_str();
        turns.push(json!({"role": role, "content": m.content}));
    }
    if everything_fits {
        turns.push(json!({"role": "assistant", "content": scenario.opening_line}));
    }
    turns.push(json!({"role": "system", "content": system_prompt(scenario, level)}));
    turns.reverse();
    turns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        bot::scenarios,
        domain::kinds::MessageRole::{self, Assistant, User},
    };

    fn msg(role: MessageRole, content: &str) -> message::Model {
        message::Model {
            reply_to_id: None,
            id: uuid::Uuid::now_v7(),
            chat_id: uuid::Uuid::nil(),
            sender_id: None,
            role,
            content: content.into(),
            feedback: None,
            created_at: chrono::Utc::now(),
            edited_at: None,
            seq: 0,
        }
    }

    #[test]
    fn the_prompt_holds_scenario_level_history_and_opening_line() {
        let s = scenarios::find("job_interview").unwrap();
        let history = [
            msg(User, "I am work in a bank."),
            msg(Assistant, "Tell me about you."),
            msg(User, "Hello"),
        ];
        let m = messages(s, Level::A2, &history, 10_000, true);
        assert_eq!(m[0]["role"], "system");
        assert!(m[0]["content"].as_str().unwrap().contains("hiring manager"));
        assert!(m[0]["content"].as_str().unwrap().contains("CEFR A2"));
        assert_eq!(m[1]["content"], s.opening_line);
        assert_eq!(m.last().unwrap()["content"], "I am work in a bank.");
        assert_eq!(m.len(), 5);
    }

    #[test]
    fn old_history_is_dropped_to_fit_the_budget_but_the_new_message_stays() {
        let s = scenarios::find("free_talk").unwrap();
        let long = "x".repeat(300);
        let history = [msg(User, &long), msg(Assistant, &long), msg(User, &long)];
        let m = messages(s, Level::B1, &history, 500, true);
        assert_eq!(m.len(), 2, "system + the new message only");
        assert_eq!(m[1]["content"], long);
    }
}
