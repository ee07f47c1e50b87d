//! Server-to-client WebSocket events, one JSON object per text frame.
use poem_openapi::types::ToJSON;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::api::types::{Friend, Message};

fn to_json(value: &impl ToJSON) -> Value {
    value.to_json().unwrap_or(Value::Null)
}

pub fn message_created(message: &Message) -> Value {
    json!({"type": "message.created", "chat_id": message.chat_id, "message": to_json(message)})
}

pub fn message_updated(message: &Message) -> Value {
    json!({"type": "message.updated", "chat_id": message.chat_id, "message": to_json(message)})
}

pub fn message_deleted(chat_id: Uuid, message_id: Uuid) -> Value {
    json!({"type": "message.deleted", "chat_id": chat_id, "message_id": message_id})
}

pub fn typing(chat_id: Uuid, user_id: Uuid) -> Value {
    json!({"type": "typing", "chat_id": chat_id, "user_id": user_id})
}

pub fn presence(user_id: Uuid, online: bool) -> Value {
    json!({"type": "presence", "user_id": user_id, "online": online})
}

pub fn read(chat_id: Uuid, user_id: Uuid, message_id: Uuid, seq: i64) -> Value {
    json!({"type": "read", "chat_id": chat_id, "user_id": user_id, "message_id": message_id, "seq": seq})
}

/// A friendship changed; `removed` when it (or the request) no longer exists.
pub fn friend(friend: &Friend, removed: bool) -> Value {
    let mut event = json!({"type": "friend", "friend": to_json(friend)});
    if removed {
        event["removed"] = json!(true);
    }
    event
}

/// Events may have been missed: catch up with `GET /chats`, `GET /friends` and
/// the open chat's messages.
pub fn resync() -> Value {
    json!({"type": "resync"})
}

pub fn pong() -> Value {
    json!({"type": "pong"})
}
