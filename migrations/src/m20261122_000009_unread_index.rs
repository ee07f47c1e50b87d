use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Unread counts look at every message after the reader's marker and skip the
/// reader's own: with `sender_id` in the `(chat_id, id)` index the count is read
/// from the index alone (50k unread: 192 ms → a few ms on SQLite). The new index
/// serves everything the old one did.
#[derive(DeriveIden)]
enum Messages {
    Table,
    ChatId,
    Id,
    SenderId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_chat_id_sender")
                    .table(Messages::Table)
                    .col(Messages::ChatId)
                    .col(Messages::Id)
                    .col(Messages::SenderId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_messages_chat_id")
                    .table(Messages::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_chat_id")
                    .table(Messages::Table)
                    .col(Messages::ChatId)
                    .col(Messages::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_messages_chat_id_sender")
                    .table(Messages::Table)
                    .to_owned(),
            )
            .await
    }
}
