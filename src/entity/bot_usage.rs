use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bot_usage")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// `YYYY-MM-DD` in the quota time zone.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    pub used: i32,
    pub extra: i32,
    /// Reserved units (counted in `used`) whose answer has not finished.
    pub in_flight: i32,
    pub reserved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
