//! One-time links: password resets and e-mail confirmations.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    prelude::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::{auth::refresh, entity::account_link};

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Choose a new password; works for an hour.
    Reset,
    /// Confirm an e-mail address; works for a day.
    ConfirmEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::ConfirmEmail => "confirm_email",
        }
    }

    pub fn valid_for(self) -> Duration {
        match self {
            Self::Reset => Duration::hours(1),
            Self::ConfirmEmail => Duration::hours(24),
        }
    }
}

/// Makes a link's token for `user_id`; only its hash is stored.
pub async fn create(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    purpose: Purpose,
    email: Option<String>,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let token = refresh::generate();
    account_link::ActiveModel {
        token_hash: Set(refresh::hash(&token)),
        user_id: Set(user_id),
        purpose: Set(purpose.as_str().to_owned()),
        email: Set(email),
        created_at: Set(now),
        expires_at: Set(now + purpose.valid_for()),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// When `user_id` was last sent a link for `purpose`, if ever.
pub async fn last_made(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    purpose: Purpose,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(account_link::Entity::find()
        .filter(account_link::Column::UserId.eq(user_id))
        .filter(account_link::Column::Purpose.eq(purpose.as_str()))
        .order_by_desc(account_link::Column::CreatedAt)
        .one(db)
        .await?
        .map(|l| l.created_at))
}

/// Uses the link: the link, once, while it is valid and for `purpose`. Two
/// requests with the same token cannot both succeed (the update is
/// conditional on it being unused).
pub async fn take(
    db: &impl ConnectionTrait,
    token: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Option<account_link::Model>, DbErr> {
    let hash = refresh::hash(token);
    let Some(found) = account_link::Entity::find_by_id(hash.clone()).one(db).await? else {
        return Ok(None);
    };
    if found.used_at.is_some() || found.expires_at <= now || found.purpose != purpose.as_str() {
        return Ok(None);
    }
    let used = account_link::Entity::update_many()
        .col_expr(account_link::Column::UsedAt, Expr::value(now))
        .filter(account_link::Column::TokenHash.eq(hash))
        .filter(account_link::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok((used.rows_affected == 1).then_some(found))
}
