//! `/sections/{id}/lessons` and `/lessons/{id}`: the lessons of a course's sections.

use edupro_server::api::{Lesson, NewLesson, UpdateLesson};
use serde_json::Value;
use uuid::Uuid;

use super::ApiClient;
use crate::error::Result;

impl ApiClient {
    /// `GET /lessons/{id}`: one lesson with its content.
    pub async fn lesson(&self, id: Uuid) -> Result<Lesson> {
        self.get(&format!("/lessons/{id}"), &()).await
    }

    /// `POST /sections/{section}/lessons`: appended, or at `body.position`.
    pub async fn create_lesson(&self, section: Uuid, body: &NewLesson) -> Result<Lesson> {
        self.post_json(&format!("/sections/{section}/lessons"), body)
            .await
    }

    /// `PATCH /lessons/{id}`: changed, moved within its section or to another.
    pub async fn update_lesson(&self, id: Uuid, body: &UpdateLesson) -> Result<Lesson> {
        self.patch(&format!("/lessons/{id}"), &(), body).await
    }

    /// `DELETE /lessons/{id}`: answers `{id}`, which has no wire type.
    pub async fn delete_lesson(&self, id: Uuid) -> Result<Value> {
        self.delete(&format!("/lessons/{id}"), &()).await
    }
}
