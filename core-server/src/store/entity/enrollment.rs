//! A student's enrollment in a course: its status, progress and (at most one) batch.

use sea_orm::entity::prelude::*;

pub use crate::api::EnrollmentStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enrollments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub course_id: Uuid,
    pub student_id: Uuid,
    /// ACTIVE, COMPLETED, EXPIRED or CANCELLED.
    pub status: EnrollmentStatus,
    pub enrolled_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    /// 0–100 over the course's published lessons, rounded down.
    pub progress_percent: i32,
    pub last_accessed_at: Option<DateTimeUtc>,
    /// The batch (cohort) of the course the student sits in, if any.
    pub batch_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
