use sea_orm_migration::prelude::*;

use super::m20261121_000004_chats::Chats;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tutor's words of a practice chat's latest review, so the review can be
/// opened again for free; the rest of a review is worked out from the chat.
#[derive(DeriveIden)]
enum ChatReviews {
    Table,
    ChatId,
    /// The tutor's encouragement; `NULL` when its answer was not usable.
    WentWell,
    /// The tutor's phrases to remember, as a JSON array of strings.
    Phrases,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChatReviews::Table)
                    .col(ColumnDef::new(ChatReviews::ChatId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ChatReviews::WentWell).text().null())
                    .col(ColumnDef::new(ChatReviews::Phrases).text().not_null())
                    .col(
                        ColumnDef::new(ChatReviews::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChatReviews::Table, ChatReviews::ChatId)
                            .to(Chats::Table, Chats::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChatReviews::Table).to_owned())
            .await
    }
}
