//! The activity log: append-only, one row per thing a user did. Read by the roll-ups,
//! never by a dashboard.

use sea_orm::entity::prelude::*;

use crate::api::ActivityKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: Uuid,
    /// Unique per user: what makes a retry count once.
    pub key: Uuid,
    pub kind: ActivityKind,
    pub course_id: Option<Uuid>,
    pub lesson_id: Option<Uuid>,
    pub seconds: i32,
    /// A test's score in percent.
    pub score: Option<i32>,
    pub occurred_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
