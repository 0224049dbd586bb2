//! `/dashboard/student|teacher|admin`: each role's first screen.

use actix_web::{HttpRequest, HttpResponse, get, web};

use super::{csv_answer, ok, wants_csv};
use crate::api::{AdminDashboard, ApiResponse, DateRange, StudentDashboard, TeacherDashboard};
use crate::error::ApiError;
use crate::http::extract::Query;
use crate::platform::state::AppState;
use crate::service::analytics::{dashboards, series};
use crate::service::auth::AuthUser;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(student).service(teacher).service(admin);
}

/// The signed-in student's dashboard: courses and progress, XP, level, streak and
/// badges, upcoming classes, tests to take, recent grades, time spent these 14 days.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The dashboard", body = ApiResponse<StudentDashboard>),
        (status = 403, description = "Not a student", body = crate::api::ErrorBody),
    )
)]
#[get("/dashboard/student")]
pub async fn student(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(ok(dashboards::student(&state, &auth).await?))
}

/// The signed-in teacher's dashboard over the courses they teach: courses, students,
/// revenue, rating, recent enrollments, upcoming classes, answers waiting for marks,
/// unanswered doubts, students at risk (and why), students active per day.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The dashboard", body = ApiResponse<TeacherDashboard>),
        (status = 403, description = "Not a teacher or admin", body = crate::api::ErrorBody),
    )
)]
#[get("/dashboard/teacher")]
pub async fn teacher(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(ok(dashboards::teacher(&state, &auth).await?))
}

/// The school's dashboard (admins): users by role, DAU/WAU/MAU, sign-ups and active
/// users per day, revenue per day, top courses, import runs, the server's queues.
/// `Accept: text/csv` answers the day series as `series,date,value`.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    params(DateRange),
    responses(
        (status = 200, description = "The dashboard, as JSON or (`Accept: text/csv`) its series as CSV", content(
            (ApiResponse<AdminDashboard> = "application/json"),
            (String = "text/csv"),
        )),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
    )
)]
#[get("/dashboard/admin")]
pub async fn admin(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    query: Query<DateRange>,
) -> Result<HttpResponse, ApiError> {
    let report = dashboards::admin(&state, &auth, &query).await?;
    if wants_csv(&req) {
        return csv_answer(
            "school.csv",
            series::csv(&dashboards::admin_series(&report))?,
        );
    }
    Ok(ok(report))
}
