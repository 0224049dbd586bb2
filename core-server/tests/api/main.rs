//! API integration tests: the real server on port 0, a fresh database per test (SQLite,
//! or PostgreSQL when `EDUPRO_TEST_DATABASE_URL` is set), driven over real HTTP.

mod helpers;

mod analytics;
mod auth;
mod authorization;
mod batches;
mod caches;
mod catalogue_helpers;
mod constraints;
mod course_matrix;
mod course_outline;
mod courses;
mod doubts;
mod enrollment_matrix;
mod enrollments;
mod errors;
mod gamification;
mod hardening;
mod idempotency;
mod imports;
mod live_class_reminders;
mod live_class_rooms;
mod live_classes;
mod mail;
mod notifications;
mod openapi_contract;
mod operations;
mod outage;
mod payments;
mod realtime;
mod realtime_helpers;
mod request_heads;
mod slow_bodies;
#[path = "../support/smtp_sink.rs"]
mod smtp_sink;
mod tests_attempts;
mod tests_crud;
mod tests_grading;
mod tests_helpers;
mod tests_integrity;
mod users;
#[path = "../support/webhook_receiver.rs"]
mod webhook_receiver;
mod webhooks;
