//! sea-orm entities, one per table.
pub mod account_link;
pub mod bot_reservation;
pub mod bot_usage;
pub mod chat;
pub mod chat_member;
pub mod chat_review;
pub mod friendship;
pub mod idempotency_key;
pub mod message;
pub mod message_reaction;
pub mod mistake;
pub mod peer_correction;
pub mod practice_day;
pub mod refresh_token;
pub mod user;
