//! People as others see them, the caller's own profile, and friendships seen
//! from one side.
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use super::{
    kinds::{FriendshipState, Level, Role},
    practice::DailyGoal,
    timestamp::Timestamp,
};
use crate::entity::{friendship, user};

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
            role: u.role,
            level: u.level,
            daily_goal: DailyGoal::stored(u.daily_goal).get(),
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

impl Friend {
    /// `me`'s view of a friendship (or request) with `other`.
    pub fn seen_by(me: Uuid, row: &friendship::Model, other: User) -> Self {
        let status = match row.status {
            FriendshipState::Accepted => FriendStatus::Accepted,
            FriendshipState::Pending if row.requester_id == me => FriendStatus::Outgoing,
            FriendshipState::Pending => FriendStatus::Incoming,
        };
        Friend {
            user: other,
            status,
            since: row.accepted_at.unwrap_or(row.created_at).into(),
        }
    }
}
