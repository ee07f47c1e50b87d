use sea_orm_migration::prelude::*;

use super::m20261121_000001_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Bot requests per user per quota day. `used` only grows through a conditional
/// UPDATE (`used < limit + extra`), which is what makes the quota exact.
#[derive(DeriveIden)]
enum BotUsage {
    Table,
    UserId,
    /// `YYYY-MM-DD` in the quota time zone.
    Day,
    Used,
    /// Extra requests granted by an admin for that day.
    Extra,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BotUsage::Table)
                    .col(ColumnDef::new(BotUsage::UserId).uuid().not_null())
                    .col(ColumnDef::new(BotUsage::Day).string_len(10).not_null())
                    .col(ColumnDef::new(BotUsage::Used).integer().not_null().default(0))
                    .col(ColumnDef::new(BotUsage::Extra).integer().not_null().default(0))
                    .primary_key(Index::create().col(BotUsage::UserId).col(BotUsage::Day))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BotUsage::Table, BotUsage::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BotUsage::Table).to_owned())
            .await
    }
}
