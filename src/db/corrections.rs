//! Peer corrections, and the notebook entries they give the author.
use std::collections::HashMap;

use sea_orm::{
    sea_query::{Expr, ExprTrait, OnConflict, Query},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, TransactionSession,
    TransactionTrait,
};
use uuid::Uuid;

use crate::{
    domain::{feedback::Correction, kinds::MistakeSource},
    entity::{mistake, peer_correction, user},
};

/// A correction with its corrector's display name.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Named {
    #[sea_orm(nested)]
    pub correction: peer_correction::Model,
    pub corrector_name: String,
}

/// What a correction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    New,
    Replaced,
}

/// Stores `corrector`'s correction of a message (replacing theirs, if any) and
/// puts its corrections in the author's notebook instead of the earlier ones,
/// in one transaction.
pub async fn save<C: TransactionTrait>(
    db: &C,
    row: peer_correction::Model,
    corrections: &[Correction],
    day: &str,
) -> Result<Saved, DbErr> {
    use peer_correction::Column as C;
    let txn = db.begin().await?;
    let existed = peer_correction::Entity::find_by_id((row.message_id, row.corrector_id))
        .one(&txn)
        .await?
        .is_some();
    peer_correction::Entity::insert(peer_correction::ActiveModel::from(row.clone()))
        .on_conflict(
            OnConflict::columns([C::MessageId, C::CorrectorId])
                .update_columns([C::CorrectedText, C::Note, C::Corrections, C::Thanked, C::CreatedAt])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    mistake::Entity::delete_many()
        .filter(mistake::Column::MessageId.eq(row.message_id))
        .filter(mistake::Column::CorrectorId.eq(row.corrector_id))
        .exec(&txn)
        .await?;
    if !corrections.is_empty() {
        let entries = corrections.iter().map(|c| mistake::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(row.author_id),
            chat_id: Set(row.chat_id),
            message_id: Set(row.message_id),
            day: Set(day.to_owned()),
            kind: Set(c.kind),
            original: Set(c.original.clone()),
            corrected: Set(c.corrected.clone()),
            explanation: Set(c.explanation.clone()),
            created_at: Set(row.created_at),
            review_box: Set(0),
            review_due: Set(String::new()),
            source: Set(MistakeSource::Peer),
            corrector_id: Set(Some(row.corrector_id)),
        });
        mistake::Entity::insert_many(entries)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(if existed { Saved::Replaced } else { Saved::New })
}

/// Marks a correction thanked; false when there is none.
pub async fn thank(db: &impl ConnectionTrait, message_id: Uuid, corrector_id: Uuid) -> Result<bool, DbErr> {
    let result = peer_correction::Entity::update_many()
        .col_expr(peer_correction::Column::Thanked, Expr::value(true))
        .filter(peer_correction::Column::MessageId.eq(message_id))
        .filter(peer_correction::Column::CorrectorId.eq(corrector_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The corrections of the messages `ids`, oldest first per message, each with
/// its corrector's name: one statement (a range of the primary key per message).
pub async fn of_messages(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Named>>, DbErr> {
    use sea_orm::{sea_query::Order, Iterable};
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let (pc, u) = (peer_correction::Entity, user::Entity);
    let query = Query::select()
        .columns(peer_correction::Column::iter().map(|c| (pc, c)))
        .expr_as(
            Expr::col((u, user::Column::DisplayName)),
            sea_orm::sea_query::Alias::new("corrector_name"),
        )
        .from(pc)
        .inner_join(
            u,
            Expr::col((u, user::Column::Id)).equals((pc, peer_correction::Column::CorrectorId)),
        )
        .and_where(Expr::col((pc, peer_correction::Column::MessageId)).is_in(ids.iter().copied()))
        .order_by((pc, peer_correction::Column::CreatedAt), Order::Asc)
        .to_owned();
    let rows = Named::find_by_statement(db.get_database_backend().build(&query))
        .all(db)
        .await?;
    let mut by_message: HashMap<Uuid, Vec<Named>> = HashMap::new();
    for row in rows {
        by_message.entry(row.correction.message_id).or_default().push(row);
    }
    Ok(by_message)
}

/// One correction with its corrector's name.
pub async fn one(db: &impl ConnectionTrait, message_id: Uuid, corrector_id: Uuid) -> Result<Option<Named>, DbErr> {
    Ok(of_messages(db, &[message_id])
        .await?
        .remove(&message_id)
        .and_then(|all| all.into_iter().find(|n| n.correction.corrector_id == corrector_id)))
}
