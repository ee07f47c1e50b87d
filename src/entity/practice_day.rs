use sea_orm::entity::prelude::*;

/// One learner's practice on one day, as counters.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "practice_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// `YYYY-MM-DD` in the quota time zone.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    pub messages: i32,
    pub words: i32,
    /// Words in messages the tutor could check.
    pub checked_words: i32,
    pub mistakes: i32,
    /// The learner's daily goal when they last practised that day.
    pub goal: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
