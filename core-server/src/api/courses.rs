//! The catalogue: categories, courses, their staff, sections, lessons and reviews.
//!
//! Money is in minor units of `currency` (cents, paise): `price: 49900, currency: "INR"`
//! is ₹499.00. Durations are minutes. `order` is a 1-based position without gaps.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use super::Pagination;

wire_enum!(
    /// How advanced a course is.
    CourseLevel { Beginner = "BEGINNER", Intermediate = "INTERMEDIATE", Advanced = "ADVANCED" }
);
wire_enum!(
    /// DRAFT → PUBLISHED → ARCHIVED (and back to PUBLISHED).
    CourseStatus { Draft = "DRAFT", Published = "PUBLISHED", Archived = "ARCHIVED" }
);
wire_enum!(
    /// What a lesson holds.
    LessonType {
        Video = "VIDEO",
        Pdf = "PDF",
        Text = "TEXT",
        Quiz = "QUIZ",
        Assignment = "ASSIGNMENT",
        LiveClass = "LIVE_CLASS",
    }
);
wire_enum!(
    /// A teacher's part in a course: the OWNER (its creator), CO_TEACHERs and TAs.
    StaffRole { Owner = "OWNER", CoTeacher = "CO_TEACHER", Ta = "TA" }
);
wire_enum!(
    /// The order of `GET /courses`: newest first (default), most students, best rated,
    /// cheapest, dearest.
    CourseSort {
        Newest = "newest",
        Popular = "popular",
        Rating = "rating",
        Price = "price",
        PriceDesc = "-price",
    }
);

/// `Some(None)` for an explicit `null`, `None` for an absent field: PATCH bodies clear a
/// nullable field with `null` and leave it alone by omitting it.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

/// Someone named on a course: its teacher, a reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PersonRef {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
}

/// A category with its subcategories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub slug: String,
    #[cfg_attr(feature = "server", schema(no_recursion))]
    pub children: Vec<Category>,
}

/// `GET /categories`: the roots of the tree, each with its subtree, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CategoryTree {
    pub categories: Vec<Category>,
}

/// `POST /categories` (admin). Without a slug, one is made from the name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewCategory {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub name: String,
    pub slug: Option<String>,
    pub parent_id: Option<Uuid>,
}

/// `PATCH /categories/{id}` (admin); `parentId: null` makes it a root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCategory {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub name: Option<String>,
    pub slug: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<Uuid>))]
    pub parent_id: Option<Option<Uuid>>,
}

/// A course's category, as courses show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CategoryRef {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
}

/// A course. Lists leave out `sections`; `GET /courses/{id}` has them, with the lessons
/// the caller may see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Course {
    pub id: Uuid,
    pub title: String,
    pub slug: String,
    pub description: String,
    pub category: Option<CategoryRef>,
    pub level: CourseLevel,
    pub language: String,
    /// Minor units of `currency`.
    pub price: i64,
    pub discounted_price: Option<i64>,
    pub currency: String,
    pub is_free: bool,
    pub tags: Vec<String>,
    pub thumbnail: Option<String>,
    pub status: CourseStatus,
    pub published_at: Option<DateTime<Utc>>,
    /// The owner.
    pub teacher: PersonRef,
    pub total_students: i64,
    /// Mean rating, 0 without reviews.
    pub rating: f64,
    pub total_reviews: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sections: Option<Vec<Section>>,
}

/// A section with its lessons in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Section {
    pub id: Uuid,
    pub title: String,
    pub order: i32,
    pub lessons: Vec<LessonSummary>,
}

/// A lesson as a course's outline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LessonSummary {
    pub id: Uuid,
    pub title: String,
    pub r#type: LessonType,
    /// Minutes.
    pub duration: i32,
    pub order: i32,
    pub is_free_preview: bool,
    pub is_published: bool,
}

/// A lesson with its content, as its staff edit it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Lesson {
    pub id: Uuid,
    pub course_id: Uuid,
    pub section_id: Uuid,
    pub title: String,
    pub r#type: LessonType,
    pub content: Option<String>,
    pub url: Option<String>,
    pub duration: i32,
    pub order: i32,
    pub is_free_preview: bool,
    pub is_published: bool,
}

/// `POST /courses` (teacher or admin). Omitted: level BEGINNER, language `en`,
/// price 0 (free), currency INR, no tags. A slug is made from the title unless given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewCourse {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 3,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]{1,198}[^\s\u0000-\u001F\u007F-\u009F]\s*$"
        )
    )]
    pub title: String,
    pub slug: Option<String>,
    pub description: Option<String>,
    /// The category's id.
    #[serde(alias = "categoryId")]
    pub category: Option<Uuid>,
    pub level: Option<CourseLevel>,
    pub language: Option<String>,
    #[cfg_attr(
        feature = "server",
        schema(minimum = 0, maximum = 1_000_000_000_000_i64)
    )]
    pub price: Option<i64>,
    #[cfg_attr(
        feature = "server",
        schema(minimum = 0, maximum = 1_000_000_000_000_i64)
    )]
    pub discounted_price: Option<i64>,
    pub currency: Option<String>,
    pub is_free: Option<bool>,
    pub tags: Option<Vec<String>>,
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 2048,
            pattern = r"^\s*[hH][tT][tT][pP][sS]?://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,4})?([/?#][!-~]*)?\s*$"
        )
    )]
    pub thumbnail: Option<String>,
}

