use sea_orm::entity::prelude::*;

use crate::domain::kinds::{ChatKind, Level};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: ChatKind,
    pub title: Option<String>,
    pub scenario_id: Option<String>,
    pub level: Option<Level>,
    pub direct_key: Option<String>,
    pub created_at: DateTimeUtc,
    /// Last activity: creation, a new message, or a change to the chat.
    pub updated_at: DateTimeUtc,
    /// The newest message (greatest `seq`), kept by triggers; `None` while empty.
    pub last_message_id: Option<Uuid>,
    /// The `seq` of the newest message ever stored here (0 while empty).
    pub last_seq: i64,
    /// Which of corrections, reactions and replies the chat has ever had
    /// (`domain::chat::Extras`).
    pub extras: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
