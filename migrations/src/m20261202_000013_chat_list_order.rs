use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

use super::m20261202_000012_message_trigger as previous;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The chat list reads one member's chats from one index, already in order,
/// and joins each chat's newest message by its id:
/// - `chat_members.activity_at` is a copy of the chat's `updated_at`, with the
///   index `(user_id, hidden, activity_at, chat_id)`, so a page is a range of
///   that index instead of a sort of all the member's chats;
/// - `chats.last_message_id` points at the chat's newest message (the greatest
///   id), so it is a primary-key lookup instead of a search per chat.
///
/// Triggers keep both true whatever writes: a new message (which also unhides
/// the chat and is read by its sender, as before, now in one update of the
/// members), a chat's own change, and the deletion of its newest message.
///
/// Locks are always taken chat row first, then its member rows: a new message
/// updates the chat before the members, so messages posted to one chat at the
/// same time take turns on the chat row (updating every member row in an
/// order of its own, they deadlocked on PostgreSQL). A chat's own change
/// reaches the members through `chats_after_update`, which a new message does
/// not set off (it moves `last_message_id`) unless it is older than the newest.
#[derive(DeriveIden)]
enum ChatMembers {
    Table,
    UserId,
    Hidden,
    ActivityAt,
    ChatId,
}

#[derive(DeriveIden)]
enum Chats {
    Table,
    LastMessageId,
}

/// The newest message of each chat, for the upgrade and after a deletion.
const NEWEST: &str = "SELECT id FROM messages WHERE messages.chat_id = chats.id ORDER BY chat_id DESC, id DESC LIMIT 1";

/// Both databases' trigger bodies: the same statements (the chat row first,
/// then its member rows).
pub(crate) const ON_INSERT: &str = "
    UPDATE chats SET
        updated_at = NEW.created_at,
        last_message_id = CASE
            WHEN last_message_id IS NULL OR last_message_id < NEW.id THEN NEW.id ELSE last_message_id END
        WHERE id = NEW.chat_id;
    UPDATE chat_members SET
        activity_at = NEW.created_at,
        hidden = false,
        last_read_message_id = CASE
            WHEN user_id = NEW.sender_id AND (last_read_message_id IS NULL OR last_read_message_id < NEW.id)
            THEN NEW.id ELSE last_read_message_id END
        WHERE chat_id = NEW.chat_id;";
const ON_CHAT_UPDATE: &str = "
    UPDATE chat_members SET activity_at = NEW.updated_at
        WHERE chat_id = NEW.id AND activity_at IS DISTINCT FROM NEW.updated_at;";
pub(crate) const ON_DELETE: &str = "
    UPDATE chats SET last_message_id =
        (SELECT id FROM messages WHERE chat_id = OLD.chat_id ORDER BY chat_id DESC, id DESC LIMIT 1)
        WHERE id = OLD.chat_id AND last_message_id = OLD.id;";

fn sqlite_up() -> Vec<String> {
    vec![
        "UPDATE chat_members SET activity_at = (SELECT updated_at FROM chats WHERE chats.id = chat_members.chat_id)"
            .into(),
        format!("UPDATE chats SET last_message_id = ({NEWEST})"),
        "DROP TRIGGER messages_after_insert".into(),
        format!("CREATE TRIGGER messages_after_insert AFTER INSERT ON messages FOR EACH ROW BEGIN{ON_INSERT}\nEND"),
        format!(
            "CREATE TRIGGER chats_after_update AFTER UPDATE OF updated_at ON chats FOR EACH ROW
            WHEN OLD.last_message_id IS NEW.last_message_id BEGIN{ON_CHAT_UPDATE}\nEND"
        ),
        format!("CREATE TRIGGER messages_after_delete AFTER DELETE ON messages FOR EACH ROW BEGIN{ON_DELETE}\nEND"),
    ]
}

