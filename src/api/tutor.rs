//! The tutor outside the conversation: checking a draft, the mistake notebook,
//! and progress over time.
use std::{collections::HashMap, future::Future};

use chrono::{Days, NaiveDate};
use poem::web::Data;
use poem_openapi::{
    param::{Path, Query},
    payload::Json,
    Object, OpenApi,
};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{
    auth::current_user,
    bot::Quota,
    json::JsonOut,
    pagination,
    text::Text,
    timestamp::Timestamp,
    types::{trimmed, Feedback, FeedbackStatus, MistakeKind},
    ApiTags,
};
use crate::{
    auth::BearerAuth,
    bot::{check::CheckError, client::BotClient, exchange, quota::QuotaStatus, scenarios, summary},
    chats::member_chat,
    db::{chats, messages, progress, reviews},
    domain::{
        feedback::Lint,
        practice::{self, DailyGoal},
    },
    entity::{chat, message, mistake},
    error::{ApiError, ApiResult, BotError},
    state::AppState,
};

#[derive(Debug, Object)]
pub struct CheckRequest {
    /// The text to check, 1..2000 characters after trimming. Nothing is stored.
    pub text: Text,
}

/// The tutor's check of a draft, and the quota after it. The feedback's
/// `status` is `corrected` or `no_mistakes`: a check that fails is an error and
/// is not counted.
#[derive(Debug, Clone, Object)]
pub struct CheckResult {
    pub feedback: Feedback,
    pub quota: Quota,
}

quota_response!(CheckResponse, CheckResult, "Checked; one bot request was used.");

#[derive(Debug, Object)]
pub struct LintRequest {
    /// The text to check, as typed (not trimmed: offsets count from its
    /// first character); at most as long as a message. Nothing is stored.
    pub text: Text,
}

/// One correction kept in the learner's notebook.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Mistake {
    pub id: Uuid,
    /// The practice chat it happened in.
    pub chat_id: Uuid,
    /// The learner's message it corrects.
    pub message_id: Uuid,
    pub kind: MistakeKind,
    /// What the learner wrote.
    pub original: String,
    pub corrected: String,
    pub explanation: String,
    /// The sentence of the learner's message the mistake is in (`original`
    /// alone when that message is gone).
    pub sentence: String,
    pub created_at: Timestamp,
}

impl From<progress::Entry> for Mistake {
    fn from(entry: progress::Entry) -> Self {
        let sentence = entry.review().sentence().to_owned();
        let m = entry.mistake;
        Self {
            sentence,
            id: m.id,
            chat_id: m.chat_id,
            message_id: m.message_id,
            kind: MistakeKind::parse(&m.kind),
            original: m.original,
            corrected: m.corrected,
            explanation: m.explanation,
            created_at: m.created_at.into(),
        }
    }
}

page!(MistakePage, Mistake, "A page of the mistake notebook, newest first.");

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

fn rate(mistakes: u64, checked_words: u64) -> Option<f64> {
    (checked_words > 0).then(|| (mistakes as f64 * 1000.0 / checked_words as f64).round() / 10.0)
}

fn ranked(counts: HashMap<MistakeKind, u64>) -> Vec<KindCount> {
    let mut kinds: Vec<KindCount> = counts
        .into_iter()
        .map(|(kind, count)| KindCount { kind, count })
        .collect();
    kinds.sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.as_str().cmp(b.kind.as_str())));
    kinds
}

