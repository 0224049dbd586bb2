//! Accounts and access over real HTTP, as a client meets them: sign-up, sign-in with and
//! without 2FA, what a forged or stale JWT gets, refresh-token rotation and reuse,
//! sign-out, passwords, mailed codes, sessions, 2FA, personal access tokens and rate
//! limits.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use data_encoding::BASE64URL_NOPAD;
use edupro_server::service::auth::totp;
use edupro_server::store::entity::one_time_code;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::helpers::{Answer, PASSWORD, TestApp, TestUser, spawn_app, spawn_app_with, totp_now};

const ME: &str = "/api/v1/auth/me";
const REGISTER: &str = "/api/v1/auth/register";
const REFRESH: &str = "/api/v1/auth/refresh-token";
const VERIFY_SUBJECT: &str = "Verify your EduPro+ email";
const RESET_SUBJECT: &str = "Set your EduPro+ password";

// ---------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------

/// Asserts an error answer in the envelope: status, `success: false` and `code`.
#[track_caller]
fn assert_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.body["success"], false, "{}", answer.body);
    assert_eq!(answer.body["code"], code, "{}", answer.body);
}

fn message(answer: &Answer) -> &str {
    answer.body["message"].as_str().unwrap_or_default()
}

/// The message given for `field` in the answer's `errors`.
fn field_error(answer: &Answer, field: &str) -> Option<String> {
    answer.body["errors"]
        .as_array()?
        .iter()
        .find(|e| e["field"] == field)
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
}

fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@school.test", uuid::Uuid::now_v7().simple())
}

fn str_of<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value}"))
}

