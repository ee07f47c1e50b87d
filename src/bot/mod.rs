//! The AI conversation partner.
pub mod scenarios;
