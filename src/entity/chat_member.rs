use sea_orm::entity::prelude::*;

use crate::domain::kinds::MemberRole;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chat_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub last_read_message_id: Option<Uuid>,
    /// The `seq` of `last_read_message_id` (0 before any): everything up to it is read.
    pub last_read_seq: i64,
    /// A direct chat the member deleted; shown again when a new message arrives.
    pub hidden: bool,
    pub joined_at: DateTimeUtc,
    /// The chat's `updated_at`, copied here by triggers so that a member's chat
    /// list is one ordered index range.
    pub activity_at: DateTimeUtc,
    /// `owner` of a group, or `member`.
    pub role: MemberRole,
    /// Muted in a lounge until then.
    pub muted_until: Option<DateTimeUtc>,
    /// A lounge member's last four messages as hashes, newest last (the spam rule).
    pub recent_posts: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
