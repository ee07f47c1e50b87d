//! This process's lease: held for as long as the process lives and let go by
//! the operating system the moment it dies, however it dies (`kill -9`
//! included). Work a process claims in the database (an `Idempotency-Key`, a
//! unit of bot quota in flight) names its lease, so any instance can tell at
//! once whether the claim's owner is still there or its work will never finish.
//!
//! On PostgreSQL the lease is a session advisory lock held on a connection of
//! its own: the server drops it when that connection closes. On SQLite (one
//! machine) it is an exclusive lock on a file beside the database.
use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use sea_orm::{
    sqlx::{self, Connection},
    ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait,
};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::config::Settings;

/// The advisory lock class of leases (the first of the two-key form).
const LOCK_CLASS: i32 = 0x4343_4c45; // "CCLE"
/// How often the PostgreSQL lease's connection is checked (and re-made if lost).
const CHECK_EVERY: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Lease {
    id: Uuid,
    holder: Arc<Holder>,
}

enum Holder {
    /// Locked files live in this folder, one per process.
    File { dir: PathBuf, _file: std::fs::File },
    Postgres {
        url: String,
        conn: Mutex<Option<sqlx::PgConnection>>,
    },
    /// An in-memory SQLite database: no other process can see it.
    Alone,
}

/// The second key of a lease's advisory lock.
fn lock_key(id: Uuid) -> i32 {
    let b = id.as_bytes();
    i32::from_be_bytes([b[12], b[13], b[14], b[15]])
}

async fn lock(url: &str, id: Uuid) -> anyhow::Result<sqlx::PgConnection> {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .context("connecting for this process's lease")?;
    sqlx::query("SELECT pg_advisory_lock($1, $2)")
        .bind(LOCK_CLASS)
        .bind(lock_key(id))
        .execute(&mut conn)
        .await
        .context("taking this process's lease")?;
    Ok(conn)
}

/// The folder of SQLite leases: beside the database file.
fn lease_dir(url: &str) -> Option<PathBuf> {
    let mut dir = PathBuf::from(super::sqlite_file(url)?).into_os_string();
    dir.push(".leases");
    Some(PathBuf::from(dir))
}

impl Lease {
    /// Takes a new lease for this process.
    pub async fn acquire(settings: &Settings) -> anyhow::Result<Self> {
        let id = Uuid::now_v7();
        let holder = if settings.is_sqlite() {
            match lease_dir(&settings.database_url) {
                Some(dir) => {
                    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
                    let file = std::fs::File::create(dir.join(format!("{id}.lock")))?;
                    file.try_lock().context("locking this process's lease file")?;
                    Holder::File { dir, _file: file }
                }
                None => Holder::Alone,
            }
        } else {
            let url = settings.database_url.clone();
            let conn = lock(&url, id).await?;
            Holder::Postgres {
                url,
                conn: Mutex::new(Some(conn)),
            }
        };
        let lease = Self {
            id,
            holder: Arc::new(holder),
        };
        if matches!(*lease.holder, Holder::Postgres { .. }) {
            tokio::spawn(keep(Arc::downgrade(&lease.holder), id));
        }
        Ok(lease)
    }

    pub fn id(&self) -> Uuid {
        self.id
    }

    /// Whether the process holding lease `owner` is still running. A lease
    /// found dead stays dead: ids are never reused.
    pub async fn alive(&self, db: &DatabaseConnection, owner: Uuid) -> Result<bool, sea_orm::DbErr> {
        if owner == self.id {
            return Ok(true);
        }
        match &*self.holder {
            Holder::Alone => Ok(false),
            Holder::File { dir, .. } => {
                let path = dir.join(format!("{owner}.lock"));
                let Ok(file) = std::fs::File::open(&path) else {
                    return Ok(false);
                };
                match file.try_lock() {
                    Ok(()) => {
                        let _ = std::fs::remove_file(&path);
                        Ok(false)
                    }
                    Err(_) => Ok(true),
                }
            }
            Holder::Postgres { .. } => {
                // The lock is free only if its holder's session has ended; a
                // transaction-scoped try leaves nothing behind.
                let txn = db.begin().await?;
                let row = txn
                    .query_one_raw(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        "SELECT pg_try_advisory_xact_lock($1, $2) AS free",
                        [LOCK_CLASS.into(), lock_key(owner).into()],
                    ))
                    .await?;
                txn.commit().await?;
                let free: bool = row.map(|r| r.try_get("", "free")).transpose()?.unwrap_or(false);
                Ok(!free)
            }
        }
    }

    /// Lets go of the lease at a clean shutdown (a crash lets go by itself).
    pub async fn release(&self) {
        match &*self.holder {
            Holder::File { dir, .. } => {
                let _ = std::fs::remove_file(dir.join(format!("{}.lock", self.id)));
            }
            Holder::Postgres { conn, .. } => {
                if let Some(conn) = conn.lock().await.take() {
                    let _ = conn.close().await;
                }
            }
            Holder::Alone => {}
        }
    }
}

/// Keeps the PostgreSQL lease's connection alive, taking the lock again on a
/// new connection if it was lost (a database restart, say).
async fn keep(holder: std::sync::Weak<Holder>, id: Uuid) {
    let mut tick = tokio::time::interval(CHECK_EVERY);
    loop {
        tick.tick().await;
        let Some(holder) = holder.upgrade() else { return };
        let Holder::Postgres { url, conn } = &*holder else {
            return;
        };
        let mut conn = conn.lock().await;
        let Some(current) = conn.as_mut() else {
            return; // released
        };
        if current.ping().await.is_ok() {
            continue;
        }
        tracing::warn!("this process's lease connection was lost; taking the lease again");
        match lock(url, id).await {
            Ok(fresh) => *conn = Some(fresh),
            Err(e) => tracing::error!(error = %e, "could not take this process's lease again; retrying"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_lease_is_alive_while_held_and_dead_once_let_go() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            database_url: format!("sqlite://{}/db.sqlite?mode=rwc", dir.path().display()),
            ..Settings::default()
        };
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let first = Lease::acquire(&settings).await.unwrap();
        let second = Lease::acquire(&settings).await.unwrap();
        assert!(second.alive(&db, first.id()).await.unwrap());
        assert!(second.alive(&db, second.id()).await.unwrap(), "its own lease");
        assert!(!second.alive(&db, Uuid::now_v7()).await.unwrap(), "no such process");
        // A process that dies closes its file, which lets go of the lock.
        let id = first.id();
        drop(first);
        assert!(!second.alive(&db, id).await.unwrap());
    }
}
