//! The daily bot quota. Every change is one conditional statement, so it is exact
//! under any concurrency, on SQLite and PostgreSQL, across server instances.
use sea_orm::{
    prelude::Expr,
    sea_query::{ExprTrait, OnConflict},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::entity::bot_usage::{ActiveModel, Column, Entity, Model};

async fn ensure_row(db: &impl ConnectionTrait, user_id: Uuid, day: &str) -> Result<(), DbErr> {
    Entity::insert(ActiveModel {
        user_id: Set(user_id),
        day: Set(day.to_owned()),
        used: Set(0),
        extra: Set(0),
    })
    .on_conflict(
        OnConflict::columns([Column::UserId, Column::Day])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Takes one request from the day's allowance. `false` when none is left.
pub async fn reserve(db: &impl ConnectionTrait, user_id: Uuid, day: &str, limit: u32) -> Result<bool, DbErr> {
    ensure_row(db, user_id, day).await?;
    let result = Entity::update_many()
        .col_expr(Column::Used, Expr::col(Column::Used).add(1))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Day.eq(day))
        .filter(Expr::col(Column::Used).lt(Expr::col(Column::Extra).add(limit as i32)))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Gives back a request whose model call failed before producing any text.
pub async fn refund(db: &impl ConnectionTrait, user_id: Uuid, day: &str) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Used, Expr::col(Column::Used).sub(1))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Day.eq(day))
        .filter(Column::Used.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Adds `extra` requests to the day's allowance.
pub async fn grant(db: &impl ConnectionTrait, user_id: Uuid, day: &str, extra: u32) -> Result<(), DbErr> {
    ensure_row(db, user_id, day).await?;
    Entity::update_many()
        .col_expr(Column::Extra, Expr::col(Column::Extra).add(extra as i32))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Day.eq(day))
        .exec(db)
        .await?;
    Ok(())
}

/// `(used, extra)` for the day; zeros when nothing was used.
pub async fn usage(db: &impl ConnectionTrait, user_id: Uuid, day: &str) -> Result<(u32, u32), DbErr> {
    let row: Option<Model> = Entity::find_by_id((user_id, day.to_owned())).one(db).await?;
    Ok(row.map_or((0, 0), |r| (Ord::max(r.used, 0) as u32, Ord::max(r.extra, 0) as u32)))
}
