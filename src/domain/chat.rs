//! Chats and their messages as members see them.
use poem_openapi::Object;
use uuid::Uuid;

use super::{
    feedback::Feedback,
    kinds::{ChatKind, Level, MessageRole},
    people::User,
    timestamp::Timestamp,
};
use crate::entity::{chat, message};

/// A chat message. `feedback` is set on bot replies: corrections of the
/// learner's message just before it; otherwise `null`.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Message {
    pub id: Uuid,
    pub chat_id: Uuid,
    /// The message's place in its chat: greater for every later message, in
    /// the order they were stored (commit order), never reused; gaps where
    /// messages were deleted. Order, catch up (`after=`) and mark read by it.
    pub seq: i64,
    /// The author; `null` for the bot.
    #[oai(nullable)]
    pub sender_id: Option<Uuid>,
    pub role: MessageRole,
    pub content: String,
    pub created_at: Timestamp,
    /// When the author last edited it.
    #[oai(nullable)]
    pub edited_at: Option<Timestamp>,
    #[oai(nullable)]
    pub feedback: Option<Feedback>,
}

impl From<message::Model> for Message {
    fn from(m: message::Model) -> Self {
        Self {
            id: m.id,
            chat_id: m.chat_id,
            seq: m.seq,
            sender_id: m.sender_id,
            role: m.role,
            content: m.content,
            created_at: m.created_at.into(),
            edited_at: m.edited_at.map(Into::into),
            feedback: m.feedback.as_deref().and_then(Feedback::from_stored),
        }
    }
}

/// A conversation: with a friend (`direct`) or with the bot (`bot`).
///
/// `peer` is the friend in a direct chat and `null` in a bot chat; `level` is the
/// CEFR level the bot speaks at (bot chats; `null` for direct chats);
/// `last_message` is the newest message, if any.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Chat {
    pub id: Uuid,
    pub kind: ChatKind,
    /// Bot chats: the chosen title. Direct chats: the friend's display name.
    pub title: String,
    #[oai(nullable)]
    pub peer: Option<User>,
    /// Bot chats: the practice scenario; direct chats: `null`.
    #[oai(nullable)]
    pub scenario_id: Option<String>,
    #[oai(nullable)]
    pub level: Option<Level>,
    #[oai(nullable)]
    pub last_message: Option<Message>,
    /// Messages from others the caller has not marked read.
    pub unread_count: u64,
    pub created_at: Timestamp,
    /// Last activity: a new message or a change to the chat.
    pub updated_at: Timestamp,
}

impl Chat {
    pub fn build(c: chat::Model, peer: Option<User>, last_message: Option<Message>, unread_count: u64) -> Self {
        let title = match (&c.title, &peer) {
            (Some(t), _) => t.clone(),
            (None, Some(p)) => p.display_name.clone(),
            (None, None) => String::new(),
        };
        Self {
            id: c.id,
            kind: c.kind,
            title,
            peer,
            scenario_id: c.scenario_id,
            level: c.level,
            last_message,
            unread_count,
            created_at: c.created_at.into(),
            updated_at: c.updated_at.into(),
        }
    }
}
