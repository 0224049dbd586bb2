//! `/courses/{key}/sections` and `/sections/{id}`: a course's sections, kept at
//! positions 1..n by the server.

use edupro_server::api::{NewSection, Section, UpdateSection};
use serde_json::Value;
use uuid::Uuid;

use super::ApiClient;
use super::courses::course_path;
use crate::error::Result;

impl ApiClient {
    /// `POST /courses/{key}/sections`: appended, or at `body.position`.
    pub async fn create_section(&self, course: &str, body: &NewSection) -> Result<Section> {
        self.post_json(&format!("{}/sections", course_path(course)), body)
            .await
    }

    /// `PATCH /sections/{id}`: renamed, or moved to `body.position`.
    pub async fn update_section(&self, id: Uuid, body: &UpdateSection) -> Result<Section> {
        self.patch(&format!("/sections/{id}"), &(), body).await
    }

    /// `DELETE /sections/{id}` with its lessons: answers `{id}`, which has no wire type.
    pub async fn delete_section(&self, id: Uuid) -> Result<Value> {
        self.delete(&format!("/sections/{id}"), &()).await
    }
}
