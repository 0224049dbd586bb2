//! `/api/v1/imports`: bulk import of users, courses and enrollments (admins only), the recorded
//! runs, and revert.
//!
//! `POST /imports/{users|courses|enrollments}?mode=plan|apply&maxErrors=N&fileName=…&batch=N` takes
//! `text/csv` or `application/x-ndjson`, read as a stream, and answers
//! `application/x-ndjson`: one `{"type":"row",…}` line per input row, in file order, as
//! each batch is done (so a client can show progress), then one `{"type":"summary",…}`.
//! A bad header (missing, unknown or repeated column, not UTF-8) or an empty file is a
//! 400 before anything is read further or written.

use std::collections::VecDeque;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use futures_util::StreamExt;
use serde::Deserialize;
use uuid::Uuid;

use super::ok;
use crate::api::{
    ApiResponse, FieldError, ImportKind, ImportLine, ImportMode, ImportRow, ImportRun,
    ImportRunList, ImportSummary, PageQuery, RevertedImport, RowOutcome,
};
use crate::error::ApiError;
use crate::http::extract::Query;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::imports::{self, Format, Header, RawRecord, Splitter};

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_imports)
        .service(get_import)
        .service(revert_import)
        .service(import_file);
}

/// Options of an import.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ImportQuery {
    /// `plan` (the default) writes nothing; `apply` writes.
    pub mode: Option<ImportMode>,
    /// Stop once this many rows have failed; the batch holding the last of them is not
    /// written and every row after it is `skipped`.
    #[param(minimum = 0, maximum = 18_446_744_073_709_551_615_u64)]
    pub max_errors: Option<u64>,
    /// The file's name, kept with the run.
    pub file_name: Option<String>,
    /// Rows per transaction (1–5000, default 500).
    #[param(minimum = 1, maximum = 5000)]
    pub batch: Option<usize>,
}

fn format_of(req: &HttpRequest) -> Result<Format, ApiError> {
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match mime.as_str() {
        "text/csv" => Ok(Format::Csv),
        "application/x-ndjson" | "application/jsonl" | "application/x-jsonlines" => {
            Ok(Format::Ndjson)
        }
        _ => Err(ApiError::UnsupportedMediaType(
            "Content-Type must be text/csv or application/x-ndjson".into(),
        )),
    }
}

