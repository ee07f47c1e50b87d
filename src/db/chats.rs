use chrono::{DateTime, Utc};
use sea_orm::{
    prelude::Expr,
    sea_query::{Alias, ExprTrait, Query, SimpleExpr},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::entity::{chat, chat_member, friendship, message};

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

/// A chat as one of its members sees it.
#[derive(Debug, Clone)]
pub struct Membership {
    pub chat: chat::Model,
    pub member: chat_member::Model,
    /// Whether the member may post: always in a bot chat, in a direct chat
    /// only while the two people are friends.
    pub writable: bool,
}

/// `kind <> 'direct' OR <the other member is an accepted friend of user_id>`,
/// for a query over `chats`: two primary-key probes of `friendships`.
fn writable_expr(user_id: Uuid) -> SimpleExpr {
    let other = Alias::new("other");
    let (f, low, high) = (
        friendship::Entity,
        friendship::Column::UserLow,
        friendship::Column::UserHigh,
    );
    let other_user = || Expr::col((other.clone(), chat_member::Column::UserId));
    let friend = Query::select()
        .expr(Expr::val(1))
        .from_as(chat_member::Entity, other.clone())
        .inner_join(
            f,
            Condition::any()
                .add(Expr::col((f, low)).eq(user_id).and(other_user().equals((f, high))))
                .add(Expr::col((f, high)).eq(user_id).and(other_user().equals((f, low)))),
        )
        .and_where(Expr::col((other.clone(), chat_member::Column::ChatId)).equals((chat::Entity, chat::Column::Id)))
        .and_where(other_user().ne(user_id))
        .and_where(Expr::col((f, friendship::Column::Status)).eq(super::friends::ACCEPTED))
        .to_owned();
    Expr::col((chat::Entity, chat::Column::Kind))
        .ne(DIRECT)
        .or(Expr::exists(friend))
}

/// The chat and `user_id`'s membership, with whether they may post there, in
/// one statement; `None` unless they are a member.
pub async fn membership(db: &impl ConnectionTrait, chat_id: Uuid, user_id: Uuid) -> Result<Option<Membership>, DbErr> {
    let mut query = member_select(user_id);
    query
        .expr_as(writable_expr(user_id), Alias::new("writable"))
        .and_where(Expr::col((chat_member::Entity, chat_member::Column::ChatId)).eq(chat_id));
    let row = MembershipRow::find_by_statement(db.get_database_backend().build(&query))
        .one(db)
        .await?;
    Ok(row.map(|r| {
        let (chat, member) = r.member.into_models(user_id);
        Membership {
            chat,
            member,
            writable: r.writable,
        }
    }))
}

#[derive(Debug, FromQueryResult)]
struct MembershipRow {
    #[sea_orm(nested)]
    member: MemberRow,
    writable: bool,
}

/// A chat as its member sees it in a list: the chat, the newest message and
/// how many messages from others they have not read.
#[derive(Debug, Clone)]
pub struct Listed {
    pub chat: chat::Model,
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
    #[sea_orm(nested)]
    chat: chat::Model,
    last_read_message_id: Option<Uuid>,
    hidden: bool,
    joined_at: DateTime<Utc>,
}

impl MemberRow {
    fn into_models(self, user_id: Uuid) -> (chat::Model, chat_member::Model) {
        let member = chat_member::Model {
            chat_id: self.chat.id,
            user_id,
            last_read_message_id: self.last_read_message_id,
            hidden: self.hidden,
            joined_at: self.joined_at,
        };
        (self.chat, member)
    }
}

/// A chat list row: the chat's columns, the unread count, then the newest
/// message's (`lm_`, all null when there is none).
#[derive(Debug, FromQueryResult)]
struct ListedRow {
    #[sea_orm(nested)]
    chat: chat::Model,
    unread: i64,
    lm_id: Option<Uuid>,
    lm_sender_id: Option<Uuid>,
    lm_role: Option<String>,
    lm_content: Option<String>,
    lm_feedback: Option<String>,
    lm_created_at: Option<DateTime<Utc>>,
    lm_edited_at: Option<DateTime<Utc>>,
}

impl ListedRow {
    fn into_listed(self) -> Listed {
        let chat = self.chat;
        let last_message = match (self.lm_id, self.lm_role, self.lm_content, self.lm_created_at) {
            (Some(id), Some(role), Some(content), Some(created_at)) => Some(message::Model {
                id,
                chat_id: chat.id,
                sender_id: self.lm_sender_id,
                role,
                content,
                feedback: self.lm_feedback,
                created_at,
                edited_at: self.lm_edited_at,
            }),
            _ => None,
        };
        Listed {
            chat,
            last_message,
            unread: Ord::max(self.unread, 0) as u64,
        }
    }
}

/// The user's chats with their newest message and unread count, in one
/// statement whatever the page size. The page of chats is chosen first (the
/// member's chats, ordered and cut); then for its rows only, the newest
/// message is found by a correlated lookup on `(chat_id, id)` and joined by its
/// id, and the unread count is a correlated count over the same index from the
/// reader's marker.
pub async fn listed(db: &impl ConnectionTrait, user_id: Uuid, listing: Listing) -> Result<Vec<Listed>, DbErr> {
    use sea_orm::sea_query::{Func, JoinType, Order, QueryStatementBuilder};
    let m = message::Entity;
    let (page, lm) = (Alias::new("page"), Alias::new("lm"));
    let mut rows = member_select(user_id);
    match listing {
        Listing::One(chat_id) => {
            rows.and_where(Expr::col((chat_member::Entity, chat_member::Column::ChatId)).eq(chat_id));
        }
        Listing::Page { after, limit } => {
            rows.and_where(Expr::col((chat_member::Entity, chat_member::Column::Hidden)).eq(false));
            if let Some((at, id)) = after {
                let (updated, cid) = (
                    Expr::col((chat::Entity, chat::Column::UpdatedAt)),
                    Expr::col((chat::Entity, chat::Column::Id)),
                );
                rows.cond_where(
                    Condition::any()
                        .add(updated.clone().lt(at))
                        .add(Condition::all().add(updated.eq(at)).add(cid.lt(id))),
                );
            }
            rows.order_by((chat::Entity, chat::Column::UpdatedAt), Order::Desc)
                .order_by((chat::Entity, chat::Column::Id), Order::Desc)
                .limit(limit);
        }
    }
    let chat_id = || Expr::col((page.clone(), chat::Column::Id));
    let newest = Query::select()
        .column((m, message::Column::Id))
        .from(m)
        .and_where(Expr::col((m, message::Column::ChatId)).eq(chat_id()))
        .order_by((m, message::Column::ChatId), Order::Desc)
        .order_by((m, message::Column::Id), Order::Desc)
        .limit(1)
        .to_owned();
    let unread = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(m)
        .and_where(Expr::col((m, message::Column::ChatId)).eq(chat_id()))
        .cond_where(
            Condition::any()
                .add(Expr::col((m, message::Column::SenderId)).is_null())
                .add(Expr::col((m, message::Column::SenderId)).ne(user_id)),
        )
        // One range on the index (no `OR`): nothing read yet counts from the nil id.
        .and_where(Expr::col((m, message::Column::Id)).gt(Expr::expr(Func::coalesce([
            Expr::col((page.clone(), chat_member::Column::LastReadMessageId)),
            Expr::value(Uuid::nil()),
        ]))))
        .to_owned();
    let mut query = Query::select();
    query
        .columns(
            [
                chat::Column::Id,
                chat::Column::Kind,
                chat::Column::Title,
                chat::Column::ScenarioId,
                chat::Column::Level,
                chat::Column::DirectKey,
                chat::Column::CreatedAt,
                chat::Column::UpdatedAt,
            ]
            .map(|c| (page.clone(), c)),
        )
        .from_subquery(rows, page.clone())
        .expr_as(
            SimpleExpr::SubQuery(None, Box::new(unread.into_sub_query_statement())),
            Alias::new("unread"),
        )
        .join_as(
            JoinType::LeftJoin,
            m,
            lm.clone(),
            Expr::col((lm.clone(), message::Column::Id))
                .eq(SimpleExpr::SubQuery(None, Box::new(newest.into_sub_query_statement()))),
        )
        .order_by((page.clone(), chat::Column::UpdatedAt), Order::Desc)
        .order_by((page, chat::Column::Id), Order::Desc);
    for (column, name) in [
        (message::Column::Id, "lm_id"),
        (message::Column::SenderId, "lm_sender_id"),
        (message::Column::Role, "lm_role"),
        (message::Column::Content, "lm_content"),
        (message::Column::Feedback, "lm_feedback"),
        (message::Column::CreatedAt, "lm_created_at"),
        (message::Column::EditedAt, "lm_edited_at"),
    ] {
        query.expr_as(Expr::col((lm.clone(), column)), Alias::new(name));
    }
    let rows = ListedRow::find_by_statement(db.get_database_backend().build(&query))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(ListedRow::into_listed).collect())
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
