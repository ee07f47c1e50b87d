use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// People search by prefix, served by indexes: a lower-cased display name next
/// to the lower-cased username, each with an index that keeps byte order (the
/// "C" collation on PostgreSQL, SQLite's default), so a prefix is a range scan
/// on either database.
#[derive(DeriveIden)]
enum Users {
    Table,
    DisplayNameLower,
}

#[derive(FromQueryResult)]
struct Name {
    id: sea_orm_migration::sea_orm::prelude::Uuid,
    display_name: String,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::DisplayNameLower).string().not_null().default(""))
                    .to_owned(),
            )
            .await?;
        // Lower-cased as the server does it (Unicode-aware), not by SQL's lower().
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let names = Name::find_by_statement(Statement::from_string(backend, "SELECT id, display_name FROM users"))
            .all(db)
            .await?;
        let update = match backend {
            DbBackend::Postgres => "UPDATE users SET display_name_lower = $1 WHERE id = $2",
            _ => "UPDATE users SET display_name_lower = ? WHERE id = ?",
        };
        for name in names {
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                update,
                [name.display_name.to_lowercase().into(), name.id.into()],
            ))
            .await?;
        }
        let indexes: &[&str] = match backend {
            DbBackend::Postgres => &[
                r#"CREATE INDEX idx_users_username_lower_c ON users (username_lower COLLATE "C")"#,
                r#"CREATE INDEX idx_users_display_name_lower_c ON users (display_name_lower COLLATE "C")"#,
            ],
            _ => &["CREATE INDEX idx_users_display_name_lower ON users (display_name_lower)"],
        };
        for sql in indexes {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for index in [
            "idx_users_username_lower_c",
            "idx_users_display_name_lower_c",
            "idx_users_display_name_lower",
        ] {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {index}")).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::DisplayNameLower)
                    .to_owned(),
            )
            .await
    }
}
