//! Sign-up, sign-in, tokens, sessions, 2FA and personal access tokens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Role, User};

/// `POST /auth/register`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Register {
    #[cfg_attr(feature = "server", schema(format = Email, max_length = 254))]
    pub email: String,
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 8,
            max_length = 128,
            pattern = r"^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])(?=.*[!-/:-@\[-`{-~]).{8,128}$"
        )
    )]
    pub password: String,
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,98}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub first_name: String,
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,98}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub last_name: String,
    #[cfg_attr(
        feature = "server",
        schema(pattern = r"^\s*(\+?[ ()\-]*([0-9][ ()\-]*){7,15})?\s*$")
    )]
    pub phone: Option<String>,
    /// STUDENT (default), TEACHER or PARENT; ADMIN only when an admin registers someone.
    pub role: Option<Role>,
}

/// `POST /auth/login`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Login {
    #[cfg_attr(feature = "server", schema(format = Email, max_length = 254))]
    pub email: String,
    #[cfg_attr(feature = "server", schema(min_length = 1))]
    pub password: String,
}

/// A signed-in session: who, and the token pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuthSession {
    pub user: User,
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// The password was right, and a second factor is needed: `POST /auth/2fa/verify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MfaChallenge {
    pub mfa_required: bool,
    pub challenge_token: String,
    pub expires_in: u64,
}

/// What `POST /auth/login` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum LoginOutcome {
    MfaRequired(MfaChallenge),
    Session(Box<AuthSession>),
}

/// `POST /auth/2fa/verify`: the challenge and a TOTP or recovery code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerifyMfa {
    pub challenge_token: String,
    pub code: String,
}

/// `POST /auth/refresh-token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A fresh token pair; the refresh token presented is spent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

/// `POST /auth/change-password`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChangePassword {
    #[cfg_attr(feature = "server", schema(min_length = 1))]
    pub old_password: String,
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 8,
            max_length = 128,
            pattern = r"^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])(?=.*[!-/:-@\[-`{-~]).{8,128}$"
        )
    )]
    pub new_password: String,
}

/// `POST /auth/forgot-password` and `POST /auth/resend-otp` (by email when signed out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ForgotPassword {
    #[cfg_attr(feature = "server", schema(format = Email, max_length = 254))]
    pub email: String,
}

/// `POST /auth/reset-password`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResetPassword {
    #[cfg_attr(feature = "server", schema(format = Email, max_length = 254))]
    pub email: String,
    #[cfg_attr(feature = "server", schema(pattern = r"^[0-9]{6}$"))]
    pub otp: String,
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 8,
            max_length = 128,
            pattern = r"^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])(?=.*[!-/:-@\[-`{-~]).{8,128}$"
        )
    )]
    pub new_password: String,
}

/// `POST /auth/verify-email`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerifyEmail {
    #[cfg_attr(feature = "server", schema(pattern = r"^[0-9]{6}$"))]
    pub otp: String,
}

/// One signed-in device (`GET /auth/sessions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub id: Uuid,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// `GET /auth/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
}

/// `POST /auth/2fa/enroll` answer: scan the URI, then confirm with a code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TotpEnrollment {
    /// Base32 secret, for typing into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/...`, for a QR code.
    pub otpauth_uri: String,
    /// Single-use codes for when the authenticator is lost; shown once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_codes: Vec<String>,
}

/// `POST /auth/2fa/confirm` and `POST /auth/2fa/disable`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TotpCode {
    pub code: String,
}

/// `POST /auth/2fa/confirm` answer: 2FA is on; keep these codes somewhere safe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// What a personal access token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// GET requests.
    Read,
    /// Any request the user may make, but admin ones.
    Write,
    /// Admin requests too (admins only).
    Admin,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }
}

/// `POST /auth/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewAccessToken {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,98}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub name: String,
    #[cfg_attr(feature = "server", schema(min_items = 1, max_items = 3))]
    pub scopes: Vec<TokenScope>,
    /// Days until it expires (1–366); omit for 90.
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 366))]
    pub expires_in_days: Option<u32>,
}

/// A personal access token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenInfo {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<TokenScope>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// `POST /auth/tokens` answer: the token itself, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedAccessToken {
    pub token: String,
    pub info: AccessTokenInfo,
}

/// `GET /auth/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenList {
    pub tokens: Vec<AccessTokenInfo>,
}

/// One entry of the audit log (`GET /admin/audit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: Uuid,
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub ip: Option<String>,
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// `GET /admin/audit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditList {
    pub events: Vec<AuditEntry>,
    pub pagination: super::Pagination,
}

/// A mail in the outbox (`GET /admin/outbox`): kept there in development, or queued for
/// SMTP delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    pub id: Uuid,
    pub recipient: String,
    pub subject: String,
    /// The text; emptied once an SMTP delivery succeeded or gave up (it holds codes).
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub status: MailStatus,
    /// Delivery attempts begun so far.
    pub attempts: i32,
    /// When the next attempt is due (PENDING only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Where a mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MailStatus {
    /// Waiting for SMTP delivery (or being delivered, under a lease).
    Pending,
    /// Accepted by the SMTP server.
    Sent,
    /// Given up: refused for good, or out of attempts.
    Failed,
    /// Kept in the development outbox (no SMTP configured); never delivered.
    Kept,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Sent => "SENT",
            Self::Failed => "FAILED",
            Self::Kept => "KEPT",
        }
    }
}

impl std::str::FromStr for MailStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Pending, Self::Sent, Self::Failed, Self::Kept]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a mail status"))
    }
}

/// `GET /admin/outbox`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OutboxList {
    pub messages: Vec<OutboxEntry>,
    pub pagination: super::Pagination,
}

/// What `POST /auth/register` answers: the new account signed in, or, for an ADMIN
/// account an admin registers, the account and its 2FA enrollment (nobody signs in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Registered {
    Session(Box<AuthSession>),
    Admin(Box<RegisteredAdmin>),
}

/// A new ADMIN account, registered by an admin, with the 2FA secret to pass on (shown
/// once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RegisteredAdmin {
    pub user: User,
    pub two_factor: TotpEnrollment,
}

/// `POST /auth/change-password`: the session goes on with this access token (its
/// refresh token stays the same).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PasswordChanged {
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}