/// The claims of a JWT, decoded without checking anything.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = BASE64URL_NOPAD
        .decode(payload.as_bytes())
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// The session id an access token belongs to.
fn session_of(token: &str) -> String {
    str_of(&claims_of(token)["sid"], "sid").to_owned()
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Answer {
    app.post_json(REFRESH, &json!({ "refreshToken": refresh_token }))
        .await
}

/// Another signed-in session of `user`, by password.
async fn sign_in_again(app: &TestApp, user: &TestUser) -> TestUser {
    let answer = app.login(&user.email, &user.password).await;
    assert_eq!(answer.status, 200, "login: {}", answer.body);
    TestUser::from_session(&answer.body["data"], &user.password, None)
}

/// Audit events with `action` by or about `user_id`, newest first.
async fn audit_events(app: &TestApp, admin_token: &str, action: &str, user_id: &str) -> Vec<Value> {
    let answer = app
        .get_as(
            admin_token,
            &format!("/api/v1/admin/audit?action={action}&userId={user_id}&limit=100"),
        )
        .await;
    assert_eq!(answer.status, 200, "audit: {}", answer.body);
    answer.body["data"]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Mail with `subject` to `email` in the development outbox, newest first.
async fn mail_to(app: &TestApp, admin_token: &str, email: &str, subject: &str) -> Vec<Value> {
    let answer = app
        .send(
            app.client
                .get(app.url("/api/v1/admin/outbox"))
                .query(&[("recipient", email), ("limit", "100")])
                .bearer_auth(admin_token),
        )
        .await;
    assert_eq!(answer.status, 200, "outbox: {}", answer.body);
    answer.body["data"]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m["subject"] == subject)
        .collect()
}

/// The code of the `nth` (1-based, oldest first) mail with `subject` to `email`,
/// waiting briefly for mail sent after the answer (forgot-password sends it then).
async fn mailed_code(
    app: &TestApp,
    admin_token: &str,
    email: &str,
    subject: &str,
    nth: usize,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mail = mail_to(app, admin_token, email, subject).await;
        if mail.len() >= nth {
            let body = str_of(&mail[mail.len() - nth]["body"], "mail body");
            return code_in(body);
        }
        assert!(
            Instant::now() < deadline,
            "mail #{nth} \"{subject}\" to {email} never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn code_in(body: &str) -> String {
    body.split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .unwrap_or_else(|| panic!("no 6-digit code in {body:?}"))
        .to_owned()
}

/// A 6-digit code that differs from `code`.
fn other_code(code: &str) -> String {
    let n: u32 = code.parse().expect("digits");
    format!("{:06}", (n + 1) % 1_000_000)
}

fn step_now() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    totp::step_of(now)
}

fn totp_at(secret: &str, step: u64) -> String {
    totp::code_at(secret, step).expect("valid secret")
}

/// A well-formed code that is no authenticator's code around now.
fn wrong_totp(secret: &str) -> String {
    let now = step_now();
    let valid: HashSet<String> = (now.saturating_sub(2)..=now + 2)
        .map(|step| totp_at(secret, step))
        .collect();
    (123_456..)
        .map(|n: u32| format!("{n:06}"))
        .find(|c| !valid.contains(c))
        .expect("a free code")
}

/// A TOTP code for a step after `last_step` that the server accepts now (it allows one
/// step of clock drift either way). Waits for the clock when the next step is too far
/// ahead, which happens only on a third code within one 30-second step.
async fn unused_totp(secret: &str, last_step: u64) -> (String, u64) {
    let step = (last_step + 1).max(step_now());
    let deadline = Instant::now() + Duration::from_secs(45);
    while step > step_now() + 1 {
        assert!(Instant::now() < deadline, "the clock did not advance");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (totp_at(secret, step), step)
}

/// Someone's 2FA as a test sees it.
struct TwoFactor {
    secret: String,
    recovery_codes: Vec<String>,
    /// The last time step whose code the server accepted.
    last_step: u64,
}

/// Turns 2FA on for `user` (enroll, then confirm with a current code).
async fn turn_on_2fa(app: &TestApp, user: &TestUser) -> TwoFactor {
    let enrolled = app
        .post_as(&user.access_token, "/api/v1/auth/2fa/enroll", &json!({}))
        .await;
    assert_eq!(enrolled.status, 200, "enroll: {}", enrolled.body);
    let secret = str_of(&enrolled.body["data"]["secret"], "secret").to_owned();
    let uri = str_of(&enrolled.body["data"]["otpauthUri"], "otpauthUri");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    let step = step_now();
    let confirmed = app
        .post_as(
            &user.access_token,
            "/api/v1/auth/2fa/confirm",
            &json!({ "code": totp_at(&secret, step) }),
        )
        .await;
    assert_eq!(confirmed.status, 200, "confirm: {}", confirmed.body);
    let recovery_codes: Vec<String> = confirmed.body["data"]["recoveryCodes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| str_of(c, "recovery code").to_owned())
        .collect();
    TwoFactor {
        secret,
        recovery_codes,
        last_step: step,
    }
}

/// The password step of a 2FA login: asserts the challenge and answers its token.
async fn password_step(app: &TestApp, email: &str, password: &str) -> String {
    let answer = app.login(email, password).await;
    assert_eq!(answer.status, 200, "login: {}", answer.body);
    let data = &answer.body["data"];
    assert_eq!(data["mfaRequired"], true, "{}", answer.body);
    assert!(data.get("accessToken").is_none(), "{}", answer.body);
    assert!(
        data["expiresIn"].as_u64().unwrap_or(0) > 0,
        "{}",
        answer.body
    );
    str_of(&data["challengeToken"], "challengeToken").to_owned()
}

async fn second_factor(app: &TestApp, challenge: &str, code: &str) -> Answer {
    app.post_json(
        "/api/v1/auth/2fa/verify",
        &json!({ "challengeToken": challenge, "code": code }),
    )
    .await
}

/// An admin registered by `admin` through the API: their email, id and 2FA.
async fn register_admin(app: &TestApp, admin: &TestUser) -> (String, String, TwoFactor) {
    let email = unique_email("admin");
    let answer = app
        .post_as(
            &admin.access_token,
            REGISTER,
            &json!({
                "email": email, "password": PASSWORD,
                "firstName": "Second", "lastName": "Admin", "role": "ADMIN",
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "register admin: {}", answer.body);
    let data = &answer.body["data"];
    let two_factor = TwoFactor {
        secret: str_of(&data["twoFactor"]["secret"], "secret").to_owned(),
        recovery_codes: data["twoFactor"]["recoveryCodes"]
            .as_array()
            .expect("recovery codes")
            .iter()
            .map(|c| str_of(c, "recovery code").to_owned())
            .collect(),
        last_step: 0,
    };
    let id = str_of(&data["user"]["id"], "id").to_owned();
    (email, id, two_factor)
}

fn server_key(app: &TestApp) -> Vec<u8> {
    app.state
        .settings
        .jwt_secret
        .expose_secret()
        .as_bytes()
        .to_vec()
}

fn sign(claims: &Value, algorithm: Algorithm, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(key),
    )
    .expect("token signs")
}

/// The claims of `user`'s access token, with `exp` and `iat` fresh.
fn fresh_claims(user: &TestUser) -> Value {
    let mut claims = claims_of(&user.access_token);
    let now = Utc::now().timestamp();
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + 600);
    claims
}

#[track_caller]
fn assert_invalid_token(answer: &Answer) {
    assert_error(answer, 401, "UNAUTHORIZED");
    assert_eq!(
        message(answer),
        "Invalid or expired token. Please login again."
    );
}

// ---------------------------------------------------------------------------------
// Register
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn registering_answers_201_with_the_user_and_a_token_pair_and_makes_a_student_by_default() {
    let app = spawn_app().await;
    let email = unique_email("Ada.Lovelace");
    let answer = app
        .post_json(
            REGISTER,
            &json!({
                "email": email, "password": PASSWORD,
                "firstName": "Ada", "lastName": "Lovelace", "phone": "+44 20 7946 0958",
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["success"], true);
    let data = &answer.body["data"];
    let user = &data["user"];
    assert_eq!(user["email"], email.to_lowercase());
    assert_eq!(user["role"], "STUDENT");
    assert_eq!(user["firstName"], "Ada");
    assert_eq!(user["lastName"], "Lovelace");
    assert_eq!(user["isEmailVerified"], false);
    assert_eq!(user["isActive"], true);
    assert_eq!(user["twoFactorEnabled"], false);
    assert!(user["studentProfile"].is_object(), "{user}");
    assert!(user.get("passwordHash").is_none() && user.get("password").is_none());
    assert!(str_of(&data["refreshToken"], "refreshToken").starts_with("edupro_rt_"));
    assert_eq!(data["expiresIn"], 900);

    let me = app
        .get_as(str_of(&data["accessToken"], "accessToken"), ME)
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["data"]["id"], user["id"]);
    assert_eq!(me.body["data"]["role"], "STUDENT");
}

#[tokio::test]
async fn teachers_and_parents_can_register_themselves() {
    let app = spawn_app().await;
    for (role, profile) in [("TEACHER", "teacherProfile"), ("PARENT", "parentProfile")] {
        let user = app.register(role).await;
        let me = app.get_as(&user.access_token, ME).await;
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!(me.body["data"]["role"], role);
        assert!(me.body["data"][profile].is_object(), "{}", me.body);
    }
}

#[tokio::test]
async fn nobody_but_an_admin_can_register_an_admin() {
    let app = spawn_app().await;
    let email = unique_email("would-be-admin");
    let body = json!({
        "email": email, "password": PASSWORD,
        "firstName": "Mallory", "lastName": "Root", "role": "ADMIN",
    });

    let anonymous = app.post_json(REGISTER, &body).await;
    assert_error(&anonymous, 403, "FORBIDDEN");
    assert_eq!(
        message(&anonymous),
        "Only an admin can register an ADMIN account"
    );
    for role in ["STUDENT", "TEACHER", "PARENT"] {
        let caller = app.register(role).await;
        let answer = app.post_as(&caller.access_token, REGISTER, &body).await;
        assert_error(&answer, 403, "FORBIDDEN");
    }
    // Nothing was created: the email can't sign in.
    assert_error(&app.login(&email, PASSWORD).await, 401, "UNAUTHORIZED");
}

#[tokio::test]
async fn an_admin_can_register_an_admin_who_gets_a_2fa_secret_and_ten_recovery_codes() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let email = unique_email("new-admin");
    let answer = app
        .post_as(
            &admin.access_token,
            REGISTER,
            &json!({
                "email": email, "password": PASSWORD,
                "firstName": "Grace", "lastName": "Hopper", "role": "ADMIN",
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let data = &answer.body["data"];
    assert_eq!(data["user"]["role"], "ADMIN");
    assert_eq!(data["user"]["twoFactorEnabled"], true);
    // The new admin is not signed in by someone else's request.
    assert!(data.get("accessToken").is_none(), "{data}");
    assert!(data.get("refreshToken").is_none(), "{data}");
    let secret = str_of(&data["twoFactor"]["secret"], "secret");
    assert!(secret.len() >= 32, "{secret}");
    assert!(str_of(&data["twoFactor"]["otpauthUri"], "otpauthUri").starts_with("otpauth://totp/"));
    let codes: HashSet<&str> = data["twoFactor"]["recoveryCodes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| str_of(c, "code"))
        .collect();
    assert_eq!(codes.len(), 10, "{data}");

    // And their first sign-in asks for the second factor.
    password_step(&app, &email, PASSWORD).await;
}

#[tokio::test]
async fn an_email_taken_in_any_letter_case_is_a_409_naming_the_email_field() {
    let app = spawn_app().await;
    let email = unique_email("taken");
    let body = |email: &str| json!({ "email": email, "password": PASSWORD, "firstName": "A", "lastName": "B" });
    assert_eq!(app.post_json(REGISTER, &body(&email)).await.status, 201);
    let again = app.post_json(REGISTER, &body(&email.to_uppercase())).await;
    assert_error(&again, 409, "CONFLICT");
    assert_eq!(message(&again), "User with this email already exists");
    assert_eq!(
        field_error(&again, "email").as_deref(),
        Some("User with this email already exists")
    );
}

#[tokio::test]
async fn every_invalid_field_of_a_registration_is_reported_at_once() {
    let app = spawn_app().await;
    let answer = app
        .post_json(
            REGISTER,
            &json!({
                "email": "not-an-email", "password": "alllowercase",
                "firstName": "", "lastName": "   ",
            }),
        )
        .await;
    assert_error(&answer, 400, "VALIDATION_FAILED");
    assert_eq!(message(&answer), "Validation failed");
    let fields: HashSet<&str> = answer.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| str_of(&e["field"], "field"))
        .collect();
    assert_eq!(
        fields,
        HashSet::from(["email", "password", "firstName", "lastName"]),
        "{}",
        answer.body
    );
    let password = field_error(&answer, "password").expect("password error");
    for missing in ["an uppercase letter", "a digit", "a special character"] {
        assert!(password.contains(missing), "{password}");
    }
    assert!(!password.contains("lowercase"), "{password}");
    assert!(
        field_error(&answer, "email")
            .expect("email error")
            .contains("email address")
    );

    let short = app
        .post_json(
            REGISTER,
            &json!({ "email": unique_email("s"), "password": "Sh0rt!", "firstName": "A", "lastName": "B" }),
        )
        .await;
    assert_error(&short, 400, "VALIDATION_FAILED");
    assert_eq!(
        field_error(&short, "password").as_deref(),
        Some("must be at least 8 characters")
    );
}

#[tokio::test]
async fn registering_mails_a_six_digit_verification_code() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = app.register("STUDENT").await;
    let mail = mail_to(&app, &admin.access_token, &user.email, VERIFY_SUBJECT).await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0]["recipient"], user.email.as_str());
    let body = str_of(&mail[0]["body"], "body");
    assert_eq!(code_in(body).len(), 6);
    assert!(body.contains("10 minutes"), "{body}");
}

// ---------------------------------------------------------------------------------
// Login
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn logging_in_answers_the_user_and_a_working_token_pair() {
    let app = spawn_app().await;
    let user = app.register("TEACHER").await;
    let answer = app.login(&user.email.to_uppercase(), PASSWORD).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(message(&answer), "Login successful");
    let data = &answer.body["data"];
    assert_eq!(data["user"]["id"], user.id.as_str());
    assert_eq!(data["user"]["role"], "TEACHER");
    assert!(data["user"]["lastLogin"].is_string(), "{data}");
    let access = str_of(&data["accessToken"], "accessToken");
    assert_ne!(access, user.access_token);
    assert_eq!(app.get_as(access, ME).await.status, 200);
    let rotated = refresh(&app, str_of(&data["refreshToken"], "refreshToken")).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let wrong_password = app.login(&user.email, "Wr0ng-Password!").await;
    let unknown_email = app.login(&unique_email("nobody"), PASSWORD).await;
    assert_error(&wrong_password, 401, "UNAUTHORIZED");
    assert_eq!(message(&wrong_password), "Invalid credentials");
    assert_eq!(wrong_password.status, unknown_email.status);
    assert_eq!(wrong_password.body, unknown_email.body);

    let admin = app.admin().await;
    let answer = app
        .get_as(
            &admin.access_token,
            "/api/v1/admin/audit?action=LOGIN_FAILED&limit=100",
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let failures = answer.body["data"]["events"].as_array().expect("events");
    assert!(
        failures.iter().any(|e| e["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&user.email))),
        "{failures:?}"
    );
}

#[tokio::test]
async fn a_deactivated_account_cannot_log_in_and_its_tokens_stop_working() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = app.register("STUDENT").await;
    let deactivated = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/deactivate", user.id),
            &json!({}),
        )
        .await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.body);
    assert_eq!(deactivated.body["data"]["isActive"], false);

    let login = app.login(&user.email, PASSWORD).await;
    assert_error(&login, 403, "FORBIDDEN");
    assert!(message(&login).contains("deactivated"), "{}", login.body);
    // A wrong password still says nothing about the account.
    assert_error(
        &app.login(&user.email, "Wr0ng-Password!").await,
        401,
        "UNAUTHORIZED",
    );
    assert_invalid_token(&app.get_as(&user.access_token, ME).await);
    assert_error(
        &refresh(&app, &user.refresh_token).await,
        401,
        "UNAUTHORIZED",
    );
}

#[tokio::test]
async fn an_account_with_2fa_gets_a_challenge_and_tokens_only_after_the_code() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (email, id, two_factor) = register_admin(&app, &admin).await;
    let challenge = password_step(&app, &email, PASSWORD).await;
    let answer = second_factor(&app, &challenge, &totp_now(&two_factor.secret)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(message(&answer), "Login successful");
    let data = &answer.body["data"];
    assert_eq!(data["user"]["id"], id.as_str());
    let me = app
        .get_as(str_of(&data["accessToken"], "accessToken"), ME)
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["data"]["role"], "ADMIN");
    assert!(str_of(&data["refreshToken"], "refreshToken").starts_with("edupro_rt_"));
}

#[tokio::test]
async fn a_wrong_second_factor_is_a_401_and_lands_in_the_audit_log() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (email, id, two_factor) = register_admin(&app, &admin).await;
    let challenge = password_step(&app, &email, PASSWORD).await;
    let answer = second_factor(&app, &challenge, &wrong_totp(&two_factor.secret)).await;
    assert_error(&answer, 401, "UNAUTHORIZED");
    assert_eq!(message(&answer), "Invalid two-factor code");
    assert!(
        answer.body.get("data").is_none_or(Value::is_null),
        "{}",
        answer.body
    );

    let events = audit_events(&app, &admin.access_token, "TWO_FACTOR_FAILED", &id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["subjectId"], id.as_str());
    assert_eq!(events[0]["ip"], "127.0.0.1");

    // The right code still completes the same challenge.
    let answer = second_factor(&app, &challenge, &totp_now(&two_factor.secret)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn a_totp_code_signs_in_once_and_is_refused_the_second_time() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (email, _, two_factor) = register_admin(&app, &admin).await;
    let step = step_now();
    let code = totp_at(&two_factor.secret, step);

    let first = password_step(&app, &email, PASSWORD).await;
    assert_eq!(second_factor(&app, &first, &code).await.status, 200);
    let second = password_step(&app, &email, PASSWORD).await;
    let replay = second_factor(&app, &second, &code).await;
    assert_error(&replay, 401, "UNAUTHORIZED");
    assert_eq!(message(&replay), "Invalid two-factor code");

    // The authenticator's next code is fine.
    let (next, _) = unused_totp(&two_factor.secret, step).await;
    assert_eq!(second_factor(&app, &second, &next).await.status, 200);
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (email, _, two_factor) = register_admin(&app, &admin).await;
    let recovery = &two_factor.recovery_codes[0];

    let challenge = password_step(&app, &email, PASSWORD).await;
    let answer = second_factor(&app, &challenge, recovery).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body["data"]["accessToken"].is_string());

    let challenge = password_step(&app, &email, PASSWORD).await;
    assert_error(
        &second_factor(&app, &challenge, recovery).await,
        401,
        "UNAUTHORIZED",
    );
    let other = second_factor(&app, &challenge, &two_factor.recovery_codes[1]).await;
    assert_eq!(other.status, 200, "{}", other.body);
}

#[tokio::test]
async fn a_2fa_challenge_token_is_not_an_access_token() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (email, _, _) = register_admin(&app, &admin).await;
    let challenge = password_step(&app, &email, PASSWORD).await;
    assert_eq!(claims_of(&challenge)["aud"], "edupro-mfa");
    assert_invalid_token(&app.get_as(&challenge, ME).await);
    assert_invalid_token(
        &app.post_as(&challenge, "/api/v1/auth/logout", &json!({}))
            .await,
    );
}

