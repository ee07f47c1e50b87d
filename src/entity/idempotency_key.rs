use sea_orm::entity::prelude::*;

/// An `Idempotency-Key` a user sent with a message post.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub chat_id: Uuid,
    /// The id the first request's message has (or will have once stored: it
    /// is chosen before the insert, so no crash can separate the message from
    /// its key). `None` only for keys claimed before leases existed.
    pub message_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// The lease of the process that claimed the key (`db::lease`); `None`
    /// for keys claimed before leases existed.
    pub owner: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
