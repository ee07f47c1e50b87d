use sea_orm_migration::prelude::*;

use super::m20261121_000001_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Chats {
    Table,
    Id,
    Kind,
    Title,
    ScenarioId,
    Level,
    /// `"<low uuid>:<high uuid>"` for direct chats, so a pair has at most one.
    DirectKey,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ChatMembers {
    Table,
    ChatId,
    UserId,
    LastReadMessageId,
    Hidden,
    JoinedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Chats::Table)
                    .col(ColumnDef::new(Chats::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Chats::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Chats::Title).string_len(512).null())
                    .col(ColumnDef::new(Chats::ScenarioId).string_len(64).null())
                    .col(ColumnDef::new(Chats::Level).string_len(2).null())
                    .col(ColumnDef::new(Chats::DirectKey).string_len(80).null().unique_key())
                    .col(ColumnDef::new(Chats::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Chats::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChatMembers::Table)
                    .col(ColumnDef::new(ChatMembers::ChatId).uuid().not_null())
                    .col(ColumnDef::new(ChatMembers::UserId).uuid().not_null())
                    .col(ColumnDef::new(ChatMembers::LastReadMessageId).uuid().null())
                    .col(ColumnDef::new(ChatMembers::Hidden).boolean().not_null().default(false))
                    .col(
                        ColumnDef::new(ChatMembers::JoinedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col(ChatMembers::ChatId).col(ChatMembers::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChatMembers::Table, ChatMembers::ChatId)
                            .to(Chats::Table, Chats::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChatMembers::Table, ChatMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_chat_members_user")
                    .table(ChatMembers::Table)
                    .col(ChatMembers::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChatMembers::Table).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(Chats::Table).to_owned()).await
    }
}
