//! Storage: SeaORM entities, migrations, connections (SQLite or PostgreSQL) and the
//! map from unique keys to the fields they guard.
//! Nothing here knows HTTP or the services above it.

pub mod constraints;
pub mod db;
pub mod entity;
pub mod enums;
pub mod json;
pub mod leader;
pub mod migration;
pub mod search;
