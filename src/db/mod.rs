//! Storage: connecting, migrating, and every query the handlers need.
//! Handlers never build queries; they call functions here.
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, SubsecRound, Utc};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend,
};

use crate::config::Settings;

pub mod chats;
pub mod corrections;
pub mod friends;
pub mod idempotency;
pub mod lease;
pub mod links;
pub mod messages;
pub mod progress;
pub mod quota;
pub mod reactions;
pub mod reviews;
pub mod tokens;
pub mod users;
pub mod writer;

/// Database handles. On SQLite all writes go through a one-connection pool, so
/// write transactions never fail with "database is locked"; reads use their own
/// pool (WAL lets them run beside the writer). On PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    read: DatabaseConnection,
    write: DatabaseConnection,
    messages: writer::MessageWriter,
}

impl Db {
    pub async fn connect(settings: &Settings) -> anyhow::Result<Self> {
        if settings.is_sqlite() {
            ensure_sqlite_dir(&settings.database_url)?;
            let write = connect_one(settings, 1).await?;
            // Each SQLite connection is a thread of its own doing CPU work, never
            // waiting on a network: more readers than twice the cores only
            // add switching between them (bench/throughput.sh).
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
            let readers = settings.database_max_connections.clamp(1, 2 * cores);
            let read = connect_one(settings, readers).await?;
            Ok(Self {
                read,
                messages: writer::MessageWriter::batched(write.clone()),
                write,
            })
        } else {
            if let Some(schema) = &settings.database_schema {
                create_schema(settings, schema).await?;
            }
            let conn = connect_one(settings, settings.database_max_connections).await?;
            Ok(Self {
                read: conn.clone(),
                messages: writer::MessageWriter::batched(conn.clone()),
                write: conn,
            })
        }
    }

    /// The pool for queries that only read.
    pub fn r(&self) -> &DatabaseConnection {
        &self.read
    }

    /// The pool for anything that writes (and for transactions).
    pub fn w(&self) -> &DatabaseConnection {
        &self.write
    }

    /// Where new messages are written (in batches: group commit).
    pub fn messages(&self) -> &writer::MessageWriter {
        &self.messages
    }

    pub fn backend(&self) -> DbBackend {
        self.write.get_database_backend()
    }

    /// Applies pending migrations. On PostgreSQL, instances that start together
    /// take turns under an advisory lock (sea-orm-migration has no lock of its
    /// own); SQLite is a single instance's embedded store.
    pub async fn migrate(&self, settings: &Settings) -> anyhow::Result<()> {
        if self.backend() != DbBackend::Postgres {
            return Migrator::up(self.w(), None).await.context("running migrations");
        }
        let key = migration_lock_key(settings.database_schema.as_deref().unwrap_or("public"));
        let lock = connect_one(settings, 1).await?;
        lock.execute_unprepared(&format!("SELECT pg_advisory_lock({key})"))
            .await?;
        let result = Migrator::up(self.w(), None).await.context("running migrations");
        let _ = lock
            .execute_unprepared(&format!("SELECT pg_advisory_unlock({key})"))
            .await;
        let _ = lock.close().await;
        result
    }

    pub async fn ping(&self) -> bool {
        self.read.ping().await.is_ok()
    }

    pub async fn close(self) {
        let _ = self.read.close().await;
        let _ = self.write.close().await;
    }
}

async fn connect_one(settings: &Settings, max: u32) -> anyhow::Result<DatabaseConnection> {
    let mut opt = ConnectOptions::new(settings.database_url.clone());
    opt.max_connections(max)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        // A ping before every use doubled the round trips of a request; only a
        // connection idle this long (one a restarted server may have dropped) is checked.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .create_if_missing(true)
        });
    if let Some(schema) = &settings.database_schema {
        opt.set_schema_search_path(schema.clone());
    }
    Database::connect(opt)
        .await
        .with_context(|| format!("connecting to the database ({})", redact_url(&settings.database_url)))
}

async fn create_schema(settings: &Settings, schema: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !schema.is_empty() && schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "DATABASE_SCHEMA may only hold letters, digits and _"
    );
    let conn = Database::connect(
        ConnectOptions::new(settings.database_url.clone())
            .sqlx_logging(false)
            .to_owned(),
    )
    .await
    .with_context(|| format!("connecting to the database ({})", redact_url(&settings.database_url)))?;
    let created = conn
        .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
        .await;
    match created {
        Ok(_) => {}
        // Two instances racing: IF NOT EXISTS can still collide; the schema exists.
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {}
        Err(e) => return Err(e.into()),
    }
    conn.close().await?;
    Ok(())
}

/// The file of a SQLite URL; `None` for an in-memory database.
fn sqlite_file(url: &str) -> Option<&str> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then_some(path)
}

fn ensure_sqlite_dir(url: &str) -> anyhow::Result<()> {
    let Some(path) = sqlite_file(url) else {
        return Ok(());
    };
    if let Some(dir) = std::path::Path::new(path).parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }
    Ok(())
}

/// A stable advisory-lock id per schema (FNV-1a of its name).
fn migration_lock_key(schema: &str) -> i64 {
    let hash = format!("chattconnect:migrate:{schema}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Hides the password in a database URL so it can be logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Current time at microsecond precision, the finest both databases keep, so a
/// value read back compares equal to the one written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/chat"),
            "postgres://app:***@db:5432/chat"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
