//! Chats and their messages as members see them.
use poem_openapi::Object;
use uuid::Uuid;

use super::{
    feedback::Correction,
    feedback::Feedback,
    kinds::{ChatKind, Level, MemberRole, MessageRole},
    people::User,
    timestamp::Timestamp,
};
use crate::entity::{chat, message};

/// A chat message. `feedback` is set on bot replies: corrections of the
/// learner's message just before it; otherwise `null`. `reply_to` quotes the
/// message `reply_to_id` answers, in a chat's messages, a posted message and
/// its `message.created`; `null` when there is none or it was deleted (and in
/// the chat list).
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
    /// Other members' corrections of this message, oldest first (listed with a
    /// chat's messages; empty in the chat list and in `message.created`).
    pub peer_corrections: Vec<PeerCorrection>,
    /// The message this one answers (in the same chat), if any.
    #[oai(nullable)]
    pub reply_to_id: Option<Uuid>,
    #[oai(nullable)]
    pub reply_to: Option<Quote>,
    /// Reactions by emoji, with how many and whether the caller is among them
    /// (listed with a chat's messages; empty elsewhere).
    pub reactions: Vec<Reaction>,
}

/// The start of a message another one answers.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Quote {
    pub id: Uuid,
    #[oai(nullable)]
    pub sender_id: Option<Uuid>,
    /// Its first 200 characters.
    pub content: String,
}

impl Quote {
    /// Longest quoted text, in characters.
    pub const MAX_CHARS: usize = 200;

    pub fn of(m: &message::Model) -> Self {
        Self {
            id: m.id,
            sender_id: m.sender_id,
            content: m.content.chars().take(Self::MAX_CHARS).collect(),
        }
    }
}

/// The emoji people may react with.
pub const REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "😮", "🙏", "✅"];

/// How many reacted to a message with one emoji.
#[derive(Debug, Clone, Object, serde::Serialize, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: String,
    pub count: u64,
    /// The caller reacted with it.
    pub mine: bool,
}

/// What a chat has ever had besides messages, so a page of messages looks
/// only for what may be there (`chats.extras`, a bit set).
pub struct Extras;

impl Extras {
    pub const CORRECTIONS: i32 = 1;
    pub const REACTIONS: i32 = 2;
    pub const REPLIES: i32 = 4;
}

/// One member's correction of another member's message: what they would have
/// written, and the changes the tutor's diff finds between the two, each
/// quoting the author's words.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct PeerCorrection {
    pub chat_id: Uuid,
    pub message_id: Uuid,
    pub corrector_id: Uuid,
    /// The corrector's display name.
    pub corrector_name: String,
    pub corrected_text: String,
    /// The corrector's note ("" when none).
    pub note: String,
    pub corrections: Vec<Correction>,
    /// The author thanked the corrector.
    pub thanked: bool,
    pub created_at: Timestamp,
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
            peer_corrections: Vec::new(),
            reply_to_id: m.reply_to_id,
            reply_to: None,
            reactions: Vec::new(),
        }
    }
}

/// A conversation: with a friend (`direct`), with the bot (`bot`), in a group
/// of friends (`group`) or in a public lounge (`lounge`).
///
/// `peer` is the friend in a direct chat and `null` otherwise; `level` is the
/// CEFR level the bot speaks at (bot chats; `null` otherwise);
/// `last_message` is the newest message, if any; `my_role` is the caller's
/// role: `owner` of a group they made (or took over), else `member`.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Chat {
    pub id: Uuid,
    pub kind: ChatKind,
    /// Bot chats, groups and lounges: their title. Direct chats: the friend's display name.
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
    /// The display name of `last_message`'s author; `null` for the bot or no message.
    #[oai(nullable)]
    pub last_sender_name: Option<String>,
    /// Messages from others the caller has not marked read.
    pub unread_count: u64,
    /// How many people are in the chat (the caller included).
    pub member_count: u64,
    pub my_role: MemberRole,
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
            last_sender_name: None,
            unread_count,
            member_count: if c.kind == ChatKind::Direct { 2 } else { 1 },
            my_role: MemberRole::Member,
            created_at: c.created_at.into(),
            updated_at: c.updated_at.into(),
        }
    }

    /// With the members' count, the caller's role and the newest message's author.
    pub fn with_members(mut self, member_count: u64, my_role: MemberRole, last_sender_name: Option<String>) -> Self {
        self.member_count = member_count;
        self.my_role = my_role;
        self.last_sender_name = last_sender_name;
        self
    }
}

/// A member of a chat, as the members list shows them. The user's `online`
/// follows the one rule: shown for friends and oneself only.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct ChatMember {
    pub user: User,
    pub role: MemberRole,
    pub joined_at: Timestamp,
}

/// A public room: anyone may join it and talk to everyone in it.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Lounge {
    /// The lounge's chat: once joined, it is in `GET /chats` with `kind: "lounge"`.
    pub id: Uuid,
    pub title: String,
    pub member_count: u64,
    /// Members with the app open right now (counted, never listed).
    pub online_count: u64,
    /// Whether the caller is a member.
    pub joined: bool,
}
