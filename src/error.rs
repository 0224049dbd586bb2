//! What can go wrong in a command, and the stable exit code each maps to.

use edupro_server::api::{ErrorBody, ErrorCode, FieldError, TokenScope};

/// Exit codes: a contract for scripts (documented in `edupro --help`).
pub mod exit {
    pub const OK: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const AUTH: u8 = 3;
    pub const NOT_FOUND: u8 = 4;
    pub const CONFLICT: u8 = 5;
    pub const IMPORT_FAILED_ROWS: u8 = 6;
    /// 128 + SIGPIPE, what a shell reports for `gh` or `git` killed by a closed pipe;
    /// used where the signal itself cannot be raised.
    pub const BROKEN_PIPE: u8 = 141;
}

/// A failed command: what went wrong, and what to do next.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error envelope.
    #[error("{message}")]
    Api {
        status: u16,
        message: String,
        errors: Vec<FieldError>,
    },
    /// The personal access token in use lacks a scope the request needs (403
    /// `INSUFFICIENT_SCOPE`): the account may do it, the token may not.
    #[error("{message}")]
    MissingScope { message: String, scope: TokenScope },
    /// The server refused the email, password or 2FA code.
    #[error("{0}")]
    LoginRefused(String),
    /// No stored credentials for this server.
    #[error("not logged in to {server}")]
    NotLoggedIn { server: String },
    /// The server could not be reached.
    #[error("cannot reach the EduPro+ server at {server}: {reason}")]
    Unreachable { server: String, reason: String },
    /// An import finished, but some of its rows failed (exit code 6).
    #[error("{0}")]
    ImportFailedRows(String),
    /// Bad arguments that clap could not catch.
    #[error("{0}")]
    Usage(String),
    /// A command that asks first ran off a terminal without `--yes` (exit 2).
    #[error("this would {action}, and asks first; standard input is not a terminal")]
    ConfirmationNeeded { action: String },
    /// The user answered no to a confirmation (exit 2; nothing was changed).
    #[error("cancelled; nothing was changed")]
    Cancelled,
    /// Stdout's reader went away (`edupro users list | head -2`): not a failure to
    /// report; `cli::run` ends the process quietly, as `gh` and `git` do.
    #[error("standard output was closed")]
    OutputClosed,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<std::io::Error> for ClientError {
    fn from(err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            Self::OutputClosed
        } else {
            Self::Other(err.into())
        }
    }
}

impl ClientError {
    /// Whether this is a write to a closed pipe, directly or as the cause of an
    /// `anyhow` error (the demo and the import stream wrap theirs).
    pub fn is_output_closed(&self) -> bool {
        match self {
            Self::OutputClosed => true,
            Self::Other(err) => err.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }),
            _ => false,
        }
    }

    /// From a non-2xx answer's status and body.
    pub fn from_answer(status: u16, body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(ErrorBody {
                code: ErrorCode::InsufficientScope,
                required_scope: Some(scope),
                message,
                ..
            }) => Self::MissingScope { message, scope },
            Ok(error) => Self::Api {
                status,
                message: error.message,
                errors: error.errors.unwrap_or_default(),
            },
            Err(_) => Self::Api {
                status,
                message: format!(
                    "the server answered {status} without an EduPro+ error body: {}",
                    String::from_utf8_lossy(body)
                        .chars()
                        .take(200)
                        .collect::<String>()
                ),
                errors: Vec::new(),
            },
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Api { status, .. } => match status {
                401 | 403 => exit::AUTH,
                404 => exit::NOT_FOUND,
                400 | 402 | 409 | 422 => exit::CONFLICT,
                _ => exit::ERROR,
            },
            Self::NotLoggedIn { .. } | Self::LoginRefused(_) | Self::MissingScope { .. } => {
                exit::AUTH
            }
            Self::Usage(_) | Self::ConfirmationNeeded { .. } | Self::Cancelled => exit::USAGE,
            Self::ImportFailedRows(_) => exit::IMPORT_FAILED_ROWS,
            Self::Unreachable { .. } | Self::Other(_) => exit::ERROR,
            Self::OutputClosed => exit::BROKEN_PIPE,
        }
    }

    /// A line saying what to do next, when there is a useful one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Api { status: 401, .. } | Self::NotLoggedIn { .. } => {
                Some("run `edupro login` (or set EDUPRO_TOKEN) and try again".into())
            }
            Self::LoginRefused(_) => Some(
                "check the email, the password (case-sensitive) and, with 2FA, the current code"
                    .into(),
            ),
            Self::MissingScope { scope, .. } => {
                let scopes = match scope {
                    TokenScope::Read => "read",
                    TokenScope::Write => "read,write",
                    TokenScope::Admin => "read,write,admin",
                };
                let who = if *scope == TokenScope::Admin {
                    " (signed in as an admin)"
                } else {
                    ""
                };
                Some(format!(
                    "this token lacks the `{}` scope; create one with `edupro auth tokens create --name ci --scope {scopes}`{who}",
                    scope.as_str()
                ))
            }
            // Only a refusal by role: other 403s say which rule (the asker accepts, one's
            // own post takes no votes…), and an admin could not change those.
            Self::Api {
                status: 403,
                message,
                ..
            } if message.starts_with("You don't have permission") => {
                Some("your account's role does not allow this; ask an admin".into())
            }
            Self::Api { status: 429, .. } => Some("wait a little and try again".into()),
            Self::ConfirmationNeeded { action } => {
                Some(format!("pass --yes to {action} without being asked"))
            }
            Self::Unreachable { .. } => {
                Some("check --server / EDUPRO_SERVER, or start one with `edupro server`".into())
            }
            _ => None,
        }
    }
}

/// Shorthand for command results.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_without_the_admin_scope_is_told_to_get_one_not_to_ask_an_admin() {
        let body = br#"{"success":false,"message":"This access token lacks the `admin` scope","code":"INSUFFICIENT_SCOPE","requiredScope":"admin"}"#;
        let err = ClientError::from_answer(403, body);
        assert_eq!(err.exit_code(), exit::AUTH);
        assert_eq!(
            err.hint().as_deref(),
            Some(
                "this token lacks the `admin` scope; create one with `edupro auth tokens create --name ci --scope read,write,admin` (signed in as an admin)"
            )
        );
    }

    #[test]
    fn a_role_that_may_not_is_still_told_to_ask_an_admin() {
        let body = br#"{"success":false,"message":"You don't have permission to access this resource","code":"FORBIDDEN"}"#;
        let err = ClientError::from_answer(403, body);
        assert_eq!(
            err.hint().as_deref(),
            Some("your account's role does not allow this; ask an admin")
        );
    }

    #[test]
    fn a_rule_that_refuses_is_not_blamed_on_the_role() {
        let body = br#"{"success":false,"message":"You cannot vote for your own post","code":"FORBIDDEN"}"#;
        let err = ClientError::from_answer(403, body);
        assert_eq!(err.exit_code(), exit::AUTH);
        assert_eq!(err.hint(), None);
    }
}
