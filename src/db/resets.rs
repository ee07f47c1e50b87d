//! One-time password reset links.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{prelude::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{auth::refresh, entity::password_reset};

/// How long a link works.
pub const VALID_FOR: Duration = Duration::hours(1);

/// Makes a link's token for `user_id`; only its hash is stored.
pub async fn create(db: &impl ConnectionTrait, user_id: Uuid, now: DateTime<Utc>) -> Result<String, DbErr> {
    let token = refresh::generate();
    password_reset::ActiveModel {
        token_hash: Set(refresh::hash(&token)),
        user_id: Set(user_id),
        created_at: Set(now),
        expires_at: Set(now + VALID_FOR),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Uses the link: its user, once, while it is valid. Two requests with the
/// same token cannot both succeed (the update is conditional on it being unused).
pub async fn take(db: &impl ConnectionTrait, token: &str, now: DateTime<Utc>) -> Result<Option<Uuid>, DbErr> {
    let hash = refresh::hash(token);
    let Some(found) = password_reset::Entity::find_by_id(hash.clone()).one(db).await? else {
        return Ok(None);
    };
    if found.used_at.is_some() || found.expires_at <= now {
        return Ok(None);
    }
    let used = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(now))
        .filter(password_reset::Column::TokenHash.eq(hash))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok((used.rows_affected == 1).then_some(found.user_id))
}
