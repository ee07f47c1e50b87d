//! `Idempotency-Key` on message posts: a retry with the same key returns what
//! the first request stored instead of posting again.
use uuid::Uuid;

use crate::{
    db::{idempotency, messages},
    entity::message,
    error::{ApiError, ApiResult},
    state::AppState,
};

/// How long a claim without a stored message counts as in progress.
const IN_PROGRESS_FOR: chrono::Duration = chrono::Duration::minutes(2);

/// What a request with a key finds.
pub enum Prior {
    /// Nothing (or nothing that lasted): go ahead and post.
    Fresh,
    /// The message the first request stored.
    Stored(message::Model),
}

const RULE: &str = "Idempotency-Key must be 1 to 200 visible ASCII characters (a UUID is a good choice)";

fn valid(key: &str) -> ApiResult<()> {
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::validation("Idempotency-Key", RULE));
    }
    Ok(())
}

fn in_progress() -> ApiError {
    ApiError::Conflict("a request with this Idempotency-Key is still being processed; retry in a moment".into())
}

/// The request's key. `declared` is what the typed parameter read; a header
/// it could not read (not ASCII) is refused rather than ignored.
pub fn key<'a>(headers: &poem::http::HeaderMap, declared: &'a Option<String>) -> ApiResult<Option<&'a str>> {
    if declared.is_none() && headers.contains_key("idempotency-key") {
        return Err(ApiError::validation("Idempotency-Key", RULE));
    }
    Ok(declared.as_deref())
}

/// Claims `key` for this post, or finds what an earlier request with it stored.
pub async fn begin(state: &AppState, me: Uuid, key: Option<&str>, chat_id: Uuid, content: &str) -> ApiResult<Prior> {
    let Some(key) = key else { return Ok(Prior::Fresh) };
    valid(key)?;
    let db = state.db.w();
    let Some(prior) = idempotency::claim(db, me, key, chat_id).await? else {
        return Ok(Prior::Fresh);
    };
    // A key older than a day is forgotten: this request uses it anew.
    if idempotency::expired(&prior) {
        return match idempotency::take_over(db, &prior, chat_id).await? {
            true => Ok(Prior::Fresh),
            false => Err(in_progress()),
        };
    }
    if prior.chat_id != chat_id {
        return Err(ApiError::Conflict(
            "this Idempotency-Key was already used for a message to another chat; use a new key for each new message"
                .into(),
        ));
    }
    let stored = match prior.message_id {
        Some(id) => messages::find_in_chat(db, chat_id, id).await?,
        None if prior.created_at > crate::db::now() - IN_PROGRESS_FOR => return Err(in_progress()),
        None => None,
    };
    match stored {
        Some(m) if m.content != content => Err(ApiError::Conflict(
            "this Idempotency-Key was already used for a different message; use a new key for each new message".into(),
        )),
        Some(m) => Ok(Prior::Stored(m)),
        // The first request failed and left nothing (a refunded bot turn is
        // removed), or died: this one takes its place.
        None if idempotency::take_over(db, &prior, chat_id).await? => Ok(Prior::Fresh),
        None => Err(in_progress()),
    }
}

/// Records how the post went: the stored message, or nothing (the key is
/// forgotten so a retry is new).
pub async fn finish(state: &AppState, me: Uuid, key: Option<&str>, stored: Option<Uuid>) -> ApiResult<()> {
    let Some(key) = key else { return Ok(()) };
    let db = state.db.w();
    match stored {
        Some(id) => idempotency::stored(db, me, key, id).await?,
        None => idempotency::release(db, me, key).await?,
    }
    Ok(())
}

/// The bot's reply to a stored learner message, or 409 while it is still coming.
pub async fn reply_to(state: &AppState, learner: &message::Model) -> ApiResult<message::Model> {
    messages::reply_after(state.db.r(), learner.chat_id, learner.id)
        .await?
        .ok_or_else(in_progress)
}
