//! The command line: `serve` (default), `migrate`, `openapi`, `admin promote`,
//! `model pull` and `model list`.
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
    /// Models for the built-in tutor (GGUF files in data/models).
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Download a GGUF model from the Hugging Face Hub into data/models,
    /// checking its SHA-256 (default: the recommended tutor model).
    Pull {
        /// Repository on the Hub, e.g. `bartowski/SmolLM2-1.7B-Instruct-GGUF`.
        #[arg(requires = "file")]
        repo: Option<String>,
        /// The `.gguf` file in that repository.
        file: Option<String>,
    },
    /// Show the models in data/models and which one the server would use.
    List,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Make a user an admin (admins can grant extra bot requests). There is no API for this.
    Promote {
        /// The user's username (any letter case).
        username: String,
    },
    /// Print a one-time link that lets the user choose a new password. It
    /// works for an hour, once; using it signs the account out everywhere.
    /// The link starts with PUBLIC_URL (default http://localhost:<port>).
    ResetLink {
        /// The user's username (any letter case).
        username: String,
    },
    /// Public rooms (lounges).
    Lounge {
        #[command(subcommand)]
        command: LoungeCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum LoungeCommand {
    /// Add a lounge anyone can join; prints its id.
    Create {
        /// Its title, 1..100 characters.
        name: String,
    },
}
