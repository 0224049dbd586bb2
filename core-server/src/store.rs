//! Storage: SeaORM entities, migrations and connections (SQLite or PostgreSQL).
//! Nothing here knows HTTP or the services above it.

pub mod db;
pub mod entity;
pub mod migration;
