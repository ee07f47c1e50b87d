//! The objects of the public contract, as they appear in the OpenAPI spec.
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use super::timestamp::Timestamp;
pub use crate::domain::feedback::{Correction, Feedback, FeedbackStatus, MistakeKind};
use crate::{
    entity::{chat, message, user},
    error::ApiError,
};

/// CEFR level of English, from beginner (A1) to mastery (C2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
pub enum Level {
    A1,
    A2,
    B1,
    B2,
    C1,
    C2,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::A1 => "A1",
            Level::A2 => "A2",
            Level::B1 => "B1",
            Level::B2 => "B2",
            Level::C1 => "C1",
            Level::C2 => "C2",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "A1" => Level::A1,
            "A2" => Level::A2,
            "B1" => Level::B1,
            "B2" => Level::B2,
            "C1" => Level::C1,
            "C2" => Level::C2,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

/// A person on ChattConnect, as others see them.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct User {
    pub id: Uuid,
    /// Unique (case-insensitively) handle: 3..32 of `A-Z a-z 0-9 _ . -`.
    pub username: String,
    pub display_name: String,
    pub created_at: Timestamp,
    /// True while the user has a live WebSocket connection.
    pub online: bool,
}

impl User {
    pub fn from_model(u: &user::Model, online: bool) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            created_at: u.created_at.into(),
            online,
        }
    }
}

/// The caller's own profile. `level` is the learner's English level; new bot
/// chats start at it.
#[derive(Debug, Clone, Object)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub created_at: Timestamp,
    /// True while the user has a live WebSocket connection.
    pub online: bool,
    pub role: Role,
    pub level: Level,
    /// Practice messages with the tutor per day the learner aims for.
    pub daily_goal: u32,
    /// The address for password reset links, if the user gave one.
    #[oai(nullable)]
    pub email: Option<String>,
    /// Whether that address was confirmed through the link mailed to it.
    pub email_confirmed: bool,
}

impl Me {
    pub fn from_model(u: &user::Model, online: bool) -> Self {
        Self {
            role: if u.role == "admin" { Role::Admin } else { Role::User },
            level: Level::parse(&u.level).unwrap_or(Level::B1),
            daily_goal: crate::domain::practice::DailyGoal::stored(u.daily_goal).get(),
            email: u.email.clone(),
            email_confirmed: u.email_confirmed,
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            created_at: u.created_at.into(),
            online,
        }
    }
}

/// Credentials returned by register, login and refresh.
#[derive(Debug, Clone, Object)]
pub struct TokenPair {
    /// JWT for `Authorization: Bearer`, valid for `expires_in` seconds.
    pub access_token: String,
    /// Opaque, single-use token for `POST /auth/refresh`, valid for 30 days.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum FriendStatus {
    /// You are friends.
    Accepted,
    /// They asked you; accept or decline.
    Incoming,
    /// You asked them; they have not answered.
    Outgoing,
}

/// A friend, or a friend request in either direction.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Friend {
    pub user: User,
    pub status: FriendStatus,
    /// When the friendship was accepted, or the request was sent.
    pub since: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ChatKind {
    /// Between two friends.
    Direct,
    /// With the AI conversation partner.
    Bot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    /// Written by a person.
    User,
    /// Written by the bot.
    Assistant,
}

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
            role: if m.role == "assistant" {
                MessageRole::Assistant
            } else {
                MessageRole::User
            },
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
        let kind = if c.kind == "bot" {
            ChatKind::Bot
        } else {
            ChatKind::Direct
        };
        let title = match (&c.title, &peer) {
            (Some(t), _) => t.clone(),
            (None, Some(p)) => p.display_name.clone(),
            (None, None) => String::new(),
        };
        Self {
            id: c.id,
            kind,
            title,
            peer,
            scenario_id: c.scenario_id,
            level: c.level.as_deref().and_then(Level::parse),
            last_message,
            unread_count,
            created_at: c.created_at.into(),
            updated_at: c.updated_at.into(),
        }
    }
}

page!(UserPage, User, "A page of users.");
page!(FriendPage, Friend, "A page of friends and friend requests.");
page!(ChatPage, Chat, "A page of chats, most recently active first.");
page!(MessagePage, Message, "A page of messages, newest first.");

/// Trims `value` and checks it is `min..=max` characters long.
pub fn trimmed(field: &'static str, value: &str, min: usize, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    let len = value.chars().count();
    if len < min || len > max {
        let what = if min == max {
            format!("{field} must be {min} characters")
        } else if len < min && min == 1 {
            format!("{field} must not be empty")
        } else {
            format!("{field} must be {min} to {max} characters long (after trimming spaces); it has {len}")
        };
        return Err(ApiError::validation(field, what));
    }
    Ok(value.to_owned())
}
