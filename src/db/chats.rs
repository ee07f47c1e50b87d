use chrono::{DateTime, Utc};
use sea_orm::{
    prelude::Expr,
    sea_query::{Alias, ExprTrait, Query, SimpleExpr},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::{
    domain::kinds::{ChatKind, FriendshipState, Level, MemberRole, MessageRole},
    entity::{chat, chat_member, friendship, message, user},
};

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

/// Creates a chat and its members in one transaction; the first member of a
/// group is its owner.
pub async fn create<C: TransactionTrait>(
    db: &C,
    kind: ChatKind,
    title: Option<String>,
    scenario_id: Option<String>,
    level: Option<Level>,
    members: &[Uuid],
) -> Result<chat::Model, DbErr> {
    let now = super::now();
    let direct = (kind == ChatKind::Direct && members.len() == 2).then(|| direct_key(members[0], members[1]));
    let txn = db.begin().await?;
    let chat = chat::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind),
        title: Set(title),
        scenario_id: Set(scenario_id),
        level: Set(level),
        direct_key: Set(direct),
        created_at: Set(now),
        updated_at: Set(now),
        last_message_id: Set(None),
        last_seq: Set(0),
        extras: Set(0),
    }
    .insert(&txn)
    .await?;
    for (i, &user_id) in members.iter().enumerate() {
        let role = if kind == ChatKind::Group && i == 0 {
            MemberRole::Owner
        } else {
            MemberRole::Member
        };
        new_member(chat.id, user_id, role, now).insert(&txn).await?;
    }
    txn.commit().await?;
    Ok(chat)
}

fn new_member(chat_id: Uuid, user_id: Uuid, role: MemberRole, now: DateTime<Utc>) -> chat_member::ActiveModel {
    chat_member::ActiveModel {
        chat_id: Set(chat_id),
        user_id: Set(user_id),
        last_read_message_id: Set(None),
        last_read_seq: Set(0),
        hidden: Set(false),
        joined_at: Set(now),
        activity_at: Set(now),
        role: Set(role),
        muted_until: Set(None),
        recent_posts: Set(None),
    }
}

/// Why a member could not be added.
#[derive(Debug)]
pub enum AddRefused {
    /// They are a member already.
    Already,
    /// The chat has `max` members.
    Full,
    /// The chat is gone.
    Gone,
}

/// Adds `user_id` to the chat, unless it already has `max` members (`None`:
/// no limit). The chat row is locked first, so concurrent additions count
/// each other. Everything they missed counts as read.
pub async fn add_member<C: TransactionTrait>(
    db: &C,
    chat_id: Uuid,
    user_id: Uuid,
    max: Option<u64>,
) -> Result<Result<chat_member::Model, AddRefused>, DbErr> {
    let txn = db.begin().await?;
    let Some(chat) = chat::Entity::find_by_id(chat_id).lock_exclusive().one(&txn).await? else {
        return Ok(Err(AddRefused::Gone));
    };
    let existing = chat_member::Entity::find_by_id((chat_id, user_id)).one(&txn).await?;
    if existing.is_some() {
        return Ok(Err(AddRefused::Already));
    }
    if let Some(max) = max {
        if member_count(&txn, chat_id).await? >= max {
            return Ok(Err(AddRefused::Full));
        }
    }
    let mut member = new_member(chat_id, user_id, MemberRole::Member, super::now());
    member.last_read_seq = Set(chat.last_seq);
    member.last_read_message_id = Set(chat.last_message_id);
    let member = member.insert(&txn).await?;
    txn.commit().await?;
    Ok(Ok(member))
}

/// What removing a member did to the chat.
#[derive(Debug, PartialEq, Eq)]
pub enum Removed {
    /// They were not a member.
    NotMember,
    /// They left; `new_owner` took over when the owner left.
    Left { new_owner: Option<Uuid> },
    /// They were the last member of a group, which is deleted with its messages.
    ChatDeleted,
}

