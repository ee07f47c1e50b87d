//! The tutor outside the conversation: progress over days, streaks, and the
//! review of a practice chat.
use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use uuid::Uuid;

use super::chats;
use crate::{
    bot::{exchange, scenarios, summary},
    db::{messages, progress, reviews, Db},
    domain::{
        feedback::{Feedback, FeedbackStatus, MistakeKind},
        kinds::MessageRole,
        practice::{self, day_key, DailyGoal},
        progress::{ranked, rate, Example, GoalProgress, GoalResult, Progress, ProgressDay, RecurringMistake, Summary},
        quota::QuotaStatus,
    },
    entity::{chat, message, mistake},
    error::{ApiError, ApiResult},
    state::AppState,
};

/// `me`'s practice over the `count` days up to `today` (quota time zone),
/// against their daily `goal`.
pub async fn progress(db: &Db, me: Uuid, today: NaiveDate, count: u32, goal: DailyGoal) -> ApiResult<Progress> {
    let first = today.checked_sub_days(Days::new(u64::from(count - 1))).unwrap_or(today);
    let (from, to) = (day_key(first), day_key(today));
    let stored: HashMap<String, _> = progress::days(db.r(), me, &from, &to)
        .await?
        .into_iter()
        .map(|d| (d.day.clone(), d))
        .collect();
    let mut kinds_by_day: HashMap<String, HashMap<MistakeKind, u64>> = HashMap::new();
    let mut all_kinds: HashMap<MistakeKind, u64> = HashMap::new();
    for (day, kind, n) in progress::kinds_by_day(db.r(), me, &from, &to).await? {
        *kinds_by_day.entry(day).or_default().entry(kind).or_default() += n as u64;
        *all_kinds.entry(kind).or_default() += n as u64;
    }
    let streak = streak(db, me, today).await?;
    let today_messages = stored.get(&day_key(today)).map_or(0, |d| d.messages.max(0) as u32);
    let mut out = Progress {
        goal: GoalProgress {
            messages_per_day: goal.get(),
            today: today_messages,
            met: today_messages >= goal.get(),
        },
        streak: streak.days,
        review_due: progress::due_count(db.r(), me, &day_key(today)).await?,
        days: Vec::with_capacity(count as usize),
        messages: 0,
        words: 0,
        checked_words: 0,
        mistakes: 0,
        mistakes_per_100_words: None,
        kinds: ranked(all_kinds),
    };
    for date in first.iter_days().take(count as usize) {
        let key = day_key(date);
        let (messages, words, checked, mistakes) = stored.get(&key).map_or((0, 0, 0, 0), |d| {
            (
                d.messages as u64,
                d.words as u64,
                d.checked_words as u64,
                d.mistakes as u64,
            )
        });
        out.messages += messages;
        out.words += words;
        out.mistakes += mistakes;
        out.checked_words += checked;
        out.days.push(ProgressDay {
            mistakes_per_100_words: rate(mistakes, checked),
            kinds: ranked(kinds_by_day.remove(&key).unwrap_or_default()),
            date: key,
            messages,
            words,
            mistakes,
        });
    }
    out.mistakes_per_100_words = rate(out.mistakes, out.checked_words);
    Ok(out)
}

/// How much of a chat a summary reads.
pub const SUMMARY_HISTORY: u64 = 200;
const SUMMARY_MISTAKES: u64 = 500;

/// The learner's streak on `today`, read back from today a year at a time
/// until it breaks.
async fn streak(db: &Db, user_id: Uuid, today: NaiveDate) -> ApiResult<practice::Streak> {
    const PAGE: u64 = 366;
    let mut rows = Vec::new();
    let mut to = day_key(today);
    loop {
        let page = progress::days_back(db.r(), user_id, &to, PAGE).await?;
        let full = page.len() as u64 == PAGE;
        let Some(last) = page.last() else { break };
        let next_to = last.day.parse::<NaiveDate>().ok().and_then(|d| d.pred_opt());
        rows.extend(page);
        let result = practice::streak(today, rows.iter().filter_map(practice_day));
        // Done when there is nothing older, or the streak ended inside what
        // was read (it spans fewer rows than were read, leaving aside today's
        // row while today's goal is not met).
        if !full || (result.days as usize) < rows.len().saturating_sub(1) {
            return Ok(result);
        }
        match next_to {
            Some(d) => to = day_key(d),
            None => break,
        }
    }
    Ok(practice::streak(today, rows.iter().filter_map(practice_day)))
}

