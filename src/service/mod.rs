//! The services: one per noun, the home of its rules. Each takes what it
//! needs (the database, the realtime publisher, the profile cache) rather than
//! the whole state, except where the bot's exchange runs (posting to the bot,
//! taking over a dead turn's `Idempotency-Key`, the tutor's review), which
//! needs the bot, the quota, the limits and the lease together: that path
//! still takes `AppState`. `api/` translates requests into calls here and
//! results into responses.
pub mod chats;
pub mod corrections;
pub mod friends;
pub mod groups;
pub mod idempotency;
pub mod lounges;
pub mod messages;
pub mod presence;
pub mod tutor;
