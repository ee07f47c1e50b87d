//! The objects of the public contract that are the API's own (credentials,
//! pages); the domain's words are re-exported from `crate::domain`.
use poem_openapi::Object;

pub use crate::domain::{
    chat::{Chat, ChatMember, Lounge, Message, PeerCorrection},
    feedback::{Correction, Feedback, FeedbackStatus, MistakeKind},
    kinds::{ChatKind, Level, MemberRole, MessageRole, MistakeSource, Role},
    people::{Friend, FriendStatus, Me, User},
};
use crate::error::ApiError;

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

impl From<crate::auth::sessions::Issued> for TokenPair {
    fn from(issued: crate::auth::sessions::Issued) -> Self {
        Self {
            access_token: issued.access_token,
            refresh_token: issued.refresh_token,
            token_type: "Bearer".into(),
            expires_in: issued.expires_in,
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
