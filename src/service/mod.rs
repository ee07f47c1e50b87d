//! The services: one per noun, the home of its rules. Each takes what it
//! needs (the database, the realtime publisher) rather than the whole state;
//! `api/` translates requests into calls here and results into responses.
pub mod chats;
pub mod friends;
pub mod idempotency;
pub mod messages;
pub mod presence;
pub mod tutor;
