use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

use super::m20261202_000013_chat_list_order as previous;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Commit order is the order. Each message gets `seq`, its chat's next
/// position, taken while its `INSERT` holds the chat row: on PostgreSQL a
/// `BEFORE INSERT` trigger increments `chats.last_seq` (the row stays locked
/// until the message commits, so the next message of that chat takes the next
/// number only after this one is visible); on SQLite, which has one writer,
/// the `INSERT` reads the chat's `last_seq` itself and the trigger moves it on.
/// Read markers (`chat_members.last_read_seq`), unread counts, pages and
/// catch-up follow `seq`, so nobody can read past a message that commits later.
/// A chat's `updated_at` and a member's `activity_at` only move forwards.
#[derive(DeriveIden)]
enum Messages {
    Table,
    ChatId,
    Seq,
    SenderId,
}

#[derive(DeriveIden)]
enum Chats {
    Table,
    LastSeq,
}

#[derive(DeriveIden)]
enum ChatMembers {
    Table,
    LastReadSeq,
}

const INDEX: &str = "idx_messages_chat_seq_sender";
const OLD_INDEX: &str = "idx_messages_chat_id_sender";

/// Numbers the existing messages in id order (the order they had), then
/// points the chats and the read markers at those numbers.
const BACKFILL: [&str; 3] = [
    "UPDATE messages SET seq = numbered.n FROM
        (SELECT id, ROW_NUMBER() OVER (PARTITION BY chat_id ORDER BY id) AS n FROM messages) AS numbered
        WHERE numbered.id = messages.id",
    "UPDATE chats SET last_seq = COALESCE((SELECT MAX(seq) FROM messages WHERE messages.chat_id = chats.id), 0)",
    "UPDATE chat_members SET last_read_seq = COALESCE(
        (SELECT seq FROM messages WHERE messages.id = chat_members.last_read_message_id), 0)",
];

/// The members' part of a new message, the same on both databases (SET reads
/// the row as it was, so both markers move together).
const MEMBERS_ON_INSERT: &str = "
    UPDATE chat_members SET
        activity_at = CASE WHEN activity_at < NEW.created_at THEN NEW.created_at ELSE activity_at END,
        hidden = false,
        last_read_seq = CASE
            WHEN user_id = NEW.sender_id AND last_read_seq < NEW.seq THEN NEW.seq ELSE last_read_seq END,
        last_read_message_id = CASE
            WHEN user_id = NEW.sender_id AND last_read_seq < NEW.seq THEN NEW.id ELSE last_read_message_id END
        WHERE chat_id = NEW.chat_id;";

const ON_DELETE: &str = "
    UPDATE chats SET last_message_id =
        (SELECT id FROM messages WHERE chat_id = OLD.chat_id ORDER BY chat_id DESC, seq DESC LIMIT 1)
        WHERE id = OLD.chat_id AND last_message_id = OLD.id;";

fn sqlite_up() -> Vec<String> {
    vec![
        "DROP TRIGGER messages_after_insert".into(),
        "DROP TRIGGER messages_after_delete".into(),
        format!(
            "CREATE TRIGGER messages_after_insert AFTER INSERT ON messages FOR EACH ROW BEGIN
    UPDATE chats SET
        last_message_id = CASE WHEN last_seq < NEW.seq THEN NEW.id ELSE last_message_id END,
        last_seq = MAX(last_seq, NEW.seq),
        updated_at = MAX(updated_at, NEW.created_at)
        WHERE id = NEW.chat_id;{MEMBERS_ON_INSERT}
END"
        ),
        format!("CREATE TRIGGER messages_after_delete AFTER DELETE ON messages FOR EACH ROW BEGIN{ON_DELETE}\nEND"),
    ]
}

