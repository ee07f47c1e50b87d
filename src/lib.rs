//! ChattConnect: practise English conversation with friends and an AI partner.
pub mod api;
pub mod auth;
pub mod bot;
pub mod cli;
pub mod config;
pub mod db;
pub mod entity;
pub mod error;
pub mod metrics;
pub mod ratelimit;
pub mod realtime;
pub mod startup;
pub mod state;
pub mod telemetry;
