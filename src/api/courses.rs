//! `/courses` and `/categories`: the catalogue. A course is named by its id or its slug.

use edupro_server::api::{
    CategoryTree, Course, CourseFilter, CourseList, CreatedCourse, NewCourse, PageQuery,
    UpdateCourse,
};
use serde_json::Value;

use super::{ApiClient, segment};
use crate::error::Result;

impl ApiClient {
    /// `GET /courses`: page `at` of the courses `filter` matches (its own `page` and
    /// `limit` give way to `at`'s).
    pub async fn courses(&self, filter: &CourseFilter, at: PageQuery) -> Result<CourseList> {
        let query = CourseFilter {
            page: at.page,
            limit: at.limit,
            ..filter.clone()
        };
        self.get("/courses", &query).await
    }

    /// `GET /courses/{key}`: the course `key` (id or slug) with its outline.
    pub async fn course(&self, key: &str) -> Result<Course> {
        self.get(&course_path(key), &()).await
    }

    /// `POST /courses`: a DRAFT course owned by the caller.
    pub async fn create_course(&self, body: &NewCourse) -> Result<CreatedCourse> {
        self.post_json("/courses", body).await
    }

    /// `PATCH /courses/{key}`: the fields `body` holds change.
    pub async fn update_course(&self, key: &str, body: &UpdateCourse) -> Result<Course> {
        self.patch(&course_path(key), &(), body).await
    }

    /// `POST /courses/{key}/publish`.
    pub async fn publish_course(&self, key: &str) -> Result<Course> {
        self.post_action(&format!("{}/publish", course_path(key)))
            .await
    }

    /// `POST /courses/{key}/archive`.
    pub async fn archive_course(&self, key: &str) -> Result<Course> {
        self.post_action(&format!("{}/archive", course_path(key)))
            .await
    }

    /// `DELETE /courses/{key}`: answers `{id}`, which has no wire type.
    pub async fn delete_course(&self, key: &str) -> Result<Value> {
        self.delete(&course_path(key), &()).await
    }

    /// `GET /categories`: the category tree.
    pub async fn categories(&self) -> Result<CategoryTree> {
        self.get("/categories", &()).await
    }
}

/// `/courses/{key}`, the root of every path about one course.
pub(super) fn course_path(key: &str) -> String {
    format!("/courses/{}", segment(key))
}
