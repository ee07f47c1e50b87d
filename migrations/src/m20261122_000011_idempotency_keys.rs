use sea_orm_migration::prelude::*;

use super::m20261121_000001_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `Idempotency-Key`s of message posts, kept a day per user, so that a client's
/// retry of a post returns the first result instead of posting twice.
#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    UserId,
    Key,
    ChatId,
    /// The message the first request stored; `NULL` while it is being stored.
    MessageId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(ColumnDef::new(IdempotencyKeys::UserId).uuid().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Key).string_len(200).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::ChatId).uuid().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::MessageId).uuid().null())
                    .col(
                        ColumnDef::new(IdempotencyKeys::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col(IdempotencyKeys::UserId).col(IdempotencyKeys::Key))
                    .foreign_key(
                        ForeignKey::create()
                            .from(IdempotencyKeys::Table, IdempotencyKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_idempotency_keys_created_at")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await
    }
}
