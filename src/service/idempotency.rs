//! `Idempotency-Key` on message posts: a retry with the same key returns what
//! the first request stored instead of posting again.
use uuid::Uuid;

use crate::{
    bot::recovery,
    db::{idempotency, messages},
    entity::message,
    error::{ApiError, ApiResult},
    state::AppState,
};

/// How long a claim from before leases existed (no owner, no message) counts
/// as in progress.
const IN_PROGRESS_FOR: chrono::Duration = chrono::Duration::minutes(2);

/// What a request with a key finds.
pub enum Prior {
    /// Nothing (or nothing that lasted): go ahead and post, storing the
    /// message under this id (the key already names it).
    Fresh(Uuid),
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

/// Claims `key` for this post, or finds what an earlier request with it
/// stored. The message's id is chosen here and recorded with the key before
/// the message is stored, so no crash can leave a stored message whose key
/// does not name it. A claim whose process died (its lease is gone) and that
/// stored nothing is taken over at once; for a bot turn, one that stored the
/// learner's turn but never its reply has that turn removed and refunded
/// first, and the retry runs anew.
pub async fn begin(
    state: &AppState,
    me: Uuid,
    key: Option<&str>,
    chat_id: Uuid,
    content: &str,
    bot: bool,
) -> ApiResult<Prior> {
    let planned = Uuid::now_v7();
    let Some(key) = key else {
        return Ok(Prior::Fresh(planned));
    };
    valid(key)?;
    let db = state.db.w();
    let owner = state.lease.id();
    let Some(prior) = idempotency::claim(db, me, key, chat_id, planned, owner).await? else {
        return Ok(Prior::Fresh(planned));
    };
    let take_over = || async {
        match idempotency::take_over(db, &prior, chat_id, planned, owner).await? {
            true => Ok(Prior::Fresh(planned)),
            false => Err(in_progress()),
        }
    };
    // A key older than a day is forgotten: this request uses it anew.
    if idempotency::expired(&prior) {
        return take_over().await;
    }
    if prior.chat_id != chat_id {
        return Err(ApiError::Conflict(
            "this Idempotency-Key was already used for a message to another chat; use a new key for each new message"
                .into(),
        ));
    }
    let stored = match prior.message_id {
        Some(id) => messages::find_in_chat(db, chat_id, id).await?,
        None => None,
    };
    let alive = match prior.owner {
        Some(owner) => state.lease.alive(db, owner).await?,
        None => prior.message_id.is_none() && prior.created_at > crate::db::now() - IN_PROGRESS_FOR,
    };
    match stored {
        Some(m) if m.content != content => Err(ApiError::Conflict(
            "this Idempotency-Key was already used for a different message; use a new key for each new message".into(),
        )),
        Some(m) if !bot || alive => Ok(Prior::Stored(m)),
        Some(m) => {
            if messages::reply_after(db, chat_id, &m).await?.is_some() {
                return Ok(Prior::Stored(m));
            }
            // The learner's turn, stored by a process that died before the
            // reply: removed, and its key with it, so this request is new.
            recovery::abandon_turn(state, &m).await?;
            match idempotency::claim(db, me, key, chat_id, planned, owner).await? {
                None => Ok(Prior::Fresh(planned)),
                Some(_) => Err(in_progress()),
            }
        }
        None if alive => Err(in_progress()),
        // Nothing stored and nobody working on it: this request takes its place.
        None => take_over().await,
    }
}

/// After a post that failed before storing its message `planned`: the key is
/// forgotten, so a retry is new.
pub async fn failed(state: &AppState, me: Uuid, key: Option<&str>, planned: Uuid) -> ApiResult<()> {
    if let Some(key) = key {
        idempotency::release(state.db.w(), me, key, planned).await?;
    }
    Ok(())
}

/// The bot's reply to a stored learner message, or 409 while it is still coming.
pub async fn reply_to(state: &AppState, learner: &message::Model) -> ApiResult<message::Model> {
    messages::reply_after(state.db.r(), learner.chat_id, learner)
        .await?
        .ok_or_else(in_progress)
}
