//! A course of the catalogue. Prices are minor units (cents, paise) of `currency`;
//! `effective_price` is what a buyer pays (0 when free), kept on every write.

use crate::store::json::CourseTags;
use sea_orm::entity::prelude::*;

pub use crate::api::{CourseLevel, CourseStatus};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "courses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    #[sea_orm(unique)]
    pub slug: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub category_id: Option<Uuid>,
    /// BEGINNER, INTERMEDIATE or ADVANCED.
    pub level: CourseLevel,
    pub language: String,
    pub price: i64,
    pub discounted_price: Option<i64>,
    pub effective_price: i64,
    pub currency: String,
    pub is_free: bool,
    /// A JSON array of strings.
    #[sea_orm(column_type = "Json")]
    pub tags: CourseTags,
    pub thumbnail_url: Option<String>,
    /// DRAFT, PUBLISHED or ARCHIVED.
    pub status: CourseStatus,
    /// Set on the first publish and kept after.
    pub published_at: Option<DateTimeUtc>,
    /// The owner: the user who created the course.
    pub created_by: Uuid,
    #[sea_orm(unique)]
    pub external_id: Option<String>,
    /// The mean of the reviews' ratings, rounded to two decimals (0 without reviews).
    pub rating_avg: f64,
    pub rating_count: i32,
    pub total_students: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
