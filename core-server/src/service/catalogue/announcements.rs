//! A course's staff (or an admin) tells its enrolled students — or one batch — something.
//! The announcement is a domain event (`course.announcement`); the notification
//! consumer turns it into an `ANNOUNCEMENT` notification for each of them.

use chrono::Utc;
use uuid::Uuid;

use super::find_course;
use crate::api::Announcement;
use crate::domain::Title;
use crate::domain::events::{CourseAnnouncement, DomainEvent};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue;
use crate::service::enrollments::find_batch;
use crate::service::events;

/// Posts `title` and `message` to the course `key`'s students, or to one batch of it
/// (400 if the batch is another course's), and announces the event after the commit.
pub async fn create_announcement(
    state: &AppState,
    auth: &AuthUser,
    key: &str,
    title: Title,
    message: String,
    batch_id: Option<Uuid>,
) -> Result<Announcement, ApiError> {
    let course = find_course(&state.db, key).await?;
    catalogue::access(&state.db, Some(auth), course.id)
        .await?
        .require_edit()?;
    if let Some(batch_id) = batch_id {
        let batch = find_batch(&state.db, batch_id).await.map_err(|e| match e {
            ApiError::NotFound(_) => ApiError::field("batchId", "is not a batch of this course"),
            other => other,
        })?;
        if batch.course_id != course.id {
            return Err(ApiError::field("batchId", "is not a batch of this course"));
        }
    }
    let announcement = Announcement {
        id: Uuid::now_v7(),
        course_id: course.id,
        batch_id,
        title: title.as_ref().to_owned(),
        message,
        created_at: Utc::now(),
    };
    let txn = crate::store::db::begin_write(&state.db).await?;
    let event = events::publish(
        &txn,
        DomainEvent::CourseAnnouncement(CourseAnnouncement {
            announcement_id: announcement.id,
            course_id: course.id,
            batch_id: announcement.batch_id,
            title: announcement.title.clone(),
            message: announcement.message.clone(),
            actor_id: auth.id(),
        }),
    )
    .await?;
    txn.commit().await?;
    state.events.announce([event]);
    Ok(announcement)
}
