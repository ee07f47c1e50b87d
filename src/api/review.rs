//! Practising one's own mistakes: the notebook's due entries as exercises,
//! answers checked exactly (no model, free), entries spaced with Leitner boxes
//! (see `domain::review`).
use chrono::NaiveDate;
use poem::web::Data;
use poem_openapi::{
    param::{Path, Query},
    payload::Json,
    Enum, Object, OpenApi,
};
use uuid::Uuid;

use super::{json::JsonOut, pagination, text::Text, types::MistakeKind, ApiTags};
use crate::{
    auth::BearerAuth,
    db::progress,
    domain::review::{self, Exercise},
    error::{ApiError, ApiResult},
    state::AppState,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ExerciseKind {
    /// Pick the words for the gap (`___` in `prompt`) among `choices`.
    Choose,
    /// Write `prompt` again without the mistake.
    Rewrite,
}

/// A notebook entry due for review, as an exercise.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct ReviewItem {
    /// The notebook entry (`GET /me/mistakes`).
    pub id: Uuid,
    pub exercise: ExerciseKind,
    /// The learner's sentence: with a gap (`choose`) or as they wrote it (`rewrite`).
    pub prompt: String,
    /// Three choices for `choose` (the right one, the learner's own and a
    /// usual confusion), in a fixed order; empty for `rewrite`.
    pub choices: Vec<String>,
    pub kind: MistakeKind,
    /// The entry's Leitner box, 0..5: how many times in a row it was answered right.
    #[oai(rename = "box")]
    #[serde(rename = "box")]
    pub review_box: i32,
}

page!(ReviewPage, ReviewItem, "Notebook entries due for review, as exercises.");

#[derive(Debug, Object)]
pub struct ReviewAnswer {
    /// The chosen words (`choose`) or the whole sentence (`rewrite`),
    /// 1..2000 characters.
    pub answer: Text,
}

/// Whether the answer was right, the right answer, and when the entry comes back.
#[derive(Debug, Clone, Object)]
pub struct ReviewResult {
    pub correct: bool,
    /// The right answer: the words for the gap, or the corrected sentence.
    pub expected: String,
    /// Why, when a rule explains it (empty otherwise).
    pub explanation: String,
    /// The entry's box now (0 after a wrong answer).
    #[oai(rename = "box")]
    pub review_box: i32,
    /// When it is due again, `YYYY-MM-DD` in the quota's time zone (today
    /// after a wrong answer: it comes back after the other due entries).
    pub due: String,
}

pub struct ReviewApi;

fn item(e: &progress::Entry) -> ReviewItem {
    let (exercise, prompt, choices) = match e.review().exercise() {
        Exercise::Choose { prompt, choices } => (ExerciseKind::Choose, prompt, choices),
        Exercise::Rewrite { prompt } => (ExerciseKind::Rewrite, prompt, Vec::new()),
    };
    ReviewItem {
        id: e.mistake.id,
        exercise,
        prompt,
        choices,
        kind: e.mistake.kind,
        review_box: e.mistake.review_box,
    }
}

/// `<due>|<id>` of the last item of a page.
fn cursor(cursor: &Option<String>) -> ApiResult<Option<(String, Uuid)>> {
    let Some(given) = pagination::given(cursor) else {
        return Ok(None);
    };
    let text = pagination::decode(given)?;
    let (due, id) = text.split_once('|').ok_or_else(pagination::bad_cursor)?;
    let id = id.parse().map_err(|_| pagination::bad_cursor())?;
    Ok(Some((due.to_owned(), id)))
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Tutor")]
impl ReviewApi {
    /// Mistakes to practise
    ///
    /// The notebook entries due today as quick exercises, new entries first,
    /// then the longest waiting. Free: no model call, no quota.
    #[oai(path = "/me/review", method = "get", operation_id = "listReview")]
    async fn due(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Page size, 1..100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` from the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<JsonOut<ReviewPage>> {
        let limit = pagination::limit(limit.0);
        let after = self::cursor(&cursor.0)?;
        let today = crate::domain::practice::day_key(state.quota.today());
        let rows = progress::due(state.db.r(), auth.0.id, &today, after, limit + 1).await?;
        let (rows, next_cursor) =
            pagination::split(rows, limit, |e| format!("{}|{}", e.mistake.review_due, e.mistake.id));
        Ok(JsonOut(ReviewPage {
            items: rows.iter().map(item).collect(),
            next_cursor,
        }))
    }

    /// Answer a review exercise
    ///
    /// Checked exactly, without the model (free): the right choice, or the
    /// corrected sentence (letter case, spaces and a final full stop aside).
    /// Right: the entry moves up a box and comes back in 1, 3, 7, 14, then 30
    /// days; wrong: back to box 0, due again today. 404 for an entry that is
    /// not the caller's.
    #[oai(path = "/me/review/:id", method = "post", operation_id = "answerReview")]
    async fn answer(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<ReviewAnswer>,
    ) -> ApiResult<Json<ReviewResult>> {
        let answer = super::types::trimmed("answer", &body.answer, 1, state.settings.message_max_len)?;
        let entry = progress::entry(state.db.r(), auth.0.id, id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("notebook entry"))?;
        let exercise = entry.review();
        let correct = exercise.check(&answer);
        let today: NaiveDate = state.quota.today();
        let (review_box, due) = review::schedule(entry.mistake.review_box, correct, today);
        let due = crate::domain::practice::day_key(due);
        progress::reschedule(state.db.w(), entry.mistake.id, review_box, &due).await?;
        Ok(Json(ReviewResult {
            correct,
            expected: exercise.expected(),
            explanation: entry.mistake.explanation.clone(),
            review_box,
            due,
        }))
    }
}
