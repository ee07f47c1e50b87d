use sea_orm::entity::prelude::*;

/// One learner's correction of another's message; one per corrector and message.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "peer_corrections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub message_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub corrector_id: Uuid,
    pub chat_id: Uuid,
    /// The message's author, whose notebook gets the corrections.
    pub author_id: Uuid,
    pub corrected_text: String,
    /// The corrector's note ('' when none).
    pub note: String,
    /// The tutor's diff of the message and `corrected_text` (JSON `[Correction]`).
    pub corrections: String,
    /// The author thanked the corrector.
    pub thanked: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
