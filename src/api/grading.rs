//! `/grading` and `/questions/{id}/regrade`: the queue of long answers waiting for
//! marks, marking them, and regrading an objective question.

use edupro_server::api::{
    GradeAnswer, GradedAnswer, GradingFilter, GradingItem, GradingQueue, NextUngraded, PageQuery,
    Regrade, RegradeReport,
};
use serde::Serialize;
use uuid::Uuid;

use super::ApiClient;
use crate::error::Result;

/// `?blind=` of `GET /grading/answers/{id}`.
#[derive(Serialize)]
struct Blind {
    blind: bool,
}

impl ApiClient {
    /// `GET /grading/queue`: page `at` of the answers `filter` matches, oldest first
    /// (the filter's own `page` and `limit` give way to `at`'s).
    pub async fn grading_queue(
        &self,
        filter: &GradingFilter,
        at: PageQuery,
    ) -> Result<GradingQueue> {
        let query = GradingFilter {
            page: at.page,
            limit: at.limit,
            ..filter.clone()
        };
        self.get("/grading/queue", &query).await
    }

    /// `GET /grading/next`: the oldest ungraded answer `filter` matches, and how many wait.
    pub async fn next_ungraded(&self, filter: &GradingFilter) -> Result<NextUngraded> {
        self.get("/grading/next", filter).await
    }

    /// `GET /grading/answers/{id}`: one answer in full; `blind` hides its student.
    pub async fn grading_item(&self, id: Uuid, blind: bool) -> Result<GradingItem> {
        self.get(&format!("/grading/answers/{id}"), &Blind { blind })
            .await
    }

    /// `PUT /grading/answers/{id}`: marks and feedback.
    pub async fn grade_answer(&self, id: Uuid, body: &GradeAnswer) -> Result<GradedAnswer> {
        self.put(&format!("/grading/answers/{id}"), body).await
    }

    /// `POST /questions/{id}/regrade`: a new key or marks (with `dryRun`, only the plan).
    pub async fn regrade(&self, question: Uuid, body: &Regrade) -> Result<RegradeReport> {
        self.post_json(&format!("/questions/{question}/regrade"), body)
            .await
    }
}
