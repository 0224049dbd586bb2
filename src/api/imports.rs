//! `/imports`: bulk import of a file streamed in one request (the answer is NDJSON,
//! read as it arrives), the recorded runs, and reverting one.

use edupro_server::api::{
    ImportKind, ImportMode, ImportRun, ImportRunList, PageQuery, RevertedImport,
};
use serde::Serialize;
use uuid::Uuid;

use super::ApiClient;
use crate::error::Result;

/// The options of `POST /imports/{kind}` (its query string).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportOptions {
    /// `plan` writes nothing; `apply` writes.
    pub mode: ImportMode,
    /// Stop once this many rows have failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_errors: Option<u64>,
    /// The file's name, kept with the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Rows per server transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
}

/// A file as a request body, read 64 KiB at a time as the upload goes, so a large
/// CSV is never held whole.
pub fn file_body(file: std::fs::File) -> reqwest::Body {
    use std::io::Read;
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf) {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    reqwest::Body::wrap_stream(chunks)
}

impl ApiClient {
    /// `POST /imports/{kind}`: streams `body` (of `content_type`: CSV or NDJSON) and
    /// answers the raw response, whose NDJSON lines ([`edupro_server::api::ImportLine`])
    /// arrive as the server works through the file.
    pub async fn import(
        &self,
        kind: ImportKind,
        options: &ImportOptions,
        content_type: &str,
        body: reqwest::Body,
    ) -> Result<reqwest::Response> {
        self.post_stream(&format!("/imports/{kind}"), options, content_type, body)
            .await
    }

    /// `GET /imports`: page `at` of the recorded runs, newest first.
    pub async fn imports(&self, at: PageQuery) -> Result<ImportRunList> {
        self.get("/imports", &at).await
    }

    /// `GET /imports/{id}`: one recorded run.
    pub async fn import_run(&self, id: Uuid) -> Result<ImportRun> {
        self.get(&format!("/imports/{id}"), &()).await
    }

    /// `POST /imports/{id}/revert`: created rows removed, updated rows restored.
    pub async fn revert_import(&self, id: Uuid) -> Result<RevertedImport> {
        self.post_action(&format!("/imports/{id}/revert")).await
    }
}
