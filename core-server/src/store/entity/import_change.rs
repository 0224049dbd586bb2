//! A row an applied import created or updated, with its before-image for revert.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub run_id: Uuid,
    pub line: i64,
    /// The row's external id.
    pub key: String,
    /// The user or course written.
    pub entity_id: Uuid,
    /// CREATE or UPDATE.
    pub action: String,
    /// The imported fields as they were before (UPDATE only).
    pub before: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
