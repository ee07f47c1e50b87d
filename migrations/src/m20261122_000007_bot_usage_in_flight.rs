use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Requests reserved but not yet answered, so a request refused only because
/// others are still running can say so instead of "the day is used up".
#[derive(DeriveIden)]
enum BotUsage {
    Table,
    /// Reserved units whose answer has not finished (counted in `used`).
    InFlight,
    /// When the latest unit was reserved; in-flight units older than the bot
    /// timeouts are leftovers of a crash and are not trusted.
    ReservedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(BotUsage::Table)
                    .add_column(ColumnDef::new(BotUsage::InFlight).integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BotUsage::Table)
                    .add_column(ColumnDef::new(BotUsage::ReservedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BotUsage::Table)
                    .drop_column(BotUsage::ReservedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BotUsage::Table)
                    .drop_column(BotUsage::InFlight)
                    .to_owned(),
            )
            .await
    }
}
