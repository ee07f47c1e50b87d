//! Group commit of new messages on SQLite. SQLite has one writer, and each
//! commit appends every page it touched (the message, its indexes, the chat
//! and its members) to the write-ahead log, so posting one message per commit
//! spends most of its time writing the same pages again. Messages that arrive
//! while a commit is under way wait for the next one and go in together: one
//! multi-row `INSERT` (atomic on its own), one commit, one trip to the database
//! thread for the whole batch. Under no load a batch is one message, stored at
//! once; under load batches grow by themselves. PostgreSQL commits concurrent
//! transactions in parallel, so there each message is inserted directly.
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, Set};
use tokio::sync::{mpsc, oneshot};

use crate::entity::message;

/// Most messages in one commit (8 columns each, far under SQLite's limit of
/// bound values per statement).
const MAX_BATCH: usize = 256;

/// A message waiting for its commit.
#[derive(Debug)]
pub struct Pending {
    message: message::Model,
    done: oneshot::Sender<Result<(), DbErr>>,
}

/// Where new messages are written: batched (SQLite) or directly (PostgreSQL).
#[derive(Clone, Debug)]
pub enum MessageWriter {
    Batched(mpsc::Sender<Pending>),
    Direct(DatabaseConnection),
}

impl MessageWriter {
    /// Batches on `write`, the one-connection pool of SQLite's writer.
    pub fn batched(write: DatabaseConnection) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(commit_batches(write, rx));
        Self::Batched(tx)
    }

    /// Stores `message`; returns once it is committed.
    pub async fn insert(&self, message: &message::Model) -> Result<(), DbErr> {
        match self {
            Self::Direct(db) => {
                message::Entity::insert(active(message))
                    .exec_without_returning(db)
                    .await?;
                Ok(())
            }
            Self::Batched(queue) => {
                let (done, committed) = oneshot::channel();
                let pending = Pending {
                    message: message.clone(),
                    done,
                };
                queue.send(pending).await.map_err(|_| stopped())?;
                committed.await.map_err(|_| stopped())?
            }
        }
    }
}

fn stopped() -> DbErr {
    DbErr::Custom("the message writer has stopped".into())
}

fn active(m: &message::Model) -> message::ActiveModel {
    message::ActiveModel {
        id: Set(m.id),
        chat_id: Set(m.chat_id),
        sender_id: Set(m.sender_id),
        role: Set(m.role.clone()),
        content: Set(m.content.clone()),
        feedback: Set(m.feedback.clone()),
        created_at: Set(m.created_at),
        edited_at: Set(m.edited_at),
    }
}

async fn commit_batches(db: DatabaseConnection, mut queue: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let all = message::Entity::insert_many(batch.iter().map(|p| active(&p.message)))
            .exec_without_returning(&db)
            .await;
        match all {
            Ok(_) => batch.drain(..).for_each(|p| {
                let _ = p.done.send(Ok(()));
            }),
            // One bad row (its chat deleted meanwhile, say) fails the statement
            // and nothing of it is stored: each message then gets its own answer.
            Err(_) => {
                for p in batch.drain(..) {
                    let one = message::Entity::insert(active(&p.message))
                        .exec_without_returning(&db)
                        .await
                        .map(|_| ());
                    let _ = p.done.send(one);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectOptions, ConnectionTrait, Database, EntityTrait, PaginatorTrait};
    use uuid::Uuid;

    use super::*;

    async fn store() -> DatabaseConnection {
        let mut opt = ConnectOptions::new("sqlite::memory:");
        opt.max_connections(1).sqlx_logging(false);
        let db = Database::connect(opt).await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE messages (id uuid_text PRIMARY KEY, chat_id uuid_text NOT NULL, sender_id uuid_text,
             role TEXT NOT NULL, content TEXT NOT NULL, feedback TEXT, created_at TEXT NOT NULL, edited_at TEXT)",
        )
        .await
        .unwrap();
        db
    }

    fn message(id: Uuid, content: &str) -> message::Model {
        message::Model {
            id,
            chat_id: Uuid::nil(),
            sender_id: None,
            role: "user".into(),
            content: content.into(),
            feedback: None,
            created_at: chrono::Utc::now(),
            edited_at: None,
        }
    }

    #[tokio::test]
    async fn messages_posted_together_are_committed_together_and_a_bad_one_fails_alone() {
        let db = store().await;
        let writer = MessageWriter::batched(db.clone());
        let taken = Uuid::now_v7();
        writer.insert(&message(taken, "first")).await.unwrap();
        // All three wait in the queue before the writer runs: one batch, whose
        // statement fails on the repeated id; the other two are stored anyway.
        let batch = [
            message(Uuid::now_v7(), "a"),
            message(taken, "a repeated id"),
            message(Uuid::now_v7(), "c"),
        ];
        let (a, b, c) = tokio::join!(
            writer.insert(&batch[0]),
            writer.insert(&batch[1]),
            writer.insert(&batch[2])
        );
        assert!(a.is_ok() && c.is_ok(), "{a:?} {c:?}");
        assert!(b.is_err());
        assert_eq!(message::Entity::find().count(&db).await.unwrap(), 3);
        let stored = message::Entity::find_by_id(taken).one(&db).await.unwrap().unwrap();
        assert_eq!(stored.content, "first");
    }

    #[tokio::test]
    async fn a_burst_of_messages_is_stored_exactly_once() {
        let db = store().await;
        let writer = MessageWriter::batched(db.clone());
        let posts: Vec<_> = (0..600).map(|i| message(Uuid::now_v7(), &format!("#{i}"))).collect();
        let results = futures_util::future::join_all(posts.iter().map(|m| writer.insert(m))).await;
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(message::Entity::find().count(&db).await.unwrap(), 600);
    }
}
