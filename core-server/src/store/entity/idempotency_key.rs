//! The first answer to a write sent with an `Idempotency-Key`; `status` is empty while
//! that first request is still running.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Whose key it is: the user, a personal access token, or `anonymous`.
    pub scope: String,
    pub key: String,
    /// SHA-256 of method, path, query and body: the same key with another request is refused.
    pub request_hash: String,
    pub status: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub response_body: Option<String>,
    pub content_type: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
