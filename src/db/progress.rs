//! The mistake notebook and daily practice counters.
use sea_orm::{
    prelude::Expr,
    sea_query::{ExprTrait, OnConflict},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionSession,
    TransactionTrait,
};
use uuid::Uuid;

use crate::{
    domain::feedback::{Feedback, FeedbackStatus},
    entity::{mistake, practice_day},
};

/// One answered practice message and the tutor's check of it.
pub struct Practice<'a> {
    pub user_id: Uuid,
    pub chat_id: Uuid,
    /// The learner's message.
    pub message_id: Uuid,
    /// The quota day it counts for.
    pub day: &'a str,
    pub text: &'a str,
    pub feedback: &'a Feedback,
}

/// Words as a learner would count them: runs of text with a letter or digit.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

fn add(column: &str) -> sea_orm::sea_query::SimpleExpr {
    Expr::cust(format!("practice_days.{column} + excluded.{column}"))
}

/// Adds the message to the day's counters and its corrections to the notebook,
/// in one transaction.
pub async fn record<C: TransactionTrait>(db: &C, p: Practice<'_>) -> Result<(), DbErr> {
    let words = word_count(p.text) as i32;
    let checked = p.feedback.status != FeedbackStatus::Unchecked;
    let now = super::now();
    let txn = db.begin().await?;
    if !p.feedback.corrections.is_empty() {
        let rows = p.feedback.corrections.iter().map(|c| mistake::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(p.user_id),
            chat_id: Set(p.chat_id),
            message_id: Set(p.message_id),
            day: Set(p.day.to_owned()),
            kind: Set(c.kind.as_str().to_owned()),
            original: Set(c.original.clone()),
            corrected: Set(c.corrected.clone()),
            explanation: Set(c.explanation.clone()),
            created_at: Set(now),
        });
        mistake::Entity::insert_many(rows).exec_without_returning(&txn).await?;
    }
    use practice_day::Column as C;
    practice_day::Entity::insert(practice_day::ActiveModel {
        user_id: Set(p.user_id),
        day: Set(p.day.to_owned()),
        messages: Set(1),
        words: Set(words),
        checked_words: Set(if checked { words } else { 0 }),
        mistakes: Set(p.feedback.corrections.len() as i32),
    })
    .on_conflict(
        OnConflict::columns([C::UserId, C::Day])
            .value(C::Messages, add("messages"))
            .value(C::Words, add("words"))
            .value(C::CheckedWords, add("checked_words"))
            .value(C::Mistakes, add("mistakes"))
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await
}

/// A learner's notebook, newest first, strictly older than `before` when given.
pub async fn mistakes(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    chat_id: Option<Uuid>,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<mistake::Model>, DbErr> {
    let mut query = mistake::Entity::find().filter(mistake::Column::UserId.eq(user_id));
    if let Some(chat_id) = chat_id {
        query = query.filter(mistake::Column::ChatId.eq(chat_id));
    }
    if let Some(before) = before {
        query = query.filter(mistake::Column::Id.lt(before));
    }
    query.order_by_desc(mistake::Column::Id).limit(limit).all(db).await
}

/// The counters of the days `from..=to` that had practice.
pub async fn days(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    from: &str,
    to: &str,
) -> Result<Vec<practice_day::Model>, DbErr> {
    practice_day::Entity::find()
        .filter(practice_day::Column::UserId.eq(user_id))
        .filter(practice_day::Column::Day.between(from, to))
        .all(db)
        .await
}

/// How many mistakes of each kind on each day of `from..=to`: `(day, kind, count)`.
pub async fn kinds_by_day(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    from: &str,
    to: &str,
) -> Result<Vec<(String, String, i64)>, DbErr> {
    use mistake::Column as M;
    mistake::Entity::find()
        .select_only()
        .column(M::Day)
        .column(M::Kind)
        .column_as(Expr::col(M::Id).count(), "count")
        .filter(M::UserId.eq(user_id))
        .filter(M::Day.between(from, to))
        .group_by(M::Day)
        .group_by(M::Kind)
        .into_tuple()
        .all(db)
        .await
}
