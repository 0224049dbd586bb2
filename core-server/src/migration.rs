//! Schema migrations, run at every start. Append-only: a released migration is never
//! edited; a change of schema is a new file.

use sea_orm_migration::prelude::*;

/// Every migration, oldest first.
pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
}
