//! Group commit of new messages. Messages that arrive while a commit is under
//! way wait for the next one and go in together: one multi-row `INSERT`
//! (atomic on its own), one commit, one round trip for the whole batch. Under
//! no load a batch is one message, stored at once; under load batches grow by
//! themselves.
//!
//! - SQLite has one writer, and each commit appends every page it touched (the
//!   message, its indexes, the chat and its members) to the write-ahead log, so
//!   one message per commit spends most of its time writing the same pages again.
//! - PostgreSQL numbers each message under its chat's row lock, held until the
//!   commit: posts to one chat queue behind each other's commit (and its
//!   flush to disk), and every post is a transaction's worth of work for the
//!   server. A batch is one statement and one flush for many posts. Its rows are
//!   sorted by chat, so two statements that lock several chats lock them in the
//!   same order.
//!
//! A row that fails (its chat deleted meanwhile, say) fails the statement and
//! nothing of it is stored: each message of that batch is then written on its
//! own, so only the bad one fails.
use std::{collections::HashMap, sync::Arc};

use sea_orm::{
    sea_query::{Expr, ExprTrait, Query, QueryStatementBuilder, SimpleExpr},
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityName, Iden, Value,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::entity::{chat, message};

/// Most messages in one commit (10 columns each, far under SQLite's limit of
/// bound values per statement).
const MAX_BATCH: usize = 256;

/// A message waiting for its commit; answered with its `seq`.
#[derive(Debug)]
pub struct Pending {
    message: message::Model,
    done: oneshot::Sender<Result<i64, DbErr>>,
}

/// Where new messages are written: a queue in front of the task that
/// commits them in batches.
#[derive(Clone, Debug)]
pub struct MessageWriter(mpsc::Sender<Pending>);

impl MessageWriter {
    /// Batches on `write`: SQLite's one-connection writer pool, or the PostgreSQL pool.
    pub fn batched(write: DatabaseConnection) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(commit_batches(write, rx));
        Self(tx)
    }

    /// Stores `message` (its `seq` is ignored); returns the `seq` it was
    /// given, once it is committed.
    pub async fn insert(&self, message: &message::Model) -> Result<i64, DbErr> {
        let (done, committed) = oneshot::channel();
        let pending = Pending {
            message: message.clone(),
            done,
        };
        self.0.send(pending).await.map_err(|_| stopped())?;
        committed.await.map_err(|_| stopped())?
    }
}

fn stopped() -> DbErr {
    DbErr::Custom("the message writer has stopped".into())
}

/// The batch on PostgreSQL: the rows as arrays, one of each column, so the
/// statement's text is the same for every batch size and each connection
/// prepares and plans it once. The trigger numbers each row, in the order of
/// the arrays, under its chat's row lock.
const POSTGRES_INSERT: &str = "INSERT INTO messages
    (id, chat_id, sender_id, role, content, feedback, created_at, edited_at, reply_to_id, seq)
SELECT id, chat_id, sender_id, role, content, feedback, created_at, edited_at, reply_to_id, 0
FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::varchar[], $5::text[], $6::text[],
            $7::timestamptz[], $8::timestamptz[], $9::uuid[])
    WITH ORDINALITY AS t(id, chat_id, sender_id, role, content, feedback, created_at, edited_at, reply_to_id, n)
ORDER BY n
RETURNING id, seq";

async fn store_postgres(db: &DatabaseConnection, messages: &[&message::Model]) -> Result<HashMap<Uuid, i64>, DbErr> {
    use sea_orm::ActiveEnum;
    let rows: Vec<(Uuid, i64)> = sea_orm::sqlx::query_as(POSTGRES_INSERT)
        .bind(messages.iter().map(|m| m.id).collect::<Vec<_>>())
        .bind(messages.iter().map(|m| m.chat_id).collect::<Vec<_>>())
        .bind(messages.iter().map(|m| m.sender_id).collect::<Vec<_>>())
        .bind(messages.iter().map(|m| m.role.to_value()).collect::<Vec<_>>())
        .bind(messages.iter().map(|m| m.content.clone()).collect::<Vec<_>>())
        .bind(messages.iter().map(|m| m.feedback.clone()).collect::<Vec<_>>())
        .bind(messages.iter().map(|m| m.created_at).collect::<Vec<_>>())
        .bind(messages.iter().map(|m| m.edited_at).collect::<Vec<_>>())
        .bind(messages.iter().map(|m| m.reply_to_id).collect::<Vec<_>>())
        .fetch_all(db.get_postgres_connection_pool())
        .await
        .map_err(|e| DbErr::Query(sea_orm::RuntimeErr::SqlxError(Arc::new(e))))?;
    Ok(rows.into_iter().collect())
}

