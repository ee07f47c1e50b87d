use sea_orm::entity::prelude::*;

/// A unit of bot quota in flight: reserved, not yet settled or refunded.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bot_reservations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// The quota day (`YYYY-MM-DD`) the unit was taken from.
    pub day: String,
    /// The lease of the process answering it (see `db::lease`).
    pub owner: Uuid,
    /// The learner's turn it answers; `None` for a check or a review.
    pub message_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
