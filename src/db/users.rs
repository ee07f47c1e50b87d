use std::collections::HashMap;

use sea_orm::{
    prelude::Expr,
    sea_query::{ExprTrait, Func, LikeExpr},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
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
pub async fn list(
    db: &impl ConnectionTrait,
    prefix: Option<&str>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find();
    if let Some(prefix) = prefix.filter(|p| !p.is_empty()) {
        let pattern = format!("{}%", escape_like(&prefix.to_lowercase()));
        query = query.filter(
            Condition::any()
                .add(Expr::col(Column::UsernameLower).like(LikeExpr::new(pattern.clone()).escape('\\')))
                .add(Expr::expr(Func::lower(Expr::col(Column::DisplayName))).like(LikeExpr::new(pattern).escape('\\'))),
        );
    }
    if let Some(after) = after {
        query = query.filter(Column::UsernameLower.gt(after));
    }
    query.order_by_asc(Column::UsernameLower).limit(limit).all(db).await
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub async fn update_profile(
    db: &impl ConnectionTrait,
    user: Model,
    display_name: Option<String>,
    level: Option<String>,
) -> Result<Model, DbErr> {
    let mut active: ActiveModel = user.into();
    if let Some(name) = display_name {
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
