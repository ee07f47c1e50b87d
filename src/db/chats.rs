use chrono::{DateTime, Utc};
use sea_orm::{
    prelude::Expr,
    sea_query::{ExprTrait, Query},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, Set,
    TransactionSession, TransactionTrait,
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

/// The chat and the caller's membership, or `None` when the caller is not a
/// member: one statement.
pub async fn membership(
    db: &impl ConnectionTrait,
    chat_id: Uuid,
    user_id: Uuid,
) -> Result<Option<(chat::Model, chat_member::Model)>, DbErr> {
    let mut query = member_select(user_id);
    query.and_where(Expr::col((chat_member::Entity, chat_member::Column::ChatId)).eq(chat_id));
    let row = MemberRow::find_by_statement(db.get_database_backend().build(&query))
        .one(db)
        .await?;
    Ok(row.map(|r| r.into_models(user_id)))
}

/// A chat as its member sees it in a list: the chat, their membership, the
/// newest message and how many messages from others they have not read.
#[derive(Debug, Clone)]
pub struct Listed {
    pub chat: chat::Model,
    pub member: chat_member::Model,
    pub last_message: Option<message::Model>,
    pub unread: u64,
}

/// Which chats to list.
#[derive(Debug, Clone, Copy)]
pub enum Listing {
    /// Visible chats, most recently active first, after the cursor, at most `limit`.
    Page {
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
    },
    /// One chat (hidden or not), if the user is a member.
    One(Uuid),
}

/// `SELECT chats.*, <the member's columns> FROM chat_members JOIN chats` for `user_id`.
fn member_select(user_id: Uuid) -> sea_orm::sea_query::SelectStatement {
    let mut query = Query::select();
    query
        .columns([
            (chat::Entity, chat::Column::Id),
            (chat::Entity, chat::Column::Kind),
            (chat::Entity, chat::Column::Title),
            (chat::Entity, chat::Column::ScenarioId),
            (chat::Entity, chat::Column::Level),
            (chat::Entity, chat::Column::DirectKey),
            (chat::Entity, chat::Column::CreatedAt),
            (chat::Entity, chat::Column::UpdatedAt),
        ])
        .columns([
            (chat_member::Entity, chat_member::Column::LastReadMessageId),
            (chat_member::Entity, chat_member::Column::Hidden),
            (chat_member::Entity, chat_member::Column::JoinedAt),
        ])
        .from(chat_member::Entity)
        .inner_join(
            chat::Entity,
            Expr::col((chat::Entity, chat::Column::Id)).equals((chat_member::Entity, chat_member::Column::ChatId)),
        )
        .and_where(Expr::col((chat_member::Entity, chat_member::Column::UserId)).eq(user_id));
    query
}

#[derive(Debug, FromQueryResult)]
struct MemberRow {
    id: Uuid,
    kind: String,
    title: Option<String>,
    scenario_id: Option<String>,
    level: Option<String>,
    direct_key: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_read_message_id: Option<Uuid>,
    hidden: bool,
    joined_at: DateTime<Utc>,
}

impl MemberRow {
    fn into_models(self, user_id: Uuid) -> (chat::Model, chat_member::Model) {
        (
            chat::Model {
                id: self.id,
                kind: self.kind,
                title: self.title,
                scenario_id: self.scenario_id,
                level: self.level,
                direct_key: self.direct_key,
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
            chat_member::Model {
                chat_id: self.id,
                user_id,
                last_read_message_id: self.last_read_message_id,
                hidden: self.hidden,
                joined_at: self.joined_at,
            },
        )
    }
}

#[derive(Debug, FromQueryResult)]
struct ListedRow {
    #[sea_orm(nested)]
    member: MemberRow,
    last_message_id: Option<Uuid>,
    unread: i64,
}

/// The user's chats with their newest message and unread count, in two
/// statements whatever the page size: one for the chats (the newest message's
/// id and the unread count are correlated subqueries, each an index range scan
/// on `(chat_id, id)`), one for the newest messages themselves.
pub async fn listed(db: &impl ConnectionTrait, user_id: Uuid, listing: Listing) -> Result<Vec<Listed>, DbErr> {
    use sea_orm::sea_query::{Alias, Func, Order, QueryStatementBuilder, SimpleExpr};
    let m = message::Entity;
    let newest = Query::select()
        .column((m, message::Column::Id))
        .from(m)
        .and_where(Expr::col((m, message::Column::ChatId)).equals((chat::Entity, chat::Column::Id)))
        .order_by((m, message::Column::ChatId), Order::Desc)
        .order_by((m, message::Column::Id), Order::Desc)
        .limit(1)
        .to_owned();
    let unread = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(m)
        .and_where(Expr::col((m, message::Column::ChatId)).equals((chat::Entity, chat::Column::Id)))
        .cond_where(
            Condition::any()
                .add(Expr::col((m, message::Column::SenderId)).is_null())
                .add(Expr::col((m, message::Column::SenderId)).ne(user_id)),
        )
        // One range on the index (no `OR`): nothing read yet counts from the nil id.
        .and_where(Expr::col((m, message::Column::Id)).gt(Expr::expr(Func::coalesce([
            Expr::col((chat_member::Entity, chat_member::Column::LastReadMessageId)),
            Expr::value(Uuid::nil()),
        ]))))
        .to_owned();
    let mut query = member_select(user_id);
    query
        .expr_as(
            SimpleExpr::SubQuery(None, Box::new(newest.into_sub_query_statement())),
            Alias::new("last_message_id"),
        )
        .expr_as(
            SimpleExpr::SubQuery(None, Box::new(unread.into_sub_query_statement())),
            Alias::new("unread"),
        );
    match listing {
        Listing::One(chat_id) => {
            query.and_where(Expr::col((chat_member::Entity, chat_member::Column::ChatId)).eq(chat_id));
        }
        Listing::Page { after, limit } => {
            query.and_where(Expr::col((chat_member::Entity, chat_member::Column::Hidden)).eq(false));
            if let Some((at, id)) = after {
                let (updated, cid) = (
                    Expr::col((chat::Entity, chat::Column::UpdatedAt)),
                    Expr::col((chat::Entity, chat::Column::Id)),
                );
                query.cond_where(
                    Condition::any()
                        .add(updated.clone().lt(at))
                        .add(Condition::all().add(updated.eq(at)).add(cid.lt(id))),
                );
            }
            query
                .order_by((chat::Entity, chat::Column::UpdatedAt), Order::Desc)
                .order_by((chat::Entity, chat::Column::Id), Order::Desc)
                .limit(limit);
        }
    }
    let rows = ListedRow::find_by_statement(db.get_database_backend().build(&query))
        .all(db)
        .await?;
    let last_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.last_message_id).collect();
    let mut last: std::collections::HashMap<Uuid, message::Model> = if last_ids.is_empty() {
        Default::default()
    } else {
        message::Entity::find()
            .filter(message::Column::Id.is_in(last_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let (chat, member) = r.member.into_models(user_id);
            Listed {
                last_message: r.last_message_id.and_then(|id| last.remove(&id)),
                unread: Ord::max(r.unread, 0) as u64,
                chat,
                member,
            }
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
