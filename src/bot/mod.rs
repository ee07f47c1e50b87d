//! The AI conversation partner: scenarios, prompts, the LLM client, feedback
//! parsing, the daily quota, and the exchange that ties them together.
pub mod client;
pub mod exchange;
pub mod feedback;
pub mod prompt;
pub mod quota;
pub mod scenarios;
