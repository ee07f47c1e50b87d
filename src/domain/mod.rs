//! The domain's vocabulary: values every layer speaks, owned by none of them.
//! Nothing here imports the API, the database or the bot.
pub mod feedback;
pub mod practice;
pub mod review;
