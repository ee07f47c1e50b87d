//! Database migrations for ChattConnect, portable to SQLite and PostgreSQL.
pub use sea_orm_migration::prelude::*;

mod m20261121_000001_users;
mod m20261121_000002_refresh_tokens;
mod m20261121_000003_friendships;
mod m20261121_000004_chats;
mod m20261121_000005_messages;
mod m20261121_000006_bot_usage;
mod m20261122_000007_bot_usage_in_flight;
mod m20261122_000008_user_search;
mod m20261122_000009_unread_index;
mod m20261122_000010_practice;
mod m20261122_000011_idempotency_keys;
mod m20261202_000012_message_trigger;
mod m20261202_000013_chat_list_order;
mod m20261206_000014_leases;
mod m20261206_000015_chat_reviews;
mod m20261206_000016_message_seq;
mod m20261206_000017_goals_and_review;
mod m20261206_000018_account_links;
mod m20261207_000019_groups_and_lounges;

pub use m20261207_000019_groups_and_lounges::LOUNGES;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_users::Migration),
            Box::new(m20261121_000002_refresh_tokens::Migration),
            Box::new(m20261121_000003_friendships::Migration),
            Box::new(m20261121_000004_chats::Migration),
            Box::new(m20261121_000005_messages::Migration),
            Box::new(m20261121_000006_bot_usage::Migration),
            Box::new(m20261122_000007_bot_usage_in_flight::Migration),
            Box::new(m20261122_000008_user_search::Migration),
            Box::new(m20261122_000009_unread_index::Migration),
            Box::new(m20261122_000010_practice::Migration),
            Box::new(m20261122_000011_idempotency_keys::Migration),
            Box::new(m20261202_000012_message_trigger::Migration),
            Box::new(m20261202_000013_chat_list_order::Migration),
            Box::new(m20261206_000014_leases::Migration),
            Box::new(m20261206_000015_chat_reviews::Migration),
            Box::new(m20261206_000016_message_seq::Migration),
            Box::new(m20261206_000017_goals_and_review::Migration),
            Box::new(m20261206_000018_account_links::Migration),
            Box::new(m20261207_000019_groups_and_lounges::Migration),
        ]
    }
}
