use sea_orm_migration::prelude::*;

use super::m20261121_000001_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Work in flight names the lease of the process doing it, so that work left
/// by a process that died (`kill -9`, a crash) is found and settled at once by
/// any instance, instead of waiting for a timeout.
#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    /// The lease of the process that claimed the key; `NULL` for keys
    /// claimed before this migration.
    Owner,
}

/// One row per unit of bot quota in flight: reserved, not yet settled or
/// refunded.
#[derive(DeriveIden)]
enum BotReservations {
    Table,
    Id,
    UserId,
    /// The quota day the unit was taken from.
    Day,
    /// The lease of the process answering it.
    Owner,
    /// The learner's turn it answers (none for a check or a review).
    MessageId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IdempotencyKeys::Table)
                    .add_column(ColumnDef::new(IdempotencyKeys::Owner).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BotReservations::Table)
                    .col(ColumnDef::new(BotReservations::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(BotReservations::UserId).uuid().not_null())
                    .col(ColumnDef::new(BotReservations::Day).string_len(10).not_null())
                    .col(ColumnDef::new(BotReservations::Owner).uuid().not_null())
                    .col(ColumnDef::new(BotReservations::MessageId).uuid().null())
                    .col(
                        ColumnDef::new(BotReservations::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BotReservations::Table, BotReservations::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_bot_reservations_owner")
                    .table(BotReservations::Table)
                    .col(BotReservations::Owner)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_bot_reservations_message")
                    .table(BotReservations::Table)
                    .col(BotReservations::MessageId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BotReservations::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(IdempotencyKeys::Table)
                    .drop_column(IdempotencyKeys::Owner)
                    .to_owned(),
            )
            .await
    }
}
