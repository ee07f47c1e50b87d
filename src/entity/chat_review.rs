use sea_orm::entity::prelude::*;

/// The tutor's words of a practice chat's latest review.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chat_id: Uuid,
    /// The tutor's encouragement; `None` when its answer was not usable.
    pub went_well: Option<String>,
    /// The tutor's phrases to remember, a JSON array of strings.
    pub phrases: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
