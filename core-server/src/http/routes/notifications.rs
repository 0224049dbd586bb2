//! `/api/v1/notifications`: the caller's notifications (newest first), marking them
//! read, the unread count, and their preferences. A user sees only their own, and of
//! those about a course's content only the ones of courses (batches) they still belong
//! to; anyone else's id is a 404. Each handler calls one function of
//! [`crate::service::notifications::inbox`].

use actix_web::{HttpResponse, get, patch, put, web};

use super::{ok, ok_with};
use crate::api::{
    ApiResponse, MarkedRead, Notification, NotificationFilter, NotificationList,
    NotificationPreferences, UnreadCount, UpdateNotificationPreferences,
};
use crate::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::notifications::inbox;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_notifications)
        .service(unread_count)
        .service(mark_all_read)
        .service(get_preferences)
        .service(update_preferences)
        .service(mark_read);
}

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(NotificationFilter),
    responses(
        (status = 200, description = "The caller's notifications", body = ApiResponse<NotificationList>),
        (status = 401, description = "Not signed in", body = crate::api::ErrorBody),
    )
)]
#[get("/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    auth: AuthUser,
    filter: Query<NotificationFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(inbox::list(&state, &auth, filter.into_inner()).await?))
}

/// How many of the caller's notifications are unread.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The unread count", body = ApiResponse<UnreadCount>),
    )
)]
#[get("/notifications/unread-count")]
pub async fn unread_count(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(inbox::unread_count(&state, &auth).await?))
}

/// Marks one of the caller's notifications read (again is a no-op 200).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Notification id", minimum = 1, maximum = 9_223_372_036_854_775_807_i64)),
    responses(
        (status = 200, description = "Marked read", body = ApiResponse<Notification>),
        (status = 404, description = "No such notification of the caller's", body = crate::api::ErrorBody),
    )
)]
#[patch("/notifications/{id}/read")]
pub async fn mark_read(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok_with(
        "Notification marked as read",
        inbox::mark_read(&state, &auth, *id).await?,
    ))
}

/// Marks every unread notification of the caller's read.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many were marked", body = ApiResponse<MarkedRead>),
    )
)]
#[patch("/notifications/read-all")]
pub async fn mark_all_read(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    Ok(ok_with(
        "All notifications marked as read",
        inbox::mark_all_read(&state, &auth).await?,
    ))
}

/// The caller's notification preferences (defaults until they set any).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The preferences", body = ApiResponse<NotificationPreferences>),
    )
)]
#[get("/notifications/preferences")]
pub async fn get_preferences(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(inbox::get_preferences(&state, &auth).await?))
}

/// Changes the caller's preferences: muted types (no notification is made), quiet
/// hours (stored but not pushed until they end; `null` turns them off) and time zone.
/// Fields left out keep their value.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = UpdateNotificationPreferences,
    responses(
        (status = 200, description = "The new preferences", body = ApiResponse<NotificationPreferences>),
        (status = 400, description = "An unknown type, a bad time or time zone", body = crate::api::ErrorBody),
    )
)]
#[put("/notifications/preferences")]
pub async fn update_preferences(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<UpdateNotificationPreferences>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok_with(
        "Notification preferences saved",
        inbox::update_preferences(&state, &auth, body).await?,
    ))
}
