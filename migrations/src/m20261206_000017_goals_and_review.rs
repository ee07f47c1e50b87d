use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A reason to come back: each learner's daily goal (practice messages with
/// the tutor per day), the goal in force on each practice day (so raising it
/// does not rewrite past days), and Leitner boxes on notebook entries.
#[derive(DeriveIden)]
enum Users {
    Table,
    /// Practice messages with the tutor per day.
    DailyGoal,
}

#[derive(DeriveIden)]
enum PracticeDays {
    Table,
    Goal,
}

#[derive(DeriveIden)]
enum Mistakes {
    Table,
    UserId,
    Id,
    /// 0 (new or last answered wrong) .. 5.
    ReviewBox,
    /// `YYYY-MM-DD` in the quota time zone; `''` (before every day) for new entries.
    ReviewDue,
}

const DUE_INDEX: &str = "idx_mistakes_review_due";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let columns = [
            (
                Users::Table.into_iden(),
                ColumnDef::new(Users::DailyGoal)
                    .integer()
                    .not_null()
                    .default(3)
                    .to_owned(),
            ),
            (
                PracticeDays::Table.into_iden(),
                ColumnDef::new(PracticeDays::Goal)
                    .integer()
                    .not_null()
                    .default(3)
                    .to_owned(),
            ),
            (
                Mistakes::Table.into_iden(),
                ColumnDef::new(Mistakes::ReviewBox)
                    .integer()
                    .not_null()
                    .default(0)
                    .to_owned(),
            ),
            (
                Mistakes::Table.into_iden(),
                ColumnDef::new(Mistakes::ReviewDue)
                    .string_len(10)
                    .not_null()
                    .default("")
                    .to_owned(),
            ),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).add_column(column).to_owned())
                .await?;
        }
        // The due entries of a learner are one range of this index, in order.
        manager
            .create_index(
                Index::create()
                    .name(DUE_INDEX)
                    .table(Mistakes::Table)
                    .col(Mistakes::UserId)
                    .col(Mistakes::ReviewDue)
                    .col(Mistakes::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(DUE_INDEX).table(Mistakes::Table).to_owned())
            .await?;
        let columns = [
            (Mistakes::Table.into_iden(), Mistakes::ReviewDue.into_iden()),
            (Mistakes::Table.into_iden(), Mistakes::ReviewBox.into_iden()),
            (PracticeDays::Table.into_iden(), PracticeDays::Goal.into_iden()),
            (Users::Table.into_iden(), Users::DailyGoal.into_iden()),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
