//! `/courses/{key}/batches` and `/batches/{id}`: a course's cohorts and their members.

use edupro_server::api::{
    Batch, BatchList, BatchMember, BatchMembers, NewBatch, NewBatchMember, UpdateBatch,
};
use serde_json::Value;
use uuid::Uuid;

use super::ApiClient;
use super::courses::course_path;
use crate::error::Result;

impl ApiClient {
    /// `GET /courses/{key}/batches`: by name.
    pub async fn batches(&self, course: &str) -> Result<BatchList> {
        self.get(&format!("{}/batches", course_path(course)), &())
            .await
    }

    /// `POST /courses/{key}/batches`.
    pub async fn create_batch(&self, course: &str, body: &NewBatch) -> Result<Batch> {
        self.post_json(&format!("{}/batches", course_path(course)), body)
            .await
    }

    /// `PATCH /batches/{id}`: the fields `body` holds change.
    pub async fn update_batch(&self, id: Uuid, body: &UpdateBatch) -> Result<Batch> {
        self.patch(&format!("/batches/{id}"), &(), body).await
    }

    /// `DELETE /batches/{id}`: answers `{id}`, which has no wire type.
    pub async fn delete_batch(&self, id: Uuid) -> Result<Value> {
        self.delete(&format!("/batches/{id}"), &()).await
    }

    /// `GET /batches/{id}/members`: by name.
    pub async fn batch_members(&self, id: Uuid) -> Result<BatchMembers> {
        self.get(&format!("/batches/{id}/members"), &()).await
    }

    /// `POST /batches/{id}/members`: seats an enrolled student.
    pub async fn add_batch_member(&self, id: Uuid, body: &NewBatchMember) -> Result<BatchMember> {
        self.post_json(&format!("/batches/{id}/members"), body)
            .await
    }

    /// `DELETE /batches/{id}/members/{student}`: answers an object with no wire type.
    pub async fn remove_batch_member(&self, id: Uuid, student: Uuid) -> Result<Value> {
        self.delete(&format!("/batches/{id}/members/{student}"), &())
            .await
    }
}