/// Runs `work` on one unit of `user`'s quota, in its own task: the unit is kept
/// when the work succeeds, and given back when it fails or the client leaves
/// (which also cancels the model call).
async fn charged<T, Fut>(
    state: &AppState,
    user: Uuid,
    work: impl FnOnce(BotClient) -> Fut,
) -> ApiResult<(T, QuotaStatus)>
where
    Fut: Future<Output = ApiResult<T>> + Send + 'static,
    T: Send + 'static,
{
    let (bot, reservation, place) = exchange::reserve(state, user, None).await?;
    let work = work(bot);
    let (tx, rx) = oneshot::channel();
    let task_state = state.clone();
    tokio::spawn(async move {
        let _place = place;
        let mut tx = tx;
        let (quota, db) = (&task_state.quota, task_state.db.w());
        let outcome = tokio::select! {
            r = work => r,
            _ = tx.closed() => {
                if let Err(e) = quota.refund(db, &reservation).await {
                    tracing::error!(error = ?e, "refunding an abandoned bot request failed");
                }
                return;
            }
        };
        let result = match outcome {
            Ok(value) => quota
                .settle(db, &reservation)
                .await
                .map(|()| value)
                .map_err(ApiError::from),
            Err(e) => quota.refund(db, &reservation).await.map_err(ApiError::from).and(Err(e)),
        };
        let _ = tx.send(result);
    });
    let value = rx
        .await
        .map_err(|_| ApiError::internal(anyhow::anyhow!("the bot task ended without a result")))??;
    let q = state.quota.status(state.db.r(), user).await?;
    Ok((value, q))
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

page!(
    GoalPage,
    GoalResult,
    "A practice chat's goals, in one page (`next_cursor` is always `null`)."
);

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

quota_response!(SummaryResponse, Summary, "The summary; one bot request was used.");

/// How much of a chat a summary reads.
const SUMMARY_HISTORY: u64 = 200;
const SUMMARY_MISTAKES: u64 = 500;

pub struct TutorApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Tutor")]
impl TutorApi {
    /// Check a text before sending it
    ///
    /// The tutor corrects `text` (for example a draft in a chat with a friend)
    /// and returns the corrected sentence and each correction; nothing is stored.
    /// Uses one bot request from today's quota; a check that fails is not counted.
    #[oai(path = "/bot/check", method = "post", operation_id = "checkText")]
    async fn check(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<CheckRequest>,
    ) -> Result<CheckResponse, BotError> {
        let me = auth.0.id;
        let result = async {
            let text = trimmed("text", &body.text, 1, state.settings.message_max_len)?;
            let tutor = state.tutor.clone();
            let (feedback, q) = charged(&state, me, move |bot| async move {
                let deadline = tokio::time::Instant::now() + bot.total_timeout;
                tutor.check(&bot, me, &text, deadline).await.map_err(|e| match e {
                    CheckError::Upstream(e) => exchange::upstream_error(e),
                    CheckError::Unusable => ApiError::BotUpstream(
                        "the tutor's answer was not a usable correction of this text; this request was not counted"
                            .into(),
                    ),
                })
            })
            .await?;
            Ok(CheckResponse::new(
                CheckResult {
                    feedback,
                    quota: (&q).into(),
                },
                &q,
            ))
        }
        .await;
        Ok(super::messages::with_quota(&state, me, result).await?)
    }

    /// Check a text as it is typed
    ///
    /// The tutor's rules (no model) look for mistakes in `text` and answer in
    /// milliseconds: each mistake with where it is (`offset` and `length` in
    /// characters), the fix and why, and the text with every fix applied. Free:
    /// no bot quota is used. Made for a composer that underlines mistakes while
    /// the learner types (call it after a short pause); limited to bursts of
    /// `RATE_LINT_PER_USER` a minute. The model's check (`POST /bot/check`, and
    /// every message to the bot) finds more.
    #[oai(path = "/lint", method = "post", operation_id = "lintText")]
    async fn lint(&self, state: Data<&AppState>, auth: BearerAuth, body: Json<LintRequest>) -> ApiResult<Json<Lint>> {
        state.limits.lint(auth.0.id)?;
        let len = body.text.chars().count();
        let max = state.settings.message_max_len;
        if len > max {
            return Err(ApiError::validation(
                "text",
                format!("text must be at most {max} characters long; it has {len}"),
            ));
        }
        Ok(Json(state.tutor.lint(&body.text).await))
    }

    /// Summarise a practice chat
    ///
    /// For the end of a practice: messages and words written, the recurring
    /// kinds of mistake with examples (from the notebook), which of the
    /// scenario's goals the learner's own words reached, a few encouraging
    /// words and three phrases to remember (written by the tutor). Uses one bot
    /// request; not counted when the model fails. Bot chats only; 409 before the
    /// learner has written anything.
    ///
    /// The tutor's words are kept: `GET` on the same path shows this review
    /// again for free.
    #[oai(path = "/chats/:id/summary", method = "post", operation_id = "summarizeChat")]
    async fn summary(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<SummaryResponse, BotError> {
        let me = auth.0.id;
        let result = summarize(&state, me, id.0).await;
        Ok(super::messages::with_quota(&state, me, result).await?)
    }

    /// Review a practice, free
    ///
    /// The same review as `POST`, worked out from the chat with no model call
    /// and no quota: counts, goals and recurring mistakes as they are now,
    /// with the tutor's words from the latest `POST` if there was one
    /// (`by_tutor`), else a sentence made from the counts and the learner's
    /// own corrected sentences as phrases. Works with no practice messages
    /// left. Bot chats only; 409 before the learner has written anything.
    #[oai(path = "/chats/:id/summary", method = "get", operation_id = "getChatSummary")]
    async fn review(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> ApiResult<Json<Summary>> {
        let me = auth.0.id;
        let basis = Basis::of(&state, me, id.0).await?;
        let words = reviews::latest(state.db.r(), basis.chat_id).await?;
        let quota = state.quota.status(state.db.r(), me).await?;
        Ok(Json(basis.summary(words.as_ref(), &quota)))
    }

    /// A practice chat's goals
    ///
    /// The scenario's goals and whether the learner's own messages in this chat
    /// have reached each one so far (the same cue words as the review). Free:
    /// no model call, no quota. Practice chats only (400 for a friend chat).
    #[oai(path = "/chats/:id/goals", method = "get", operation_id = "listChatGoals")]
    async fn goals(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> ApiResult<JsonOut<GoalPage>> {
        let chat = practice_chat(&state, auth.0.id, id.0, "goals").await?;
        let history = messages::list(state.db.r(), chat.id, None, SUMMARY_HISTORY).await?;
        let scenario = scenarios::of_chat(chat.scenario_id.as_deref());
        Ok(JsonOut(GoalPage {
            items: goal_results(scenario, &learner_texts(&history)),
            next_cursor: None,
        }))
    }

    /// My mistake notebook
    ///
    /// Every correction the tutor made in my practice chats, newest first;
    /// `chat_id` keeps one chat's.
    #[oai(path = "/me/mistakes", method = "get", operation_id = "listMistakes")]
    async fn mistakes(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Only this practice chat's corrections.
        chat_id: Query<Option<Uuid>>,
        /// Page size, 1..100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` from the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<JsonOut<MistakePage>> {
        let limit = pagination::limit(limit.0);
        let before = pagination::id_cursor(&cursor.0)?;
        let rows = progress::mistakes(state.db.r(), auth.0.id, chat_id.0, before, limit + 1).await?;
        let (rows, next_cursor) = pagination::split(rows, limit, |e| e.mistake.id.to_string());
        Ok(JsonOut(MistakePage {
            items: rows.into_iter().map(Mistake::from).collect(),
            next_cursor,
        }))
    }

    /// My progress
    ///
    /// Per day for the last `days` days (default 30, at most 365; today
    /// included): messages practised with the tutor, words written, mistakes,
    /// mistakes per 100 words and the most frequent kinds of mistake.
    #[oai(path = "/me/progress", method = "get", operation_id = "getProgress")]
    async fn progress(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// How many days, 1..365.
        #[oai(validator(minimum(value = "1"), maximum(value = "365")))]
        days: Query<Option<u32>>,
    ) -> ApiResult<Json<Progress>> {
        let count = days.0.unwrap_or(30).clamp(1, 365);
        let today = state.quota.today();
        let first = today.checked_sub_days(Days::new(u64::from(count - 1))).unwrap_or(today);
        let (from, to) = (day_key(first), day_key(today));
        let db = state.db.r();
        let stored: HashMap<String, _> = progress::days(db, auth.0.id, &from, &to)
            .await?
            .into_iter()
            .map(|d| (d.day.clone(), d))
            .collect();
        let mut kinds_by_day: HashMap<String, HashMap<MistakeKind, u64>> = HashMap::new();
        let mut all_kinds: HashMap<MistakeKind, u64> = HashMap::new();
        for (day, kind, n) in progress::kinds_by_day(db, auth.0.id, &from, &to).await? {
            let kind = MistakeKind::parse(&kind);
            *kinds_by_day.entry(day).or_default().entry(kind).or_default() += n as u64;
            *all_kinds.entry(kind).or_default() += n as u64;
        }
        let me = current_user(&state, auth.0.id).await?;
        let goal = DailyGoal::stored(me.daily_goal);
        let streak = streak(&state, auth.0.id, today).await?;
        let today_messages = stored.get(&day_key(today)).map_or(0, |d| d.messages.max(0) as u32);
        let mut out = Progress {
            goal: GoalProgress {
                messages_per_day: goal.get(),
                today: today_messages,
                met: today_messages >= goal.get(),
            },
            streak: streak.days,
            review_due: progress::due_count(db, auth.0.id, &day_key(today)).await?,
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
        Ok(Json(out))
    }
}

/// The learner's streak on `today`, read back from today a year at a time
/// until it breaks.
async fn streak(state: &AppState, user_id: Uuid, today: NaiveDate) -> ApiResult<practice::Streak> {
    const PAGE: u64 = 366;
    let mut rows = Vec::new();
    let mut to = day_key(today);
    loop {
        let page = progress::days_back(state.db.r(), user_id, &to, PAGE).await?;
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
struct Basis {
    chat_id: Uuid,
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
    async fn of(state: &AppState, me: Uuid, chat_id: Uuid) -> ApiResult<Self> {
        let chat = practice_chat(state, me, chat_id, "summaries").await?;
        let db = state.db.r();
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
    fn summary(self, tutor: Option<&reviews::TutorWords>, quota: &QuotaStatus) -> Summary {
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

async fn summarize(state: &AppState, me: Uuid, chat_id: Uuid) -> ApiResult<SummaryResponse> {
    let mut basis = Basis::of(state, me, chat_id).await?;
    let (scenario, history) = (basis.scenario, std::mem::take(&mut basis.history));
    let (written, q) = charged(state, me, move |bot| async move {
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
    Ok(SummaryResponse::new(basis.summary(Some(&words), &q), &q))
}

/// `me`'s practice chat `chat_id`; 400 naming `what` for a chat with a friend.
async fn practice_chat(state: &AppState, me: Uuid, chat_id: Uuid, what: &str) -> ApiResult<chat::Model> {
    let chat = member_chat(state, chat_id, me).await?.chat;
    if chat.kind != chats::BOT {
        return Err(ApiError::validation(
            "chat",
            format!("{what} exist only for practice chats with the bot"),
        ));
    }
    Ok(chat)
}

/// The learner's own messages in `history`.
fn learner_texts(history: &[message::Model]) -> Vec<&str> {
    history
        .iter()
        .filter(|m| m.role == messages::USER)
        .map(|m| m.content.as_str())
        .collect()
}

/// Which of `scenario`'s goals the learner's own messages reach.
fn goal_results(scenario: &scenarios::Scenario, learner: &[&str]) -> Vec<GoalResult> {
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
        let kind = MistakeKind::parse(&m.kind);
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

pub fn day_key(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
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
