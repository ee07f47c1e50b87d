//! The command line: `serve` (default), `migrate`, `openapi`, `admin promote`.
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "chattconnect",
    version,
    about = "ChattConnect: practise English conversation with friends and an AI partner."
)]
pub struct Cli {
    /// TOML settings file (default: ./chattconnect.toml if it exists).
    /// Environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default). Migrations run first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI spec (JSON) to standard output.
    Openapi,
    /// Administrative tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Make a user an admin (admins can grant extra bot requests). There is no API for this.
    Promote {
        /// The user's username (any letter case).
        username: String,
    },
}
