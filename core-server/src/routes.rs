//! HTTP routes, one file per resource, named after its URL.

pub mod health;
pub mod metrics;
