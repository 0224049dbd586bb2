//! `/tests`, `/attempts` and `/courses/{key}/gradebook`: tests as documents, publishing
//! them, students' attempts, and the gradebook.

use edupro_server::api::{
    Attempt, AttemptList, CreatedTest, Gradebook, PageQuery, Submission, SubmitAttempt, Test,
    TestDocument, TestList,
};
use serde::Serialize;
use uuid::Uuid;

use super::ApiClient;
use super::courses::course_path;
use crate::error::{ClientError, Result};

/// `?courseId=&page=&limit=` of `GET /tests`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TestsQuery<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    course_id: Option<&'a str>,
    #[serde(flatten)]
    at: PageQuery,
}

/// `?format=` of the export and the gradebook.
#[derive(Serialize)]
struct Format {
    format: &'static str,
}

/// How a test document is written: `json` or `toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentFormat {
    Json,
    Toml,
}

impl DocumentFormat {
    fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Toml => "toml",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Toml => "application/toml",
        }
    }
}

impl ApiClient {
    /// `GET /tests`: page `at` of the tests the caller teaches or takes; only `course`'s
    /// (id or slug) when given.
    pub async fn tests(&self, course: Option<&str>, at: PageQuery) -> Result<TestList> {
        let query = TestsQuery {
            course_id: course,
            at,
        };
        self.get("/tests", &query).await
    }

    /// `GET /tests/{id}`: with its questions and keys, for its staff.
    pub async fn test(&self, id: Uuid) -> Result<Test> {
        self.get(&format!("/tests/{id}"), &()).await
    }

    /// `POST /tests`: a draft test from a document naming its course.
    pub async fn create_test(&self, body: &TestDocument) -> Result<CreatedTest> {
        self.post_json("/tests", body).await
    }

    /// `POST /courses/{key}/tests`: a draft test from a document file as written (JSON
    /// or TOML), so the server reads and checks the file itself.
    pub async fn upload_test(
        &self,
        course: &str,
        format: DocumentFormat,
        document: Vec<u8>,
    ) -> Result<CreatedTest> {
        let answer = self
            .post_stream(
                &format!("{}/tests", course_path(course)),
                &(),
                format.content_type(),
                reqwest::Body::from(document),
            )
            .await?;
        let bytes = answer.bytes().await.map_err(|e| self.unreachable(e))?;
        let created: edupro_server::api::ApiResponse<CreatedTest> = serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Other(anyhow::anyhow!("unexpected answer: {e}")))?;
        Ok(created.data)
    }

    /// `GET /tests/{id}/export?format=`: the test as one document, as the server wrote it.
    pub async fn export_test(&self, id: Uuid, format: DocumentFormat) -> Result<String> {
        self.get_text(
            &format!("/tests/{id}/export"),
            &Format {
                format: format.as_str(),
            },
        )
        .await
    }

    /// `POST /tests/{id}/publish`: its students are notified.
    pub async fn publish_test(&self, id: Uuid) -> Result<Test> {
        self.post_action(&format!("/tests/{id}/publish")).await
    }

    /// `GET /tests/{id}/attempts`: everyone's for staff, a student's own.
    pub async fn attempts(&self, test: Uuid) -> Result<AttemptList> {
        self.get(&format!("/tests/{test}/attempts"), &()).await
    }

    /// `POST /tests/{id}/attempts`: a student starts an attempt (the clock runs).
    pub async fn start_attempt(&self, test: Uuid) -> Result<Attempt> {
        self.post_action(&format!("/tests/{test}/attempts")).await
    }

    /// `POST /attempts/{id}/submit`: last answers and the time spent.
    pub async fn submit_attempt(&self, attempt: Uuid, body: &SubmitAttempt) -> Result<Submission> {
        self.post_json(&format!("/attempts/{attempt}/submit"), body)
            .await
    }

    /// `GET /courses/{key}/gradebook`: students × published tests.
    pub async fn gradebook(&self, course: &str) -> Result<Gradebook> {
        self.get(&format!("{}/gradebook", course_path(course)), &())
            .await
    }

    /// `GET /courses/{key}/gradebook?format=csv`: the server's CSV, formula-like cells
    /// already escaped.
    pub async fn gradebook_csv(&self, course: &str) -> Result<String> {
        self.get_text(
            &format!("{}/gradebook", course_path(course)),
            &Format { format: "csv" },
        )
        .await
    }
}
