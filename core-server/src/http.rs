//! The HTTP layer: routes (one file per resource, named after its URL), extractors,
//! middleware and the OpenAPI document. Only startup imports it.

pub mod auth;
pub mod body_deadline;
pub mod connection_limit;
pub mod error;
pub mod extract;
pub mod head_guard;
pub mod idempotency;
pub mod middleware;
pub mod openapi;
pub mod rate_limit;
pub mod routes;