/// Removes `user_id` from the chat in one transaction (the chat row locked
/// first): when the owner leaves, the longest-standing member becomes owner;
/// when the last member of a group leaves, the group is deleted.
pub async fn remove_member<C: TransactionTrait>(db: &C, chat_id: Uuid, user_id: Uuid) -> Result<Removed, DbErr> {
    let txn = db.begin().await?;
    let Some(chat) = chat::Entity::find_by_id(chat_id).lock_exclusive().one(&txn).await? else {
        return Ok(Removed::NotMember);
    };
    let Some(member) = chat_member::Entity::find_by_id((chat_id, user_id)).one(&txn).await? else {
        return Ok(Removed::NotMember);
    };
    chat_member::Entity::delete_by_id((chat_id, user_id)).exec(&txn).await?;
    let next = chat_member::Entity::find()
        .filter(chat_member::Column::ChatId.eq(chat_id))
        .order_by_asc(chat_member::Column::JoinedAt)
        .order_by_asc(chat_member::Column::UserId)
        .one(&txn)
        .await?;
    let outcome = match next {
        None if chat.kind == ChatKind::Group => {
            chat::Entity::delete_by_id(chat_id).exec(&txn).await?;
            Removed::ChatDeleted
        }
        Some(next) if member.role == MemberRole::Owner => {
            chat_member::Entity::update_many()
                .col_expr(chat_member::Column::Role, Expr::value(MemberRole::Owner))
                .filter(chat_member::Column::ChatId.eq(chat_id))
                .filter(chat_member::Column::UserId.eq(next.user_id))
                .exec(&txn)
                .await?;
            Removed::Left {
                new_owner: Some(next.user_id),
            }
        }
        _ => Removed::Left { new_owner: None },
    };
    txn.commit().await?;
    Ok(outcome)
}

pub async fn member_count(db: &impl ConnectionTrait, chat_id: Uuid) -> Result<u64, DbErr> {
    chat_member::Entity::find()
        .filter(chat_member::Column::ChatId.eq(chat_id))
        .count(db)
        .await
}

/// Everyone in the chat.
pub async fn member_ids(db: &impl ConnectionTrait, chat_id: Uuid) -> Result<Vec<Uuid>, DbErr> {
    chat_member::Entity::find()
        .select_only()
        .column(chat_member::Column::UserId)
        .filter(chat_member::Column::ChatId.eq(chat_id))
        .into_tuple()
        .all(db)
        .await
}