const SQLITE_DOWN: [&str; 3] = [
    "DROP TRIGGER IF EXISTS messages_after_delete",
    "DROP TRIGGER IF EXISTS chats_after_update",
    "DROP TRIGGER IF EXISTS messages_after_insert",
];

fn postgres_up() -> Vec<String> {
    let function = |name: &str, body: &str, replace: &str| {
        format!("CREATE {replace}FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN{body}\n    RETURN NULL;\nEND\n$$")
    };
    vec![
        "UPDATE chat_members SET activity_at = chats.updated_at FROM chats WHERE chats.id = chat_members.chat_id"
            .into(),
        format!("UPDATE chats SET last_message_id = ({NEWEST})"),
        function("messages_after_insert", ON_INSERT, "OR REPLACE "),
        function("chats_after_update", ON_CHAT_UPDATE, ""),
        "CREATE TRIGGER chats_after_update AFTER UPDATE OF updated_at ON chats
            FOR EACH ROW WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at
                AND OLD.last_message_id IS NOT DISTINCT FROM NEW.last_message_id)
            EXECUTE FUNCTION chats_after_update()"
            .into(),
        function("messages_after_delete", ON_DELETE, ""),
        "CREATE TRIGGER messages_after_delete AFTER DELETE ON messages
            FOR EACH ROW EXECUTE FUNCTION messages_after_delete()"
            .into(),
        "ALTER TABLE chat_members ALTER COLUMN activity_at DROP DEFAULT".into(),
    ]
}

const POSTGRES_DOWN: [&str; 6] = [
    "DROP TRIGGER IF EXISTS messages_after_delete ON messages",
    "DROP FUNCTION IF EXISTS messages_after_delete()",
    "DROP TRIGGER IF EXISTS chats_after_update ON chats",
    "DROP FUNCTION IF EXISTS chats_after_update()",
    // Migration 12's function and trigger are put back after this.
    "DROP TRIGGER IF EXISTS messages_after_insert ON messages",
    "DROP FUNCTION IF EXISTS messages_after_insert()",
];

const INDEX: &str = "idx_chat_members_list";
const OLD_INDEX: &str = "idx_chat_members_user";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A placeholder for the existing rows, replaced just below.
        manager
            .alter_table(
                Table::alter()
                    .table(ChatMembers::Table)
                    .add_column(
                        ColumnDef::new(ChatMembers::ActivityAt)
                            .timestamp_with_time_zone()
                            .not_null()
                            .default("1970-01-01T00:00:00+00:00"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Chats::Table)
                    .add_column(ColumnDef::new(Chats::LastMessageId).uuid().null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let statements = match db.get_database_backend() {
            DbBackend::Postgres => postgres_up(),
            _ => sqlite_up(),
        };
        for sql in statements {
            db.execute_unprepared(&sql).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(ChatMembers::Table)
                    .col(ChatMembers::UserId)
                    .col(ChatMembers::Hidden)
                    .col(ChatMembers::ActivityAt)
                    .col(ChatMembers::ChatId)
                    .to_owned(),
            )
            .await?;
        // The new index starts with `user_id`: it serves what this one did.
        manager
            .drop_index(Index::drop().name(OLD_INDEX).table(ChatMembers::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                for sql in POSTGRES_DOWN.into_iter().chain(previous::POSTGRES_UP) {
                    db.execute_unprepared(sql).await?;
                }
            }
            _ => {
                for sql in SQLITE_DOWN.into_iter().chain([previous::SQLITE_UP]) {
                    db.execute_unprepared(sql).await?;
                }
            }
        }
        manager
            .create_index(
                Index::create()
                    .name(OLD_INDEX)
                    .table(ChatMembers::Table)
                    .col(ChatMembers::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(INDEX).table(ChatMembers::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Chats::Table)
                    .drop_column(Chats::LastMessageId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ChatMembers::Table)
                    .drop_column(ChatMembers::ActivityAt)
                    .to_owned(),
            )
            .await
    }
}
