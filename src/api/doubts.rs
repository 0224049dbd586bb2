//! `/courses/{key}/doubts`, `/doubts` and `/doubt-answers`: a course's questions and
//! answers, the teacher's queue of unanswered ones, votes, accepting and hiding.

use edupro_server::api::{
    AcceptAnswer, Deleted, Doubt, DoubtAnswer, DoubtAnswerInput, DoubtFilter, DoubtList,
    DoubtThread, NewDoubt, PageQuery, UpdateDoubt,
};
use uuid::Uuid;

use super::ApiClient;
use super::courses::course_path;
use crate::error::Result;

impl ApiClient {
    /// `GET /courses/{key}/doubts`: page `at` of the doubts `filter` matches (its own
    /// `page` and `limit` give way to `at`'s).
    pub async fn doubts(
        &self,
        course: &str,
        filter: &DoubtFilter,
        at: PageQuery,
    ) -> Result<DoubtList> {
        let query = DoubtFilter {
            page: at.page,
            limit: at.limit,
            ..filter.clone()
        };
        self.get(&format!("{}/doubts", course_path(course)), &query)
            .await
    }

    /// `POST /courses/{key}/doubts` (enrolled students): a new OPEN doubt.
    pub async fn ask_doubt(&self, course: &str, body: &NewDoubt) -> Result<Doubt> {
        self.post_json(&format!("{}/doubts", course_path(course)), body)
            .await
    }

    /// `GET /doubts/queue`: page `at` of the unanswered doubts of the courses the caller
    /// teaches (admins: all), oldest first.
    pub async fn doubt_queue(&self, at: PageQuery) -> Result<DoubtList> {
        self.get("/doubts/queue", &at).await
    }

    /// `GET /doubts/{id}`: the doubt and its answers.
    pub async fn doubt(&self, id: Uuid) -> Result<DoubtThread> {
        self.get(&format!("/doubts/{id}"), &()).await
    }

    /// `PATCH /doubts/{id}`: the asker's changes.
    pub async fn update_doubt(&self, id: Uuid, body: &UpdateDoubt) -> Result<Doubt> {
        self.patch(&format!("/doubts/{id}"), &(), body).await
    }

    /// `DELETE /doubts/{id}`.
    pub async fn delete_doubt(&self, id: Uuid) -> Result<Deleted> {
        self.delete(&format!("/doubts/{id}"), &()).await
    }

    /// `POST /doubts/{id}/answers`.
    pub async fn answer_doubt(&self, id: Uuid, body: &DoubtAnswerInput) -> Result<DoubtAnswer> {
        self.post_json(&format!("/doubts/{id}/answers"), body).await
    }

    /// `PATCH /doubt-answers/{id}`: its author rewrites it.
    pub async fn update_doubt_answer(
        &self,
        id: Uuid,
        body: &DoubtAnswerInput,
    ) -> Result<DoubtAnswer> {
        self.patch(&format!("/doubt-answers/{id}"), &(), body).await
    }

    /// `DELETE /doubt-answers/{id}`.
    pub async fn delete_doubt_answer(&self, id: Uuid) -> Result<Deleted> {
        self.delete(&format!("/doubt-answers/{id}"), &()).await
    }

    /// `POST /doubts/{id}/accept` (the asker): the doubt is RESOLVED by `body`'s answer.
    pub async fn accept_answer(&self, id: Uuid, body: &AcceptAnswer) -> Result<Doubt> {
        self.post_json(&format!("/doubts/{id}/accept"), body).await
    }

    /// `POST /doubts/{id}/reopen`: no answer is accepted any more.
    pub async fn reopen_doubt(&self, id: Uuid) -> Result<Doubt> {
        self.post_action(&format!("/doubts/{id}/reopen")).await
    }

    /// `POST /doubts/{id}/vote`, or `DELETE` when `undo`.
    pub async fn vote_doubt(&self, id: Uuid, undo: bool) -> Result<Doubt> {
        let path = format!("/doubts/{id}/vote");
        if undo {
            self.delete(&path, &()).await
        } else {
            self.post_action(&path).await
        }
    }

    /// `POST /doubt-answers/{id}/vote`, or `DELETE` when `undo`.
    pub async fn vote_doubt_answer(&self, id: Uuid, undo: bool) -> Result<DoubtAnswer> {
        let path = format!("/doubt-answers/{id}/vote");
        if undo {
            self.delete(&path, &()).await
        } else {
            self.post_action(&path).await
        }
    }

    /// `POST /doubts/{id}/hide` (staff), or `/unhide` when `hidden` is false.
    pub async fn hide_doubt(&self, id: Uuid, hidden: bool) -> Result<Doubt> {
        self.post_action(&format!("/doubts/{id}/{}", hide_action(hidden)))
            .await
    }

    /// `POST /doubt-answers/{id}/hide` (staff), or `/unhide` when `hidden` is false.
    pub async fn hide_doubt_answer(&self, id: Uuid, hidden: bool) -> Result<DoubtAnswer> {
        self.post_action(&format!("/doubt-answers/{id}/{}", hide_action(hidden)))
            .await
    }
}

fn hide_action(hidden: bool) -> &'static str {
    if hidden { "hide" } else { "unhide" }
}
