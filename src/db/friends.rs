use std::collections::HashSet;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, ExprTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::entity::friendship::{ActiveModel, Column, Entity, Model};

pub const PENDING: &str = "pending";
pub const ACCEPTED: &str = "accepted";

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
    Ok(find(db, a, b).await?.is_some_and(|f| f.status == ACCEPTED))
}

pub async fn insert_request(db: &impl ConnectionTrait, from: Uuid, to: Uuid) -> Result<Model, DbErr> {
    let (low, high) = pair(from, to);
    ActiveModel {
        user_low: Set(low),
        user_high: Set(high),
        requester_id: Set(from),
        status: Set(PENDING.into()),
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
        .col_expr(Column::Status, sea_orm::prelude::Expr::value(ACCEPTED))
        .col_expr(Column::AcceptedAt, sea_orm::prelude::Expr::value(now))
        .filter(Column::UserLow.eq(request.user_low))
        .filter(Column::UserHigh.eq(request.user_high))
        .filter(Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    Ok((result.rows_affected == 1).then(|| Model {
        status: ACCEPTED.into(),
        accepted_at: Some(now),
        ..request
    }))
}

pub async fn delete(db: &impl ConnectionTrait, a: Uuid, b: Uuid) -> Result<bool, DbErr> {
    let (low, high) = pair(a, b);
    let result = Entity::delete_by_id((low, high)).exec(db).await?;
    Ok(result.rows_affected == 1)
}

/// Every friendship and pending request that involves `user`.
pub async fn list_for(db: &impl ConnectionTrait, user: Uuid) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(
            Condition::any()
                .add(Column::UserLow.eq(user))
                .add(Column::UserHigh.eq(user)),
        )
        .all(db)
        .await
}

/// Ids of the accepted friends of `user`.
pub async fn friend_ids(db: &impl ConnectionTrait, user: Uuid) -> Result<Vec<Uuid>, DbErr> {
    Ok(list_for(db, user)
        .await?
        .into_iter()
        .filter(|f| f.status == ACCEPTED)
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
        .filter(Column::Status.eq(ACCEPTED))
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
