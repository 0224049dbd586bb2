//! A notification: a row first, a push second. `id` is one global increasing sequence
//! assigned in commit order, so it increases per user and serves as the `since` cursor.

use sea_orm::entity::prelude::*;

pub use crate::api::NotificationType;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub user_id: Uuid,
    /// `CLASS_SCHEDULED`, `TEST_PUBLISHED`… (the column is `type`).
    #[sea_orm(column_name = "type")]
    pub kind: NotificationType,
    pub title: String,
    pub message: String,
    pub data: Json,
    pub action_url: Option<String>,
    pub is_read: bool,
    pub read_at: Option<DateTimeUtc>,
    /// The course whose content this is about: only its members see it.
    pub course_id: Option<Uuid>,
    /// The batch it was sent to: only its members (and the course's staff) see it.
    pub batch_id: Option<Uuid>,
    /// The domain event it came from.
    pub event_seq: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
