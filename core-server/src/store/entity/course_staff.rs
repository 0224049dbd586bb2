//! Who teaches a course: its OWNER, CO_TEACHERs and TAs. One row per (course, user).

use sea_orm::entity::prelude::*;

pub use crate::api::StaffRole;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "course_staff")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub course_id: Uuid,
    pub user_id: Uuid,
    /// OWNER, CO_TEACHER or TA.
    pub role: StaffRole,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