/// One `INSERT` of `messages`, answering each one's `seq` by id. On SQLite
/// (one writer) the statement numbers them itself: the chat's `last_seq` plus
/// the row's place among this statement's rows of that chat.
async fn store(db: &DatabaseConnection, messages: &[&message::Model]) -> Result<HashMap<Uuid, i64>, DbErr> {
    use message::Column as C;
    if db.get_database_backend() == DbBackend::Postgres {
        return store_postgres(db, messages).await;
    }
    let mut insert = Query::insert();
    insert
        .into_table(message::Entity.table_ref())
        .columns([
            C::Id,
            C::ChatId,
            C::SenderId,
            C::Role,
            C::Content,
            C::Feedback,
            C::CreatedAt,
            C::EditedAt,
            C::ReplyToId,
            C::Seq,
        ])
        .returning(Query::returning().columns([C::Id, C::Seq]));
    let mut place: HashMap<Uuid, i64> = HashMap::new();
    for m in messages {
        let nth = place.entry(m.chat_id).or_default();
        *nth += 1;
        let last = Query::select()
            .column(chat::Column::LastSeq)
            .from(chat::Entity)
            .and_where(Expr::col(chat::Column::Id).eq(m.chat_id))
            .to_owned();
        let seq = SimpleExpr::SubQuery(None, Box::new(last.into_sub_query_statement())).add(*nth);
        let values: [SimpleExpr; 9] = [
            m.id.into(),
            m.chat_id.into(),
            m.sender_id.into(),
            m.role.into(),
            m.content.clone().into(),
            m.feedback.clone().into(),
            m.created_at.into(),
            Value::from(m.edited_at).into(),
            m.reply_to_id.into(),
        ];
        insert
            .values(values.into_iter().chain([seq]))
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    let rows = db.query_all(&insert).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("", &C::Id.to_string())?,
                row.try_get("", &C::Seq.to_string())?,
            ))
        })
        .collect()
}