/// `PATCH /courses/{id}` (staff or admin): any field; `null` clears a nullable one.
/// A `status` moves the course as `/publish` and `/archive` do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCourse {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 3,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]{1,198}[^\s\u0000-\u001F\u007F-\u009F]\s*$"
        )
    )]
    pub title: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    #[serde(
        default,
        alias = "categoryId",
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<Uuid>))]
    pub category: Option<Option<Uuid>>,
    pub level: Option<CourseLevel>,
    pub language: Option<String>,
    #[cfg_attr(
        feature = "server",
        schema(minimum = 0, maximum = 1_000_000_000_000_i64)
    )]
    pub price: Option<i64>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000_000_i64))]
    pub discounted_price: Option<Option<i64>>,
    pub currency: Option<String>,
    pub is_free: Option<bool>,
    pub tags: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, max_length = 2048, pattern = r"^\s*[hH][tT][tT][pP][sS]?://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,4})?([/?#][!-~]*)?\s*$"))]
    pub thumbnail: Option<Option<String>>,
    pub status: Option<CourseStatus>,
}

/// `POST /courses` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedCourse {
    pub id: Uuid,
    pub title: String,
    pub slug: String,
    pub status: CourseStatus,
}

/// Filters of `GET /courses`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct CourseFilter {
    pub page: Option<u64>,
    pub limit: Option<u64>,
    /// A category's id or slug; its subcategories' courses are included.
    pub category: Option<String>,
    pub level: Option<CourseLevel>,
    pub status: Option<CourseStatus>,
    /// The owner's user id.
    pub creator: Option<Uuid>,
    /// Bounds on what a buyer pays (minor units, 0 to 10¹²), inclusive.
    #[cfg_attr(
        feature = "server",
        param(minimum = 0, maximum = 1_000_000_000_000_i64)
    )]
    pub min_price: Option<i64>,
    #[cfg_attr(
        feature = "server",
        param(minimum = 0, maximum = 1_000_000_000_000_i64)
    )]
    pub max_price: Option<i64>,
    pub free: Option<bool>,
    /// Matches title, description and tags, ignoring case.
    pub search: Option<String>,
    pub sort: Option<CourseSort>,
}

/// `GET /courses`: a page of courses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CourseList {
    pub courses: Vec<Course>,
    pub pagination: Pagination,
}

/// A member of a course's staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StaffMember {
    pub user_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub role: StaffRole,
    pub added_at: DateTime<Utc>,
}

/// `POST /courses/{id}/staff` (owner or admin): a TEACHER joins as CO_TEACHER or TA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewStaffMember {
    pub user_id: Uuid,
    pub role: StaffRole,
}

/// `POST /courses/{id}/sections`: appended unless `position` (1-based) says where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSection {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub title: String,
    #[cfg_attr(
        feature = "server",
        schema(minimum = 1, maximum = 9_223_372_036_854_775_807_i64)
    )]
    pub position: Option<i64>,
}

/// `PATCH /sections/{id}`: rename, or move to `position`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSection {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub title: Option<String>,
    #[cfg_attr(
        feature = "server",
        schema(minimum = 1, maximum = 9_223_372_036_854_775_807_i64)
    )]
    pub position: Option<i64>,
}

/// `POST /courses/{id}/sections/reorder`: every section of the course, in the new order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReorderSections {
    pub section_ids: Vec<Uuid>,
}

/// `POST /sections/{id}/lessons`: appended unless `position` says where. Lessons start
/// unpublished unless `isPublished` is true.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewLesson {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub title: String,
    pub r#type: LessonType,
    pub content: Option<String>,
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 2048,
            pattern = r"^\s*[hH][tT][tT][pP][sS]?://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,4})?([/?#][!-~]*)?\s*$"
        )
    )]
    pub url: Option<String>,
    /// Minutes.
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 10080))]
    pub duration: Option<i32>,
    pub is_free_preview: Option<bool>,
    pub is_published: Option<bool>,
    #[cfg_attr(
        feature = "server",
        schema(minimum = 1, maximum = 9_223_372_036_854_775_807_i64)
    )]
    pub position: Option<i64>,
}

/// `PATCH /lessons/{id}`: any field; `sectionId` moves it to another section of the same
/// course (appended there, unless `position` says where).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateLesson {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub title: Option<String>,
    pub r#type: Option<LessonType>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub content: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, max_length = 2048, pattern = r"^\s*[hH][tT][tT][pP][sS]?://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,4})?([/?#][!-~]*)?\s*$"))]
    pub url: Option<Option<String>>,
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 10080))]
    pub duration: Option<i32>,
    pub is_free_preview: Option<bool>,
    pub is_published: Option<bool>,
    #[cfg_attr(
        feature = "server",
        schema(minimum = 1, maximum = 9_223_372_036_854_775_807_i64)
    )]
    pub position: Option<i64>,
    pub section_id: Option<Uuid>,
}

/// `POST /sections/{id}/lessons/reorder`: every lesson of the section, in the new order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReorderLessons {
    pub lesson_ids: Vec<Uuid>,
}

/// A student's review of a course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub id: Uuid,
    pub rating: i32,
    pub comment: Option<String>,
    pub student: PersonRef,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `PUT /courses/{id}/reviews/mine`: the caller's rating (1–5) and comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewInput {
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 5))]
    pub rating: i64,
    pub comment: Option<String>,
}

/// `GET /courses/{id}/reviews`: newest first, with the course's rating and count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReviewList {
    pub reviews: Vec<Review>,
    pub rating: f64,
    pub total_reviews: i64,
    pub pagination: Pagination,
}

/// `DELETE /courses/{id}/staff/{user_id}`: who left the staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StaffRemoved {
    pub user_id: Uuid,
}
