//! The tutor's words of each practice chat's latest review.
use sea_orm::{sea_query::OnConflict, ConnectionTrait, DbErr, EntityTrait, Set};
use uuid::Uuid;

use crate::entity::chat_review::{ActiveModel, Column, Entity};

/// What the tutor wrote for a chat's review.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TutorWords {
    pub went_well: Option<String>,
    pub phrases: Vec<String>,
}

/// Keeps `words` as the chat's latest review (replacing an earlier one).
pub async fn store(db: &impl ConnectionTrait, chat_id: Uuid, words: &TutorWords) -> Result<(), DbErr> {
    let phrases = serde_json::to_string(&words.phrases).map_err(|e| DbErr::Custom(e.to_string()))?;
    Entity::insert(ActiveModel {
        chat_id: Set(chat_id),
        went_well: Set(words.went_well.clone()),
        phrases: Set(phrases),
        created_at: Set(super::now()),
    })
    .on_conflict(
        OnConflict::column(Column::ChatId)
            .update_columns([Column::WentWell, Column::Phrases, Column::CreatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The tutor's words of the chat's latest review, if it asked for them.
pub async fn latest(db: &impl ConnectionTrait, chat_id: Uuid) -> Result<Option<TutorWords>, DbErr> {
    Ok(Entity::find_by_id(chat_id).one(db).await?.map(|row| TutorWords {
        went_well: row.went_well,
        phrases: serde_json::from_str(&row.phrases).unwrap_or_default(),
    }))
}
