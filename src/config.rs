//! Settings: defaults < optional `chattconnect.toml` < environment variables.
use std::{fmt, net::SocketAddr, path::PathBuf};

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use serde::{Deserialize, Serialize};

/// A string that never shows up in logs or `Debug` output.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Everything the server can be configured with. Each field is also an
/// environment variable of the same name in upper case (`DATABASE_URL`, `BIND`, ...).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct Settings {
    /// `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    pub database_url: String,
    /// PostgreSQL only: the schema to use (created if missing).
    pub database_schema: Option<String>,
    pub database_max_connections: u32,
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Where the SQLite database and the generated JWT secret live.
    pub data_dir: PathBuf,
    /// HS256 key for access tokens; generated once under `data_dir` when unset.
    pub jwt_secret: Option<Secret>,
    pub jwt_issuer: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    /// `pretty` or `json`.
    pub log_format: String,
    /// Request body cap in bytes.
    pub max_body_bytes: usize,
    /// Time a client has to send a complete request head; idle keep-alive
    /// connections are closed after the same time.
    pub http_header_timeout_secs: u64,
    /// Time a client has to send a request body.
    pub http_body_timeout_secs: u64,
    /// Open connections at most (WebSockets included); lowered automatically to
    /// fit the open-file limit.
    pub max_connections: usize,
    pub username_min_len: usize,
    pub username_max_len: usize,
    pub password_min_len: usize,
    pub password_max_len: usize,
    pub display_name_max_len: usize,
    pub chat_title_max_len: usize,
    pub message_max_len: usize,

    /// OpenAI-compatible API base, e.g. `https://api.openai.com/v1` or
    /// `http://127.0.0.1:11434/v1` (Ollama). Unset: the local model below, if any.
    pub bot_base_url: Option<String>,
    /// A GGUF model file to run in this process when `bot_base_url` is unset.
    /// Unset: the first GGUF file in `data_dir/models` (`chattconnect model pull`
    /// puts one there). Neither: bot endpoints answer 503.
    pub bot_local_model: Option<PathBuf>,
    /// Threads the local model computes with; 0: every core (its threads run
    /// at a lower priority, so the web server's threads never wait for them).
    pub bot_local_threads: usize,
    /// Requests waiting for the local model at most; more are refused with
    /// `503 bot_busy` and `Retry-After`.
    pub bot_local_queue: usize,
    /// Requests the built-in model answers at once, in shared passes (a
    /// practice reply and the tutor's check of the same message).
    pub bot_local_parallel: usize,
    /// Where `chattconnect model pull` downloads from (a Hugging Face Hub mirror
    /// works too).
    pub hf_endpoint: String,
    /// A Hugging Face token, for gated repositories.
    pub hf_token: Option<Secret>,
    pub bot_api_key: Option<Secret>,
    pub bot_model: String,
    pub bot_connect_timeout_secs: u64,
    /// Time allowed until the model's first words.
    pub bot_first_token_timeout_secs: u64,
    /// Time allowed for the whole reply.
    pub bot_total_timeout_secs: u64,
    pub bot_max_tokens: u32,
    /// How many characters of recent chat history go into the prompt.
    pub bot_history_chars: usize,
    /// Bot requests per user per calendar day.
    pub bot_daily_limit: u32,
    /// IANA time zone whose midnight resets the daily quota.
    pub quota_timezone: String,

    /// Short-burst limits (per minute; 0 disables one).
    pub rate_login_per_ip: u32,
    pub rate_login_per_username: u32,
    pub rate_register_per_ip: u32,
    pub rate_bot_per_user: u32,
    pub rate_messages_per_user: u32,
    /// `POST /lint` calls (as the learner types, debounced).
    pub rate_lint_per_user: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// The service is reached over HTTPS (directly or through a proxy): send
    /// `Strict-Transport-Security`, so browsers never use plain HTTP for it again.
    pub behind_https: bool,
    /// The address people open the app at (e.g. `https://chat.example.com`),
    /// for links the server hands out (password resets). Default:
    /// `http://localhost:<port of BIND>`.
    pub public_url: Option<String>,
    /// Where to send e-mail (address confirmations, password reset links):
    /// `smtp://user:password@host:587` (STARTTLS), `smtps://...:465` (TLS),
    /// or `smtp://host:port` without TLS for a relay on this machine. None by
    /// default: no e-mail is sent, and resets go through `admin reset-link`.
    pub smtp_url: Option<Secret>,
    /// The sender of that e-mail.
    pub mail_from: String,
    /// Web origins (e.g. `https://app.example.com`) whose pages may call the
    /// API from a browser (CORS). None by default. In the environment, a
    /// comma-separated list.
    #[serde(deserialize_with = "origins")]
    pub cors_allowed_origins: Vec<String>,

    /// Redis for WebSocket events across instances, e.g. `redis://127.0.0.1:6379`.
    /// Unset: events stay within this instance.
    pub redis_url: Option<String>,
    /// Prefix of this deployment's Redis keys and channel.
    pub redis_prefix: String,
    /// Events queued per socket before a slow socket is dropped.
    pub ws_queue_capacity: usize,
    pub ws_ping_interval_secs: u64,
    /// A socket that sends nothing (not even a pong) for this long is closed.
    pub ws_idle_timeout_secs: u64,
    /// WebSockets one account may hold open on one instance; more are refused
    /// with close code 4008.
    pub ws_max_per_user: usize,
    /// WebSockets open on one instance at most.
    pub ws_max_connections: usize,
    /// How long a checked session, and a user's profile as `GET /me` and chat
    /// lists show it, stay trusted before they are looked up again. Revocations and profile
    /// changes on this instance take effect at once; on other instances within
    /// this time (or at once when they share Redis).
    pub session_cache_secs: u64,

    /// On SIGTERM: how long `/readyz` answers 503 (so a load balancer stops
    /// sending new work) while everything is still served, before the
    /// listener closes.
    pub shutdown_grace_secs: u64,
    /// After the listener closes: how long requests in flight (bot streams
    /// among them) may take to finish before the process exits anyway.
    pub shutdown_timeout_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/chattconnect.db?mode=rwc".into(),
            database_schema: None,
            database_max_connections: 10,
            bind: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from("data"),
            jwt_secret: None,
            jwt_issuer: "chattconnect".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 30,
            log_format: "pretty".into(),
            max_body_bytes: 64 * 1024,
            http_header_timeout_secs: 10,
            http_body_timeout_secs: 30,
            max_connections: 10_000,
            username_min_len: 3,
            username_max_len: 32,
            password_min_len: 8,
            password_max_len: 128,
            display_name_max_len: 64,
            chat_title_max_len: 100,
            message_max_len: 2000,
            bot_base_url: None,
            bot_local_model: None,
            bot_local_threads: 0,
            bot_local_queue: 8,
            bot_local_parallel: 2,
            hf_endpoint: "https://huggingface.co".into(),
            hf_token: None,
            bot_api_key: None,
            bot_model: "gpt-4o-mini".into(),
            bot_connect_timeout_secs: 5,
            bot_first_token_timeout_secs: 30,
            bot_total_timeout_secs: 120,
            bot_max_tokens: 400,
            bot_history_chars: 6000,
            bot_daily_limit: 5,
            quota_timezone: "UTC".into(),
            rate_login_per_ip: 20,
            rate_login_per_username: 10,
            rate_register_per_ip: 10,
            rate_bot_per_user: 10,
            rate_messages_per_user: 120,
            rate_lint_per_user: 300,
            trust_forwarded_for: false,
            behind_https: false,
            public_url: None,
            smtp_url: None,
            mail_from: "ChattConnect <noreply@localhost>".into(),
            cors_allowed_origins: Vec::new(),
            redis_url: None,
            redis_prefix: "chattconnect".into(),
            ws_queue_capacity: 256,
            ws_ping_interval_secs: 20,
            ws_idle_timeout_secs: 60,
            ws_max_per_user: 10,
            ws_max_connections: 10_000,
            session_cache_secs: 10,
            shutdown_grace_secs: 5,
            shutdown_timeout_secs: 30,
        }
    }
}