// ---------------------------------------------------------------------------------
// JWTs
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_token_signed_with_the_server_key_and_valid_claims_is_accepted() {
    // The control for the forgeries below: the same claims, correctly signed, work.
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let token = sign(&fresh_claims(&user), Algorithm::HS256, &server_key(&app));
    let me = app.get_as(&token, ME).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["data"]["id"], user.id.as_str());
}

#[tokio::test]
async fn a_token_with_alg_none_is_a_401() {
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let header = BASE64URL_NOPAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = BASE64URL_NOPAD.encode(fresh_claims(&user).to_string().as_bytes());
    assert_invalid_token(&app.get_as(&format!("{header}.{payload}."), ME).await);
    // Also with the real signature left on.
    let signature = user.access_token.split('.').nth(2).expect("signature");
    assert_invalid_token(
        &app.get_as(&format!("{header}.{payload}.{signature}"), ME)
            .await,
    );
}

#[tokio::test]
async fn a_token_signed_with_another_key_or_algorithm_is_a_401() {
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let claims = fresh_claims(&user);
    let wrong_key = sign(
        &claims,
        Algorithm::HS256,
        b"not-the-server-secret-not-the-server-secret",
    );
    assert_invalid_token(&app.get_as(&wrong_key, ME).await);
    // The server's key, but not the one pinned algorithm.
    let other_alg = sign(&claims, Algorithm::HS512, &server_key(&app));
    assert_invalid_token(&app.get_as(&other_alg, ME).await);
}