/// The members of the chats `chat_ids`, as `(chat, user)`.
pub async fn members_of(db: &impl ConnectionTrait, chat_ids: &[Uuid]) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
    if chat_ids.is_empty() {
        return Ok(Vec::new());
    }
    chat_member::Entity::find()
        .select_only()
        .columns([chat_member::Column::ChatId, chat_member::Column::UserId])
        .filter(chat_member::Column::ChatId.is_in(chat_ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await
}

/// A member with their account, for the members list.
#[derive(Debug, Clone, FromQueryResult)]
pub struct MemberWithUser {
    #[sea_orm(nested)]
    pub user: user::Model,
    /// The member's role (`role` is the account's).
    pub member_role: MemberRole,
    pub joined_at: DateTime<Utc>,
}

/// The chat's members, longest-standing first, after `(joined_at, user_id)`,
/// at most `limit`: one range of the primary key's chat, each joined to its user.
pub async fn members(
    db: &impl ConnectionTrait,
    chat_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<MemberWithUser>, DbErr> {
    use sea_orm::{sea_query::Order, Iterable};
    let (cm, u) = (chat_member::Entity, user::Entity);
    let mut query = Query::select();
    query
        .columns(user::Column::iter().map(|c| (u, c)))
        .expr_as(Expr::col((cm, chat_member::Column::Role)), Alias::new("member_role"))
        .column((cm, chat_member::Column::JoinedAt))
        .from(cm)
        .inner_join(
            u,
            Expr::col((u, user::Column::Id)).equals((cm, chat_member::Column::UserId)),
        )
        .and_where(Expr::col((cm, chat_member::Column::ChatId)).eq(chat_id));
    let (joined, id) = (
        Expr::col((cm, chat_member::Column::JoinedAt)),
        Expr::col((cm, chat_member::Column::UserId)),
    );
    if let Some((at, after_id)) = after {
        query.and_where(
            Expr::tuple([joined.clone(), id.clone()]).gt(Expr::tuple([Expr::value(at), Expr::value(after_id)])),
        );
    }
    query
        .order_by_expr(joined, Order::Asc)
        .order_by_expr(id, Order::Asc)
        .limit(limit);
    MemberWithUser::find_by_statement(db.get_database_backend().build(&query))
        .all(db)
        .await
}

/// Mutes a lounge member until `until` (or lifts it: `None`).
pub async fn set_muted(
    db: &impl ConnectionTrait,
    chat_id: Uuid,
    user_id: Uuid,
    until: Option<DateTime<Utc>>,
) -> Result<bool, DbErr> {
    let result = chat_member::Entity::update_many()
        .col_expr(chat_member::Column::MutedUntil, Expr::value(until))
        .filter(chat_member::Column::ChatId.eq(chat_id))
        .filter(chat_member::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Keeps a lounge member's recent messages (the spam rule's memory).
pub async fn set_recent_posts(
    db: &impl ConnectionTrait,
    chat_id: Uuid,
    user_id: Uuid,
    recent: String,
) -> Result<(), DbErr> {
    chat_member::Entity::update_many()
        .col_expr(chat_member::Column::RecentPosts, Expr::value(recent))
        .filter(chat_member::Column::ChatId.eq(chat_id))
        .filter(chat_member::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A lounge as `GET /lounges` lists it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct LoungeRow {
    #[sea_orm(nested)]
    pub chat: chat::Model,
    pub member_count: i64,
    pub joined: bool,
}

/// The lounges in creation order (by id) after `after`, at most `limit`, each
/// with its member count and whether `user_id` is in it; one statement.
pub async fn lounges(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<LoungeRow>, DbErr> {
    use sea_orm::sea_query::{Order, QueryStatementBuilder};
    let (c, cm) = (chat::Entity, chat_member::Entity);
    let count = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(cm)
        .and_where(Expr::col((cm, chat_member::Column::ChatId)).equals((c, chat::Column::Id)))
        .to_owned();
    let joined = Query::select()
        .expr(Expr::val(1))
        .from(cm)
        .and_where(Expr::col((cm, chat_member::Column::ChatId)).equals((c, chat::Column::Id)))
        .and_where(Expr::col((cm, chat_member::Column::UserId)).eq(user_id))
        .to_owned();
    let mut query = Query::select();
    query
        .columns(CHAT_COLUMNS.map(|col| (c, col)))
        .expr_as(
            SimpleExpr::SubQuery(None, Box::new(count.into_sub_query_statement())),
            Alias::new("member_count"),
        )
        .expr_as(Expr::exists(joined), Alias::new("joined"))
        .from(c)
        .and_where(Expr::col((c, chat::Column::Kind)).eq(ChatKind::Lounge));
    if let Some(after) = after {
        query.and_where(Expr::col((c, chat::Column::Id)).gt(after));
    }
    query.order_by((c, chat::Column::Id), Order::Asc).limit(limit);
    LoungeRow::find_by_statement(db.get_database_backend().build(&query))
        .all(db)
        .await
}

/// Every lounge's id (for the online counts; no counting here).
pub async fn lounge_ids(db: &impl ConnectionTrait) -> Result<Vec<Uuid>, DbErr> {
    chat::Entity::find()
        .select_only()
        .column(chat::Column::Id)
        .filter(chat::Column::Kind.eq(ChatKind::Lounge))
        .into_tuple()
        .all(db)
        .await
}

/// A lounge by id.
pub async fn lounge(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<chat::Model>, DbErr> {
    chat::Entity::find_by_id(id)
        .filter(chat::Column::Kind.eq(ChatKind::Lounge))
        .one(db)
        .await
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
/// for a query over `chats`: the other member from the chat's primary key,
/// then one primary-key probe of `friendships` (the pair put in order as the
/// key stores it).
fn writable_expr(user_id: Uuid) -> SimpleExpr {
    let other = Alias::new("other");
    let f = friendship::Entity;
    let other_user = || Expr::col((other.clone(), chat_member::Column::UserId));
    let low = Expr::case(other_user().lt(user_id), other_user()).finally(Expr::value(user_id));
    let high = Expr::case(other_user().lt(user_id), Expr::value(user_id)).finally(other_user());
    let friend = Query::select()
        .expr(Expr::val(1))
        .from_as(chat_member::Entity, other.clone())
        .inner_join(
            f,
            Expr::col((f, friendship::Column::UserLow))
                .eq(low)
                .and(Expr::col((f, friendship::Column::UserHigh)).eq(high)),
        )
        .and_where(Expr::col((other.clone(), chat_member::Column::ChatId)).equals((chat::Entity, chat::Column::Id)))
        .and_where(other_user().ne(user_id))
        .and_where(Expr::col((f, friendship::Column::Status)).eq(FriendshipState::Accepted))
        .to_owned();
    Expr::col((chat::Entity, chat::Column::Kind))
        .ne(ChatKind::Direct)
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
    /// As in [`Membership`]: in a direct chat, whether the two are friends.
    pub writable: bool,
    pub member_count: u64,
    /// The display name of the newest message's author (`None` for the bot).
    pub last_sender_name: Option<String>,
    /// The reader's role in the chat.
    pub role: MemberRole,
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

/// Every column of `chats`, for a query that reads `chat::Model`s.
const CHAT_COLUMNS: [chat::Column; 11] = [
    chat::Column::Id,
    chat::Column::Kind,
    chat::Column::Title,
    chat::Column::ScenarioId,
    chat::Column::Level,
    chat::Column::DirectKey,
    chat::Column::CreatedAt,
    chat::Column::UpdatedAt,
    chat::Column::LastMessageId,
    chat::Column::LastSeq,
    chat::Column::Extras,
];

/// `FROM chat_members JOIN chats` for `user_id`'s memberships.
fn member_join(user_id: Uuid) -> sea_orm::sea_query::SelectStatement {
    let mut query = Query::select();
    query
        .columns(CHAT_COLUMNS.map(|c| (chat::Entity, c)))
        .from(chat_member::Entity)
        .inner_join(
            chat::Entity,
            Expr::col((chat::Entity, chat::Column::Id)).equals((chat_member::Entity, chat_member::Column::ChatId)),
        )
        .and_where(Expr::col((chat_member::Entity, chat_member::Column::UserId)).eq(user_id));
    query
}

/// `SELECT chats.*, <the member's columns> FROM chat_members JOIN chats` for `user_id`.
fn member_select(user_id: Uuid) -> sea_orm::sea_query::SelectStatement {
    let mut query = member_join(user_id);
    query.columns([
        (chat_member::Entity, chat_member::Column::LastReadMessageId),
        (chat_member::Entity, chat_member::Column::LastReadSeq),
        (chat_member::Entity, chat_member::Column::Hidden),
        (chat_member::Entity, chat_member::Column::JoinedAt),
        (chat_member::Entity, chat_member::Column::ActivityAt),
        (chat_member::Entity, chat_member::Column::Role),
        (chat_member::Entity, chat_member::Column::MutedUntil),
        (chat_member::Entity, chat_member::Column::RecentPosts),
    ]);
    query
}

#[derive(Debug, FromQueryResult)]
struct MemberRow {
    #[sea_orm(nested)]
    chat: chat::Model,
    last_read_message_id: Option<Uuid>,
    last_read_seq: i64,
    hidden: bool,
    joined_at: DateTime<Utc>,
    activity_at: DateTime<Utc>,
    role: MemberRole,
    muted_until: Option<DateTime<Utc>>,
    recent_posts: Option<String>,
}

impl MemberRow {
    fn into_models(self, user_id: Uuid) -> (chat::Model, chat_member::Model) {
        let member = chat_member::Model {
            chat_id: self.chat.id,
            user_id,
            last_read_message_id: self.last_read_message_id,
            last_read_seq: self.last_read_seq,
            hidden: self.hidden,
            joined_at: self.joined_at,
            activity_at: self.activity_at,
            role: self.role,
            muted_until: self.muted_until,
            recent_posts: self.recent_posts,
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
    writable: bool,
    member_count: i64,
    role: MemberRole,
    lm_sender_name: Option<String>,
    lm_id: Option<Uuid>,
    lm_sender_id: Option<Uuid>,
    lm_role: Option<MessageRole>,
    lm_content: Option<String>,
    lm_feedback: Option<String>,
    lm_created_at: Option<DateTime<Utc>>,
    lm_edited_at: Option<DateTime<Utc>>,
    lm_seq: Option<i64>,
    lm_reply_to_id: Option<Uuid>,
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
                seq: self.lm_seq.unwrap_or_default(),
                reply_to_id: self.lm_reply_to_id,
            }),
            _ => None,
        };
        Listed {
            chat,
            last_message,
            unread: Ord::max(self.unread, 0) as u64,
            writable: self.writable,
            member_count: Ord::max(self.member_count, 0) as u64,
            last_sender_name: self.lm_sender_name,
            role: self.role,
        }
    }
}

/// The user's chats with their newest message, unread count and whether the
/// peer is a friend, in one statement whatever the page size. A page is one
/// range of the member index `(user_id, hidden, activity_at, chat_id)`, read in
/// order (no sort); each row joins its chat and the chat's newest message by
/// primary key (`chats.last_message_id`), counts the unread messages over the
/// `(chat_id, id, sender_id)` index from the reader's marker, and looks the
/// friendship up by its primary key.
pub async fn listed(db: &impl ConnectionTrait, user_id: Uuid, listing: Listing) -> Result<Vec<Listed>, DbErr> {
    let statement = listed_statement(db.get_database_backend(), user_id, listing);
    let rows = ListedRow::find_by_statement(statement).all(db).await?;
    Ok(rows.into_iter().map(ListedRow::into_listed).collect())
}

fn listed_statement(backend: sea_orm::DbBackend, user_id: Uuid, listing: Listing) -> sea_orm::Statement {
    use sea_orm::sea_query::{JoinType, Order, QueryStatementBuilder};
    let (m, cm, lm) = (message::Entity, chat_member::Entity, Alias::new("lm"));
    let unread = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(m)
        .and_where(Expr::col((m, message::Column::ChatId)).equals((cm, chat_member::Column::ChatId)))
        .cond_where(
            Condition::any()
                .add(Expr::col((m, message::Column::SenderId)).is_null())
                .add(Expr::col((m, message::Column::SenderId)).ne(user_id)),
        )
        // One range on the index: everything after the reader's marker.
        .and_where(Expr::col((m, message::Column::Seq)).gt(Expr::col((cm, chat_member::Column::LastReadSeq))))
        .to_owned();
    // Rooms only: a direct chat has two people and a bot chat one, and the
    // newest message's author is named only in rooms (`CASE` skips both
    // subqueries for the other chats).
    let others = Alias::new("others");
    let counted = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_as(cm, others.clone())
        .and_where(Expr::col((others, chat_member::Column::ChatId)).equals((cm, chat_member::Column::ChatId)))
        .to_owned();
    let kind = || Expr::col((chat::Entity, chat::Column::Kind));
    let is_room = || kind().is_in([ChatKind::Group, ChatKind::Lounge]);
    let member_count = Expr::case(
        is_room(),
        SimpleExpr::SubQuery(None, Box::new(counted.into_sub_query_statement())),
    )
    .case(kind().eq(ChatKind::Direct), Expr::val(2))
    .finally(Expr::val(1));
    let u = user::Entity;
    let sender_name = Query::select()
        .column((u, user::Column::DisplayName))
        .from(u)
        .and_where(Expr::col((u, user::Column::Id)).equals((lm.clone(), message::Column::SenderId)))
        .to_owned();
    let sender_name = Expr::case(
        is_room(),
        SimpleExpr::SubQuery(None, Box::new(sender_name.into_sub_query_statement())),
    )
    .finally(Expr::val(None::<String>));
    let mut query = member_join(user_id);
    query
        .expr_as(
            SimpleExpr::SubQuery(None, Box::new(unread.into_sub_query_statement())),
            Alias::new("unread"),
        )
        .expr_as(writable_expr(user_id), Alias::new("writable"))
        .expr_as(member_count, Alias::new("member_count"))
        .column((cm, chat_member::Column::Role))
        .join_as(
            JoinType::LeftJoin,
            m,
            lm.clone(),
            Expr::col((lm.clone(), message::Column::Id)).equals((chat::Entity, chat::Column::LastMessageId)),
        )
        .expr_as(sender_name, Alias::new("lm_sender_name"));
    for (column, name) in [
        (message::Column::Id, "lm_id"),
        (message::Column::SenderId, "lm_sender_id"),
        (message::Column::Role, "lm_role"),
        (message::Column::Content, "lm_content"),
        (message::Column::Feedback, "lm_feedback"),
        (message::Column::CreatedAt, "lm_created_at"),
        (message::Column::EditedAt, "lm_edited_at"),
        (message::Column::Seq, "lm_seq"),
        (message::Column::ReplyToId, "lm_reply_to_id"),
    ] {
        query.expr_as(Expr::col((lm.clone(), column)), Alias::new(name));
    }
    match listing {
        Listing::One(chat_id) => {
            query.and_where(Expr::col((cm, chat_member::Column::ChatId)).eq(chat_id));
        }
        Listing::Page { after, limit } => {
            let (activity, id) = (
                Expr::col((cm, chat_member::Column::ActivityAt)),
                Expr::col((cm, chat_member::Column::ChatId)),
            );
            query.and_where(Expr::col((cm, chat_member::Column::Hidden)).eq(false));
            if let Some((at, after_id)) = after {
                query.and_where(
                    Expr::tuple([activity.clone(), id.clone()])
                        .lt(Expr::tuple([Expr::value(at), Expr::value(after_id)])),
                );
            }
            query
                .order_by_expr(activity, Order::Desc)
                .order_by_expr(id, Order::Desc)
                .limit(limit);
        }
    }
    backend.build(&query)
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
    level: Option<Level>,
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

/// Notes that the chat now has `bits` of [`crate::domain::chat::Extras`]
/// (one update the first time only).
pub async fn add_extras(db: &impl ConnectionTrait, chat_id: Uuid, bits: i32) -> Result<(), DbErr> {
    let has = Expr::col(chat::Column::Extras).bit_and(bits);
    chat::Entity::update_many()
        .col_expr(chat::Column::Extras, Expr::col(chat::Column::Extras).bit_or(bits))
        .filter(chat::Column::Id.eq(chat_id))
        .filter(has.ne(bits))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes the chat; members and messages go with it (foreign keys cascade).
pub async fn delete(db: &impl ConnectionTrait, chat_id: Uuid) -> Result<(), DbErr> {
    chat::Entity::delete_by_id(chat_id).exec(db).await?;
    Ok(())
}

/// Moves the member's read marker forward to `message` (never backwards):
/// everything up to its `seq` is read.
pub async fn mark_read(db: &impl ConnectionTrait, user_id: Uuid, message: &message::Model) -> Result<bool, DbErr> {
    let result = chat_member::Entity::update_many()
        .col_expr(chat_member::Column::LastReadMessageId, Expr::value(message.id))
        .col_expr(chat_member::Column::LastReadSeq, Expr::value(message.seq))
        .filter(chat_member::Column::ChatId.eq(message.chat_id))
        .filter(chat_member::Column::UserId.eq(user_id))
        .filter(chat_member::Column::LastReadSeq.lt(message.seq))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use migrations::{Migrator, MigratorTrait};
    use sea_orm::{ConnectOptions, Database, FromQueryResult};

    use super::*;

    #[derive(Debug, FromQueryResult)]
    struct PlanRow {
        detail: String,
    }

    /// SQLite's plan for a page of the chat list: one ordered range of the
    /// member index (no sort of all the member's chats), and primary-key or
    /// index lookups for everything per row (no scan).
    #[tokio::test]
    async fn a_chat_list_page_is_read_in_index_order_without_a_sort_or_a_scan() {
        let mut opt = ConnectOptions::new("sqlite::memory:");
        opt.max_connections(1).sqlx_logging(false);
        let db = Database::connect(opt).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let at = chrono::Utc::now();
        for after in [None, Some((at, Uuid::now_v7()))] {
            let listing = Listing::Page { after, limit: 51 };
            let mut statement = listed_statement(db.get_database_backend(), Uuid::now_v7(), listing);
            statement.sql = format!("EXPLAIN QUERY PLAN {}", statement.sql);
            let plan: Vec<String> = PlanRow::find_by_statement(statement)
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.detail)
                .collect();
            let text = plan.join("\n");
            assert!(
                plan.iter()
                    .any(|d| d.contains("USING COVERING INDEX idx_chat_members_list")
                        || d.contains("USING INDEX idx_chat_members_list")),
                "{text}"
            );
            assert!(!text.contains("TEMP B-TREE"), "sorts: {text}");
            assert!(!plan.iter().any(|d| d.starts_with("SCAN")), "scans a table: {text}");
        }
    }
}
