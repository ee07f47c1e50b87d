//! The domain's closed sets of values. Each is one enum that the database
//! stores (as text, `DeriveActiveEnum`), the API shows (`Enum`) and the
//! realtime events carry (serde), so no layer spells them as string literals.
use poem_openapi::Enum;
use sea_orm::{prelude::StringLen, DeriveActiveEnum, EnumIter};

/// CEFR level of English, from beginner (A1) to mastery (C2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Enum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Level {
    #[sea_orm(string_value = "A1")]
    A1,
    #[sea_orm(string_value = "A2")]
    A2,
    #[sea_orm(string_value = "B1")]
    B1,
    #[sea_orm(string_value = "B2")]
    B2,
    #[sea_orm(string_value = "C1")]
    C1,
    #[sea_orm(string_value = "C2")]
    C2,
}

impl Level {
    /// The level a learner starts at when they do not say.
    pub const DEFAULT: Level = Level::B1;
}

/// What an account may do: `admin` may also manage the bot and other accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Enum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[sea_orm(string_value = "user")]
    User,
    #[sea_orm(string_value = "admin")]
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Enum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ChatKind {
    /// Between two friends.
    #[sea_orm(string_value = "direct")]
    Direct,
    /// With the AI conversation partner.
    #[sea_orm(string_value = "bot")]
    Bot,
    /// Between a creator and 2..49 of their friends, who may add their own.
    #[sea_orm(string_value = "group")]
    Group,
    /// A public room anyone may join (`GET /lounges`).
    #[sea_orm(string_value = "lounge")]
    Lounge,
}

impl ChatKind {
    /// Chats of people only, where several people talk (groups and lounges).
    pub fn is_room(self) -> bool {
        matches!(self, Self::Group | Self::Lounge)
    }
}

/// A member's standing in a group: the `owner` renames it and removes others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Enum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    #[sea_orm(string_value = "owner")]
    Owner,
    #[sea_orm(string_value = "member")]
    Member,
}

/// Who made a notebook entry: the tutor, or another learner's correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Enum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum MistakeSource {
    #[sea_orm(string_value = "tutor")]
    Tutor,
    #[sea_orm(string_value = "peer")]
    Peer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Enum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    /// Written by a person.
    #[sea_orm(string_value = "user")]
    User,
    /// Written by the bot.
    #[sea_orm(string_value = "assistant")]
    Assistant,
    /// A note of what happened in a group (someone joined, left, renamed it);
    /// `sender_id` is who did it.
    #[sea_orm(string_value = "system")]
    System,
}

impl MessageRole {
    /// The role's name in an OpenAI-style chat transcript.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
            Self::System => "system",
        }
    }
}

/// A friendship as stored: asked for, or agreed by both. (Each person sees a
/// pending one as `incoming` or `outgoing`: `people::FriendStatus`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum FriendshipState {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "accepted")]
    Accepted,
}

#[cfg(test)]
mod tests {
    use sea_orm::ActiveEnum;

    use super::*;

    #[test]
    fn stored_values_are_the_ones_earlier_releases_wrote() {
        assert_eq!(Level::C1.to_value(), "C1");
        assert_eq!(Role::Admin.to_value(), "admin");
        assert_eq!(ChatKind::Direct.to_value(), "direct");
        assert_eq!(MessageRole::Assistant.to_value(), "assistant");
        assert_eq!(FriendshipState::Pending.to_value(), "pending");
        assert_eq!(ChatKind::Lounge.to_value(), "lounge");
        assert_eq!(MemberRole::Owner.to_value(), "owner");
        assert_eq!(MistakeSource::Peer.to_value(), "peer");
        assert_eq!(MessageRole::System.to_value(), "system");
        assert_eq!(ChatKind::try_from_value(&"bot".to_owned()).unwrap(), ChatKind::Bot);
        assert!(Level::try_from_value(&"Z9".to_owned()).is_err());
    }
}