async fn commit_batches(db: DatabaseConnection, mut queue: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        if postgres {
            // Stable: a chat's messages keep their order of arrival.
            batch.sort_by_key(|p| p.message.chat_id);
        }
        let all = store(&db, &batch.iter().map(|p| &p.message).collect::<Vec<_>>()).await;
        match all {
            Ok(seqs) => batch.drain(..).for_each(|p| {
                let seq = seqs.get(&p.message.id).copied().ok_or_else(|| DbErr::RecordNotInserted);
                let _ = p.done.send(seq);
            }),
            // One bad row (its chat deleted meanwhile, say) fails the statement
            // and nothing of it is stored: each message then gets its own answer.
            Err(_) => {
                for p in batch.drain(..) {
                    let one = store(&db, &[&p.message]).await.map(|seqs| seqs[&p.message.id]);
                    let _ = p.done.send(one);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use migrations::{Migrator, MigratorTrait};
    use sea_orm::{ConnectOptions, Database, EntityTrait, PaginatorTrait};
    use uuid::Uuid;

    use super::*;

    /// A migrated database and an empty chat in it.
    async fn chat_database() -> (DatabaseConnection, Uuid) {
        let mut opt = ConnectOptions::new("sqlite::memory:");
        opt.max_connections(1).sqlx_logging(false);
        let db = Database::connect(opt).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let chat = crate::db::chats::create(&db, crate::domain::kinds::ChatKind::Bot, None, None, None, &[])
            .await
            .unwrap();
        (db, chat.id)
    }

    fn message(chat_id: Uuid, id: Uuid, content: &str) -> message::Model {
        message::Model {
            reply_to_id: None,
            id,
            chat_id,
            sender_id: None,
            role: crate::domain::kinds::MessageRole::User,
            content: content.into(),
            feedback: None,
            created_at: chrono::Utc::now(),
            edited_at: None,
            seq: 0,
        }
    }

    /// A migrated PostgreSQL schema of its own (`TEST_DATABASE_URL`) and an empty chat in it.
    async fn postgres_chat_database() -> (DatabaseConnection, Uuid) {
        let url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL is set");
        let settings = crate::config::Settings {
            database_url: url,
            database_schema: Some(format!("w_{}", Uuid::now_v7().simple())),
            database_max_connections: 4,
            ..Default::default()
        };
        let db = crate::db::Db::connect(&settings).await.unwrap();
        db.migrate(&settings).await.unwrap();
        let chat = crate::db::chats::create(db.w(), crate::domain::kinds::ChatKind::Bot, None, None, None, &[])
            .await
            .unwrap();
        (db.w().clone(), chat.id)
    }

    #[tokio::test]
    async fn messages_posted_together_are_committed_together_and_a_bad_one_fails_alone() {
        let (db, chat) = chat_database().await;
        a_bad_message_fails_alone(db, chat).await;
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL (TEST_DATABASE_URL); CI's PostgreSQL pass runs it"]
    async fn on_postgresql_messages_posted_together_are_committed_together_and_a_bad_one_fails_alone() {
        let (db, chat) = postgres_chat_database().await;
        a_bad_message_fails_alone(db, chat).await;
    }

    async fn a_bad_message_fails_alone(db: DatabaseConnection, chat: Uuid) {
        let writer = MessageWriter::batched(db.clone());
        let taken = Uuid::now_v7();
        assert_eq!(writer.insert(&message(chat, taken, "first")).await.unwrap(), 1);
        // All three wait in the queue before the writer runs: one batch, whose
        // statement fails on the repeated id; the other two are stored anyway,
        // numbered next, and the failed one uses no number.
        let batch = [
            message(chat, Uuid::now_v7(), "a"),
            message(chat, taken, "a repeated id"),
            message(chat, Uuid::now_v7(), "c"),
        ];
        let (a, b, c) = tokio::join!(
            writer.insert(&batch[0]),
            writer.insert(&batch[1]),
            writer.insert(&batch[2])
        );
        assert_eq!((a.unwrap(), c.unwrap()), (2, 3));
        assert!(b.is_err());
        assert_eq!(message::Entity::find().count(&db).await.unwrap(), 3);
        let stored = message::Entity::find_by_id(taken).one(&db).await.unwrap().unwrap();
        assert_eq!(stored.content, "first");
    }

    #[tokio::test]
    async fn a_burst_of_messages_is_stored_exactly_once_and_numbered_without_gaps_per_chat() {
        let (db, chat) = chat_database().await;
        a_burst_is_numbered_without_gaps(db, chat).await;
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL (TEST_DATABASE_URL); CI's PostgreSQL pass runs it"]
    async fn on_postgresql_a_burst_of_messages_is_stored_exactly_once_and_numbered_without_gaps_per_chat() {
        let (db, chat) = postgres_chat_database().await;
        a_burst_is_numbered_without_gaps(db, chat).await;
    }

    /// 600 posts at once over two chats: each stored once, each chat numbered
    /// 1, 2, ... without gaps, and the chat's `last_seq` follows.
    async fn a_burst_is_numbered_without_gaps(db: DatabaseConnection, chat: Uuid) {
        let other = crate::db::chats::create(&db, crate::domain::kinds::ChatKind::Bot, None, None, None, &[])
            .await
            .unwrap()
            .id;
        let writer = MessageWriter::batched(db.clone());
        let posts: Vec<_> = (0..600)
            .map(|i| message(if i % 3 == 0 { other } else { chat }, Uuid::now_v7(), &format!("#{i}")))
            .collect();
        let seqs = futures_util::future::join_all(posts.iter().map(|m| writer.insert(m))).await;
        let seqs: Vec<i64> = seqs.into_iter().map(Result::unwrap).collect();
        for chat_id in [chat, other] {
            let mut numbered: Vec<i64> = posts
                .iter()
                .zip(&seqs)
                .filter(|(m, _)| m.chat_id == chat_id)
                .map(|(_, &seq)| seq)
                .collect();
            numbered.sort_unstable();
            let expected: Vec<i64> = (1..=numbered.len() as i64).collect();
            assert_eq!(
                numbered, expected,
                "each chat's messages are numbered 1, 2, ... once each"
            );
            let stored = crate::entity::chat::Entity::find_by_id(chat_id)
                .one(&db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(stored.last_seq, numbered.len() as i64);
        }
        assert_eq!(message::Entity::find().count(&db).await.unwrap(), 600);
    }
}
