//! `/analytics/course/{id}`, `/analytics/student/{id}` and `/analytics/rollup`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};

use super::{csv_answer, ok, wants_csv};
use crate::api::{ApiResponse, CourseAnalytics, DateRange, Role, RollupReport, StudentAnalytics};
use crate::error::ApiError;
use crate::http::extract::Query;
use crate::platform::state::AppState;
use crate::service::analytics::{reports, rollup, series};
use crate::service::auth::AuthUser;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(course).service(student).service(run_rollup);
}

/// A course's analytics (its staff and admins): enrollments over time, completion
/// rate, the per-lesson funnel with time and watch time, score distribution per test,
/// attendance, engagement, students at risk. `since`/`until` (UTC days, default the
/// last 30) bound the series; `Accept: text/csv` answers them as `series,date,value`.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)"), DateRange),
    responses(
        (status = 200, description = "The report, as JSON or (`Accept: text/csv`) its series as CSV", content(
            (ApiResponse<CourseAnalytics> = "application/json"),
            (String = "text/csv"),
        )),
        (status = 403, description = "Not on the course's staff", body = crate::api::ErrorBody),
        (status = 404, description = "No such course, or not visible", body = crate::api::ErrorBody),
    )
)]
#[get("/analytics/course/{id}")]
pub async fn course(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<String>,
    query: Query<DateRange>,
) -> Result<HttpResponse, ApiError> {
    let report = reports::course(&state, &auth, &id, &query).await?;
    if wants_csv(&req) {
        return csv_answer("course.csv", series::csv(&reports::course_series(&report))?);
    }
    Ok(ok(report))
}

/// A student's analytics: progress per course, scores over time, attendance, time
/// spent, streak, strong and weak subjects. For the student, their linked parents and
/// admins; a teacher sees the students of their courses, within those courses.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The student's id, email or SIS id (externalId)"), DateRange),
    responses(
        (status = 200, description = "The report, as JSON or (`Accept: text/csv`) its series as CSV", content(
            (ApiResponse<StudentAnalytics> = "application/json"),
            (String = "text/csv"),
        )),
        (status = 403, description = "Not the student, a parent of theirs, their teacher or an admin", body = crate::api::ErrorBody),
        (status = 404, description = "No such user", body = crate::api::ErrorBody),
    )
)]
#[get("/analytics/student/{id}")]
pub async fn student(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<String>,
    query: Query<DateRange>,
) -> Result<HttpResponse, ApiError> {
    let report = reports::student(&state, &auth, &id, &query).await?;
    if wants_csv(&req) {
        return csv_answer(
            "student.csv",
            series::csv(&reports::student_series(&report))?,
        );
    }
    Ok(ok(report))
}

/// Brings the daily roll-ups up to date now (admins; the server also does it every
/// `EDUPRO_ROLLUP_INTERVAL`): the days with new activity, yesterday and today.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What was recomputed", body = ApiResponse<RollupReport>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
    )
)]
#[post("/analytics/rollup")]
pub async fn run_rollup(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    Ok(ok(rollup::catch_up(&state).await?))
}
