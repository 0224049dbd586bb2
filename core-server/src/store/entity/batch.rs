//! A batch (cohort) of a course: a named group of its enrolled students with an
//! optional capacity. Members are the enrollments whose `batch_id` is this batch.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "batches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub course_id: Uuid,
    pub name: String,
    /// Seats; `None` is unlimited.
    pub capacity: Option<i32>,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
