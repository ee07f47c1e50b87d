use sea_orm::entity::prelude::*;

use crate::domain::kinds::{Level, Role};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    pub username_lower: String,
    pub display_name: String,
    /// `display_name` lower-cased, for prefix search.
    pub display_name_lower: String,
    pub password_hash: String,
    pub role: Role,
    pub level: Level,
    pub created_at: DateTimeUtc,
    /// Practice messages with the tutor per day the learner aims for.
    pub daily_goal: i32,
    /// An optional address for password reset links, lower-case.
    pub email: Option<String>,
    /// Whether the person confirmed `email` through a link sent to it.
    pub email_confirmed: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
