use sea_orm_migration::prelude::*;

use super::m20261121_000001_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One row per pair of users, whichever of them asked first.
/// `user_low`/`user_high` order the pair so the unique key catches both directions.
#[derive(DeriveIden)]
enum Friendships {
    Table,
    UserLow,
    UserHigh,
    RequesterId,
    Status,
    CreatedAt,
    AcceptedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Friendships::Table)
                    .col(ColumnDef::new(Friendships::UserLow).uuid().not_null())
                    .col(ColumnDef::new(Friendships::UserHigh).uuid().not_null())
                    .col(ColumnDef::new(Friendships::RequesterId).uuid().not_null())
                    .col(ColumnDef::new(Friendships::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Friendships::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Friendships::AcceptedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .primary_key(Index::create().col(Friendships::UserLow).col(Friendships::UserHigh))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Friendships::Table, Friendships::UserLow)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Friendships::Table, Friendships::UserHigh)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_friendships_high")
                    .table(Friendships::Table)
                    .col(Friendships::UserHigh)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Friendships::Table).to_owned())
            .await
    }
}