fn practice_day(d: &crate::entity::practice_day::Model) -> Option<practice::Day> {
    Some(practice::Day {
        date: d.day.parse().ok()?,
        messages: d.messages.max(0) as u32,
        goal: DailyGoal::stored(d.goal),
    })
}

/// Everything a review says that needs no model: read from the chat.
pub struct Basis {
    pub chat_id: Uuid,
    scenario: &'static scenarios::Scenario,
    history: Vec<message::Model>,
    messages: u64,
    words: u64,
    mistakes: u64,
    recurring_mistakes: Vec<RecurringMistake>,
    goals: Vec<GoalResult>,
    /// The learner's corrected sentences short enough to remember.
    own_phrases: Vec<String>,
    /// A sentence made from the counts.
    counted: String,
}

impl Basis {
    pub async fn of(db: &Db, me: Uuid, chat_id: Uuid) -> ApiResult<Self> {
        let chat = practice_chat(db, me, chat_id, "summaries").await?;
        let db = db.r();
        let history = messages::list(db, chat.id, None, SUMMARY_HISTORY).await?;
        let learner = learner_texts(&history);
        if learner.is_empty() {
            return Err(ApiError::Conflict(
                "nothing to summarise yet: send the tutor a message first".into(),
            ));
        }
        let scenario = scenarios::of_chat(chat.scenario_id.as_deref());
        let words: u64 = learner.iter().map(|t| progress::word_count(t) as u64).sum();
        let messages_count = learner.len() as u64;
        let goals = goal_results(scenario, &learner);
        let feedback: Vec<Feedback> = history
            .iter()
            .filter_map(|m| m.feedback.as_deref().and_then(Feedback::from_stored))
            .collect();
        let checked = feedback
            .iter()
            .filter(|f| f.status != FeedbackStatus::Unchecked)
            .count();
        let clean = feedback
            .iter()
            .filter(|f| f.status == FeedbackStatus::NoMistakes)
            .count();
        let mut own_phrases: Vec<String> = Vec::new();
        for f in &feedback {
            let Some(text) = f.corrected_text.as_deref() else {
                continue;
            };
            let short = (2..=15).contains(&text.split_whitespace().count());
            if f.status == FeedbackStatus::Corrected && short && !own_phrases.iter().any(|p| p == text) {
                own_phrases.push(text.to_owned());
            }
        }
        let mistakes: Vec<mistake::Model> = progress::mistakes(db, me, Some(chat.id), None, SUMMARY_MISTAKES)
            .await?
            .into_iter()
            .map(|e| e.mistake)
            .collect();
        let plural = if messages_count == 1 { "" } else { "s" };
        let words_plural = if words == 1 { "" } else { "s" };
        let counted = format!("You wrote {messages_count} message{plural} ({words} word{words_plural}) in English")
            + &checked_clause(checked, clean)
            + ".";
        Ok(Self {
            chat_id: chat.id,
            scenario,
            history,
            messages: messages_count,
            words,
            mistakes: mistakes.len() as u64,
            recurring_mistakes: recurring(mistakes),
            goals,
            own_phrases,
            counted,
        })
    }

    /// The review, with the tutor's words when there are some.
    pub fn summary(self, tutor: Option<&reviews::TutorWords>, quota: &QuotaStatus) -> Summary {
        let mut phrases = tutor.map(|t| t.phrases.clone()).unwrap_or_default();
        // Too few from the tutor: the learner's own corrected sentences are worth remembering too.
        for own in self.own_phrases {
            if phrases.len() < 3 && !phrases.contains(&own) {
                phrases.push(own);
            }
        }
        let went_well = tutor.and_then(|t| t.went_well.clone());
        Summary {
            messages: self.messages,
            words: self.words,
            mistakes: self.mistakes,
            by_tutor: went_well.is_some(),
            went_well: went_well.unwrap_or(self.counted),
            recurring_mistakes: self.recurring_mistakes,
            phrases,
            goals: self.goals,
            quota: quota.into(),
        }
    }
}

