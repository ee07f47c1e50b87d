use sea_orm_migration::prelude::*;

use super::{m20261121_000001_users::Users, m20261121_000004_chats::Chats};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The mistake notebook: every correction the tutor made in a practice chat,
/// quoting the learner's message it came from.
#[derive(DeriveIden)]
enum Mistakes {
    Table,
    /// UUID v7: time-ordered, so the id is the pagination key.
    Id,
    UserId,
    ChatId,
    /// The learner's message that was corrected.
    MessageId,
    /// `YYYY-MM-DD` in the quota time zone.
    Day,
    Kind,
    Original,
    Corrected,
    Explanation,
    CreatedAt,
}

/// Practice per learner per day, kept as counters so progress is one small read.
#[derive(DeriveIden)]
enum PracticeDays {
    Table,
    UserId,
    Day,
    /// Messages sent to the tutor (answered ones).
    Messages,
    Words,
    /// Words in messages the tutor could check: the base of the mistake rate.
    CheckedWords,
    Mistakes,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Mistakes::Table)
                    .col(ColumnDef::new(Mistakes::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Mistakes::UserId).uuid().not_null())
                    .col(ColumnDef::new(Mistakes::ChatId).uuid().not_null())
                    .col(ColumnDef::new(Mistakes::MessageId).uuid().not_null())
                    .col(ColumnDef::new(Mistakes::Day).string_len(10).not_null())
                    .col(ColumnDef::new(Mistakes::Kind).string_len(20).not_null())
                    .col(ColumnDef::new(Mistakes::Original).text().not_null())
                    .col(ColumnDef::new(Mistakes::Corrected).text().not_null())
                    .col(ColumnDef::new(Mistakes::Explanation).text().not_null())
                    .col(
                        ColumnDef::new(Mistakes::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Mistakes::Table, Mistakes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Mistakes::Table, Mistakes::ChatId)
                            .to(Chats::Table, Chats::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Mistakes::Table, Mistakes::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Newest first for one learner, optionally in one chat; and per day for progress.
        for (name, cols) in [
            ("idx_mistakes_user", vec![Mistakes::UserId, Mistakes::Id]),
            (
                "idx_mistakes_user_chat",
                vec![Mistakes::UserId, Mistakes::ChatId, Mistakes::Id],
            ),
            (
                "idx_mistakes_user_day",
                vec![Mistakes::UserId, Mistakes::Day, Mistakes::Kind],
            ),
            ("idx_mistakes_message", vec![Mistakes::MessageId]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Mistakes::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PracticeDays::Table)
                    .col(ColumnDef::new(PracticeDays::UserId).uuid().not_null())
                    .col(ColumnDef::new(PracticeDays::Day).string_len(10).not_null())
                    .col(ColumnDef::new(PracticeDays::Messages).integer().not_null().default(0))
                    .col(ColumnDef::new(PracticeDays::Words).integer().not_null().default(0))
                    .col(
                        ColumnDef::new(PracticeDays::CheckedWords)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(PracticeDays::Mistakes).integer().not_null().default(0))
                    .primary_key(Index::create().col(PracticeDays::UserId).col(PracticeDays::Day))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PracticeDays::Table, PracticeDays::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PracticeDays::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Mistakes::Table).to_owned())
            .await
    }
}
