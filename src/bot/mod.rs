//! The AI conversation partner: scenarios, prompts, the LLM client (remote or
//! local), the tutor's
//! check of each learner message, the daily quota, and the exchange that ties
//! them together.
pub mod check;
pub mod client;
pub mod exchange;
pub mod local;
pub mod prompt;
pub mod provider;
pub mod quota;
pub mod recovery;
pub mod scenarios;
pub mod summary;
