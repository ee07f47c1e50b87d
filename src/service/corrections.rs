//! Peer corrections: one member rewrites another member's message as it
//! should be. The tutor's diff works out each change, quoting the author's
//! words, and the changes go into the author's notebook (`source: "peer"`).
//! Free: no model, no quota. One correction per corrector and message; a new
//! one replaces it.
use std::collections::HashMap;

use uuid::Uuid;

use super::chats;
use crate::{
    db::{
        corrections::{self as store, Named, Saved},
        messages, Db,
    },
    domain::{
        chat::{Extras, PeerCorrection},
        feedback::Correction,
        kinds::{ChatKind, MessageRole},
    },
    entity::peer_correction,
    error::{ApiError, ApiResult},
    realtime::{events::Event, Realtime},
    tutor::diff::{self, Rejected},
};

pub fn view(named: Named) -> PeerCorrection {
    let c = named.correction;
    PeerCorrection {
        chat_id: c.chat_id,
        message_id: c.message_id,
        corrector_id: c.corrector_id,
        corrector_name: named.corrector_name,
        corrections: serde_json::from_str::<Vec<Correction>>(&c.corrections).unwrap_or_default(),
        corrected_text: c.corrected_text,
        note: c.note,
        thanked: c.thanked,
        created_at: c.created_at.into(),
    }
}

/// A member's correction of a message.
pub struct Proposed {
    pub corrected_text: String,
    pub note: String,
    /// The notebook day (`YYYY-MM-DD`, the quota's time zone).
    pub day: String,
}

/// `me` corrects the message `message_id`: someone else's, written by a person,
/// in a chat `me` may write in. 201-style `Saved::New`, or `Saved::Replaced`.
pub async fn correct(
    db: &Db,
    realtime: &Realtime,
    me: Uuid,
    chat_id: Uuid,
    message_id: Uuid,
    proposed: Proposed,
) -> ApiResult<(Saved, PeerCorrection)> {
    let membership = chats::member_chat(db, chat_id, me).await?;
    let message = messages::find_in_chat(db.r(), chat_id, message_id)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    let author = match message.sender_id {
        _ if membership.chat.kind == ChatKind::Bot || message.role != MessageRole::User => {
            return Err(ApiError::Forbidden("only people's messages can be corrected".into()))
        }
        Some(author) if author == me => {
            return Err(ApiError::Forbidden(
                "you cannot correct your own message (edit it instead)".into(),
            ))
        }
        Some(author) => author,
        None => return Err(ApiError::Forbidden("only people's messages can be corrected".into())),
    };
    chats::ensure_writable(&membership)?;
    if proposed.corrected_text == message.content.trim() {
        return Err(ApiError::validation(
            "corrected_text",
            "corrected_text is the message as it is: change what should be corrected",
        ));
    }
    let corrections = diff::corrections(&message.content, &proposed.corrected_text).map_err(|e| match e {
        Rejected::Empty => ApiError::validation("corrected_text", "corrected_text must not be empty"),
        Rejected::NotACorrection => ApiError::validation(
            "corrected_text",
            "corrected_text must keep most of the message's words: a correction, not a new message",
        ),
    })?;
    let row = peer_correction::Model {
        message_id,
        corrector_id: me,
        chat_id,
        author_id: author,
        corrected_text: proposed.corrected_text,
        note: proposed.note,
        corrections: serde_json::to_string(&corrections).map_err(ApiError::internal)?,
        thanked: false,
        created_at: crate::db::now(),
    };
    crate::db::chats::add_extras(db.w(), chat_id, Extras::CORRECTIONS).await?;
    let saved = store::save(db.w(), row, &corrections, &proposed.day).await?;
    let shown = announce(db, realtime, &membership.chat, me, message_id, me).await?;
    Ok((saved, shown))
}

/// The author thanks `corrector` for their correction of the author's message.
pub async fn thank(
    db: &Db,
    realtime: &Realtime,
    me: Uuid,
    chat_id: Uuid,
    message_id: Uuid,
    corrector: Uuid,
) -> ApiResult<PeerCorrection> {
    let membership = chats::member_chat(db, chat_id, me).await?;
    let message = messages::find_in_chat(db.r(), chat_id, message_id)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    if message.sender_id != Some(me) {
        return Err(ApiError::Forbidden(
            "only the message's author can thank its correctors".into(),
        ));
    }
    if !store::thank(db.w(), message_id, corrector).await? {
        return Err(ApiError::not_found("correction"));
    }
    announce(db, realtime, &membership.chat, me, message_id, corrector).await
}

/// Tells the chat's members about `corrector`'s correction as it now is.
async fn announce(
    db: &Db,
    realtime: &Realtime,
    chat: &crate::entity::chat::Model,
    me: Uuid,
    message_id: Uuid,
    corrector: Uuid,
) -> ApiResult<PeerCorrection> {
    let named = store::one(db.w(), message_id, corrector)
        .await?
        .ok_or_else(|| ApiError::not_found("correction"))?;
    let shown = view(named);
    realtime.publish(
        chats::member_ids(db, chat, me).await?,
        Event::MessageCorrected {
            chat_id: chat.id,
            correction: shown.clone(),
        },
    );
    Ok(shown)
}

/// The corrections of the messages `ids`, by message (one statement).
pub async fn of(db: &Db, ids: &[Uuid]) -> ApiResult<HashMap<Uuid, Vec<PeerCorrection>>> {
    let by_message: HashMap<Uuid, Vec<Named>> = store::of_messages(db.r(), ids).await?;
    Ok(by_message
        .into_iter()
        .map(|(id, found)| (id, found.into_iter().map(view).collect()))
        .collect())
}
