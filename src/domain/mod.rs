//! The domain's vocabulary: values every layer speaks, owned by none of them.
//! Nothing here imports the API, the services, the bot or realtime; the
//! entities below it store these types.
pub mod chat;
pub mod feedback;
pub mod kinds;
pub mod lounge;
pub mod people;
pub mod practice;
pub mod progress;
pub mod quota;
pub mod review;
pub mod timestamp;