fn sqlite_down() -> Vec<String> {
    vec![
        "DROP TRIGGER messages_after_insert".into(),
        "DROP TRIGGER messages_after_delete".into(),
        format!(
            "CREATE TRIGGER messages_after_insert AFTER INSERT ON messages FOR EACH ROW BEGIN{}\nEND",
            previous::ON_INSERT
        ),
        format!(
            "CREATE TRIGGER messages_after_delete AFTER DELETE ON messages FOR EACH ROW BEGIN{}\nEND",
            previous::ON_DELETE
        ),
    ]
}

fn function(name: &str, body: &str, returns: &str) -> String {
    format!(
        "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN{body}\n    RETURN {returns};\nEND\n$$"
    )
}

fn postgres_up() -> Vec<String> {
    vec![
        // The chat row is locked here and stays locked until the message
        // commits: the chat's next message waits for it, then takes the next
        // number, so numbers follow commit order.
        function(
            "messages_before_insert",
            "
    UPDATE chats SET
        last_seq = last_seq + 1,
        last_message_id = NEW.id,
        updated_at = GREATEST(updated_at, NEW.created_at)
        WHERE id = NEW.chat_id
        RETURNING last_seq INTO NEW.seq;
    IF NEW.seq IS NULL THEN
        RAISE foreign_key_violation USING MESSAGE = 'the chat of this message does not exist';
    END IF;",
            "NEW",
        ),
        "CREATE TRIGGER messages_before_insert BEFORE INSERT ON messages
            FOR EACH ROW EXECUTE FUNCTION messages_before_insert()"
            .into(),
        function("messages_after_insert", MEMBERS_ON_INSERT, "NULL"),
        function("messages_after_delete", ON_DELETE, "NULL"),
    ]
}

fn postgres_down() -> Vec<String> {
    vec![
        "DROP TRIGGER IF EXISTS messages_before_insert ON messages".into(),
        "DROP FUNCTION IF EXISTS messages_before_insert()".into(),
        function("messages_after_insert", previous::ON_INSERT, "NULL"),
        function("messages_after_delete", previous::ON_DELETE, "NULL"),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let seq = |name: DynIden| ColumnDef::new(name).big_integer().not_null().default(0).to_owned();
        for (table, column) in [
            (Messages::Table.into_iden(), Messages::Seq.into_iden()),
            (Chats::Table.into_iden(), Chats::LastSeq.into_iden()),
            (ChatMembers::Table.into_iden(), ChatMembers::LastReadSeq.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).add_column(seq(column)).to_owned())
                .await?;
        }
        let db = manager.get_connection();
        for sql in BACKFILL {
            db.execute_unprepared(sql).await?;
        }
        let triggers = match db.get_database_backend() {
            DbBackend::Postgres => postgres_up(),
            _ => sqlite_up(),
        };
        for sql in triggers {
            db.execute_unprepared(&sql).await?;
        }
        // The same columns as the index it replaces, with `seq` for `id`: pages,
        // catch-up and unread counts are ranges of it.
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Messages::Table)
                    .col(Messages::ChatId)
                    .col(Messages::Seq)
                    .col(Messages::SenderId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(OLD_INDEX).table(Messages::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        #[derive(DeriveIden)]
        enum Old {
            Id,
        }
        manager
            .create_index(
                Index::create()
                    .name(OLD_INDEX)
                    .table(Messages::Table)
                    .col(Messages::ChatId)
                    .col(Old::Id)
                    .col(Messages::SenderId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(INDEX).table(Messages::Table).to_owned())
            .await?;
        let db = manager.get_connection();
        let triggers = match db.get_database_backend() {
            DbBackend::Postgres => postgres_down(),
            _ => sqlite_down(),
        };
        for sql in triggers {
            db.execute_unprepared(&sql).await?;
        }
        for (table, column) in [
            (Messages::Table.into_iden(), Messages::Seq.into_iden()),
            (Chats::Table.into_iden(), Chats::LastSeq.into_iden()),
            (ChatMembers::Table.into_iden(), ChatMembers::LastReadSeq.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
