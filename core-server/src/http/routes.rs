//! HTTP routes, one file per resource, named after its URL.

pub mod admin;
pub mod announcements;
pub mod assessments;
pub mod attempts;
pub mod auth;
pub mod batches;
pub mod categories;
pub mod courses;
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

use actix_web::HttpResponse;
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
