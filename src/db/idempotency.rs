//! `Idempotency-Key`s of message posts: the first request with a key claims it,
//! later ones find what it stored.
use chrono::{DateTime, Utc};
use sea_orm::{
    prelude::Expr, sea_query::OnConflict, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::entity::idempotency_key::{ActiveModel, Column, Entity, Model};

/// How long a key is remembered.
pub const KEPT_FOR: chrono::Duration = chrono::Duration::hours(24);

/// Claims `key` for a post to `chat_id` whose message will have the id
/// `message_id`, by the process holding lease `owner`. `None`: this request
/// is the first; otherwise the row a request before it left, which may be
/// past its day if the purge (every minute) has not reached it yet: see
/// [`expired`].
pub async fn claim(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    key: &str,
    chat_id: Uuid,
    message_id: Uuid,
    owner: Uuid,
) -> Result<Option<Model>, DbErr> {
    let now = super::now();
    let inserted = Entity::insert(ActiveModel {
        user_id: Set(user_id),
        key: Set(key.to_owned()),
        chat_id: Set(chat_id),
        message_id: Set(Some(message_id)),
        created_at: Set(now),
        owner: Set(Some(owner)),
    })
    .on_conflict(
        OnConflict::columns([Column::UserId, Column::Key])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if inserted == 1 {
        return Ok(None);
    }
    Entity::find_by_id((user_id, key.to_owned())).one(db).await
}

/// Whether a key is past the day it is kept for.
pub fn expired(row: &Model) -> bool {
    row.created_at < super::now() - KEPT_FOR
}

/// Takes over a claim that is past its day, or whose first request stored
/// nothing that lasted (its process died): from now on it belongs to this
/// request, for `chat_id`, naming `message_id` and `owner`. `false` when
/// another request took it over first.
pub async fn take_over(
    db: &impl ConnectionTrait,
    prior: &Model,
    chat_id: Uuid,
    message_id: Uuid,
    owner: Uuid,
) -> Result<bool, DbErr> {
    let mut update = Entity::update_many()
        .col_expr(Column::ChatId, Expr::value(chat_id))
        .col_expr(Column::MessageId, Expr::value(message_id))
        .col_expr(Column::Owner, Expr::value(owner))
        .col_expr(Column::CreatedAt, Expr::value(super::now()))
        .filter(Column::UserId.eq(prior.user_id))
        .filter(Column::Key.eq(&prior.key))
        .filter(Column::CreatedAt.eq(prior.created_at));
    update = match prior.message_id {
        Some(id) => update.filter(Column::MessageId.eq(id)),
        None => update.filter(Column::MessageId.is_null()),
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// Forgets `key`: the request failed before storing its message
/// `message_id`, so a retry is new.
pub async fn release(db: &impl ConnectionTrait, user_id: Uuid, key: &str, message_id: Uuid) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Key.eq(key))
        .filter(Column::MessageId.eq(message_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets the key (if any) of `user_id`'s message `message_id`: the message
/// was removed again (a bot turn that got no reply), so a retry is new.
pub async fn forget_message(db: &impl ConnectionTrait, user_id: Uuid, message_id: Uuid) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::MessageId.eq(message_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes keys older than a day.
pub async fn purge(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(Entity::delete_many()
        .filter(Column::CreatedAt.lt(now - KEPT_FOR))
        .exec(db)
        .await?
        .rows_affected)
}
