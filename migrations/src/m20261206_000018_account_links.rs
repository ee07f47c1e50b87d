use sea_orm_migration::prelude::*;

use super::m20261121_000001_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One-time links sent to a person: a password reset (`chattconnect admin
/// reset-link`, or mailed to a confirmed address) or the confirmation of an
/// e-mail address. Stored only as a SHA-256 hash; each works once, until it
/// expires. And each user's optional e-mail address, confirmed or not.
#[derive(DeriveIden)]
enum AccountLinks {
    Table,
    TokenHash,
    UserId,
    /// `reset` or `confirm_email`.
    Purpose,
    /// The address a `confirm_email` link confirms.
    Email,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum UserEmail {
    Email,
    EmailConfirmed,
}

const EMAIL_INDEX: &str = "idx_users_email";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccountLinks::Table)
                    .col(
                        ColumnDef::new(AccountLinks::TokenHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AccountLinks::UserId).uuid().not_null())
                    .col(ColumnDef::new(AccountLinks::Purpose).string_len(16).not_null())
                    .col(ColumnDef::new(AccountLinks::Email).string_len(254).null())
                    .col(
                        ColumnDef::new(AccountLinks::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AccountLinks::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AccountLinks::UsedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(AccountLinks::Table, AccountLinks::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(UserEmail::Email).string_len(254).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(UserEmail::EmailConfirmed)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        // "Forgot password?" finds the account by its (lower-case) address.
        manager
            .create_index(
                Index::create()
                    .name(EMAIL_INDEX)
                    .table(Users::Table)
                    .col(UserEmail::Email)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(EMAIL_INDEX).table(Users::Table).to_owned())
            .await?;
        for column in [UserEmail::EmailConfirmed, UserEmail::Email] {
            manager
                .alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(AccountLinks::Table).to_owned())
            .await
    }
}
