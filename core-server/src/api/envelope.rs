//! The response envelope of the original EduPro+ contract: `{success, message?, data}` on
//! success, `{success: false, message, code, errors?}` on failure.

use serde::{Deserialize, Serialize};

/// A successful answer: `{"success": true, "message"?: "...", "data": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiResponse<T> {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub data: T,
}

impl<T> ApiResponse<T> {
    /// Wraps `data` in a success envelope.
    pub fn ok(data: T) -> Self {
        Self {
            success: true,
            message: None,
            data,
        }
    }

    /// Wraps `data` in a success envelope with a human-readable message.
    pub fn with_message(message: impl Into<String>, data: T) -> Self {
        Self {
            success: true,
            message: Some(message.into()),
            data,
        }
    }
}

/// A failed answer. `errors` lists field problems for validation failures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub success: bool,
    pub message: String,
    pub code: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Seconds to wait before retrying, on 429 answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The scope a personal access token lacks, on `INSUFFICIENT_SCOPE` answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_scope: Option<crate::api::TokenScope>,
}

/// One invalid field of a request: `{"field": "email", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Machine-readable error codes; clients branch on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// Request fields failed validation; see `errors`.
    ValidationFailed,
    /// The request could not be read (malformed JSON, bad query string).
    BadRequest,
    Unauthorized,
    Forbidden,
    /// The account may do this, but the personal access token used lacks a scope
    /// (named in `requiredScope`): a new token is the fix, not another role.
    InsufficientScope,
    NotFound,
    MethodNotAllowed,
    Conflict,
    /// Payment is required before this action (paid course).
    PaymentRequired,
    PayloadTooLarge,
    /// The request body did not arrive in time; the connection is closed.
    RequestTimeout,
    UnsupportedMediaType,
    /// Well-formed, but breaks a rule (publishing an empty course).
    Unprocessable,
    RateLimited,
    Internal,
    ServiceUnavailable,
}

/// `data` of an answer whose message says it all (`{"success": true, "message": "Logged
/// out", "data": {}}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Empty {}

/// `data` of a deletion: the id of what is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Deleted {
    pub id: uuid::Uuid,
}
