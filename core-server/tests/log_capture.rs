//! No secrets in logs: every log line the process writes (the server's own events,
//! request spans, SQL statements, the HTTP stack) is captured while a client goes
//! through register, login, refresh, email verification, forgot/reset, password
//! change, 2FA and personal access tokens; none of the passwords, tokens or codes
//! involved may appear in it.
//!
//! A binary of its own: the capture is this process's global tracing subscriber, which
//! the `api` suite's (optional, `TEST_LOG`) subscriber would otherwise contend with.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tracing_subscriber::EnvFilter;

use helpers::{Answer, PASSWORD, TestApp, TestUser, spawn_app, totp_now};

/// Everything logged by this process, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Installs, once per process, a global subscriber writing every level into memory.
fn capture_logs() -> Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let writer = captured.clone();
            tracing_subscriber::fmt()
                // Everything at trace, SQL statements included (sqlx logs them at
                // debug): bound parameters must not leak either.
                .with_env_filter(EnvFilter::new("trace"))
                .with_writer(move || writer.clone())
                .with_ansi(false)
                // Timestamps are digit runs that a 6-digit code could match by chance.
                .without_time()
                .try_init()
                .expect("the capture is this process's first subscriber");
            captured
        })
        .clone()
}

/// The newest code mailed to `email` with `subject`, once there are `nth` such mails.
async fn mailed_code(app: &TestApp, admin: &str, email: &str, subject: &str, nth: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = app
            .send(
                app.client
                    .get(app.url("/api/v1/admin/outbox"))
                    .query(&[("recipient", email)])
                    .bearer_auth(admin),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let mail: Vec<Value> = answer.body["data"]["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m["subject"] == subject)
            .collect();
        if mail.len() >= nth {
            let body = mail[0]["body"].as_str().expect("mail body");
            return body
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 6)
                .expect("a 6-digit code")
                .to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no mail \"{subject}\" to {email}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn string(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
        .to_owned()
}

#[track_caller]
fn ok(answer: &Answer, what: &str) {
    assert!(
        (200..300).contains(&answer.status),
        "{what}: {} {}",
        answer.status,
        answer.body
    );
}

/// Where `needle` (a 6-digit code) stands alone in `text`: not inside a longer word or
/// number, nor the fraction of a decimal (a latency like `3.141592`).
fn standalone_at(text: &str, needle: &str) -> Option<usize> {
    text.match_indices(needle).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back();
        let after = text[i + needle.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric() && c != '.')
            && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

fn context(text: &str, at: usize) -> &str {
    let mut start = at.saturating_sub(200);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + 200).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    &text[start..end]
}

#[tokio::test]
async fn passwords_tokens_and_codes_never_reach_the_log() {
    let logs = capture_logs();
    let app = spawn_app().await;
    let admin = app.admin().await;

    // Long secrets: checked as substrings. Short codes: checked as standalone numbers.
    let mut secrets: Vec<(&str, String)> = vec![("the test password", PASSWORD.to_owned())];
    let mut codes: Vec<(&str, String)> = Vec::new();
    let keep_session = |secrets: &mut Vec<(&str, String)>, data: &Value| {
        secrets.push(("an access token", string(&data["accessToken"])));
        secrets.push(("a refresh token", string(&data["refreshToken"])));
    };

    // Register, and fail a login.
    let email = format!("ada-{}@school.test", uuid::Uuid::now_v7().simple());
    let first_password = "Fir5t-Secret!pw";
    secrets.push(("the registration password", first_password.to_owned()));
    let registered = app
        .post_json(
            "/api/v1/auth/register",
            &json!({ "email": email, "password": first_password, "firstName": "Ada", "lastName": "L" }),
        )
        .await;
    ok(&registered, "register");
    keep_session(&mut secrets, &registered.body["data"]);
    let user = TestUser::from_session(&registered.body["data"], first_password, None);
    let wrong = "Wr0ng-Guess!xyz";
    secrets.push(("a wrong password", wrong.to_owned()));
    assert_eq!(app.login(&email, wrong).await.status, 401);

    // Login, refresh, and a reused refresh token.
    let login = app.login(&email, first_password).await;
    ok(&login, "login");
    keep_session(&mut secrets, &login.body["data"]);
    let rotated = app
        .post_json(
            "/api/v1/auth/refresh-token",
            &json!({ "refreshToken": login.body["data"]["refreshToken"] }),
        )
        .await;
    ok(&rotated, "refresh");
    keep_session(&mut secrets, &rotated.body["data"]);
    let reused = app
        .post_json(
            "/api/v1/auth/refresh-token",
            &json!({ "refreshToken": login.body["data"]["refreshToken"] }),
        )
        .await;
    assert_eq!(reused.status, 401);

    // Verify the email with the mailed code.
    let verify_code = mailed_code(
        &app,
        &admin.access_token,
        &email,
        "Verify your EduPro+ email",
        1,
    )
    .await;
    codes.push(("the email verification code", verify_code.clone()));
    ok(
        &app.post_as(
            &user.access_token,
            "/api/v1/auth/verify-email",
            &json!({ "otp": verify_code }),
        )
        .await,
        "verify-email",
    );

    // Forgot and reset the password.
    ok(
        &app.post_json("/api/v1/auth/forgot-password", &json!({ "email": email }))
            .await,
        "forgot-password",
    );
    let reset_code = mailed_code(
        &app,
        &admin.access_token,
        &email,
        "Set your EduPro+ password",
        1,
    )
    .await;
    codes.push(("the password reset code", reset_code.clone()));
    let reset_password = "Res3t-Secret!pw";
    secrets.push(("the reset password", reset_password.to_owned()));
    ok(
        &app.post_json(
            "/api/v1/auth/reset-password",
            &json!({ "email": email, "otp": reset_code, "newPassword": reset_password }),
        )
        .await,
        "reset-password",
    );

    // Change the password.
    let login = app.login(&email, reset_password).await;
    ok(&login, "login after reset");
    keep_session(&mut secrets, &login.body["data"]);
    let access = string(&login.body["data"]["accessToken"]);
    let changed_password = "Chang3d-Secret!pw";
    secrets.push(("the changed password", changed_password.to_owned()));
    let changed = app
        .post_as(
            &access,
            "/api/v1/auth/change-password",
            &json!({ "oldPassword": reset_password, "newPassword": changed_password }),
        )
        .await;
    ok(&changed, "change-password");
    let access = string(&changed.body["data"]["accessToken"]);
    secrets.push(("the access token after a password change", access.clone()));

    // 2FA: enrol and confirm; an admin's TOTP and recovery-code logins.
    let enrolled = app
        .post_as(&access, "/api/v1/auth/2fa/enroll", &json!({}))
        .await;
    ok(&enrolled, "2fa enroll");
    let student_secret = string(&enrolled.body["data"]["secret"]);
    secrets.push(("a TOTP secret", student_secret.clone()));
    let confirm_code = totp_now(&student_secret);
    codes.push(("a TOTP code", confirm_code.clone()));
    let confirmed = app
        .post_as(
            &access,
            "/api/v1/auth/2fa/confirm",
            &json!({ "code": confirm_code }),
        )
        .await;
    ok(&confirmed, "2fa confirm");
    for code in confirmed.body["data"]["recoveryCodes"]
        .as_array()
        .expect("recovery codes")
    {
        secrets.push(("a recovery code", string(code)));
    }

    let admin_email = format!("grace-{}@school.test", uuid::Uuid::now_v7().simple());
    let made = app
        .post_as(
            &admin.access_token,
            "/api/v1/auth/register",
            &json!({ "email": admin_email, "password": PASSWORD, "firstName": "G", "lastName": "H", "role": "ADMIN" }),
        )
        .await;
    ok(&made, "register an admin");
    let admin_secret = string(&made.body["data"]["twoFactor"]["secret"]);
    secrets.push(("an admin's TOTP secret", admin_secret.clone()));
    let recovery: Vec<String> = made.body["data"]["twoFactor"]["recoveryCodes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(string)
        .collect();
    for code in &recovery {
        secrets.push(("an admin recovery code", code.clone()));
    }
    let challenge = app.login(&admin_email, PASSWORD).await;
    ok(&challenge, "admin password step");
    let challenge_token = string(&challenge.body["data"]["challengeToken"]);
    secrets.push(("a 2FA challenge token", challenge_token.clone()));
    assert_eq!(
        app.post_json(
            "/api/v1/auth/2fa/verify",
            &json!({ "challengeToken": challenge_token, "code": "000000x" }),
        )
        .await
        .status,
        401
    );
    let admin_code = totp_now(&admin_secret);
    codes.push(("an admin TOTP code", admin_code.clone()));
    let verified = app
        .post_json(
            "/api/v1/auth/2fa/verify",
            &json!({ "challengeToken": challenge_token, "code": admin_code }),
        )
        .await;
    ok(&verified, "2fa verify");
    keep_session(&mut secrets, &verified.body["data"]);
    let challenge = app.login(&admin_email, PASSWORD).await;
    let with_recovery = app
        .post_json(
            "/api/v1/auth/2fa/verify",
            &json!({ "challengeToken": challenge.body["data"]["challengeToken"], "code": recovery[0] }),
        )
        .await;
    ok(&with_recovery, "2fa verify with a recovery code");
    keep_session(&mut secrets, &with_recovery.body["data"]);

    // A personal access token, created and used.
    let created = app
        .post_as(
            &access,
            "/api/v1/auth/tokens",
            &json!({ "name": "ci", "scopes": ["read"] }),
        )
        .await;
    ok(&created, "create a token");
    let pat = string(&created.body["data"]["token"]);
    secrets.push(("a personal access token", pat.clone()));
    ok(
        &app.get_as(&pat, "/api/v1/auth/me").await,
        "me with a token",
    );

    let text = logs.text();
    // The capture saw the server work: request spans, the outbox, SQL.
    for evidence in [
        "/api/v1/auth/login",
        "/api/v1/auth/reset-password",
        "/api/v1/auth/2fa/verify",
        "request finished",
        "development outbox",
        "one_time_codes",
    ] {
        assert!(
            text.contains(evidence),
            "the capture lacks {evidence:?}; {} bytes captured",
            text.len()
        );
    }
    // A JWT's signature alone identifies it; check it as well as the whole token.
    let signatures: Vec<(&str, String)> = secrets
        .iter()
        .filter(|(_, s)| s.starts_with("eyJ"))
        .filter_map(|(what, s)| s.rsplit('.').next().map(|sig| (*what, sig.to_owned())))
        .collect();
    for (what, secret) in secrets.iter().chain(&signatures) {
        if let Some(at) = text.find(secret.as_str()) {
            panic!("{what} is in the log:\n…{}…", context(&text, at));
        }
    }
    for (what, code) in &codes {
        if let Some(at) = standalone_at(&text, code) {
            panic!("{what} ({code}) is in the log:\n…{}…", context(&text, at));
        }
    }
}

/// A 500's body is opaque (the unit tests check that), so the log is the only place its
/// cause is told: all of the chain, under the request's id. Here rather than in the
/// library's unit tests because a scoped subscriber there races with the other tests
/// hitting the same callsite without one (tracing caches the callsite as uninterested).
#[test]
fn an_internal_error_logs_its_whole_cause_chain_under_the_request_id() {
    use actix_web::ResponseError;
    use anyhow::Context;
    use edupro_server::error::ApiError;

    let captured = capture_logs();
    {
        let span = tracing::info_span!("request", request_id = "req-cause-chain-42");
        let _entered = span.enter();
        let root: anyhow::Result<()> = Err(anyhow::anyhow!("connection reset by peer"));
        let err = ApiError::from(
            root.context("reading course 7")
                .context("building the gradebook")
                .unwrap_err(),
        );
        let _ = err.error_response();
    }
    let log = captured.text();
    // The event, from its span's request id on (the cause chain spans several lines).
    let at = log
        .find("req-cause-chain-42")
        .unwrap_or_else(|| panic!("nothing logged under the request id in {log}"));
    let event = &log[at..];
    for cause in [
        "request failed",
        "building the gradebook",
        "reading course 7",
        "connection reset by peer",
    ] {
        assert!(event.contains(cause), "missing {cause:?} in {event}");
    }
}
