//! Reactions to messages: one row per person, message and emoji.
use std::collections::HashMap;

use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
};
use uuid::Uuid;

use crate::{domain::chat::Reaction, entity::message_reaction};

/// Adds `user_id`'s `emoji` to the message; false when it was there already.
pub async fn add(
    db: &impl ConnectionTrait,
    chat_id: Uuid,
    message_id: Uuid,
    user_id: Uuid,
    emoji: &str,
) -> Result<bool, DbErr> {
    use message_reaction::Column as C;
    let row = message_reaction::ActiveModel {
        message_id: Set(message_id),
        user_id: Set(user_id),
        emoji: Set(emoji.to_owned()),
        chat_id: Set(chat_id),
        created_at: Set(super::now()),
    };
    let inserted = message_reaction::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([C::MessageId, C::UserId, C::Emoji])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// Takes `user_id`'s `emoji` off the message; false when it was not there.
pub async fn remove(db: &impl ConnectionTrait, message_id: Uuid, user_id: Uuid, emoji: &str) -> Result<bool, DbErr> {
    let result = message_reaction::Entity::delete_many()
        .filter(message_reaction::Column::MessageId.eq(message_id))
        .filter(message_reaction::Column::UserId.eq(user_id))
        .filter(message_reaction::Column::Emoji.eq(emoji))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

#[derive(Debug, FromQueryResult)]
struct Counted {
    message_id: Uuid,
    emoji: String,
    count: i64,
    /// 1 when the caller is among them (`MAX` of a 0/1 `CASE`: INT4 on PostgreSQL).
    mine: i32,
}

/// The reactions to the messages `ids` as `me` sees them, by message, each
/// message's in the order of [`crate::domain::chat::REACTIONS`]: one statement.
pub async fn of_messages(
    db: &impl ConnectionTrait,
    me: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Reaction>>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let r = message_reaction::Entity;
    let mine = Expr::case(Expr::col((r, message_reaction::Column::UserId)).eq(me), 1).finally(0);
    let query = Query::select()
        .columns([
            (r, message_reaction::Column::MessageId),
            (r, message_reaction::Column::Emoji),
        ])
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("count"))
        .expr_as(Expr::expr(mine).max(), Alias::new("mine"))
        .from(r)
        .and_where(Expr::col((r, message_reaction::Column::MessageId)).is_in(ids.iter().copied()))
        .group_by_columns([
            (r, message_reaction::Column::MessageId),
            (r, message_reaction::Column::Emoji),
        ])
        .to_owned();
    let rows = Counted::find_by_statement(db.get_database_backend().build(&query))
        .all(db)
        .await?;
    let mut by_message: HashMap<Uuid, Vec<Reaction>> = HashMap::new();
    for row in rows {
        by_message.entry(row.message_id).or_default().push(Reaction {
            emoji: row.emoji,
            count: Ord::max(row.count, 0) as u64,
            mine: row.mine > 0,
        });
    }
    let rank = |e: &str| {
        crate::domain::chat::REACTIONS
            .iter()
            .position(|r| *r == e)
            .unwrap_or(usize::MAX)
    };
    for list in by_message.values_mut() {
        list.sort_by_key(|r| rank(&r.emoji));
    }
    Ok(by_message)
}
