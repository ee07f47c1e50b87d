//! The model answers with its reply, then a marker line, then feedback as JSON.
//! This module streams the reply part and parses the feedback robustly.
use serde::Deserialize;

use crate::api::types::{Correction, Feedback};

/// Separates the reply from the feedback in the model's answer.
pub const MARKER: &str = "###FEEDBACK###";

/// Passes reply text through as it streams in, holding back only what could be
/// the start of the marker, and nothing after it.
#[derive(Default)]
pub struct Splitter {
    text: String,
    emitted: usize,
    done: bool,
}

impl Splitter {
    /// Adds a chunk from the model; returns the reply text that can be shown now.
    pub fn push(&mut self, chunk: &str) -> String {
        self.text.push_str(chunk);
        if self.done {
            return String::new();
        }
        let safe_end = match self.text.find(MARKER) {
            Some(pos) => {
                self.done = true;
                pos
            }
            None => {
                // Keep back the longest suffix that is a prefix of the marker.
                let held = (1..MARKER.len())
                    .rev()
                    .find(|&n| {
                        self.text.len() >= n
                            && self.text.is_char_boundary(self.text.len() - n)
                            && MARKER.starts_with(&self.text[self.text.len() - n..])
                    })
                    .unwrap_or(0);
                self.text.len() - held
            }
        };
        if safe_end <= self.emitted {
            return String::new();
        }
        let out = self.text[self.emitted..safe_end].to_owned();
        self.emitted = safe_end;
        out
    }

    /// Everything the model said so far.
    pub fn full_text(&self) -> &str {
        &self.text
    }

    /// The reply text shown so far (what a cancelled stream keeps).
    pub fn shown(&self) -> &str {
        &self.text[..self.emitted]
    }
}

#[derive(Deserialize)]
struct LooseFeedback {
    #[serde(default)]
    corrections: Vec<LooseCorrection>,
    #[serde(default)]
    tip: Option<String>,
}

#[derive(Deserialize)]
struct LooseCorrection {
    #[serde(default)]
    original: String,
    #[serde(default)]
    corrected: String,
    #[serde(default)]
    explanation: String,
}

/// Splits a complete answer into the reply and its feedback. The reply is never
/// lost: when the feedback cannot be read it is `None`.
pub fn parse(answer: &str) -> (String, Option<Feedback>) {
    let (reply, rest) = match answer.find(MARKER) {
        Some(pos) => (&answer[..pos], Some(&answer[pos + MARKER.len()..])),
        None => match trailing_json(answer) {
            // Some models skip the marker and just append the JSON.
            Some(pos) => (&answer[..pos], Some(&answer[pos..])),
            None => (answer, None),
        },
    };
    let reply = reply.trim().to_owned();
    let feedback = rest.and_then(parse_feedback);
    if reply.is_empty() {
        return (answer.trim().to_owned(), None);
    }
    (reply, feedback)
}

/// Where a trailing `{...}` that mentions `corrections` starts, if there is one.
fn trailing_json(answer: &str) -> Option<usize> {
    let trimmed = answer.trim_end().trim_end_matches('`').trim_end();
    if !trimmed.ends_with('}') {
        return None;
    }
    let key = answer.rfind("\"corrections\"")?;
    let start = answer[..key].rfind('{')?;
    let fence = answer[..start].rfind("```").filter(|&f| {
        answer[f..start]
            .trim_start_matches('`')
            .trim()
            .chars()
            .all(|c| c.is_ascii_alphabetic())
    });
    Some(fence.unwrap_or(start))
}

fn parse_feedback(raw: &str) -> Option<Feedback> {
    let start = raw.find('{')?;
    let end = raw.rfind('}')?;
    if end < start {
        return None;
    }
    let loose: LooseFeedback = serde_json::from_str(&raw[start..=end]).ok()?;
    let corrections = loose
        .corrections
        .into_iter()
        .filter(|c| {
            !c.original.trim().is_empty() && !c.corrected.trim().is_empty() && c.original.trim() != c.corrected.trim()
        })
        .map(|c| Correction {
            original: c.original.trim().to_owned(),
            corrected: c.corrected.trim().to_owned(),
            explanation: c.explanation.trim().to_owned(),
        })
        .collect();
    let tip = loose.tip.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    Some(Feedback { corrections, tip })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = "Nice! What did you eat?\n###FEEDBACK###\n{\"corrections\": [{\"original\": \"I goed\", \"corrected\": \"I went\", \"explanation\": \"'go' is irregular\"}], \"tip\": \"Use the past simple for finished actions.\"}";

    #[test]
    fn reply_and_feedback_are_separated() {
        let (reply, feedback) = parse(ANSWER);
        assert_eq!(reply, "Nice! What did you eat?");
        let feedback = feedback.unwrap();
        assert_eq!(feedback.corrections[0].corrected, "I went");
        assert_eq!(
            feedback.tip.as_deref(),
            Some("Use the past simple for finished actions.")
        );
    }

    #[test]
    fn unreadable_feedback_keeps_the_reply() {
        let (reply, feedback) = parse("Sure, let's talk.\n###FEEDBACK###\n{not json at all");
        assert_eq!(reply, "Sure, let's talk.");
        assert!(feedback.is_none());
        let (reply, feedback) = parse("Just a plain answer without any feedback.");
        assert_eq!(reply, "Just a plain answer without any feedback.");
        assert!(feedback.is_none());
    }

    #[test]
    fn feedback_in_a_code_fence_without_marker_is_found() {
        let answer = "Great answer!\n```json\n{\"corrections\": [], \"tip\": null}\n```";
        let (reply, feedback) = parse(answer);
        assert_eq!(reply, "Great answer!");
        assert_eq!(feedback.unwrap().corrections.len(), 0);
    }

    #[test]
    fn empty_and_no_op_corrections_are_dropped() {
        let (_, feedback) = parse("Ok\n###FEEDBACK###{\"corrections\":[{\"original\":\"a\",\"corrected\":\"a\"},{\"original\":\"\",\"corrected\":\"b\"}],\"tip\":\"  \"}");
        let feedback = feedback.unwrap();
        assert!(feedback.corrections.is_empty());
        assert!(feedback.tip.is_none());
    }

    #[test]
    fn the_splitter_never_shows_the_marker_or_the_feedback() {
        for size in 1..8 {
            let mut splitter = Splitter::default();
            let mut shown = String::new();
            let chars: Vec<char> = ANSWER.chars().collect();
            for chunk in chars.chunks(size) {
                shown.push_str(&splitter.push(&chunk.iter().collect::<String>()));
            }
            assert_eq!(shown, "Nice! What did you eat?\n", "chunk size {size}");
            assert_eq!(splitter.full_text(), ANSWER);
        }
    }

    #[test]
    fn the_splitter_releases_text_that_only_looked_like_the_marker() {
        let mut splitter = Splitter::default();
        let mut shown = splitter.push("Price: ###");
        shown.push_str(&splitter.push(" is not a marker"));
        assert_eq!(shown, "Price: ### is not a marker");
    }
}
