use std::collections::HashMap;

use sea_orm::{
    prelude::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, Set, Statement,
};
use uuid::Uuid;

use crate::entity::user::{ActiveModel, Column, Entity, Model};

pub async fn insert(
    db: &impl ConnectionTrait,
    username: &str,
    display_name: &str,
    password_hash: String,
) -> Result<Model, DbErr> {
    ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(username.to_owned()),
        username_lower: Set(username.to_lowercase()),
        display_name: Set(display_name.to_owned()),
        display_name_lower: Set(display_name.to_lowercase()),
        password_hash: Set(password_hash),
        role: Set("user".into()),
        level: Set("B1".into()),
        created_at: Set(super::now()),
    }
    .insert(db)
    .await
}

pub async fn find_by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

pub async fn find_by_username(db: &impl ConnectionTrait, username: &str) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::UsernameLower.eq(username.to_lowercase()))
        .one(db)
        .await
}

pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, Model>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(Entity::find()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

/// Users ordered by username, optionally only those whose username or display
/// name starts with `prefix` (case-insensitively), after the cursor `after`.
///
/// Both names are stored lower-cased and indexed in byte order, so a prefix is
/// a range (`>= p AND < p + U+10FFFF`) and the search is the union of two index
/// range scans, whatever the number of users. Byte order (`COLLATE "C"` on
/// PostgreSQL, SQLite's default) is also the listing order on both databases.
pub async fn list(
    db: &impl ConnectionTrait,
    prefix: Option<&str>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    let backend = db.get_database_backend();
    let (c, mut params): (&str, Vec<sea_orm::Value>) = match backend {
        DbBackend::Postgres => (r#" COLLATE "C""#, Vec::new()),
        _ => ("", Vec::new()),
    };
    let mut arg = |v: sea_orm::Value| {
        params.push(v);
        match backend {
            DbBackend::Postgres => format!("${}", params.len()),
            _ => "?".to_owned(),
        }
    };
    let sql = match prefix.map(str::to_lowercase).filter(|p| !p.is_empty()) {
        Some(prefix) => {
            let end = format!("{prefix}\u{10FFFF}");
            let cursor = |arg: &mut dyn FnMut(sea_orm::Value) -> String| match after {
                Some(a) => format!(" AND username_lower{c} > {}", arg(a.into())),
                None => String::new(),
            };
            let (p1, e1, k1) = (arg(prefix.clone().into()), arg(end.clone().into()), cursor(&mut arg));
            let (p2, e2, k2) = (arg(prefix.into()), arg(end.into()), cursor(&mut arg));
            let lim = arg((limit as i64).into());
            format!(
                "SELECT * FROM (\
                 SELECT * FROM users WHERE username_lower{c} >= {p1} AND username_lower{c} < {e1}{k1} \
                 UNION \
                 SELECT * FROM users WHERE display_name_lower{c} >= {p2} AND display_name_lower{c} < {e2}{k2}\
                 ) AS found ORDER BY username_lower{c} LIMIT {lim}"
            )
        }
        None => {
            let cursor = match after {
                Some(a) => format!(" WHERE username_lower{c} > {}", arg(a.into())),
                None => String::new(),
            };
            let lim = arg((limit as i64).into());
            format!("SELECT * FROM users{cursor} ORDER BY username_lower{c} LIMIT {lim}")
        }
    };
    Model::find_by_statement(Statement::from_sql_and_values(backend, sql, params))
        .all(db)
        .await
}

pub async fn update_profile(
    db: &impl ConnectionTrait,
    user: Model,
    display_name: Option<String>,
    level: Option<String>,
) -> Result<Model, DbErr> {
    let mut active: ActiveModel = user.into();
    if let Some(name) = display_name {
        active.display_name_lower = Set(name.to_lowercase());
        active.display_name = Set(name);
    }
    if let Some(level) = level {
        active.level = Set(level);
    }
    active.update(db).await
}

pub async fn set_password(db: &impl ConnectionTrait, id: Uuid, password_hash: String) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(password_hash))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives `username` the `role`; `None` when there is no such user.
pub async fn set_role(db: &impl ConnectionTrait, username: &str, role: &str) -> Result<Option<Model>, DbErr> {
    let Some(user) = find_by_username(db, username).await? else {
        return Ok(None);
    };
    let mut active: ActiveModel = user.into();
    active.role = Set(role.to_owned());
    active.update(db).await.map(Some)
}
