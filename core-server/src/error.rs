//! One error type for services and handlers. Each variant maps to a status and the
//! contract's error envelope (the HTTP side is in `http/error.rs`); internal causes are
//! logged with their whole chain and never sent.

use sea_orm::{DbErr, RuntimeErr};

use crate::api::{ErrorBody, ErrorCode, FieldError, TokenScope};
use crate::store::constraints::{self, Violation};

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
    /// A personal access token lacks this scope (403, code `INSUFFICIENT_SCOPE`).
    #[error("This access token lacks the `{}` scope", .0.as_str())]
    MissingScope(TokenScope),
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
    /// The request body did not arrive within its deadline.
    #[error("{0}")]
    RequestTimeout(String),
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
            Self::MissingScope(_) => ErrorCode::InsufficientScope,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Self::Conflict { .. } => ErrorCode::Conflict,
            Self::PaymentRequired(_) => ErrorCode::PaymentRequired,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::RequestTimeout(_) => ErrorCode::RequestTimeout,
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
        let required_scope = match self {
            Self::MissingScope(scope) => Some(*scope),
            _ => None,
        };
        ErrorBody {
            success: false,
            message: self.to_string(),
            code: self.code(),
            errors,
            retry_after,
            required_scope,
        }
    }
}

impl From<DbErr> for ApiError {
    /// A unique-key violation is a 409 from the constraint map (the field it names and
    /// its message, or a generic message); the database's text is logged, never sent.
    fn from(err: DbErr) -> Self {
        if let Some(violation) = constraints::unique_violation(&err) {
            tracing::debug!(error = %err, "unique key violated");
            return match violation {
                Violation::Known(c) => Self::Conflict {
                    field: c.field.map(str::to_owned),
                    message: c.message.to_owned(),
                },
                Violation::Unknown => Self::Conflict {
                    field: None,
                    message: constraints::GENERIC_MESSAGE.to_owned(),
                },
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

    #[test]
    fn contention_codes_are_told_from_other_database_errors() {
        for code in ["5", "6", "517", "261", "40001", "40P01"] {
            assert!(is_contention(code), "{code}");
        }
        for code in ["19", "2067", "23505", "42P01", "1"] {
            assert!(!is_contention(code), "{code}");
        }
    }

    #[tokio::test]
    async fn unique_violations_name_the_mapped_field_and_never_the_database_text() {
        use sea_orm::{ConnectionTrait, Database};
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE);
             INSERT INTO users VALUES (1, 'ada@school.test');",
        )
        .await
        .unwrap();
        let taken = db
            .execute_unprepared("INSERT INTO users VALUES (2, 'ada@school.test')")
            .await
            .unwrap_err();
        match ApiError::from(taken) {
            ApiError::Conflict { field, message } => {
                assert_eq!(field.as_deref(), Some("email"));
                assert_eq!(message, "User with this email already exists");
            }
            other => panic!("{other:?}"),
        }
        let unmapped = db
            .execute_unprepared("INSERT INTO users VALUES (1, 'grace@school.test')")
            .await
            .unwrap_err();
        let err = ApiError::from(unmapped);
        let body = serde_json::to_string(&err.body()).unwrap();
        assert!(
            matches!(err, ApiError::Conflict { field: None, .. }),
            "{err:?}"
        );
        assert!(
            !body.contains("UNIQUE") && !body.contains("users"),
            "{body}"
        );
    }
}
