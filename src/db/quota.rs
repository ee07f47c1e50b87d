//! The daily bot quota. Taking a unit is one conditional statement, so the count
//! is exact under any concurrency, on SQLite and PostgreSQL, across server
//! instances.
//!
//! Each unit in flight also has a row in `bot_reservations`, written in the
//! same transaction as the counters and naming the lease of the process that
//! answers it: settling or refunding deletes the row, and only the one that
//! deletes it changes the counters, so a unit is settled or refunded exactly
//! once, also when its process died and another one cleans up after it.
use sea_orm::{
    prelude::Expr,
    sea_query::{ExprTrait, OnConflict},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::entity::{
    bot_reservation,
    bot_usage::{ActiveModel, Column, Entity, Model},
};

/// A unit of quota in flight, as its row records it.
#[derive(Debug, Clone)]
pub struct Held {
    pub id: Uuid,
    pub user_id: Uuid,
    pub day: String,
    /// The lease of the process answering it.
    pub owner: Uuid,
    /// The learner's turn it answers, if any.
    pub message_id: Option<Uuid>,
}

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

/// Takes one request from the day's allowance and marks it in flight, with
/// its row. `false` when none is left.
pub async fn reserve(db: &DatabaseConnection, held: &Held, limit: u32) -> Result<bool, DbErr> {
    ensure_row(db, held.user_id, &held.day).await?;
    let txn = db.begin().await?;
    let result = Entity::update_many()
        .col_expr(Column::Used, Expr::col(Column::Used).add(1))
        .col_expr(Column::InFlight, Expr::col(Column::InFlight).add(1))
        .col_expr(Column::ReservedAt, Expr::value(super::now()))
        .filter(Column::UserId.eq(held.user_id))
        .filter(Column::Day.eq(&held.day))
        .filter(Expr::col(Column::Used).lt(Expr::col(Column::Extra).add(limit as i32)))
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        return Ok(false);
    }
    bot_reservation::Entity::insert(bot_reservation::ActiveModel {
        id: Set(held.id),
        user_id: Set(held.user_id),
        day: Set(held.day.clone()),
        owner: Set(held.owner),
        message_id: Set(held.message_id),
        created_at: Set(super::now()),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// How a unit in flight ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Answered: it stays counted.
    Settle,
    /// Not answered: it is given back.
    Refund,
}

/// Ends the unit in flight `id`; `false` when it had already ended (settled,
/// refunded, or cleaned up after its process died).
pub async fn end(db: &DatabaseConnection, id: Uuid, user_id: Uuid, day: &str, how: End) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    let deleted = bot_reservation::Entity::delete_by_id(id).exec(&txn).await?;
    if deleted.rows_affected != 1 {
        return Ok(false);
    }
    let mut update = Entity::update_many().col_expr(Column::InFlight, one_less_in_flight());
    if how == End::Refund {
        update = update.col_expr(Column::Used, Expr::cust("CASE WHEN used > 0 THEN used - 1 ELSE 0 END"));
    }
    update
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Day.eq(day))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(true)
}

/// The units in flight held by processes other than `me`.
pub async fn held_by_others(db: &impl ConnectionTrait, me: Uuid) -> Result<Vec<Held>, DbErr> {
    held_where(db, bot_reservation::Column::Owner.ne(me)).await
}

/// Units in flight held by the process with lease `me`.
pub async fn held_by(db: &impl ConnectionTrait, me: Uuid) -> Result<Vec<Held>, DbErr> {
    held_where(db, bot_reservation::Column::Owner.eq(me)).await
}

async fn held_where(db: &impl ConnectionTrait, owner: sea_orm::sea_query::SimpleExpr) -> Result<Vec<Held>, DbErr> {
    let rows = bot_reservation::Entity::find().filter(owner).all(db).await?;
    Ok(rows.into_iter().map(held).collect())
}

/// The unit in flight answering the learner's turn `message_id`, if any.
pub async fn held_for_message(db: &impl ConnectionTrait, message_id: Uuid) -> Result<Option<Held>, DbErr> {
    Ok(bot_reservation::Entity::find()
        .filter(bot_reservation::Column::MessageId.eq(message_id))
        .one(db)
        .await?
        .map(held))
}

fn held(row: bot_reservation::Model) -> Held {
    Held {
        id: row.id,
        user_id: row.user_id,
        day: row.day,
        owner: row.owner,
        message_id: row.message_id,
    }
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
