//! `/api/v1/live-classes`: scheduling (one class or a weekly series), changing or
//! cancelling one occurrence or a series, start and end by the host, joining with
//! attendance, the attendance report, and the per-user iCalendar feed.
//!
//! Each handler calls one function of [`crate::service::live_classes`], which owns the
//! scheduling lock, the transactions and the domain events.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{
    ApiResponse, AttendanceReport, CalendarFeed, CalendarQuery, JoinDetails, LiveClass,
    LiveClassCreated, LiveClassFilter, LiveClassList, LiveClassesChanged, NewLiveClass, ScopeQuery,
    UpdateLiveClass,
};
use crate::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::live_classes::{self, Outcome, attendance, calendar, lifecycle, scheduling};

/// Registers every route of this file (fixed paths before `{id}`).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(calendar_feed)
        .service(create_calendar_token)
        .service(revoke_calendar_token)
        .service(list_live_classes)
        .service(create_live_class)
        .service(get_live_class)
        .service(update_live_class)
        .service(cancel_live_class)
        .service(start_live_class)
        .service(end_live_class)
        .service(join_live_class)
        .service(leave_live_class)
        .service(attendance_report);
}

/// Lists the live classes the caller may see, earliest first: students the classes of
/// their courses (and batches), staff those of the courses they teach, admins all.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(LiveClassFilter),
    responses(
        (status = 200, description = "A page of classes", body = ApiResponse<LiveClassList>),
        (status = 400, description = "Unknown status or bad dates", body = crate::api::ErrorBody),
    )
)]
#[get("/live-classes")]
pub async fn list_live_classes(
    state: web::Data<AppState>,
    auth: AuthUser,
    filter: Query<LiveClassFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        live_classes::list(&state, &auth, filter.into_inner()).await?
    ))
}

/// Schedules a class for a course or one of its batches (its staff and admins), or a
/// weekly series with `recurrence`. A clash with a class of the same host, or of the
/// same students, is a 409 naming that class; a series is created whole or not at all.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    request_body = NewLiveClass,
    responses(
        (status = 201, description = "Scheduled", body = ApiResponse<LiveClassCreated>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course", body = crate::api::ErrorBody),
        (status = 409, description = "Clashes with another class", body = crate::api::ErrorBody),
        (status = 422, description = "The course is archived", body = crate::api::ErrorBody),
    )
)]
#[post("/live-classes")]
pub async fn create_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<NewLiveClass>,
) -> Result<HttpResponse, ApiError> {
    Ok(created(scheduling::create(&state, &auth, body).await?))
}

/// One class, for those who may see it.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id")),
    responses(
        (status = 200, description = "The class", body = ApiResponse<LiveClass>),
        (status = 404, description = "No such class that you may see", body = crate::api::ErrorBody),
    )
)]
#[get("/live-classes/{id}")]
pub async fn get_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(live_classes::get(&state, &auth, *id).await?))
}

/// Changes a scheduled class (its staff and admins): `scope=following` or `series`
/// applies the change to later or all not-yet-started occurrences of its series (a new
/// `scheduledAt` moves each by the same offset). A time change is checked for clashes,
/// re-arms the reminder and notifies the students (`live_class.rescheduled`).
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id"), ScopeQuery),
    request_body = UpdateLiveClass,
    responses(
        (status = 200, description = "Changed", body = ApiResponse<LiveClassesChanged>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such class", body = crate::api::ErrorBody),
        (status = 409, description = "Clashes with another class", body = crate::api::ErrorBody),
        (status = 422, description = "Not a scheduled class", body = crate::api::ErrorBody),
    )
)]
#[patch("/live-classes/{id}")]
pub async fn update_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    scope: Query<ScopeQuery>,
    Json(body): Json<UpdateLiveClass>,
) -> Result<HttpResponse, ApiError> {
    let scope = scope.scope.unwrap_or_default();
    Ok(ok(
        scheduling::update(&state, &auth, *id, scope, body).await?
    ))
}

/// Cancels a scheduled class (its staff and admins), or with `scope=following` /
/// `series` the later / all not-yet-started occurrences of its series. Students are
/// notified; the classes stay listed as CANCELLED (and in calendar feeds). Cancelling a
/// cancelled class is a no-op.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id"), ScopeQuery),
    responses(
        (status = 200, description = "Cancelled", body = ApiResponse<LiveClassesChanged>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such class", body = crate::api::ErrorBody),
        (status = 422, description = "The class is live or over", body = crate::api::ErrorBody),
    )
)]
#[delete("/live-classes/{id}")]
pub async fn cancel_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    scope: Query<ScopeQuery>,
) -> Result<HttpResponse, ApiError> {
    let scope = scope.scope.unwrap_or_default();
    Ok(match scheduling::cancel(&state, &auth, *id, scope).await? {
        Outcome::Already(changed) => ok_with("Already cancelled", changed),
        Outcome::Done(changed) => ok_with("Cancelled", changed),
    })
}

