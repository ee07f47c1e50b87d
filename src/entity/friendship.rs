use sea_orm::entity::prelude::*;

use crate::domain::kinds::FriendshipState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "friendships")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_low: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_high: Uuid,
    pub requester_id: Uuid,
    pub status: FriendshipState,
    pub created_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
}

impl Model {
    pub fn other(&self, me: Uuid) -> Uuid {
        if self.user_low == me {
            self.user_high
        } else {
            self.user_low
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
