//! `/api/v1/courses/{id}/announcements`: a course's staff (or an admin) tells its
//! enrolled students — or one batch — something. The announcement is a domain event
//! (`course.announcement`); the notification consumer turns it into an `ANNOUNCEMENT`
//! notification for each of them.

use actix_web::{HttpResponse, post, web};

use super::created;
use crate::api::{Announcement, ApiResponse, NewAnnouncement};
use crate::domain::{Fields, Title};
use crate::error::ApiError;
use crate::http::extract::Json;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::announcements;

/// The longest announcement text, in characters.
pub const MAX_MESSAGE: usize = 5_000;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_announcement);
}

/// Posts an announcement to the course's enrolled students, or to one batch of it
/// (`batchId`). For its staff and admins.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    request_body = NewAnnouncement,
    responses(
        (status = 201, description = "Posted; students are notified", body = ApiResponse<Announcement>),
        (status = 400, description = "Missing title or message, or a batch of another course", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course", body = crate::api::ErrorBody),
    )
)]
#[post("/courses/{id}/announcements")]
pub async fn create_announcement(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    Json(body): Json<NewAnnouncement>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let title = fields.take("title", Title::parse(&body.title));
    let message = body.message.trim().to_owned();
    if message.is_empty() {
        fields.push("message", "is required");
    } else if message.chars().count() > MAX_MESSAGE {
        fields.push(
            "message",
            format!("must be at most {MAX_MESSAGE} characters"),
        );
    }
    fields.finish()?;
    let Some(title) = title else {
        return Err(anyhow::anyhow!("fields parsed without values").into());
    };
    let announcement =
        announcements::create_announcement(&state, &auth, &id, title, message, body.batch_id)
            .await?;
    Ok(created(announcement))
}
