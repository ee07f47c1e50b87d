use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::{domain::kinds::MessageRole, entity::message};

/// Stores a message. In the same statement (the `messages_after_insert`
/// trigger) the chat becomes the most recently active, members who had hidden
/// it see it again, and it is marked read for its sender. On SQLite messages
/// posted at the same time are committed together (see `writer`).
pub async fn insert(
    db: &super::Db,
    chat_id: Uuid,
    sender_id: Option<Uuid>,
    role: MessageRole,
    content: String,
    feedback: Option<String>,
) -> Result<message::Model, DbErr> {
    insert_as(db, Uuid::now_v7(), chat_id, sender_id, role, content, feedback).await
}

/// Stores a message under an id chosen beforehand (one an `Idempotency-Key`
/// already names).
pub async fn insert_as(
    db: &super::Db,
    id: Uuid,
    chat_id: Uuid,
    sender_id: Option<Uuid>,
    role: MessageRole,
    content: String,
    feedback: Option<String>,
) -> Result<message::Model, DbErr> {
    let message = message::Model {
        id,
        chat_id,
        sender_id,
        role,
        content,
        feedback,
        created_at: super::now(),
        edited_at: None,
        seq: 0,
        reply_to_id: None,
    };
    insert_model(db, message).await
}

/// Stores `message` as it is (its `seq` is given in the same statement).
pub async fn insert_model(db: &super::Db, mut message: message::Model) -> Result<message::Model, DbErr> {
    message.seq = db.messages().insert(&message).await?;
    Ok(message)
}

/// The messages `ids` of the chat (those that still exist).
pub async fn in_chat(db: &impl ConnectionTrait, chat_id: Uuid, ids: &[Uuid]) -> Result<Vec<message::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    message::Entity::find()
        .filter(message::Column::Id.is_in(ids.iter().copied()))
        .filter(message::Column::ChatId.eq(chat_id))
        .all(db)
        .await
}

pub async fn find_in_chat(db: &impl ConnectionTrait, chat_id: Uuid, id: Uuid) -> Result<Option<message::Model>, DbErr> {
    message::Entity::find_by_id(id)
        .filter(message::Column::ChatId.eq(chat_id))
        .one(db)
        .await
}

/// Newest first, strictly before `before` (a `seq`) when given. Ordered by
/// `(chat_id, seq)` so that the database walks the `(chat_id, seq, sender_id)`
/// index: a page is one range of it.
pub async fn list(
    db: &impl ConnectionTrait,
    chat_id: Uuid,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<message::Model>, DbErr> {
    let mut query = message::Entity::find().filter(message::Column::ChatId.eq(chat_id));
    if let Some(before) = before {
        query = query.filter(message::Column::Seq.lt(before));
    }
    query
        .order_by_desc(message::Column::ChatId)
        .order_by_desc(message::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Oldest first, strictly after `after` (a `seq`): catching up. `seq` follows
/// commit order, so nothing can later appear below the last one returned.
pub async fn list_after(
    db: &impl ConnectionTrait,
    chat_id: Uuid,
    after: i64,
    limit: u64,
) -> Result<Vec<message::Model>, DbErr> {
    message::Entity::find()
        .filter(message::Column::ChatId.eq(chat_id))
        .filter(message::Column::Seq.gt(after))
        .order_by_asc(message::Column::ChatId)
        .order_by_asc(message::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// The bot's reply to the learner message `after`: the next message in the chat, if it is the bot's.
pub async fn reply_after(
    db: &impl ConnectionTrait,
    chat_id: Uuid,
    after: &message::Model,
) -> Result<Option<message::Model>, DbErr> {
    Ok(list_after(db, chat_id, after.seq, 1)
        .await?
        .into_iter()
        .next()
        .filter(|m| m.role == MessageRole::Assistant))
}

pub async fn edit(
    db: &impl ConnectionTrait,
    message: message::Model,
    content: String,
) -> Result<message::Model, DbErr> {
    let mut active: message::ActiveModel = message.into();
    active.content = Set(content);
    active.edited_at = Set(Some(super::now()));
    active.update(db).await
}

pub async fn delete(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    message::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
