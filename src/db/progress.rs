//! The mistake notebook and daily practice counters.
use sea_orm::{
    prelude::Expr,
    sea_query::{Alias, ExprTrait, OnConflict, Query, QueryStatementBuilder, SimpleExpr},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::{
    domain::feedback::{Feedback, FeedbackStatus, MistakeKind},
    entity::{message, mistake, practice_day, user},
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
            kind: Set(c.kind),
            original: Set(c.original.clone()),
            corrected: Set(c.corrected.clone()),
            explanation: Set(c.explanation.clone()),
            created_at: Set(now),
            review_box: Set(0),
            review_due: Set(String::new()),
            source: Set(crate::domain::kinds::MistakeSource::Tutor),
            corrector_id: Set(None),
        });
        mistake::Entity::insert_many(rows).exec_without_returning(&txn).await?;
    }
    use practice_day::Column as C;
    // The day keeps the goal in force when the learner last practised on it.
    let goal = Query::select()
        .column(user::Column::DailyGoal)
        .from(user::Entity)
        .and_where(Expr::col(user::Column::Id).eq(p.user_id))
        .to_owned();
    let mut insert = Query::insert();
    insert
        .into_table(practice_day::Entity)
        .columns([
            C::UserId,
            C::Day,
            C::Messages,
            C::Words,
            C::CheckedWords,
            C::Mistakes,
            C::Goal,
        ])
        .values([
            p.user_id.into(),
            p.day.into(),
            1.into(),
            words.into(),
            (if checked { words } else { 0 }).into(),
            (p.feedback.corrections.len() as i32).into(),
            SimpleExpr::SubQuery(None, Box::new(goal.into_sub_query_statement())),
        ])
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .on_conflict(
            OnConflict::columns([C::UserId, C::Day])
                .value(C::Messages, add("messages"))
                .value(C::Words, add("words"))
                .value(C::CheckedWords, add("checked_words"))
                .value(C::Mistakes, add("mistakes"))
                .value(C::Goal, Expr::cust("excluded.goal"))
                .to_owned(),
        );
    txn.execute(&insert).await?;
    txn.commit().await
}

/// A learner's practice days up to `to`, newest first, at most `limit`: the
/// streak reads back from today until it breaks.
pub async fn days_back(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    to: &str,
    limit: u64,
) -> Result<Vec<practice_day::Model>, DbErr> {
    practice_day::Entity::find()
        .filter(practice_day::Column::UserId.eq(user_id))
        .filter(practice_day::Column::Day.lte(to))
        .order_by_desc(practice_day::Column::Day)
        .limit(limit)
        .all(db)
        .await
}

/// After the learner changed their goal, today counts against the new one.
pub async fn set_today_goal(db: &impl ConnectionTrait, user_id: Uuid, day: &str, goal: i32) -> Result<(), DbErr> {
    practice_day::Entity::update_many()
        .col_expr(practice_day::Column::Goal, Expr::value(goal))
        .filter(practice_day::Column::UserId.eq(user_id))
        .filter(practice_day::Column::Day.eq(day))
        .exec(db)
        .await?;
    Ok(())
}

/// A notebook entry with the text of the message it came from (`None` when
/// that message is gone).
#[derive(Debug, Clone, FromQueryResult)]
pub struct Entry {
    #[sea_orm(nested)]
    pub mistake: mistake::Model,
    pub message: Option<String>,
}

impl Entry {
    /// The entry as the review sees it (its own words stand for a message that is gone).
    pub fn review(&self) -> crate::domain::review::Entry<'_> {
        let m = &self.mistake;
        crate::domain::review::Entry {
            message: self.message.as_deref().unwrap_or(&m.original),
            original: &m.original,
            corrected: &m.corrected,
            kind: m.kind,
            review_box: m.review_box,
        }
    }
}

/// `mistakes LEFT JOIN messages` for `user_id`, as `Entry` rows.
fn entries(user_id: Uuid) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::{sea_query::JoinType, Iterable};
    let (m, msg) = (mistake::Entity, message::Entity);
    let mut query = Query::select();
    query
        .columns(mistake::Column::iter().map(|c| (m, c)))
        .expr_as(Expr::col((msg, message::Column::Content)), Alias::new("message"))
        .from(m)
        .join(
            JoinType::LeftJoin,
            msg,
            Expr::col((msg, message::Column::Id)).equals((m, mistake::Column::MessageId)),
        )
        .and_where(Expr::col((m, mistake::Column::UserId)).eq(user_id));
    query
}

/// The entries due for review on `today` (new ones first, then by due day),
/// after the `(due, id)` of the previous page.
pub async fn due(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    today: &str,
    after: Option<(String, Uuid)>,
    limit: u64,
) -> Result<Vec<Entry>, DbErr> {
    use sea_orm::sea_query::Order;
    let m = mistake::Entity;
    let (due, id) = (
        Expr::col((m, mistake::Column::ReviewDue)),
        Expr::col((m, mistake::Column::Id)),
    );
    let mut query = entries(user_id);
    query.and_where(due.clone().lte(today));
    if let Some((at, after_id)) = after {
        query.and_where(
            Expr::tuple([due.clone(), id.clone()]).gt(Expr::tuple([Expr::value(at), Expr::value(after_id)])),
        );
    }
    query
        .order_by_expr(due, Order::Asc)
        .order_by_expr(id, Order::Asc)
        .limit(limit);
    Entry::find_by_statement(db.get_database_backend().build(&query))
        .all(db)
        .await
}

/// How many entries are due on `today`.
pub async fn due_count(db: &impl ConnectionTrait, user_id: Uuid, today: &str) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    mistake::Entity::find()
        .filter(mistake::Column::UserId.eq(user_id))
        .filter(mistake::Column::ReviewDue.lte(today))
        .count(db)
        .await
}

/// One of the learner's entries, with its message.
pub async fn entry(db: &impl ConnectionTrait, user_id: Uuid, id: Uuid) -> Result<Option<Entry>, DbErr> {
    let mut query = entries(user_id);
    query.and_where(Expr::col((mistake::Entity, mistake::Column::Id)).eq(id));
    Entry::find_by_statement(db.get_database_backend().build(&query))
        .one(db)
        .await
}

/// Moves an entry to its new box after an answer.
pub async fn reschedule(db: &impl ConnectionTrait, id: Uuid, review_box: i32, due: &str) -> Result<(), DbErr> {
    mistake::Entity::update_many()
        .col_expr(mistake::Column::ReviewBox, Expr::value(review_box))
        .col_expr(mistake::Column::ReviewDue, Expr::value(due))
        .filter(mistake::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A learner's notebook, newest first, strictly older than `before` when
/// given, each entry with its message.
pub async fn mistakes(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    chat_id: Option<Uuid>,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Entry>, DbErr> {
    use sea_orm::sea_query::Order;
    let m = mistake::Entity;
    let mut query = entries(user_id);
    if let Some(chat_id) = chat_id {
        query.and_where(Expr::col((m, mistake::Column::ChatId)).eq(chat_id));
    }
    if let Some(before) = before {
        query.and_where(Expr::col((m, mistake::Column::Id)).lt(before));
    }
    query.order_by((m, mistake::Column::Id), Order::Desc).limit(limit);
    Entry::find_by_statement(db.get_database_backend().build(&query))
        .all(db)
        .await
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
) -> Result<Vec<(String, MistakeKind, i64)>, DbErr> {
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
