//! Server-to-client WebSocket events, one JSON object per text frame, named by
//! their `type`. Built from the domain's types, so an event carries exactly
//! what the REST API shows for the same thing.
use serde::Serialize;
use uuid::Uuid;

use crate::domain::{
    chat::{ChatMember, Message, PeerCorrection},
    people::Friend,
};

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type")]
pub enum Event {
    #[serde(rename = "message.created")]
    MessageCreated { chat_id: Uuid, message: Message },
    #[serde(rename = "message.updated")]
    MessageUpdated { chat_id: Uuid, message: Message },
    #[serde(rename = "message.deleted")]
    MessageDeleted { chat_id: Uuid, message_id: Uuid },
    #[serde(rename = "typing")]
    Typing { chat_id: Uuid, user_id: Uuid },
    #[serde(rename = "presence")]
    Presence { user_id: Uuid, online: bool },
    /// `user_id` read everything up to `message_id` (`seq`).
    #[serde(rename = "read")]
    Read {
        chat_id: Uuid,
        user_id: Uuid,
        message_id: Uuid,
        seq: i64,
    },
    /// A friendship changed; `removed` when it (or the request) no longer exists.
    #[serde(rename = "friend")]
    Friend {
        friend: Friend,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        removed: bool,
    },
    /// Someone joined a group (added by a member), or the caller joined a
    /// lounge; the new member gets it too.
    #[serde(rename = "member.joined")]
    MemberJoined { chat_id: Uuid, member: ChatMember },
    /// Someone left or was removed; the person who left gets it too (the chat
    /// is no longer theirs). `new_owner_id`: who took over when the owner left;
    /// `chat_deleted`: the last member left a group.
    #[serde(rename = "member.left")]
    MemberLeft {
        chat_id: Uuid,
        user_id: Uuid,
        new_owner_id: Option<Uuid>,
        chat_deleted: bool,
    },
    /// A group was renamed.
    #[serde(rename = "chat.renamed")]
    ChatRenamed { chat_id: Uuid, title: String },
    /// A member corrected a message (or replaced their correction, or the
    /// author thanked them).
    #[serde(rename = "message.corrected")]
    MessageCorrected { chat_id: Uuid, correction: PeerCorrection },
    /// `user_id` added (`added`) or took back their `emoji` on a message.
    #[serde(rename = "message.reaction")]
    Reaction {
        chat_id: Uuid,
        message_id: Uuid,
        user_id: Uuid,
        emoji: String,
        added: bool,
    },
    /// How many of a lounge's members are online, when it changes (at most
    /// once a second), to the lounge's members.
    #[serde(rename = "lounge.online")]
    LoungeOnline { chat_id: Uuid, online_count: u64 },
    /// Events may have been missed: catch up with `GET /chats`, `GET /friends`
    /// and the open chat's messages.
    #[serde(rename = "resync")]
    Resync,
    #[serde(rename = "pong")]
    Pong,
}

impl Event {
    pub fn message_created(message: Message) -> Self {
        Self::MessageCreated {
            chat_id: message.chat_id,
            message,
        }
    }

    pub fn message_updated(message: Message) -> Self {
        Self::MessageUpdated {
            chat_id: message.chat_id,
            message,
        }
    }

    /// The frame's text.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("events serialize")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn events_are_tagged_by_type_and_removed_only_when_true() {
        let (chat, user) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(
            serde_json::to_value(Event::Typing {
                chat_id: chat,
                user_id: user
            })
            .unwrap(),
            json!({"type": "typing", "chat_id": chat, "user_id": user})
        );
        assert_eq!(Event::Resync.to_text(), r#"{"type":"resync"}"#);
        assert_eq!(Event::Pong.to_text(), r#"{"type":"pong"}"#);
    }
}