/// Imports a file of users, courses or enrollments (admins only); see the module docs for the answer.
#[utoipa::path(
    tag = "imports",
    security(("bearer" = [])),
    params(("kind" = crate::api::ImportKind, Path, description = "users, courses or enrollments"), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "NDJSON: a line per row, then a summary", body = ImportLine, content_type = "application/x-ndjson"),
        (status = 400, description = "Bad header or empty file", body = crate::api::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 413, description = "Body over the import limit", body = crate::api::ErrorBody),
        (status = 415, description = "Not CSV or JSON lines", body = crate::api::ErrorBody),
    )
)]
#[post("/imports/{kind}")]
pub async fn import_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    kind: web::Path<String>,
    query: Query<ImportQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let kind: ImportKind = kind.parse().map_err(|_| {
        ApiError::NotFound(format!(
            "No import of `{kind}`; use users, courses or enrollments"
        ))
    })?;
    let format = format_of(&req)?;
    let query = query.into_inner();
    let mut fields = crate::domain::Fields::default();
    if query.max_errors == Some(0) {
        fields.push("maxErrors", "must be at least 1");
    }
    let batch = query.batch.unwrap_or(imports::DEFAULT_BATCH);
    if !(1..=imports::MAX_BATCH).contains(&batch) {
        fields.push("batch", format!("must be 1 to {}", imports::MAX_BATCH));
    }
    fields.finish()?;
    let limit = state.settings.import_body_limit;
    let too_large =
        || ApiError::PayloadTooLarge(format!("Import body is larger than {limit} bytes"));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }

    // Read up to the header (CSV) or the first row, to refuse a bad file with a 400.
    let mut splitter = Splitter::new(format);
    let mut pending = VecDeque::new();
    let mut read = 0usize;
    let mut eof = false;
    while pending.is_empty() && !eof {
        match payload.next().await {
            Some(Ok(chunk)) => {
                read += chunk.len();
                if read > limit {
                    return Err(too_large());
                }
                splitter.push(&chunk, &mut pending);
            }
            Some(Err(e)) if crate::http::body_deadline::is_timeout(&e) => {
                return Err(crate::http::extract::body_error(e));
            }
            Some(Err(e)) => {
                return Err(ApiError::BadRequest(format!(
                    "Could not read the request body: {e}"
                )));
            }
            None => {
                splitter.finish(&mut pending);
                eof = true;
            }
        }
    }
    let columns = match kind {
        ImportKind::Users => &imports::users::COLUMNS,
        ImportKind::Courses => &imports::courses::COLUMNS,
        ImportKind::Enrollments => &imports::enrollments::COLUMNS,
    };
    let header = match format {
        Format::Csv => {
            let Some(first) = pending.pop_front() else {
                return Err(ApiError::field(
                    "header",
                    format!(
                        "the file is empty; it needs a header line ({})",
                        columns.known.join(",")
                    ),
                ));
            };
            Some(read_header(columns, &first)?)
        }
        Format::Ndjson => {
            if pending.is_empty() {
                return Err(ApiError::field("body", "the file has no rows"));
            }
            None
        }
    };
    let file_name = query
        .file_name
        .map(|n| n.chars().take(255).collect::<String>());
    let mut run = imports::start_run(
        &state,
        kind,
        query.mode.unwrap_or_default(),
        auth.id(),
        file_name,
        query.max_errors,
    )
    .await?;

    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    let state = state.into_inner();
    actix_web::rt::spawn(async move {
        let mut file_error: Option<String> = None;
        loop {
            while pending.len() < batch && !eof && file_error.is_none() {
                match payload.next().await {
                    Some(Ok(chunk)) => {
                        read += chunk.len();
                        if read > limit {
                            file_error = Some(format!(
                                "the file is larger than the import limit of {limit} bytes; rows after the last answered one were not read"
                            ));
                        } else {
                            splitter.push(&chunk, &mut pending);
                        }
                    }
                    Some(Err(e)) => {
                        file_error = Some(format!("the upload broke off: {e}"));
                    }
                    None => {
                        splitter.finish(&mut pending);
                        eof = true;
                    }
                }
            }
            if file_error.is_some() || pending.is_empty() {
                break;
            }
            let records: Vec<RawRecord> = pending.drain(..pending.len().min(batch)).collect();
            let lines: Vec<u64> = records.iter().map(|r| r.line).collect();
            let rows =
                match imports::process_batch(&state, &mut run, header.as_ref(), format, records)
                    .await
                {
                    Ok(rows) => rows,
                    Err(err) => {
                        tracing::warn!(error = ?err, "import batch failed");
                        file_error = Some(format!(
                            "the batch of lines {}–{} was not written: {err}",
                            lines.first().copied().unwrap_or(0),
                            lines.last().copied().unwrap_or(0)
                        ));
                        lines
                            .iter()
                            .map(|&line| {
                                run.counts.add(RowOutcome::Error);
                                ImportRow {
                                    line,
                                    key: None,
                                    outcome: RowOutcome::Error,
                                    changes: Vec::new(),
                                    errors: vec![FieldError::new("row", err.to_string())],
                                }
                            })
                            .collect()
                    }
                };
            let mut chunk = Vec::new();
            for row in rows {
                chunk.extend(imports::line_bytes(&ImportLine::Row(row)));
            }
            if tx.send(Bytes::from(chunk)).await.is_err() && file_error.is_none() {
                file_error = Some("the client went away before the import finished".into());
            }
            if file_error.is_some() {
                break;
            }
        }
        if let Err(err) = imports::finish_run(&state, &run, file_error.as_deref()).await {
            tracing::error!(error = ?err, "could not record the end of an import");
        }
        let summary = ImportLine::Summary(ImportSummary {
            import_id: run.id,
            kind: run.kind,
            mode: run.mode,
            counts: run.counts,
            stopped: run.stopped,
            file_error,
        });
        let _ = tx.send(Bytes::from(imports::line_bytes(&summary))).await;
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, actix_web::Error>(bytes), rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(body))
}

fn read_header(columns: &imports::Columns, first: &RawRecord) -> Result<Header, ApiError> {
    if first.too_long {
        return Err(ApiError::field(
            "header",
            format!(
                "line 1 is longer than {} KiB",
                imports::MAX_LINE_BYTES / 1024
            ),
        ));
    }
    let fields = imports::csv_fields(&first.bytes)
        .map_err(|e| ApiError::field("header", format!("line {} {}", first.line, e.message)))?;
    columns.header(&fields).map_err(ApiError::Validation)
}

/// Recorded import runs, newest first (admins only).
#[utoipa::path(
    tag = "imports",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of runs", body = ApiResponse<ImportRunList>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
    )
)]
#[get("/imports")]
pub async fn list_imports(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    Ok(ok(imports::list_runs(&state.db, page.into_inner()).await?))
}

/// One recorded run (admins only).
#[utoipa::path(
    tag = "imports",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Import id")),
    responses((status = 200, description = "The run", body = ApiResponse<ImportRun>))
)]
#[get("/imports/{id}")]
pub async fn get_import(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    Ok(ok(imports::get_run(&state.db, *id).await?))
}

/// Undoes an applied run in one transaction (admins only): created rows are deleted
/// (deactivated or archived when in use), updated rows restored. Twice is a 409.
#[utoipa::path(
    tag = "imports",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Import id")),
    responses(
        (status = 200, description = "Reverted", body = ApiResponse<RevertedImport>),
        (status = 409, description = "Already reverted, or a restored value is taken", body = crate::api::ErrorBody),
        (status = 422, description = "A plan: nothing to revert", body = crate::api::ErrorBody),
    )
)]
#[post("/imports/{id}/revert")]
pub async fn revert_import(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let reverted = imports::revert(&state, *id, auth.id()).await?;
    Ok(ok(reverted))
}