/// The review of a practice chat with the tutor's words: one bot request.
pub async fn summarize(state: &AppState, me: Uuid, chat_id: Uuid) -> ApiResult<(Summary, QuotaStatus)> {
    let mut basis = Basis::of(&state.db, me, chat_id).await?;
    let (scenario, history) = (basis.scenario, std::mem::take(&mut basis.history));
    let (written, q) = exchange::charged(state, me, move |bot| async move {
        summary::write(&bot, scenario, &history)
            .await
            .map_err(exchange::upstream_error)
    })
    .await?;
    let words = reviews::TutorWords {
        went_well: written.went_well,
        phrases: written.phrases,
    };
    reviews::store(state.db.w(), basis.chat_id, &words).await?;
    Ok((basis.summary(Some(&words), &q), q))
}

/// `me`'s practice chat `chat_id`; 400 naming `what` for a chat with a friend.
pub async fn practice_chat(db: &Db, me: Uuid, chat_id: Uuid, what: &str) -> ApiResult<chat::Model> {
    chats::bot_chat(
        db,
        me,
        chat_id,
        format!("{what} exist only for practice chats with the bot"),
    )
    .await
}

/// The learner's own messages in `history`.
pub fn learner_texts(history: &[message::Model]) -> Vec<&str> {
    history
        .iter()
        .filter(|m| m.role == MessageRole::User)
        .map(|m| m.content.as_str())
        .collect()
}

/// Which of `scenario`'s goals the learner's own messages reach.
pub fn goal_results(scenario: &scenarios::Scenario, learner: &[&str]) -> Vec<GoalResult> {
    let all_text = learner.join("\n");
    scenario
        .goals
        .iter()
        .map(|g| GoalResult {
            goal: g.text.into(),
            reached: g.reached_in(&all_text),
        })
        .collect()
}

/// How the tutor's checks went, as the end of the review's first sentence.
fn checked_clause(checked: usize, clean: usize) -> String {
    match (checked, clean) {
        (0, _) => String::new(),
        (1, 1) => ", and the tutor found no mistakes in it".into(),
        (1, _) => ", and the tutor corrected it".into(),
        (n, c) if c == n => format!(", and all {n} the tutor checked had no mistakes"),
        (n, 0) => format!(", and the tutor corrected each of the {n} it checked"),
        (n, c) => format!(", and {c} of the {n} the tutor checked had no mistakes"),
    }
}

/// The most frequent kinds of mistake (up to three), each with its newest examples.
fn recurring(newest_first: Vec<mistake::Model>) -> Vec<RecurringMistake> {
    let mut by_kind: Vec<RecurringMistake> = Vec::new();
    for m in newest_first {
        let kind = m.kind;
        let entry = match by_kind.iter_mut().position(|r| r.kind == kind) {
            Some(i) => &mut by_kind[i],
            None => {
                by_kind.push(RecurringMistake {
                    kind,
                    count: 0,
                    examples: Vec::new(),
                });
                by_kind.last_mut().expect("just pushed")
            }
        };
        entry.count += 1;
        if entry.examples.len() < 2 {
            entry.examples.push(Example {
                original: m.original,
                corrected: m.corrected,
            });
        }
    }
    by_kind.sort_by_key(|r| std::cmp::Reverse(r.count));
    by_kind.truncate(3);
    by_kind
}

#[cfg(test)]
mod tests {
    use super::checked_clause;

    #[test]
    fn the_review_counts_checks_in_words_that_read_well() {
        assert_eq!(checked_clause(0, 0), "");
        assert_eq!(checked_clause(1, 1), ", and the tutor found no mistakes in it");
        assert_eq!(checked_clause(1, 0), ", and the tutor corrected it");
        assert_eq!(checked_clause(3, 3), ", and all 3 the tutor checked had no mistakes");
        assert_eq!(
            checked_clause(3, 0),
            ", and the tutor corrected each of the 3 it checked"
        );
        assert_eq!(
            checked_clause(3, 1),
            ", and 1 of the 3 the tutor checked had no mistakes"
        );
    }
}