#[tokio::test]
async fn a_token_for_another_audience_or_issuer_is_a_401() {
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let key = server_key(&app);
    let mut mfa = fresh_claims(&user);
    mfa["aud"] = json!("edupro-mfa");
    assert_invalid_token(&app.get_as(&sign(&mfa, Algorithm::HS256, &key), ME).await);
    let mut issuer = fresh_claims(&user);
    issuer["iss"] = json!("someone-else");
    assert_invalid_token(&app.get_as(&sign(&issuer, Algorithm::HS256, &key), ME).await);
    let mut no_audience = fresh_claims(&user);
    no_audience
        .as_object_mut()
        .expect("claims object")
        .remove("aud");
    assert_invalid_token(
        &app.get_as(&sign(&no_audience, Algorithm::HS256, &key), ME)
            .await,
    );
}

#[tokio::test]
async fn an_expired_token_is_a_401() {
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let mut claims = fresh_claims(&user);
    let now = Utc::now().timestamp();
    claims["iat"] = json!(now - 16 * 60);
    claims["exp"] = json!(now - 60);
    let expired = sign(&claims, Algorithm::HS256, &server_key(&app));
    assert_invalid_token(&app.get_as(&expired, ME).await);
    let mut no_expiry = fresh_claims(&user);
    no_expiry
        .as_object_mut()
        .expect("claims object")
        .remove("exp");
    assert_invalid_token(
        &app.get_as(&sign(&no_expiry, Algorithm::HS256, &server_key(&app)), ME)
            .await,
    );
}

// ---------------------------------------------------------------------------------
// Refresh
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn refreshing_rotates_the_token_pair() {
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let answer = refresh(&app, &user.refresh_token).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let data = &answer.body["data"];
    let (access, next) = (
        str_of(&data["accessToken"], "accessToken"),
        str_of(&data["refreshToken"], "refreshToken"),
    );
    assert_ne!(next, user.refresh_token);
    assert_eq!(data["expiresIn"], 900);
    assert_eq!(session_of(access), session_of(&user.access_token));
    assert_eq!(app.get_as(access, ME).await.status, 200);
    assert_eq!(refresh(&app, next).await.status, 200);

    let unknown = refresh(&app, "edupro_rt_not-a-token").await;
    assert_error(&unknown, 401, "UNAUTHORIZED");
    assert_eq!(
        message(&unknown),
        "Invalid or expired refresh token. Please login again."
    );
}

