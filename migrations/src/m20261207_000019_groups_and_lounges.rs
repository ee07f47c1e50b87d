use sea_orm_migration::{
    prelude::*,
    sea_orm::prelude::{ChronoUtc, Uuid},
};

use super::{m20261121_000001_users::Users, m20261121_000004_chats::Chats};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Practising together: group chats and public lounges (chats of kind
/// `group` and `lounge`), members with a role, lounge mutes, corrections of
/// one learner's message by another (which go into the author's notebook),
/// replies and reactions.
#[derive(DeriveIden)]
enum ChatMembers {
    Table,
    /// `owner` or `member` (groups; `member` everywhere else).
    Role,
    /// Muted in a lounge until then (the spam rule, or an admin).
    MutedUntil,
    /// A lounge member's last four messages, as hashes: the spam rule's memory.
    RecentPosts,
}

#[derive(DeriveIden)]
enum Mistakes {
    Table,
    /// `tutor` or `peer`.
    Source,
    /// Who corrected it, for `peer` entries.
    CorrectorId,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    /// The message this one answers (same chat); it may since be deleted.
    ReplyToId,
}

#[derive(DeriveIden)]
enum ChatExtras {
    /// Which of corrections (1), reactions (2) and replies (4) the chat has
    /// ever had: a page of messages looks them up only when there may be some.
    Extras,
}

#[derive(DeriveIden)]
enum MessageReactions {
    Table,
    MessageId,
    UserId,
    Emoji,
    ChatId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PeerCorrections {
    Table,
    MessageId,
    CorrectorId,
    ChatId,
    /// The message's author (whose notebook gets the corrections).
    AuthorId,
    CorrectedText,
    Note,
    /// The tutor's diff of the message and `corrected_text`, as JSON.
    Corrections,
    /// The author thanked the corrector.
    Thanked,
    CreatedAt,
}

/// The lounges every server starts with: one open to all, one per CEFR band.
/// Fixed ids, so every instance and every database agrees on them.
pub const LOUNGES: [(u128, &str); 4] = [
    (0x0193_0000_0000_7000_8000_0000_0000_0001, "Open lounge"),
    (0x0193_0000_0000_7000_8000_0000_0000_0002, "Beginners' lounge (A1–A2)"),
    (0x0193_0000_0000_7000_8000_0000_0000_0003, "Intermediate lounge (B1–B2)"),
    (0x0193_0000_0000_7000_8000_0000_0000_0004, "Advanced lounge (C1–C2)"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(ChatMembers::Role)
                .string_len(16)
                .not_null()
                .default("member")
                .to_owned(),
            ColumnDef::new(ChatMembers::MutedUntil)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(ChatMembers::RecentPosts)
                .string_len(80)
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(Table::alter().table(ChatMembers::Table).add_column(column).to_owned())
                .await?;
        }
        for column in [
            ColumnDef::new(Mistakes::Source)
                .string_len(8)
                .not_null()
                .default("tutor")
                .to_owned(),
            ColumnDef::new(Mistakes::CorrectorId).uuid().null().to_owned(),
        ] {
            manager
                .alter_table(Table::alter().table(Mistakes::Table).add_column(column).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PeerCorrections::Table)
                    .col(ColumnDef::new(PeerCorrections::MessageId).uuid().not_null())
                    .col(ColumnDef::new(PeerCorrections::CorrectorId).uuid().not_null())
                    .col(ColumnDef::new(PeerCorrections::ChatId).uuid().not_null())
                    .col(ColumnDef::new(PeerCorrections::AuthorId).uuid().not_null())
                    .col(ColumnDef::new(PeerCorrections::CorrectedText).text().not_null())
                    .col(ColumnDef::new(PeerCorrections::Note).text().not_null())
                    .col(ColumnDef::new(PeerCorrections::Corrections).text().not_null())
                    .col(
                        ColumnDef::new(PeerCorrections::Thanked)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(PeerCorrections::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(PeerCorrections::MessageId)
                            .col(PeerCorrections::CorrectorId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PeerCorrections::Table, PeerCorrections::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PeerCorrections::Table, PeerCorrections::CorrectorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .add_column(ColumnDef::new(Messages::ReplyToId).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Chats::Table)
                    .add_column(ColumnDef::new(ChatExtras::Extras).integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MessageReactions::Table)
                    .col(ColumnDef::new(MessageReactions::MessageId).uuid().not_null())
                    .col(ColumnDef::new(MessageReactions::UserId).uuid().not_null())
                    .col(ColumnDef::new(MessageReactions::Emoji).string_len(16).not_null())
                    .col(ColumnDef::new(MessageReactions::ChatId).uuid().not_null())
                    .col(
                        ColumnDef::new(MessageReactions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(MessageReactions::MessageId)
                            .col(MessageReactions::UserId)
                            .col(MessageReactions::Emoji),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MessageReactions::Table, MessageReactions::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MessageReactions::Table, MessageReactions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let now = ChronoUtc::now();
        let mut insert = Query::insert();
        insert.into_table(Chats::Table).columns([
            Chats::Id,
            Chats::Kind,
            Chats::Title,
            Chats::CreatedAt,
            Chats::UpdatedAt,
        ]);
        for (id, title) in LOUNGES {
            insert.values_panic([
                Uuid::from_u128(id).into(),
                "lounge".into(),
                title.into(),
                now.into(),
                now.into(),
            ]);
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(Chats::Table)
                    .and_where(Expr::col(Chats::Kind).is_in(["group", "lounge"]))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(PeerCorrections::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MessageReactions::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .drop_column(Messages::ReplyToId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Chats::Table)
                    .drop_column(ChatExtras::Extras)
                    .to_owned(),
            )
            .await?;
        for column in [Mistakes::Source, Mistakes::CorrectorId] {
            manager
                .alter_table(Table::alter().table(Mistakes::Table).drop_column(column).to_owned())
                .await?;
        }
        for column in [ChatMembers::Role, ChatMembers::MutedUntil, ChatMembers::RecentPosts] {
            manager
                .alter_table(Table::alter().table(ChatMembers::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
