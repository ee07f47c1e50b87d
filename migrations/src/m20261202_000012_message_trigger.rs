use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A new message makes its chat the most recently active, shows the chat again
/// to members who had hidden it, and is read by its sender. A trigger does this
/// inside the message's own `INSERT`, so posting is one statement instead of a
/// transaction of five, which is what limited posting on SQLite's one writer.
pub(crate) const SQLITE_UP: &str = "
CREATE TRIGGER messages_after_insert AFTER INSERT ON messages FOR EACH ROW BEGIN
    UPDATE chats SET updated_at = NEW.created_at WHERE id = NEW.chat_id;
    UPDATE chat_members SET hidden = 0 WHERE chat_id = NEW.chat_id AND hidden;
    UPDATE chat_members SET last_read_message_id = NEW.id
        WHERE NEW.sender_id IS NOT NULL AND chat_id = NEW.chat_id AND user_id = NEW.sender_id
          AND (last_read_message_id IS NULL OR last_read_message_id < NEW.id);
END";

pub(crate) const POSTGRES_UP: [&str; 2] = [
    "
CREATE FUNCTION messages_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE chats SET updated_at = NEW.created_at WHERE id = NEW.chat_id;
    UPDATE chat_members SET hidden = false WHERE chat_id = NEW.chat_id AND hidden;
    IF NEW.sender_id IS NOT NULL THEN
        UPDATE chat_members SET last_read_message_id = NEW.id
            WHERE chat_id = NEW.chat_id AND user_id = NEW.sender_id
              AND (last_read_message_id IS NULL OR last_read_message_id < NEW.id);
    END IF;
    RETURN NULL;
END
$$",
    "CREATE TRIGGER messages_after_insert AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION messages_after_insert()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                for sql in POSTGRES_UP {
                    db.execute_unprepared(sql).await?;
                }
            }
            _ => {
                db.execute_unprepared(SQLITE_UP).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("DROP TRIGGER IF EXISTS messages_after_insert ON messages")
                    .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS messages_after_insert()")
                    .await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER IF EXISTS messages_after_insert")
                    .await?;
            }
        }
        Ok(())
    }
}