#[tokio::test]
async fn presenting_a_rotated_refresh_token_revokes_its_whole_family() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = app.register("STUDENT").await;
    let other_device = sign_in_again(&app, &user).await;
    let rotated = refresh(&app, &user.refresh_token).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_access = str_of(&rotated.body["data"]["accessToken"], "accessToken");
    let new_refresh = str_of(&rotated.body["data"]["refreshToken"], "refreshToken");

    // The old token again: a thief, or a replay.
    let reuse = refresh(&app, &user.refresh_token).await;
    assert_error(&reuse, 401, "UNAUTHORIZED");
    // The whole family is gone, for the legitimate holder too.
    assert_error(&refresh(&app, new_refresh).await, 401, "UNAUTHORIZED");
    assert_invalid_token(&app.get_as(new_access, ME).await);
    assert_invalid_token(&app.get_as(&user.access_token, ME).await);
    // Another session of the same user is another family.
    assert_eq!(app.get_as(&other_device.access_token, ME).await.status, 200);
    assert_eq!(refresh(&app, &other_device.refresh_token).await.status, 200);

    let events = audit_events(&app, &admin.access_token, "REFRESH_TOKEN_REUSED", &user.id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        str_of(&events[0]["detail"], "detail").contains(&session_of(&user.access_token)),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_refreshes_with_one_token_succeed_exactly_once_and_revoke_the_family() {
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let url = app.url(REFRESH);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (client, url, token) =
                (app.client.clone(), url.clone(), user.refresh_token.clone());
            tokio::spawn(async move {
                let response = client
                    .post(url)
                    .json(&json!({ "refreshToken": token }))
                    .send()
                    .await
                    .expect("request sent");
                let status = response.status().as_u16();
                let body: Value = response.json().await.expect("JSON answer");
                (status, body)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task finished"));
    }
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "only 200 and 401 expected: {statuses:?}"
    );
    let (_, winner) = answers.iter().find(|(s, _)| *s == 200).expect("one winner");
    let winner = &winner["data"];
    assert_error(
        &refresh(&app, str_of(&winner["refreshToken"], "refreshToken")).await,
        401,
        "UNAUTHORIZED",
    );
    assert_invalid_token(
        &app.get_as(str_of(&winner["accessToken"], "accessToken"), ME)
            .await,
    );
    assert_invalid_token(&app.get_as(&user.access_token, ME).await);
}

// ---------------------------------------------------------------------------------
// Logout
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn logging_out_ends_this_session_but_not_the_others() {
    let app = spawn_app().await;
    let laptop = app.register("STUDENT").await;
    let phone = sign_in_again(&app, &laptop).await;
    let answer = app
        .post_as(&laptop.access_token, "/api/v1/auth/logout", &json!({}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(message(&answer), "Logged out");

    assert_invalid_token(&app.get_as(&laptop.access_token, ME).await);
    assert_error(
        &refresh(&app, &laptop.refresh_token).await,
        401,
        "UNAUTHORIZED",
    );
    assert_eq!(app.get_as(&phone.access_token, ME).await.status, 200);
    assert_eq!(refresh(&app, &phone.refresh_token).await.status, 200);
}

// ---------------------------------------------------------------------------------
// Change password
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_current_password_is_a_400_naming_old_password() {
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let answer = app
        .post_as(
            &user.access_token,
            "/api/v1/auth/change-password",
            &json!({ "oldPassword": "Wr0ng-Password!", "newPassword": "N3w-Password!" }),
        )
        .await;
    assert_error(&answer, 400, "VALIDATION_FAILED");
    assert_eq!(
        field_error(&answer, "oldPassword").as_deref(),
        Some("Current password is incorrect")
    );
    let weak = app
        .post_as(
            &user.access_token,
            "/api/v1/auth/change-password",
            &json!({ "oldPassword": PASSWORD, "newPassword": "weakweak" }),
        )
        .await;
    assert_error(&weak, 400, "VALIDATION_FAILED");
    assert!(field_error(&weak, "newPassword").is_some(), "{}", weak.body);
    // Nothing changed.
    assert_eq!(app.login(&user.email, PASSWORD).await.status, 200);
    assert_eq!(app.get_as(&user.access_token, ME).await.status, 200);
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_this_one_continues_with_a_new_token() {
    let app = spawn_app().await;
    let here = app.register("STUDENT").await;
    let elsewhere = sign_in_again(&app, &here).await;
    let new_password = "N3w-Password!";
    let answer = app
        .post_as(
            &here.access_token,
            "/api/v1/auth/change-password",
            &json!({ "oldPassword": PASSWORD, "newPassword": new_password }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        message(&answer),
        "Password changed; other sessions were signed out"
    );
    let new_access = str_of(&answer.body["data"]["accessToken"], "accessToken");
    assert_eq!(session_of(new_access), session_of(&here.access_token));

    assert_eq!(app.get_as(new_access, ME).await.status, 200);
    assert_eq!(refresh(&app, &here.refresh_token).await.status, 200);
    assert_invalid_token(&app.get_as(&here.access_token, ME).await);
    assert_invalid_token(&app.get_as(&elsewhere.access_token, ME).await);
    assert_error(
        &refresh(&app, &elsewhere.refresh_token).await,
        401,
        "UNAUTHORIZED",
    );

    let old = app.login(&here.email, PASSWORD).await;
    assert_error(&old, 401, "UNAUTHORIZED");
    assert_eq!(message(&old), "Invalid credentials");
    assert_eq!(app.login(&here.email, new_password).await.status, 200);
}

// ---------------------------------------------------------------------------------
// Forgot and reset password
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn forgot_password_answers_the_same_for_known_and_unknown_emails() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = app.register("STUDENT").await;
    let nobody = unique_email("nobody");
    let unknown = app
        .post_json("/api/v1/auth/forgot-password", &json!({ "email": nobody }))
        .await;
    let known = app
        .post_json(
            "/api/v1/auth/forgot-password",
            &json!({ "email": user.email }),
        )
        .await;
    assert_eq!(known.status, 200, "{}", known.body);
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.body, unknown.body);
    assert_eq!(
        message(&known),
        "If an account exists for that email, a code to reset the password has been sent"
    );
    // Only the real account gets mail.
    mailed_code(&app, &admin.access_token, &user.email, RESET_SUBJECT, 1).await;
    assert!(
        mail_to(&app, &admin.access_token, &nobody, RESET_SUBJECT)
            .await
            .is_empty()
    );
}

async fn forgot(app: &TestApp, email: &str) {
    let answer = app
        .post_json("/api/v1/auth/forgot-password", &json!({ "email": email }))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

async fn reset(app: &TestApp, email: &str, otp: &str, new_password: &str) -> Answer {
    app.post_json(
        "/api/v1/auth/reset-password",
        &json!({ "email": email, "otp": otp, "newPassword": new_password }),
    )
    .await
}

#[track_caller]
fn assert_invalid_otp(answer: &Answer) {
    assert_error(answer, 400, "BAD_REQUEST");
    assert_eq!(message(answer), "Invalid or expired OTP");
}

#[tokio::test]
async fn the_mailed_reset_code_sets_a_new_password_once_and_ends_every_session() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = app.register("STUDENT").await;
    let other = sign_in_again(&app, &user).await;
    forgot(&app, &user.email).await;
    let code = mailed_code(&app, &admin.access_token, &user.email, RESET_SUBJECT, 1).await;

    let weak = reset(&app, &user.email, &code, "weakweak").await;
    assert_error(&weak, 400, "VALIDATION_FAILED");
    assert!(field_error(&weak, "newPassword").is_some(), "{}", weak.body);

    let new_password = "Res3t-Password!";
    let answer = reset(&app, &user.email, &code, new_password).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        message(&answer),
        "Password has been reset; log in with the new password"
    );
    for session in [&user, &other] {
        assert_invalid_token(&app.get_as(&session.access_token, ME).await);
        assert_error(
            &refresh(&app, &session.refresh_token).await,
            401,
            "UNAUTHORIZED",
        );
    }
    assert_error(&app.login(&user.email, PASSWORD).await, 401, "UNAUTHORIZED");
    let login = app.login(&user.email, new_password).await;
    assert_eq!(login.status, 200, "{}", login.body);
    // A reset proves the mailbox, so the email counts as verified.
    assert_eq!(login.body["data"]["user"]["isEmailVerified"], true);

    // The code worked once.
    assert_invalid_otp(&reset(&app, &user.email, &code, "An0ther-Password!").await);
    assert_eq!(app.login(&user.email, new_password).await.status, 200);
}

#[tokio::test]
async fn five_wrong_reset_codes_kill_the_code() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = app.register("STUDENT").await;
    forgot(&app, &user.email).await;
    let code = mailed_code(&app, &admin.access_token, &user.email, RESET_SUBJECT, 1).await;
    let wrong = other_code(&code);
    for _ in 0..5 {
        assert_invalid_otp(&reset(&app, &user.email, &wrong, "N3w-Password!").await);
    }
    assert_invalid_otp(&reset(&app, &user.email, &code, "N3w-Password!").await);
    assert_eq!(app.login(&user.email, PASSWORD).await.status, 200);

    // A fresh code replaces it, and four wrong tries leave it usable: five are allowed.
    forgot(&app, &user.email).await;
    let fresh = mailed_code(&app, &admin.access_token, &user.email, RESET_SUBJECT, 2).await;
    let wrong = other_code(&fresh);
    for _ in 0..4 {
        assert_invalid_otp(&reset(&app, &user.email, &wrong, "N3w-Password!").await);
    }
    let answer = reset(&app, &user.email, &fresh, "N3w-Password!").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(app.login(&user.email, "N3w-Password!").await.status, 200);
}

#[tokio::test]
async fn a_reset_code_is_refused_once_its_ten_minutes_are_over() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = app.register("STUDENT").await;
    forgot(&app, &user.email).await;
    let code = mailed_code(&app, &admin.access_token, &user.email, RESET_SUBJECT, 1).await;

    // The code was issued 10 minutes ago (and a second).
    let user_id = uuid::Uuid::parse_str(&user.id).expect("uuid");
    let row = one_time_code::Entity::find()
        .filter(one_time_code::Column::UserId.eq(user_id))
        .filter(one_time_code::Column::Purpose.eq("RESET_PASSWORD"))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("the code's row");
    assert!(row.expires_at - row.created_at == TimeDelta::minutes(10));
    one_time_code::Entity::update_many()
        .col_expr(
            one_time_code::Column::ExpiresAt,
            Expr::value(Utc::now() - TimeDelta::seconds(1)),
        )
        .filter(one_time_code::Column::Id.eq(row.id))
        .exec(&app.state.db)
        .await
        .expect("update");

    assert_invalid_otp(&reset(&app, &user.email, &code, "N3w-Password!").await);
    assert_eq!(app.login(&user.email, PASSWORD).await.status, 200);
}

