//! One error type for every handler. Each variant maps to a status and the contract's
//! error envelope; internal causes are logged with their whole chain and never sent.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use sea_orm::{DbErr, RuntimeErr, SqlErr};

use crate::api::{ErrorBody, ErrorCode, FieldError};

/// An error a handler returns; the client sees its status, code and message.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Request fields failed validation (400 with per-field `errors`).
    #[error("Validation failed")]
    Validation(Vec<FieldError>),
    /// The request could not be read (400).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// Names what was not found: "Course not found".
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A unique key is taken; names the field.
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    #[error("{0}")]
    PaymentRequired(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Well-formed but breaks a rule (422).
    #[error("{0}")]
    Unprocessable(String),
    #[error("Too many requests; retry in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    /// A dependency (the database) is unreachable (503); logged, not sent.
    #[error("Service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything unexpected (500); logged with its cause chain, never sent.
    #[error("Internal server error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 400 naming one invalid field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The machine-readable code sent with this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Self::Conflict { .. } => ErrorCode::Conflict,
            Self::PaymentRequired(_) => ErrorCode::PaymentRequired,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::Unprocessable(_) => ErrorCode::Unprocessable,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Unavailable(_) => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The body sent to the client.
    pub fn body(&self) -> ErrorBody {
        let errors = match self {
            Self::Validation(errors) => Some(errors.clone()),
            Self::Conflict {
                field: Some(field),
                message,
            } => Some(vec![FieldError::new(field, message)]),
            _ => None,
        };
        let retry_after = match self {
            Self::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        };
        ErrorBody {
            success: false,
            message: self.to_string(),
            code: self.code(),
            errors,
            retry_after,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            // `{:?}` of anyhow walks the whole cause chain; the request span adds the id.
            Self::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
            Self::Unavailable(cause) => tracing::warn!(error = ?cause, "dependency unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Self::RateLimited { retry_after } = self {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(*retry_after)));
        }
        response.json(self.body())
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() {
            return Self::Conflict {
                field: None,
                message: format!("Already exists ({detail})"),
            };
        }
        if is_unavailable(&err) {
            Self::Unavailable(anyhow::Error::new(err))
        } else {
            Self::Internal(anyhow::Error::new(err).context("database query failed"))
        }
    }
}

/// Whether a database error means "the database is not reachable right now" (503,
/// retryable) rather than a bug (500).
pub fn is_unavailable(err: &DbErr) -> bool {
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e) => e,
        _ => return false,
    };
    match runtime {
        RuntimeErr::SqlxError(e) => match &**e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_) => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|c| is_contention(&c)),
            _ => false,
        },
        _ => false,
    }
}

/// A write that lost to another one and changed nothing, so trying again is the cure:
/// SQLite's BUSY and LOCKED (any extended code: `5`, `6`, `517` …, after the busy
/// timeout), PostgreSQL's serialization failure and deadlock.
fn is_contention(code: &str) -> bool {
    match code {
        "40001" | "40P01" => true,
        _ => code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;
    use anyhow::Context;

    fn body_of(err: &ApiError) -> serde_json::Value {
        let bytes = err.error_response().into_body().try_into_bytes().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn validation_errors_list_each_field_with_400() {
        let err = ApiError::Validation(vec![FieldError::new("email", "is not an email")]);
        assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
        let body = body_of(&err);
        assert_eq!(body["success"], false);
        assert_eq!(body["code"], "VALIDATION_FAILED");
        assert_eq!(body["message"], "Validation failed");
        assert_eq!(body["errors"][0]["field"], "email");
    }

    #[test]
    fn internal_errors_send_an_opaque_body() {
        let cause: anyhow::Result<()> = Err(anyhow::anyhow!("disk on fire at /var/lib/secret"));
        let err = ApiError::from(cause.context("saving course").unwrap_err());
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = body_of(&err).to_string();
        assert!(
            !text.contains("disk on fire") && !text.contains("saving course"),
            "{text}"
        );
        assert!(text.contains("INTERNAL"));
    }

    #[tokio::test]
    async fn a_write_that_loses_to_another_on_sqlite_is_a_retryable_503() {
        use sea_orm::{ConnectionTrait, SqlxSqliteConnector, TransactionTrait};
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("busy.db"))
            .create_if_missing(true)
            .busy_timeout(std::time::Duration::ZERO);
        let pool =
            |o: SqliteConnectOptions| SqlitePoolOptions::new().max_connections(1).connect_with(o);
        let first =
            SqlxSqliteConnector::from_sqlx_sqlite_pool(pool(options.clone()).await.unwrap());
        let second = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool(options).await.unwrap());
        first
            .execute_unprepared("CREATE TABLE t (n INTEGER)")
            .await
            .unwrap();
        let holding = first.begin().await.unwrap();
        holding
            .execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        let lost = second
            .execute_unprepared("INSERT INTO t VALUES (2)")
            .await
            .unwrap_err();
        let err = ApiError::from(lost);
        assert_eq!(
            err.status_code(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{err:?}"
        );
        holding.commit().await.unwrap();
    }

    #[test]
    fn contention_codes_are_told_from_other_database_errors() {
        for code in ["5", "6", "517", "261", "40001", "40P01"] {
            assert!(is_contention(code), "{code}");
        }
        for code in ["19", "2067", "23505", "42P01", "1"] {
            assert!(!is_contention(code), "{code}");
        }
    }

    #[test]
    fn rate_limited_answers_carry_retry_after() {
        let err = ApiError::RateLimited { retry_after: 7 };
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "7");
        assert_eq!(body_of(&err)["retryAfter"], 7);
    }

    #[test]
    fn a_lost_database_connection_is_503_not_500() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let err = DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(sqlx::Error::Io(
            io,
        ))));
        assert!(is_unavailable(&err));
        assert_eq!(
            ApiError::from(err).status_code(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let bug = DbErr::Custom("column mismatch".into());
        assert_eq!(
            ApiError::from(bug).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
