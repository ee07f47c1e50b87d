use std::collections::HashMap;

use sea_orm::{
    prelude::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, Set, Statement,
};
use uuid::Uuid;

use crate::{
    domain::kinds::{Level, Role},
    entity::user::{ActiveModel, Column, Entity, Model},
};

pub async fn insert(
    db: &impl ConnectionTrait,
    username: &str,
    display_name: &str,
    level: Level,
    password_hash: String,
) -> Result<Model, DbErr> {
    ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(username.to_owned()),
        username_lower: Set(username.to_lowercase()),
        display_name: Set(display_name.to_owned()),
        display_name_lower: Set(display_name.to_lowercase()),
        password_hash: Set(password_hash),
        role: Set(Role::User),
        level: Set(level),
        created_at: Set(super::now()),
        daily_goal: Set(crate::domain::practice::DEFAULT_DAILY_GOAL as i32),
        email: Set(None),
        email_confirmed: Set(false),
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

/// Display-name matches up to which a search sorts them; above, it walks the
/// username index instead (see `list`).
const SPARSE: i64 = 1000;

/// A statement's text and values, with placeholders in the backend's style.
struct Sql {
    backend: DbBackend,
    values: Vec<sea_orm::Value>,
}

impl Sql {
    fn arg(&mut self, value: impl Into<sea_orm::Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    /// `column` compared in byte order (`COLLATE "C"` on PostgreSQL).
    fn bytes(&self, column: &str) -> String {
        match self.backend {
            DbBackend::Postgres => format!(r#"{column} COLLATE "C""#),
            _ => column.to_owned(),
        }
    }

    /// `column` as a filter only, never as an index constraint (an expression:
    /// SQLite's unary `+`, PostgreSQL's `|| ''`), so that the planner walks the
    /// username index in order.
    fn filter_only(&self, column: &str) -> String {
        match self.backend {
            DbBackend::Postgres => format!(r#"({column} || '') COLLATE "C""#),
            _ => format!("+{column}"),
        }
    }

    fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

/// Users ordered by username, optionally only those whose username or display
/// name starts with `prefix` (case-insensitively), after the cursor `after`.
///
/// Both names are stored lower-cased and indexed in byte order (`COLLATE "C"`
/// on PostgreSQL, SQLite's default), which is also the listing order on both
/// databases, so a prefix is a range (`>= p AND < p + U+10FFFF`). When few
/// display names match, the search is the union of two index range scans;
/// when many do (a common prefix), it walks the username index in order and
/// stops after a page. Either way the cost does not grow with the number of users.
pub async fn list(
    db: &impl ConnectionTrait,
    prefix: Option<&str>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    let backend = db.get_database_backend();
    let mut sql = Sql {
        backend,
        values: Vec::new(),
    };
    let (u, d) = (sql.bytes("username_lower"), sql.bytes("display_name_lower"));
    let Some(prefix) = prefix.map(str::to_lowercase).filter(|p| !p.is_empty()) else {
        let cursor = match after {
            Some(a) => format!(" WHERE {u} > {}", sql.arg(a)),
            None => String::new(),
        };
        let text = format!(
            "SELECT * FROM users{cursor} ORDER BY {u} LIMIT {}",
            sql.arg(limit as i64)
        );
        return Model::find_by_statement(sql.statement(text)).all(db).await;
    };
    let end = format!("{prefix}\u{10FFFF}");

    let mut count = Sql {
        backend,
        values: Vec::new(),
    };
    let text = format!(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM users WHERE {d} >= {} AND {d} < {} LIMIT {}) AS matches",
        count.arg(prefix.clone()),
        count.arg(end.clone()),
        count.arg(SPARSE + 1)
    );
    let dense = db
        .query_one_raw(count.statement(text))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0)
        > SPARSE;

    let cursor = |sql: &mut Sql| match after {
        Some(a) => format!(" AND {u} > {}", sql.arg(a)),
        None => String::new(),
    };
    let text = if dense {
        let (fu, fd) = (sql.filter_only("username_lower"), sql.filter_only("display_name_lower"));
        let (p1, e1, p2, e2) = (
            sql.arg(prefix.clone()),
            sql.arg(end.clone()),
            sql.arg(prefix),
            sql.arg(end),
        );
        let k = cursor(&mut sql);
        format!(
            "SELECT * FROM users WHERE (({fu} >= {p1} AND {fu} < {e1}) OR ({fd} >= {p2} AND {fd} < {e2})){k} \
             ORDER BY {u} LIMIT {}",
            sql.arg(limit as i64)
        )
    } else {
        let (p1, e1) = (sql.arg(prefix.clone()), sql.arg(end.clone()));
        let k1 = cursor(&mut sql);
        let (p2, e2) = (sql.arg(prefix), sql.arg(end));
        let k2 = cursor(&mut sql);
        format!(
            "SELECT * FROM (\
             SELECT * FROM users WHERE {u} >= {p1} AND {u} < {e1}{k1} \
             UNION \
             SELECT * FROM users WHERE {d} >= {p2} AND {d} < {e2}{k2}\
             ) AS found ORDER BY {u} LIMIT {}",
            sql.arg(limit as i64)
        )
    };
    Model::find_by_statement(sql.statement(text)).all(db).await
}

pub async fn update_profile(
    db: &impl ConnectionTrait,
    user: Model,
    display_name: Option<String>,
    level: Option<Level>,
    daily_goal: Option<crate::domain::practice::DailyGoal>,
) -> Result<Model, DbErr> {
    let mut active: ActiveModel = user.into();
    if let Some(goal) = daily_goal {
        active.daily_goal = Set(goal.get() as i32);
    }
    if let Some(name) = display_name {
        active.display_name_lower = Set(name.to_lowercase());
        active.display_name = Set(name);
    }
    if let Some(level) = level {
        active.level = Set(level);
    }
    active.update(db).await
}

/// Sets (or, with `None`, removes) the user's address, unconfirmed.
pub async fn set_email(db: &impl ConnectionTrait, id: Uuid, email: Option<String>) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Email, Expr::value(email))
        .col_expr(Column::EmailConfirmed, Expr::value(false))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Confirms `email` for the user, if it is still their address.
pub async fn confirm_email(db: &impl ConnectionTrait, id: Uuid, email: &str) -> Result<bool, DbErr> {
    let done = Entity::update_many()
        .col_expr(Column::EmailConfirmed, Expr::value(true))
        .filter(Column::Id.eq(id))
        .filter(Column::Email.eq(email))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The account with this confirmed address (the oldest, if several claim it).
pub async fn find_by_confirmed_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::Email.eq(email.to_lowercase()))
        .filter(Column::EmailConfirmed.eq(true))
        .order_by_asc(Column::CreatedAt)
        .one(db)
        .await
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
pub async fn set_role(db: &impl ConnectionTrait, username: &str, role: Role) -> Result<Option<Model>, DbErr> {
    let Some(user) = find_by_username(db, username).await? else {
        return Ok(None);
    };
    let mut active: ActiveModel = user.into();
    active.role = Set(role);
    active.update(db).await.map(Some)
}
