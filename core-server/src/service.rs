//! The services: one module per capability. Typed inputs → typed results or an
//! [`ApiError`](crate::error::ApiError); they own transactions and queries and never
//! import actix or the HTTP layer.

pub mod accounts;
pub mod analytics;
pub mod assessments;
pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod chat;
pub mod connections;
pub mod doubts;
pub mod enrollments;
pub mod events;
pub mod gamification;
pub mod grading;
pub mod idempotency;
pub mod imports;
pub mod live_classes;
pub mod notifications;
pub mod outbox;
pub mod payments;
pub mod webhooks;
