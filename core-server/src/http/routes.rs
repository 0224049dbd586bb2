//! HTTP routes, one file per resource, named after its URL.

pub mod activity;
pub mod admin;
pub mod analytics;
pub mod announcements;
pub mod assessments;
pub mod attempts;
pub mod auth;
pub mod batches;
pub mod categories;
pub mod courses;
pub mod dashboard;
pub mod doubts;
pub mod enrollments;
pub mod grading;
pub mod health;
pub mod imports;
pub mod leaderboards;
pub mod lessons;
pub mod live_classes;
pub mod metrics;
pub mod notifications;
pub mod payments;
pub mod reviews;
pub mod sections;
pub mod users;
pub mod webhooks;
pub mod ws;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::api::ApiResponse;

/// 200 with `data` in the success envelope.
pub fn ok<T: Serialize>(data: T) -> HttpResponse {
    HttpResponse::Ok().json(ApiResponse::ok(data))
}

/// 200 with a message and `data`.
pub fn ok_with<T: Serialize>(message: &str, data: T) -> HttpResponse {
    HttpResponse::Ok().json(ApiResponse::with_message(message, data))
}

/// 201 with `data` in the success envelope.
pub fn created<T: Serialize>(data: T) -> HttpResponse {
    HttpResponse::Created().json(ApiResponse::ok(data))
}

/// The `User-Agent` of a request, for the sessions list.
pub fn user_agent(req: &actix_web::HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Whether the request asks for CSV (`Accept: text/csv`).
pub fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"))
}

/// 200 with `body` as a CSV download named `file_name`.
pub fn csv_answer(file_name: &str, body: String) -> Result<HttpResponse, crate::error::ApiError> {
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(body))
}