/// A list of origins, written as a TOML list or as one comma-separated string.
fn origins<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Origins {
        List(Vec<String>),
        Text(String),
    }
    let list = match Origins::deserialize(d)? {
        Origins::List(list) => list,
        Origins::Text(text) => text.split(',').map(str::to_owned).collect(),
    };
    Ok(list
        .into_iter()
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect())
}

/// The file read when `--config` is not given; it is optional.
pub const DEFAULT_CONFIG_FILE: &str = "chattconnect.toml";

impl Settings {
    /// Loads settings from defaults, then the TOML file (if it exists), then the environment.
    pub fn load(config_file: Option<PathBuf>) -> Result<Self, Box<figment::Error>> {
        let file = config_file.unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
        let keys: Vec<String> = serde_json::to_value(Settings::default())
            .ok()
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default();
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::raw().filter(move |k| keys.iter().any(|known| known.eq_ignore_ascii_case(k.as_str()))))
            .extract()
            .map_err(Box::new)
    }

    /// Where the app is, for links: `public_url`, or this machine at `bind`'s port.
    pub fn app_url(&self) -> String {
        match &self.public_url {
            Some(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
            _ => format!("http://localhost:{}", self.bind.port()),
        }
    }

    pub fn quota_tz(&self) -> anyhow::Result<chrono_tz::Tz> {
        self.quota_timezone
            .parse()
            .map_err(|_| anyhow::anyhow!("QUOTA_TIMEZONE '{}' is not an IANA time zone", self.quota_timezone))
    }

    /// Where `chattconnect model pull` puts models and the server looks for one.
    pub fn models_dir(&self) -> PathBuf {
        self.data_dir.join("models")
    }

    /// The local model's thread count, with 0 resolved to every core.
    pub fn local_threads(&self) -> usize {
        match self.bot_local_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let settings = Settings {
            jwt_secret: Some(Secret::new("hunter2-very-secret")),
            bot_api_key: Some(Secret::new("sk-live-hunter3")),
            smtp_url: Some(Secret::new("smtp://mailer:hunter4@mail.example.com:587")),
            ..Settings::default()
        };
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("hunter3"), "{printed}");
        assert!(!printed.contains("hunter4"), "{printed}");
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its large error type
    fn environment_overrides_file_and_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("c.toml", "bind = \"127.0.0.1:4000\"\nmessage_max_len = 10")?;
            jail.set_env("MESSAGE_MAX_LEN", "20");
            let s = Settings::load(Some("c.toml".into())).map_err(|e| *e)?;
            assert_eq!(s.bind.port(), 4000);
            assert_eq!(s.message_max_len, 20);
            assert_eq!(s.password_min_len, 8);
            Ok(())
        });
    }
}
