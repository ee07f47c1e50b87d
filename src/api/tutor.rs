//! The tutor outside the conversation: checking a draft, the mistake notebook,
//! and progress over time.
use poem::web::Data;
use poem_openapi::{
    param::{Path, Query},
    payload::Json,
    Object, OpenApi,
};
use uuid::Uuid;

use super::{
    auth::current_user,
    bot::Quota,
    json::JsonOut,
    pagination,
    text::Text,
    types::{trimmed, Feedback, MistakeKind, MistakeSource},
    ApiTags,
};
use crate::{
    auth::BearerAuth,
    bot::{check::CheckError, exchange, scenarios},
    db::{messages, progress, reviews},
    domain::{
        feedback::Lint,
        practice::DailyGoal,
        progress::{GoalResult, Progress, Summary},
        timestamp::Timestamp,
    },
    error::{ApiError, ApiResult, BotError},
    service::tutor,
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

quota_response!(
    CheckResponse,
    200,
    Json<CheckResult>,
    "Checked; one bot request was used."
);

#[derive(Debug, Object)]
pub struct LintRequest {
    /// The text to check, as typed (not trimmed: offsets count from its
    /// first character); at most as long as a message. Nothing is stored.
    pub text: Text,
}

/// One correction kept in the learner's notebook: from the tutor's check
/// (`source: "tutor"`) or another learner's correction of one of their
/// messages (`source: "peer"`, made by `corrector_id`).
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Mistake {
    pub id: Uuid,
    /// The chat it happened in: a practice chat, or a chat with people for a
    /// peer correction.
    pub chat_id: Uuid,
    /// The learner's message it corrects.
    pub message_id: Uuid,
    pub source: MistakeSource,
    /// Who corrected it (`peer`); `null` for the tutor.
    #[oai(nullable)]
    pub corrector_id: Option<Uuid>,
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
            source: m.source,
            corrector_id: m.corrector_id,
            kind: m.kind,
            original: m.original,
            corrected: m.corrected,
            explanation: m.explanation,
            created_at: m.created_at.into(),
        }
    }
}

page!(MistakePage, Mistake, "A page of the mistake notebook, newest first.");

page!(
    GoalPage,
    GoalResult,
    "A practice chat's goals, in one page (`next_cursor` is always `null`)."
);

quota_response!(
    SummaryResponse,
    200,
    Json<Summary>,
    "The summary; one bot request was used."
);

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
            let (feedback, q) = exchange::charged(&state, me, move |bot| async move {
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
                Json(CheckResult {
                    feedback,
                    quota: (&q).into(),
                }),
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
        let result = tutor::summarize(&state, me, id.0)
            .await
            .map(|(summary, quota)| SummaryResponse::new(Json(summary), &quota));
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
        let basis = tutor::Basis::of(&state.db, me, id.0).await?;
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
        let chat = tutor::practice_chat(&state.db, auth.0.id, id.0, "goals").await?;
        let history = messages::list(state.db.r(), chat.id, None, tutor::SUMMARY_HISTORY).await?;
        let scenario = scenarios::of_chat(chat.scenario_id.as_deref());
        Ok(JsonOut(GoalPage {
            items: tutor::goal_results(scenario, &tutor::learner_texts(&history)),
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
        let goal = DailyGoal::stored(current_user(&state, auth.0.id).await?.daily_goal);
        let today = state.quota.today();
        Ok(Json(tutor::progress(&state.db, auth.0.id, today, count, goal).await?))
    }
}
