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
        in_flight: Set(0),
        reserved_at: Set(None),
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

/// `in_flight - 1`, never below zero, written the same way for SQLite and PostgreSQL.
fn one_less_in_flight() -> sea_orm::sea_query::SimpleExpr {
    Expr::cust("CASE WHEN in_flight > 0 THEN in_flight - 1 ELSE 0 END")
}

/// Takes one request from the day's allowance and marks it in flight. `false`
/// when none is left.
pub async fn reserve(db: &impl ConnectionTrait, user_id: Uuid, day: &str, limit: u32) -> Result<bool, DbErr> {
    ensure_row(db, user_id, day).await?;
    let result = Entity::update_many()
        .col_expr(Column::Used, Expr::col(Column::Used).add(1))
        .col_expr(Column::InFlight, Expr::col(Column::InFlight).add(1))
        .col_expr(Column::ReservedAt, Expr::value(super::now()))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Day.eq(day))
        .filter(Expr::col(Column::Used).lt(Expr::col(Column::Extra).add(limit as i32)))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A reserved request was answered: it stays counted and is no longer in flight.
pub async fn settle(db: &impl ConnectionTrait, user_id: Uuid, day: &str) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::InFlight, one_less_in_flight())
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Day.eq(day))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives back a request whose model call failed before producing any text.
pub async fn refund(db: &impl ConnectionTrait, user_id: Uuid, day: &str) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Used, Expr::col(Column::Used).sub(1))
        .col_expr(Column::InFlight, one_less_in_flight())
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

/// One user's use of one quota day.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub used: u32,
    pub extra: u32,
    /// Reserved units whose answer has not finished.
    pub in_flight: u32,
    pub reserved_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The day's usage; zeros when nothing was used.
pub async fn usage(db: &impl ConnectionTrait, user_id: Uuid, day: &str) -> Result<Usage, DbErr> {
    let row: Option<Model> = Entity::find_by_id((user_id, day.to_owned())).one(db).await?;
    Ok(row.map_or_else(Usage::default, |r| Usage {
        used: Ord::max(r.used, 0) as u32,
        extra: Ord::max(r.extra, 0) as u32,
        in_flight: Ord::max(r.in_flight, 0) as u32,
        reserved_at: r.reserved_at,
    }))
}