/// Starts the class (its host only): LIVE now, students notified, the room told.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id")),
    responses(
        (status = 200, description = "Live", body = ApiResponse<LiveClass>),
        (status = 403, description = "Not the host", body = crate::api::ErrorBody),
        (status = 404, description = "No such class", body = crate::api::ErrorBody),
        (status = 422, description = "Cancelled, over, or too early", body = crate::api::ErrorBody),
    )
)]
#[post("/live-classes/{id}/start")]
pub async fn start_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(match lifecycle::start(&state, &auth, *id).await? {
        Outcome::Already(class) => ok_with("Already live", class),
        Outcome::Done(class) => ok(class),
    })
}

/// Ends a live class (its host only): COMPLETED, open attendances closed at the end.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id")),
    responses(
        (status = 200, description = "Ended", body = ApiResponse<LiveClass>),
        (status = 403, description = "Not the host", body = crate::api::ErrorBody),
        (status = 404, description = "No such class", body = crate::api::ErrorBody),
        (status = 422, description = "Not live", body = crate::api::ErrorBody),
    )
)]
#[post("/live-classes/{id}/end")]
pub async fn end_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(match lifecycle::end(&state, &auth, *id).await? {
        Outcome::Already(class) => ok_with("Already ended", class),
        Outcome::Done(class) => ok(class),
    })
}

/// Joins a class: for its enrolled students (the batch's, for a batch's class) from
/// 15 minutes before the start until it ends, within its capacity (409 when full; a
/// student who was in before may always return). Records attendance and answers the
/// join details. Staff and admins get the details without attendance.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id")),
    responses(
        (status = 200, description = "How to join", body = ApiResponse<JoinDetails>),
        (status = 404, description = "No such class that you may join", body = crate::api::ErrorBody),
        (status = 409, description = "The class is full", body = crate::api::ErrorBody),
        (status = 422, description = "Not open (too early, over or cancelled)", body = crate::api::ErrorBody),
    )
)]
#[post("/live-classes/{id}/join")]
pub async fn join_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(attendance::join(&state, &auth, *id).await?))
}

/// Leaves a class the student joined: the stay's minutes are recorded.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id")),
    responses(
        (status = 200, description = "Left; the minutes present so far", body = ApiResponse<crate::api::LeftClass>),
        (status = 404, description = "No such class", body = crate::api::ErrorBody),
        (status = 422, description = "Never joined", body = crate::api::ErrorBody),
    )
)]
#[post("/live-classes/{id}/leave")]
pub async fn leave_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let left = attendance::leave(&state, &auth, *id).await?;
    Ok(ok_with(
        "Left the class",
        json!({ "liveClassId": left.live_class_id, "minutes": left.minutes }),
    ))
}

/// Who attended (with minutes) and who was expected but never joined (its staff and
/// admins).
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id")),
    responses(
        (status = 200, description = "The report", body = ApiResponse<AttendanceReport>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such class", body = crate::api::ErrorBody),
    )
)]
#[get("/live-classes/{id}/attendance")]
pub async fn attendance_report(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(attendance::report(&state, &auth, *id).await?))
}

/// Creates (or replaces) the caller's calendar feed token and answers it once. The
/// token opens only the feed; an old one stops working.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new feed token", body = ApiResponse<CalendarFeed>),
    )
)]
#[post("/live-classes/calendar-token")]
pub async fn create_calendar_token(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    Ok(created(calendar::create_token(&state, &auth).await?))
}

/// Revokes the caller's calendar feed token.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    responses((status = 200, description = "Revoked (or there was none)", body = ApiResponse<crate::api::CalendarTokenRevoked>))
)]
#[delete("/live-classes/calendar-token")]
pub async fn revoke_calendar_token(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let revoked = calendar::revoke_token(&state, &auth).await?;
    Ok(ok_with(
        "Calendar feed token revoked",
        json!({ "revoked": revoked }),
    ))
}

/// The caller's live classes as an iCalendar (RFC 5545) feed, for calendar apps to
/// subscribe to: authenticated by the feed token in `?token=` (from
/// `POST /live-classes/calendar-token`), never an access token. Classes from 30 days
/// back on; cancelled ones as `STATUS:CANCELLED`.
#[utoipa::path(
    tag = "live-classes",
    params(CalendarQuery),
    responses(
        (status = 200, description = "text/calendar", content_type = "text/calendar", body = String),
        (status = 401, description = "Missing or unknown feed token", body = crate::api::ErrorBody),
    )
)]
#[get("/live-classes/calendar.ics")]
pub async fn calendar_feed(
    state: web::Data<AppState>,
    query: Query<CalendarQuery>,
) -> Result<HttpResponse, ApiError> {
    let body = calendar::feed(&state, query.token.as_deref()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, no-cache"))
        .body(body))
}
