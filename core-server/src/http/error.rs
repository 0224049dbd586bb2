//! How an [`ApiError`] answers over HTTP: its status, `Retry-After`, and the envelope;
//! a 500's or 503's cause is logged with the request's span and never sent.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::error::ApiError;

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::MissingScope(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
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
        if let Self::RequestTimeout(_) = self {
            // The rest of the body may still come: the connection cannot be reused.
            response.force_close();
        }
        response.json(self.body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::FieldError;
    use crate::error::{ApiError, is_unavailable};
    use actix_web::body::MessageBody;
    use anyhow::Context;
    use sea_orm::{DbErr, RuntimeErr};

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
