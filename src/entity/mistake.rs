use sea_orm::entity::prelude::*;

use crate::domain::{feedback::MistakeKind, kinds::MistakeSource};

/// One correction in a learner's mistake notebook.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mistakes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub chat_id: Uuid,
    /// The learner's message that was corrected.
    pub message_id: Uuid,
    /// `YYYY-MM-DD` in the quota time zone.
    pub day: String,
    pub kind: MistakeKind,
    pub original: String,
    pub corrected: String,
    pub explanation: String,
    pub created_at: DateTimeUtc,
    /// Its Leitner box (0..5), see `domain::review`.
    pub review_box: i32,
    /// When it is next due for review, `YYYY-MM-DD`; `''` when new (due at once).
    pub review_due: String,
    /// The tutor's check, or another learner's correction.
    pub source: MistakeSource,
    /// Who corrected it (`peer` entries).
    pub corrector_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
