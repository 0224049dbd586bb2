//! A live class: a scheduled session of a course (or one of its batches), hosted by a
//! teacher on the course's staff, in our hub (BUILTIN) or on an external platform.

use sea_orm::entity::prelude::*;

pub use crate::api::{LiveClassStatus, LivePlatform};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "live_classes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub course_id: Uuid,
    pub batch_id: Option<Uuid>,
    /// Shared by the occurrences of one weekly series.
    pub series_id: Option<Uuid>,
    pub host_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub scheduled_at: DateTimeUtc,
    /// `scheduled_at` + `duration_minutes`, kept for range queries.
    pub ends_at: DateTimeUtc,
    pub duration_minutes: i32,
    pub capacity: Option<i32>,
    /// BUILTIN, ZOOM, GOOGLE_MEET or CUSTOM.
    pub platform: LivePlatform,
    pub meeting_url: Option<String>,
    pub meeting_id: Option<String>,
    pub meeting_password: Option<String>,
    /// SCHEDULED, LIVE, COMPLETED or CANCELLED.
    pub status: LiveClassStatus,
    pub started_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub reminder_minutes: i32,
    /// `scheduled_at` − `reminder_minutes`.
    pub remind_at: DateTimeUtc,
    /// Set once, in the transaction that publishes the reminder.
    pub reminder_sent_at: Option<DateTimeUtc>,
    /// iCalendar SEQUENCE.
    pub sequence: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
