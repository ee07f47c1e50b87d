//! Cursor pagination: `limit` (1..100, default 50) and an opaque `cursor`.
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{domain::timestamp::Timestamp, error::ApiError};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

pub fn limit(requested: Option<u32>) -> u64 {
    u64::from(requested.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT))
}

pub fn encode(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// A non-empty cursor, or `None` for the first page (an empty `cursor=` included).
pub fn given(cursor: &Option<String>) -> Option<&str> {
    cursor.as_deref().filter(|c| !c.is_empty())
}

pub fn decode(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(bad_cursor)
}

/// Where a page of rows ordered by `(time, id)` continues, from its cursor
/// (`<RFC 3339>|<uuid>`, as `time_id_key` writes it).
pub fn time_id_cursor(cursor: &Option<String>) -> Result<Option<(DateTime<Utc>, Uuid)>, ApiError> {
    let Some(cursor) = given(cursor) else {
        return Ok(None);
    };
    let raw = decode(cursor)?;
    let (at, id) = raw.split_once('|').ok_or_else(bad_cursor)?;
    let at = DateTime::parse_from_rfc3339(at).map_err(|_| bad_cursor())?;
    let id = id.parse().map_err(|_| bad_cursor())?;
    Ok(Some((at.with_timezone(&Utc), id)))
}

/// The cursor key of a row ordered by `(time, id)`.
pub fn time_id_key(at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}|{id}", Timestamp::from(at).to_rfc3339())
}

/// The id a page of id-ordered rows continues after, from its cursor.
pub fn id_cursor(cursor: &Option<String>) -> Result<Option<uuid::Uuid>, ApiError> {
    given(cursor)
        .map(|c| decode(c)?.parse().map_err(|_| bad_cursor()))
        .transpose()
}

/// Where a page of a chat's messages starts, in `seq` terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqCursor {
    /// Newest first, from the newest (no cursor) or before this `seq`.
    Before(Option<i64>),
    /// Oldest first, after this `seq`: catching up.
    After(i64),
}

impl SeqCursor {
    pub fn encode(self) -> Option<String> {
        match self {
            Self::Before(Some(seq)) => Some(encode(&format!("b{seq}"))),
            Self::Before(None) => None,
            Self::After(seq) => Some(encode(&format!("a{seq}"))),
        }
    }
}

/// A message cursor: `b<seq>` or `a<seq>` (base64); `Legacy` for a cursor
/// given out before messages had a `seq` (a message id), still honoured.
pub enum MessageCursor {
    Seq(SeqCursor),
    Legacy(uuid::Uuid),
}

pub fn message_cursor(cursor: &Option<String>) -> Result<Option<MessageCursor>, ApiError> {
    let Some(cursor) = given(cursor) else {
        return Ok(None);
    };
    let text = decode(cursor)?;
    let seq = |s: &str| s.parse::<i64>().ok().filter(|&n| n >= 0).ok_or_else(bad_cursor);
    Ok(Some(match text.split_at_checked(1) {
        Some(("b", n)) => MessageCursor::Seq(SeqCursor::Before(Some(seq(n)?))),
        Some(("a", n)) => MessageCursor::Seq(SeqCursor::After(seq(n)?)),
        _ => MessageCursor::Legacy(text.parse().map_err(|_| bad_cursor())?),
    }))
}

pub fn bad_cursor() -> ApiError {
    ApiError::validation("cursor", "cursor is not valid; pass the next_cursor of a previous page")
}

/// Fetch `limit + 1` rows; this splits off the extra one and makes the cursor
/// from the last row kept.
pub fn split<T>(mut rows: Vec<T>, limit: u64, key: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        let next = rows.last().map(|r| encode(&key(r)));
        (rows, next)
    } else {
        (rows, None)
    }
}
