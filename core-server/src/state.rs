//! What every handler can reach: the database, the settings, the start time.

use std::sync::Arc;
use std::time::Instant;

use sea_orm::DatabaseConnection;

use crate::config::Settings;

/// Shared application state, cloned cheaply into each worker.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub started: Instant,
}
