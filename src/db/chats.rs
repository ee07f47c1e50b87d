use chrono::{DateTime, Utc};
use sea_orm::{
    prelude::Expr, sea_query::Query, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::entity::{chat, chat_member, message};

pub const DIRECT: &str = "direct";
pub const BOT: &str = "bot";

/// The key that makes a pair of users share at most one direct chat.
pub fn direct_key(a: Uuid, b: Uuid) -> String {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    format!("{low}:{high}")
}

pub async fn find_direct(db: &impl ConnectionTrait, a: Uuid, b: Uuid) -> Result<Option<chat::Model>, DbErr> {
    chat::Entity::find()
        .filter(chat::Column::DirectKey.eq(direct_key(a, b)))
        .one(db)
        .await
}

/// Creates a chat and its members in one transaction.
pub async fn create<C: TransactionTrait>(
    db: &C,
    kind: &str,
    title: Option<String>,
    scenario_id: Option<String>,
    level: Option<String>,
    members: &[Uuid],
) -> Result<chat::Model, DbErr> {
    let now = super::now();
    let direct = (kind == DIRECT && members.len() == 2).then(|| direct_key(members[0], members[1]));
    let txn = db.begin().await?;
    let chat = chat::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind.to_owned()),
        title: Set(title),
        scenario_id: Set(scenario_id),
        level: Set(level),
        direct_key: Set(direct),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    for &user_id in members {
        chat_member::ActiveModel {
            chat_id: Set(chat.id),
            user_id: Set(user_id),
            last_read_message_id: Set(None),
            hidden: Set(false),
            joined_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(chat)
}

/// The chat and the caller's membership, or `None` when the caller is not a member.
pub async fn membership(
    db: &impl ConnectionTrait,
    chat_id: Uuid,
    user_id: Uuid,
) -> Result<Option<(chat::Model, chat_member::Model)>, DbErr> {
    let Some(member) = chat_member::Entity::find_by_id((chat_id, user_id)).one(db).await? else {
        return Ok(None);
    };
    Ok(chat::Entity::find_by_id(chat_id)
        .one(db)
        .await?
        .map(|chat| (chat, member)))
}

pub async fn members(db: &impl ConnectionTrait, chat_id: Uuid) -> Result<Vec<chat_member::Model>, DbErr> {
    chat_member::Entity::find()
        .filter(chat_member::Column::ChatId.eq(chat_id))
        .all(db)
        .await
}

/// The caller's visible chats, most recently active first, after the cursor `after`.
pub async fn list_for(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<(chat::Model, chat_member::Model)>, DbErr> {
    let mine = Query::select()
        .column(chat_member::Column::ChatId)
        .from(chat_member::Entity)
        .and_where(chat_member::Column::UserId.eq(user_id))
        .and_where(chat_member::Column::Hidden.eq(false))
        .to_owned();
    let mut query = chat::Entity::find().filter(chat::Column::Id.in_subquery(mine));
    if let Some((at, id)) = after {
        query = query.filter(
            Condition::any().add(chat::Column::UpdatedAt.lt(at)).add(
                Condition::all()
                    .add(chat::Column::UpdatedAt.eq(at))
                    .add(chat::Column::Id.lt(id)),
            ),
        );
    }
    let chats = query
        .order_by_desc(chat::Column::UpdatedAt)
        .order_by_desc(chat::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = chats.iter().map(|c| c.id).collect();
    let mut members = chat_member::Entity::find()
        .filter(chat_member::Column::UserId.eq(user_id))
        .filter(chat_member::Column::ChatId.is_in(ids))
        .all(db)
        .await?;
    Ok(chats
        .into_iter()
        .filter_map(|chat| {
            let pos = members.iter().position(|m| m.chat_id == chat.id)?;
            Some((chat, members.swap_remove(pos)))
        })
        .collect())
}

pub async fn set_hidden(db: &impl ConnectionTrait, chat_id: Uuid, user_id: Uuid, hidden: bool) -> Result<(), DbErr> {
    chat_member::Entity::update_many()
        .col_expr(chat_member::Column::Hidden, Expr::value(hidden))
        .filter(chat_member::Column::ChatId.eq(chat_id))
        .filter(chat_member::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn update(
    db: &impl ConnectionTrait,
    chat: chat::Model,
    title: Option<String>,
    scenario_id: Option<String>,
    level: Option<String>,
) -> Result<chat::Model, DbErr> {
    let mut active: chat::ActiveModel = chat.into();
    if let Some(title) = title {
        active.title = Set(Some(title));
    }
    if let Some(scenario_id) = scenario_id {
        active.scenario_id = Set(Some(scenario_id));
    }
    if let Some(level) = level {
        active.level = Set(Some(level));
    }
    active.updated_at = Set(super::now());
    active.update(db).await
}

/// Deletes the chat; members and messages go with it (foreign keys cascade).
pub async fn delete(db: &impl ConnectionTrait, chat_id: Uuid) -> Result<(), DbErr> {
    chat::Entity::delete_by_id(chat_id).exec(db).await?;
    Ok(())
}

/// Messages in the chat that `user_id` did not send and has not read.
pub async fn unread_count(db: &impl ConnectionTrait, member: &chat_member::Model) -> Result<u64, DbErr> {
    let mut query = message::Entity::find()
        .filter(message::Column::ChatId.eq(member.chat_id))
        .filter(
            Condition::any()
                .add(message::Column::SenderId.is_null())
                .add(message::Column::SenderId.ne(member.user_id)),
        );
    if let Some(last_read) = member.last_read_message_id {
        query = query.filter(message::Column::Id.gt(last_read));
    }
    query.count(db).await
}

/// Moves the member's read marker forward to `message_id` (never backwards).
pub async fn mark_read(
    db: &impl ConnectionTrait,
    chat_id: Uuid,
    user_id: Uuid,
    message_id: Uuid,
) -> Result<bool, DbErr> {
    let result = chat_member::Entity::update_many()
        .col_expr(chat_member::Column::LastReadMessageId, Expr::value(message_id))
        .filter(chat_member::Column::ChatId.eq(chat_id))
        .filter(chat_member::Column::UserId.eq(user_id))
        .filter(
            Condition::any()
                .add(chat_member::Column::LastReadMessageId.is_null())
                .add(chat_member::Column::LastReadMessageId.lt(message_id)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
