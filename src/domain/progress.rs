//! A learner's practice as the tutor reports it: progress over days, and the
//! review of one practice chat.
use std::collections::HashMap;

use poem_openapi::Object;

use super::{feedback::MistakeKind, quota::Quota};

/// How often one kind of mistake was made.
#[derive(Debug, Clone, Object)]
pub struct KindCount {
    pub kind: MistakeKind,
    pub count: u64,
}

/// One day of practice (in the quota time zone).
#[derive(Debug, Clone, Object)]
pub struct ProgressDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Messages sent to the tutor and answered.
    pub messages: u64,
    pub words: u64,
    pub mistakes: u64,
    /// Mistakes per 100 words of checked messages; `null` when nothing was checked.
    #[oai(nullable)]
    pub mistakes_per_100_words: Option<f64>,
    /// Most frequent first.
    pub kinds: Vec<KindCount>,
}

/// Practice over the last `days` days: one entry per day (oldest first, days
/// without practice included with zeros) and the totals.
#[derive(Debug, Clone, Object)]
pub struct Progress {
    pub days: Vec<ProgressDay>,
    pub messages: u64,
    pub words: u64,
    /// Words in messages the tutor checked (the rate counts only those).
    pub checked_words: u64,
    pub mistakes: u64,
    #[oai(nullable)]
    pub mistakes_per_100_words: Option<f64>,
    /// Over the whole range, most frequent first.
    pub kinds: Vec<KindCount>,
    pub goal: GoalProgress,
    /// Days in a row with the daily goal met, up to today (or up to yesterday
    /// while today's goal is not met yet), in the quota's time zone.
    pub streak: u32,
    /// Notebook entries due for review today (`GET /me/review`).
    pub review_due: u64,
}

/// Today against the daily goal (set with `PATCH /me`).
#[derive(Debug, Clone, Object)]
pub struct GoalProgress {
    /// Practice messages with the tutor per day.
    pub messages_per_day: u32,
    /// Practice messages today.
    pub today: u32,
    pub met: bool,
}

pub fn rate(mistakes: u64, checked_words: u64) -> Option<f64> {
    (checked_words > 0).then(|| (mistakes as f64 * 1000.0 / checked_words as f64).round() / 10.0)
}

pub fn ranked(counts: HashMap<MistakeKind, u64>) -> Vec<KindCount> {
    let mut kinds: Vec<KindCount> = counts
        .into_iter()
        .map(|(kind, count)| KindCount { kind, count })
        .collect();
    kinds.sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.as_str().cmp(b.kind.as_str())));
    kinds
}

/// A correction, as an example.
#[derive(Debug, Clone, Object)]
pub struct Example {
    pub original: String,
    pub corrected: String,
}

/// A kind of mistake made in a practice chat, how often, and its newest examples.
#[derive(Debug, Clone, Object)]
pub struct RecurringMistake {
    pub kind: MistakeKind,
    pub count: u64,
    /// Up to two.
    pub examples: Vec<Example>,
}

/// One of the scenario's goals and whether the learner reached it.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct GoalResult {
    pub goal: String,
    pub reached: bool,
}

/// The end-of-practice summary of a bot chat.
#[derive(Debug, Clone, Object)]
pub struct Summary {
    /// The learner's messages in the chat (the newest 200 at most).
    pub messages: u64,
    pub words: u64,
    /// Corrections in the notebook from this chat.
    pub mistakes: u64,
    /// Encouragement from the tutor (or, when its answer was not usable, a
    /// sentence made from the counts).
    pub went_well: String,
    /// Most frequent first, at most three.
    pub recurring_mistakes: Vec<RecurringMistake>,
    /// Up to three phrases to remember.
    pub phrases: Vec<String>,
    /// The scenario's goals, in order.
    pub goals: Vec<GoalResult>,
    /// Whether `went_well` and `phrases` are the tutor's words (asked for
    /// with `POST`, one bot request) rather than made from the chat for free.
    pub by_tutor: bool,
    pub quota: Quota,
}