// ---------------------------------------------------------------------------------
// Verify email and resend the code
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_mailed_verification_code_verifies_the_email() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = app.register("STUDENT").await;
    let code = mailed_code(&app, &admin.access_token, &user.email, VERIFY_SUBJECT, 1).await;

    let wrong = app
        .post_as(
            &user.access_token,
            "/api/v1/auth/verify-email",
            &json!({ "otp": other_code(&code) }),
        )
        .await;
    assert_invalid_otp(&wrong);

    let answer = app
        .post_as(
            &user.access_token,
            "/api/v1/auth/verify-email",
            &json!({ "otp": code }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(message(&answer), "Email verified");
    assert_eq!(answer.body["data"]["isEmailVerified"], true);
    let me = app.get_as(&user.access_token, ME).await;
    assert_eq!(me.body["data"]["isEmailVerified"], true);

    let again = app
        .post_as(
            &user.access_token,
            "/api/v1/auth/verify-email",
            &json!({ "otp": code }),
        )
        .await;
    assert_invalid_otp(&again);
}

#[tokio::test]
async fn resending_the_verification_code_invalidates_the_previous_one() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = app.register("STUDENT").await;
    let first = mailed_code(&app, &admin.access_token, &user.email, VERIFY_SUBJECT, 1).await;

    let answer = app
        .post_as(&user.access_token, "/api/v1/auth/resend-otp", &json!({}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(message(&answer), "A new code has been sent");
    let second = mailed_code(&app, &admin.access_token, &user.email, VERIFY_SUBJECT, 2).await;

    if first != second {
        let stale = app
            .post_as(
                &user.access_token,
                "/api/v1/auth/verify-email",
                &json!({ "otp": first }),
            )
            .await;
        assert_invalid_otp(&stale);
    }
    let answer = app
        .post_as(
            &user.access_token,
            "/api/v1/auth/verify-email",
            &json!({ "otp": second }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["data"]["isEmailVerified"], true);

    let verified = app
        .post_as(&user.access_token, "/api/v1/auth/resend-otp", &json!({}))
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(message(&verified), "Email is already verified");
}

// ---------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn sessions_list_each_device_with_its_user_agent_ip_and_which_is_current() {
    let app = spawn_app().await;
    let laptop = app.register("STUDENT").await;
    let login = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("user-agent", "EduPro-Phone/2.1 (Android 15)")
                .json(&json!({ "email": laptop.email, "password": PASSWORD })),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let phone = TestUser::from_session(&login.body["data"], PASSWORD, None);

    let answer = app
        .get_as(&phone.access_token, "/api/v1/auth/sessions")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let sessions = answer.body["data"]["sessions"]
        .as_array()
        .expect("sessions");
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let by_id = |token: &str| {
        let sid = session_of(token);
        sessions
            .iter()
            .find(|s| s["id"] == sid.as_str())
            .unwrap_or_else(|| panic!("session {sid} listed"))
            .clone()
    };
    let (on_phone, on_laptop) = (by_id(&phone.access_token), by_id(&laptop.access_token));
    assert_eq!(on_phone["userAgent"], "EduPro-Phone/2.1 (Android 15)");
    assert_eq!(on_phone["ip"], "127.0.0.1");
    assert_eq!(on_phone["current"], true);
    assert_eq!(on_laptop["current"], false);
    assert_eq!(on_laptop["ip"], "127.0.0.1");
    for session in [&on_phone, &on_laptop] {
        for field in ["createdAt", "lastUsedAt", "expiresAt"] {
            assert!(session[field].is_string(), "{field}: {session}");
        }
    }
}

#[tokio::test]
async fn ending_another_session_stops_its_tokens() {
    let app = spawn_app().await;
    let here = app.register("STUDENT").await;
    let lost_phone = sign_in_again(&app, &here).await;
    let answer = app
        .delete_as(
            &here.access_token,
            &format!(
                "/api/v1/auth/sessions/{}",
                session_of(&lost_phone.access_token)
            ),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(message(&answer), "Session ended");
    assert_invalid_token(&app.get_as(&lost_phone.access_token, ME).await);
    assert_error(
        &refresh(&app, &lost_phone.refresh_token).await,
        401,
        "UNAUTHORIZED",
    );
    assert_eq!(app.get_as(&here.access_token, ME).await.status, 200);
    let listed = app
        .get_as(&here.access_token, "/api/v1/auth/sessions")
        .await;
    assert_eq!(
        listed.body["data"]["sessions"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn ending_someone_elses_session_is_a_404_and_leaves_it_alone() {
    let app = spawn_app().await;
    let mallory = app.register("STUDENT").await;
    let victim = app.register("STUDENT").await;
    for id in [
        session_of(&victim.access_token),
        uuid::Uuid::now_v7().to_string(),
    ] {
        let answer = app
            .delete_as(
                &mallory.access_token,
                &format!("/api/v1/auth/sessions/{id}"),
            )
            .await;
        assert_error(&answer, 404, "NOT_FOUND");
        assert_eq!(message(&answer), "Session not found");
    }
    assert_eq!(app.get_as(&victim.access_token, ME).await.status, 200);
    assert_eq!(refresh(&app, &victim.refresh_token).await.status, 200);
}

// ---------------------------------------------------------------------------------
// 2FA for everyone
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_student_who_turns_on_2fa_needs_a_code_to_log_in() {
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let two_factor = turn_on_2fa(&app, &user).await;
    assert_eq!(two_factor.recovery_codes.len(), 10);
    assert_eq!(
        two_factor
            .recovery_codes
            .iter()
            .collect::<HashSet<_>>()
            .len(),
        10
    );
    let me = app.get_as(&user.access_token, ME).await;
    assert_eq!(me.body["data"]["twoFactorEnabled"], true);

    let again = app
        .post_as(&user.access_token, "/api/v1/auth/2fa/enroll", &json!({}))
        .await;
    assert_error(&again, 409, "CONFLICT");

    let challenge = password_step(&app, &user.email, PASSWORD).await;
    assert_error(
        &second_factor(&app, &challenge, &wrong_totp(&two_factor.secret)).await,
        401,
        "UNAUTHORIZED",
    );
    let (code, _) = unused_totp(&two_factor.secret, two_factor.last_step).await;
    let answer = second_factor(&app, &challenge, &code).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["data"]["user"]["id"], user.id.as_str());
}

#[tokio::test]
async fn confirming_2fa_with_a_wrong_code_leaves_it_off() {
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let enrolled = app
        .post_as(&user.access_token, "/api/v1/auth/2fa/enroll", &json!({}))
        .await;
    let secret = str_of(&enrolled.body["data"]["secret"], "secret");
    let answer = app
        .post_as(
            &user.access_token,
            "/api/v1/auth/2fa/confirm",
            &json!({ "code": wrong_totp(secret) }),
        )
        .await;
    assert_error(&answer, 400, "VALIDATION_FAILED");
    assert!(field_error(&answer, "code").is_some(), "{}", answer.body);
    let login = app.login(&user.email, PASSWORD).await;
    assert!(
        login.body["data"]["accessToken"].is_string(),
        "{}",
        login.body
    );
}

#[tokio::test]
async fn a_student_can_turn_2fa_off_with_a_code() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = app.register("STUDENT").await;
    let two_factor = turn_on_2fa(&app, &user).await;

    let wrong = app
        .post_as(
            &user.access_token,
            "/api/v1/auth/2fa/disable",
            &json!({ "code": wrong_totp(&two_factor.secret) }),
        )
        .await;
    assert_error(&wrong, 401, "UNAUTHORIZED");
    assert_eq!(message(&wrong), "Invalid two-factor code");
    let failures = audit_events(&app, &admin.access_token, "TWO_FACTOR_FAILED", &user.id).await;
    assert_eq!(failures.len(), 1, "{failures:?}");

    let (code, _) = unused_totp(&two_factor.secret, two_factor.last_step).await;
    let answer = app
        .post_as(
            &user.access_token,
            "/api/v1/auth/2fa/disable",
            &json!({ "code": code }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(message(&answer), "Two-factor authentication is off");
    let me = app.get_as(&user.access_token, ME).await;
    assert_eq!(me.body["data"]["twoFactorEnabled"], false);
    let login = app.login(&user.email, PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(
        login.body["data"]["accessToken"].is_string(),
        "{}",
        login.body
    );
}

#[tokio::test]
async fn admins_cannot_turn_2fa_off() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let secret = admin.totp_secret.as_deref().expect("admin secret");
    let answer = app
        .post_as(
            &admin.access_token,
            "/api/v1/auth/2fa/disable",
            &json!({ "code": totp_now(secret) }),
        )
        .await;
    assert_error(&answer, 422, "UNPROCESSABLE");
    assert_eq!(
        message(&answer),
        "Two-factor authentication is mandatory for admins"
    );
    let me = app.get_as(&admin.access_token, ME).await;
    assert_eq!(me.body["data"]["twoFactorEnabled"], true);
}

// ---------------------------------------------------------------------------------
// Personal access tokens
// ---------------------------------------------------------------------------------

async fn create_token(app: &TestApp, bearer: &str, name: &str, scopes: &[&str]) -> Answer {
    app.post_as(
        bearer,
        "/api/v1/auth/tokens",
        &json!({ "name": name, "scopes": scopes, "expiresInDays": 30 }),
    )
    .await
}

#[tokio::test]
async fn a_personal_access_token_is_shown_once_and_works_as_a_bearer_token() {
    let app = spawn_app().await;
    let user = app.register("TEACHER").await;
    let created = create_token(&app, &user.access_token, "CI seeding", &["read", "write"]).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let data = &created.body["data"];
    let token = str_of(&data["token"], "token");
    assert!(token.starts_with("edupro_pat_"), "{token}");
    assert_eq!(data["info"]["name"], "CI seeding");
    assert_eq!(data["info"]["scopes"], json!(["read", "write"]));
    assert!(data["info"]["expiresAt"].is_string());

    let me = app.get_as(token, ME).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["data"]["id"], user.id.as_str());

    let listed = app.get_as(&user.access_token, "/api/v1/auth/tokens").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let tokens = listed.body["data"]["tokens"].as_array().expect("tokens");
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(tokens[0]["id"], data["info"]["id"]);
    assert_eq!(tokens[0]["name"], "CI seeding");
    assert!(tokens[0].get("token").is_none(), "{}", tokens[0]);
    assert!(
        !listed.body.to_string().contains(token),
        "the secret is never listed"
    );
}

#[tokio::test]
async fn a_read_only_token_cannot_make_changes() {
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let created = create_token(&app, &user.access_token, "dashboard", &["read"]).await;
    let token = str_of(&created.body["data"]["token"], "token");
    assert_eq!(app.get_as(token, ME).await.status, 200);

    let patch = app
        .patch_as(
            token,
            "/api/v1/users/me",
            &json!({ "firstName": "Changed" }),
        )
        .await;
    assert_error(&patch, 403, "INSUFFICIENT_SCOPE");
    assert_eq!(patch.body["requiredScope"], "write", "{}", patch.body);
    assert!(message(&patch).contains("`write` scope"), "{}", patch.body);
    let post = app.post_as(token, "/api/v1/auth/logout", &json!({})).await;
    assert_error(&post, 403, "INSUFFICIENT_SCOPE");
    let me = app.get_as(&user.access_token, ME).await;
    assert_eq!(me.body["data"]["firstName"], "Test");
}

#[tokio::test]
async fn a_revoked_personal_access_token_stops_working() {
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let created = create_token(&app, &user.access_token, "laptop script", &["read"]).await;
    let token = str_of(&created.body["data"]["token"], "token");
    let id = str_of(&created.body["data"]["info"]["id"], "id");
    let revoked = app
        .delete_as(&user.access_token, &format!("/api/v1/auth/tokens/{id}"))
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(message(&revoked), "Access token revoked");
    assert_invalid_token(&app.get_as(token, ME).await);
    let listed = app.get_as(&user.access_token, "/api/v1/auth/tokens").await;
    assert_eq!(listed.body["data"]["tokens"], json!([]));
    // Someone else can't revoke it, and a second revocation finds nothing.
    let again = app
        .delete_as(&user.access_token, &format!("/api/v1/auth/tokens/{id}"))
        .await;
    assert_error(&again, 404, "NOT_FOUND");
}

#[tokio::test]
async fn only_admins_can_ask_for_the_admin_scope() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let refused = create_token(&app, &teacher.access_token, "root", &["read", "admin"]).await;
    assert_error(&refused, 400, "VALIDATION_FAILED");
    assert_eq!(
        field_error(&refused, "scopes").as_deref(),
        Some("only admins can create tokens with the admin scope")
    );
    let admin = app.admin().await;
    let granted = create_token(&app, &admin.access_token, "ops", &["read", "admin"]).await;
    assert_eq!(granted.status, 201, "{}", granted.body);
    let token = str_of(&granted.body["data"]["token"], "token");
    let audit = app.get_as(token, "/api/v1/admin/audit").await;
    assert_eq!(audit.status, 200, "{}", audit.body);
}

#[tokio::test]
async fn an_admins_token_without_the_admin_scope_is_told_which_scope_it_lacks() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let created = create_token(&app, &admin.access_token, "ci", &["read", "write"]).await;
    let token = str_of(&created.body["data"]["token"], "token");
    let audit = app.get_as(token, "/api/v1/admin/audit").await;
    assert_error(&audit, 403, "INSUFFICIENT_SCOPE");
    assert_eq!(audit.body["requiredScope"], "admin", "{}", audit.body);
    assert!(message(&audit).contains("`admin` scope"), "{}", audit.body);

    let teacher = app.register("TEACHER").await;
    let refused = app
        .get_as(&teacher.access_token, "/api/v1/admin/audit")
        .await;
    assert_error(&refused, 403, "FORBIDDEN");
    assert!(
        refused.body.get("requiredScope").is_none(),
        "a role that may not is not a missing scope: {}",
        refused.body
    );
}

#[tokio::test]
async fn a_personal_access_token_cannot_create_personal_access_tokens() {
    let app = spawn_app().await;
    let user = app.register("STUDENT").await;
    let created = create_token(&app, &user.access_token, "ci", &["read", "write"]).await;
    let token = str_of(&created.body["data"]["token"], "token");
    let answer = create_token(&app, token, "ci-child", &["read", "write"]).await;
    assert_error(&answer, 403, "FORBIDDEN");
    let listed = app.get_as(&user.access_token, "/api/v1/auth/tokens").await;
    assert_eq!(
        listed.body["data"]["tokens"].as_array().map(Vec::len),
        Some(1)
    );
}

// ---------------------------------------------------------------------------------
// Rate limits
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn rate_limited_endpoints_announce_the_tightest_quota_in_headers() {
    let app = spawn_app_with(|args| {
        args.rate_limit_per_ip = Some(3);
        args.rate_limit_per_account = Some(100);
    })
    .await;
    let user = app.register("STUDENT").await;
    let mut remaining = Vec::new();
    for _ in 0..4 {
        let answer = app.login(&user.email, PASSWORD).await;
        assert_eq!(
            answer.header("x-ratelimit-limit"),
            Some("3"),
            "{:?}",
            answer.headers
        );
        let reset: u64 = answer.header("x-ratelimit-reset").unwrap().parse().unwrap();
        assert!((1..=60).contains(&reset));
        remaining.push(answer.header("x-ratelimit-remaining").unwrap().to_owned());
    }
    assert_eq!(remaining, ["2", "1", "0", "0"]);
    let health = app.get("/health").await;
    assert!(
        health.header("x-ratelimit-limit").is_none(),
        "only limited endpoints carry them"
    );
}

#[tokio::test]
async fn the_fourth_login_from_one_address_is_a_429_with_retry_after() {
    let app = spawn_app_with(|args| args.rate_limit_per_ip = Some(3)).await;
    let user = app.register("STUDENT").await;
    for _ in 0..3 {
        assert_eq!(app.login(&user.email, PASSWORD).await.status, 200);
    }
    let limited = app.login(&user.email, PASSWORD).await;
    assert_error(&limited, 429, "RATE_LIMITED");
    let header: u64 = limited
        .header("retry-after")
        .expect("Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&header), "{header}");
    assert_eq!(limited.body["retryAfter"], header);
    assert!(
        message(&limited).contains("Too many requests"),
        "{}",
        limited.body
    );
    // Only sign-in is limited; the signed-in user carries on.
    assert_eq!(app.get_as(&user.access_token, ME).await.status, 200);
    // A forwarded-for header is no way around it: the address is the socket's.
    let spoofed = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("x-forwarded-for", "203.0.113.7")
                .json(&json!({ "email": user.email, "password": PASSWORD })),
        )
        .await;
    assert_error(&spoofed, 429, "RATE_LIMITED");
}

#[tokio::test]
async fn refresh_and_forgot_password_are_limited_per_address_too() {
    let app = spawn_app_with(|args| args.rate_limit_per_ip = Some(3)).await;
    let user = app.register("STUDENT").await;
    let mut token = user.refresh_token.clone();
    for _ in 0..3 {
        let answer = refresh(&app, &token).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        token = str_of(&answer.body["data"]["refreshToken"], "refreshToken").to_owned();
    }
    let limited = refresh(&app, &token).await;
    assert_error(&limited, 429, "RATE_LIMITED");
    assert!(limited.header("retry-after").is_some());

    for _ in 0..3 {
        let answer = app
            .post_json(
                "/api/v1/auth/forgot-password",
                &json!({ "email": user.email }),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let limited = app
        .post_json(
            "/api/v1/auth/forgot-password",
            &json!({ "email": user.email }),
        )
        .await;
    assert_error(&limited, 429, "RATE_LIMITED");
    assert!(limited.body["retryAfter"].as_u64().is_some_and(|s| s >= 1));
}

#[tokio::test]
async fn hammering_one_account_never_locks_out_another() {
    let app = spawn_app_with(|args| {
        args.rate_limit_per_ip = Some(10_000);
        args.rate_limit_per_account = Some(3);
    })
    .await;
    let target = app.register("STUDENT").await;
    let bystander = app.register("STUDENT").await;
    for _ in 0..3 {
        assert_error(
            &app.login(&target.email, "Guess-1234!").await,
            401,
            "UNAUTHORIZED",
        );
    }
    let locked = app.login(&target.email, PASSWORD).await;
    assert_error(&locked, 429, "RATE_LIMITED");
    assert!(locked.header("retry-after").is_some());

    let other = app.login(&bystander.email, PASSWORD).await;
    assert_eq!(other.status, 200, "{}", other.body);
    assert_error(
        &app.login(&bystander.email, "Guess-1234!").await,
        401,
        "UNAUTHORIZED",
    );
}

#[tokio::test]
async fn a_password_change_revokes_personal_access_tokens_too() {
    let app = spawn_app().await;
    let user = app.register("TEACHER").await;
    let created = app
        .post_as(
            &user.access_token,
            "/api/v1/auth/tokens",
            &json!({ "name": "laptop-script", "scopes": ["read"] }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let pat = created.body["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get_as(&pat, "/api/v1/auth/me").await.status, 200);

    let changed = app
        .post_as(
            &user.access_token,
            "/api/v1/auth/change-password",
            &json!({ "oldPassword": PASSWORD, "newPassword": "N3w-Horse-Battery!" }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(
        app.get_as(&pat, "/api/v1/auth/me").await.status,
        401,
        "a token minted before the change no longer works"
    );
}

#[tokio::test]
async fn a_token_naming_another_users_session_is_refused() {
    let app = spawn_app().await;
    let ada = app.register("STUDENT").await;
    let bob = app.register("STUDENT").await;
    let ada_session: uuid::Uuid = session_of(&ada.access_token).parse().unwrap();
    let bob_id: uuid::Uuid = bob.id.parse().unwrap();
    let bob_row = edupro_server::store::entity::user::Entity::find_by_id(bob_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    // Signed with the server's own key: only the session is someone else's.
    let forged = app
        .state
        .keys
        .access_token(bob_id, bob_row.token_version, ada_session)
        .unwrap();
    let answer = app.get_as(&forged, "/api/v1/auth/me").await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    let own = app.get_as(&bob.access_token, "/api/v1/auth/me").await;
    assert_eq!(own.status, 200, "{}", own.body);
}

#[tokio::test]
async fn sign_ups_are_rate_limited_per_address_but_not_for_admins() {
    let app = spawn_app_with(|args| args.rate_limit_per_ip = Some(3)).await;
    let sign_up = |i: u32| {
        json!({ "email": format!("burst-{i}@school.test"), "password": PASSWORD,
                "firstName": "Burst", "lastName": "Signup", "role": "TEACHER" })
    };
    for i in 0..3 {
        let answer = app.post_json(REGISTER, &sign_up(i)).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
    let limited = app.post_json(REGISTER, &sign_up(3)).await;
    assert_error(&limited, 429, "RATE_LIMITED");
    assert!(limited.headers.contains_key("retry-after"));
    let admin = app.admin().await;
    let by_admin = app
        .call_as(
            &admin.access_token,
            reqwest::Method::POST,
            REGISTER,
            Some(&sign_up(4)),
        )
        .await;
    assert_eq!(by_admin.status, 201, "{}", by_admin.body);
}

#[tokio::test]
async fn a_sign_up_with_an_unknown_field_is_refused_naming_it() {
    let app = spawn_app().await;
    let answer = app
        .post_json(
            REGISTER,
            &json!({ "email": "extra@school.test", "password": PASSWORD, "firstName": "Ex",
                     "lastName": "Tra", "isAdmin": true }),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body.to_string().contains("isAdmin"),
        "{}",
        answer.body
    );
}
