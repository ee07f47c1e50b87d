use sea_orm::entity::prelude::*;

use crate::domain::kinds::MessageRole;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub chat_id: Uuid,
    /// `None` for the bot.
    pub sender_id: Option<Uuid>,
    pub role: MessageRole,
    pub content: String,
    /// JSON-encoded feedback on bot replies.
    pub feedback: Option<String>,
    pub created_at: DateTimeUtc,
    pub edited_at: Option<DateTimeUtc>,
    /// The message's place in its chat: numbered in commit order when stored
    /// (see migration 16), never reused.
    pub seq: i64,
    /// The message this one answers, in the same chat (it may since be deleted).
    pub reply_to_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
