use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Alias, Query},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, ExprTrait, FromQueryResult,
    Iterable, QueryFilter, Set,
};
use uuid::Uuid;

use crate::{
    domain::{
        kinds::FriendshipState::{self, Accepted, Pending},
        people::FriendStatus,
    },
    entity::{
        friendship::{ActiveModel, Column, Entity, Model},
        user,
    },
};

fn pair(a: Uuid, b: Uuid) -> (Uuid, Uuid) {
    if a < b {
        (a, b)
    } else {
        (b, a)
    }
}

pub async fn find(db: &impl ConnectionTrait, a: Uuid, b: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(pair(a, b)).one(db).await
}

pub async fn are_friends(db: &impl ConnectionTrait, a: Uuid, b: Uuid) -> Result<bool, DbErr> {
    Ok(find(db, a, b).await?.is_some_and(|f| f.status == Accepted))
}

pub async fn insert_request(db: &impl ConnectionTrait, from: Uuid, to: Uuid) -> Result<Model, DbErr> {
    let (low, high) = pair(from, to);
    ActiveModel {
        user_low: Set(low),
        user_high: Set(high),
        requester_id: Set(from),
        status: Set(Pending),
        created_at: Set(super::now()),
        accepted_at: Set(None),
    }
    .insert(db)
    .await
}

/// Accepts a pending request; `None` if it was no longer pending.
pub async fn accept(db: &impl ConnectionTrait, request: Model) -> Result<Option<Model>, DbErr> {
    let now = super::now();
    let result = Entity::update_many()
        .col_expr(Column::Status, sea_orm::prelude::Expr::value(Accepted))
        .col_expr(Column::AcceptedAt, sea_orm::prelude::Expr::value(now))
        .filter(Column::UserLow.eq(request.user_low))
        .filter(Column::UserHigh.eq(request.user_high))
        .filter(Column::Status.eq(Pending))
        .exec(db)
        .await?;
    Ok((result.rows_affected == 1).then_some(Model {
        status: Accepted,
        accepted_at: Some(now),
        ..request
    }))
}

pub async fn delete(db: &impl ConnectionTrait, a: Uuid, b: Uuid) -> Result<bool, DbErr> {
    let (low, high) = pair(a, b);
    let result = Entity::delete_by_id((low, high)).exec(db).await?;
    Ok(result.rows_affected == 1)
}

/// Ids of the accepted friends of `user`.
pub async fn friend_ids(db: &impl ConnectionTrait, user: Uuid) -> Result<Vec<Uuid>, DbErr> {
    Ok(Entity::find()
        .filter(Column::Status.eq(Accepted))
        .filter(
            Condition::any()
                .add(Column::UserLow.eq(user))
                .add(Column::UserHigh.eq(user)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.other(user))
        .collect())
}

/// Which of `others` are accepted friends of `user`: one statement, primary-key
/// lookups of the pairs, however many friends `user` has.
pub async fn accepted_among(db: &impl ConnectionTrait, user: Uuid, others: &[Uuid]) -> Result<HashSet<Uuid>, DbErr> {
    if others.is_empty() {
        return Ok(HashSet::new());
    }
    let (below, above): (Vec<Uuid>, Vec<Uuid>) = others.iter().partition(|o| **o < user);
    Ok(Entity::find()
        .filter(Column::Status.eq(Accepted))
        .filter(
            Condition::any()
                .add(Column::UserHigh.eq(user).and(Column::UserLow.is_in(below)))
                .add(Column::UserLow.eq(user).and(Column::UserHigh.is_in(above))),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.other(user))
        .collect())
}

/// A friendship (or request) with the other person's row.
#[derive(Debug, FromQueryResult)]
struct FriendRow {
    #[sea_orm(nested)]
    other: user::Model,
    f_user_low: Uuid,
    f_user_high: Uuid,
    f_requester_id: Uuid,
    f_status: FriendshipState,
    f_created_at: DateTime<Utc>,
    f_accepted_at: Option<DateTime<Utc>>,
}

/// One page of `me`'s friendships and requests with the other person of
/// each, newest first (by when it was accepted, or the request sent), after
/// the cursor `(since, other person's id)`, keeping only `status` when given:
/// one statement.
pub async fn page(
    db: &impl ConnectionTrait,
    me: Uuid,
    status: Option<FriendStatus>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<(Model, user::Model)>, DbErr> {
    let statement = db.get_database_backend().build(&page_query(me, status, after, limit));
    Ok(FriendRow::find_by_statement(statement)
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            let row = Model {
                user_low: r.f_user_low,
                user_high: r.f_user_high,
                requester_id: r.f_requester_id,
                status: r.f_status,
                created_at: r.f_created_at,
                accepted_at: r.f_accepted_at,
            };
            (row, r.other)
        })
        .collect())
}

fn page_query(
    me: Uuid,
    status: Option<FriendStatus>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Expr, Func, Order, SimpleExpr};
    let (f, u) = (Entity, user::Entity);
    let col = |c: Column| Expr::col((f, c));
    let other = Expr::case(col(Column::UserLow).eq(me), col(Column::UserHigh)).finally(col(Column::UserLow));
    let since: SimpleExpr = Func::coalesce([col(Column::AcceptedAt), col(Column::CreatedAt)]).into();
    let mut query = Query::select();
    query
        .columns(user::Column::iter().map(|c| (u, c)))
        .from(f)
        .inner_join(u, Expr::col((u, user::Column::Id)).eq(other.clone()))
        .cond_where(
            Condition::any()
                .add(col(Column::UserLow).eq(me))
                .add(col(Column::UserHigh).eq(me)),
        );
    for (column, name) in [
        (Column::UserLow, "f_user_low"),
        (Column::UserHigh, "f_user_high"),
        (Column::RequesterId, "f_requester_id"),
        (Column::Status, "f_status"),
        (Column::CreatedAt, "f_created_at"),
        (Column::AcceptedAt, "f_accepted_at"),
    ] {
        query.expr_as(col(column), Alias::new(name));
    }
    match status {
        None => {}
        Some(FriendStatus::Accepted) => {
            query.and_where(col(Column::Status).eq(Accepted));
        }
        Some(FriendStatus::Incoming) => {
            query.and_where(col(Column::Status).eq(Pending).and(col(Column::RequesterId).ne(me)));
        }
        Some(FriendStatus::Outgoing) => {
            query.and_where(col(Column::Status).eq(Pending).and(col(Column::RequesterId).eq(me)));
        }
    }
    if let Some((at, id)) = after {
        query.and_where(
            Expr::tuple([since.clone(), other.clone().into()]).lt(Expr::tuple([Expr::value(at), Expr::value(id)])),
        );
    }
    query
        .order_by_expr(since, Order::Desc)
        .order_by_expr(other.into(), Order::Desc)
        .limit(limit);
    query
}
