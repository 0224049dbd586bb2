//! `/api/v1/users` and `/api/v1/admin/*` over real HTTP: the admin's directory (paging,
//! filters, search), creating users, the caller's own profile, role changes,
//! deactivation, parent ↔ child links, the audit log and the development outbox.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestUser, spawn_app, spawn_app_with, totp_now};

/// A unique address at the test school, starting with `prefix`.
fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@school.test", uuid::Uuid::now_v7().simple())
}

/// `path?key=value&…` with the values percent-encoded.
fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{path}?{query}")
}

/// Creates a user through `POST /users` as `admin`, without a password (no hashing);
/// returns the created user.
async fn create_user(
    app: &TestApp,
    admin: &TestUser,
    role: &str,
    first: &str,
    last: &str,
) -> Value {
    let answer = app
        .post_as(
            &admin.access_token,
            "/api/v1/users",
            &json!({
                "email": unique_email(&first.to_lowercase()),
                "firstName": first, "lastName": last, "role": role,
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "create {role}: {}", answer.body);
    answer.body["data"]["user"].clone()
}

/// The `field` names of a 400's `errors`.
fn error_fields(body: &Value) -> BTreeSet<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {body}"))
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect()
}

/// The ids of `data.users` of a list answer.
fn listed_ids(body: &Value) -> Vec<String> {
    body["data"]["users"]
        .as_array()
        .unwrap_or_else(|| panic!("no users in {body}"))
        .iter()
        .map(|u| u["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The audit events of `action`, newest first, as `admin` sees them.
async fn audit_events(app: &TestApp, admin: &TestUser, action: &str) -> Vec<Value> {
    let answer = app
        .get_as(
            &admin.access_token,
            &format!("/api/v1/admin/audit?action={action}"),
        )
        .await;
    assert_eq!(answer.status, 200, "audit: {}", answer.body);
    answer.body["data"]["events"]
        .as_array()
        .expect("events")
        .clone()
}

/// Signs in with a password and answers the session's data, asserting success.
async fn login_ok(app: &TestApp, email: &str, password: &str) -> Value {
    let answer = app.login(email, password).await;
    assert_eq!(answer.status, 200, "login {email}: {}", answer.body);
    answer.body["data"].clone()
}

/// A personal access token of `user` with `scopes`.
async fn personal_access_token(app: &TestApp, user: &TestUser, scopes: &[&str]) -> String {
    let answer = app
        .post_as(
            &user.access_token,
            "/api/v1/auth/tokens",
            &json!({ "name": "ci", "scopes": scopes }),
        )
        .await;
    assert_eq!(answer.status, 201, "create token: {}", answer.body);
    answer.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

// ---------------------------------------------------------------------------------
// GET /users

#[tokio::test]
async fn listing_users_pages_through_everyone_with_the_contracts_pagination_object() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut created = BTreeSet::new();
    for i in 0..5 {
        let user = create_user(&app, &admin, "STUDENT", &format!("Pupil{i}"), "Paged").await;
        created.insert(user["id"].as_str().unwrap().to_owned());
    }

    let mut seen = Vec::new();
    let expected = [
        (1, 2, false, true),
        (2, 2, true, true),
        (3, 1, true, false),
        (4, 0, true, false),
    ];
    for (page, count, has_prev, has_next) in expected {
        let answer = app
            .get_as(
                &admin.access_token,
                &format!("/api/v1/users?role=STUDENT&limit=2&page={page}"),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["success"], true);
        assert_eq!(
            answer.body["data"]["pagination"],
            json!({
                "page": page, "limit": 2, "total": 5, "pages": 3,
                "hasNext": has_next, "hasPrev": has_prev,
            }),
            "page {page}"
        );
        let ids = listed_ids(&answer.body);
        assert_eq!(ids.len(), count, "page {page}: {ids:?}");
        seen.extend(ids);
    }
    assert_eq!(seen.len(), 5, "no user appears on two pages: {seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), created);
}

#[tokio::test]
async fn listing_users_defaults_to_twenty_a_page_and_refuses_a_limit_above_100() {
    let app = spawn_app().await;
    let admin = app.admin().await;

    let default = app.get_as(&admin.access_token, "/api/v1/users").await;
    assert_eq!(default.status, 200, "{}", default.body);
    assert_eq!(
        default.body["data"]["pagination"],
        json!({
            "page": 1, "limit": 20, "total": 1, "pages": 1,
            "hasNext": false, "hasPrev": false,
        })
    );
    assert_eq!(listed_ids(&default.body), vec![admin.id.clone()]);

    let out_of_bounds = app
        .get_as(&admin.access_token, "/api/v1/users?limit=1000&page=0")
        .await;
    assert_eq!(out_of_bounds.status, 400, "{}", out_of_bounds.body);
    let fields: Vec<&str> = out_of_bounds.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["limit", "page"]);

    let nonsense = app
        .get_as(&admin.access_token, "/api/v1/users?limit=many")
        .await;
    assert_eq!(nonsense.status, 400, "{}", nonsense.body);
    assert_eq!(nonsense.body["success"], false);
    assert_eq!(nonsense.body["errors"][0]["field"], "limit");
}

#[tokio::test]
async fn listing_users_filters_by_role_and_by_active_state() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let teacher = create_user(&app, &admin, "TEACHER", "Tess", "Filter").await;
    let parent = create_user(&app, &admin, "PARENT", "Pat", "Filter").await;
    let active = create_user(&app, &admin, "STUDENT", "Sam", "Filter").await;
    let gone = create_user(&app, &admin, "STUDENT", "Gil", "Filter").await;
    let deactivated = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/deactivate", gone["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.body);

    let list = |query: &'static str| {
        let app = &app;
        let token = admin.access_token.clone();
        async move {
            let answer = app.get_as(&token, &format!("/api/v1/users?{query}")).await;
            assert_eq!(answer.status, 200, "{query}: {}", answer.body);
            (
                answer.body["data"]["pagination"]["total"].as_u64().unwrap(),
                listed_ids(&answer.body)
                    .into_iter()
                    .collect::<BTreeSet<_>>(),
            )
        }
    };
    let ids = |users: &[&Value]| {
        users
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect::<BTreeSet<_>>()
    };

    assert_eq!(list("role=TEACHER").await, (1, ids(&[&teacher])));
    assert_eq!(list("role=PARENT").await, (1, ids(&[&parent])));
    assert_eq!(list("role=STUDENT").await, (2, ids(&[&active, &gone])));
    assert_eq!(list("isActive=false").await, (1, ids(&[&gone])));
    assert_eq!(
        list("role=STUDENT&isActive=true").await,
        (1, ids(&[&active]))
    );
    let (everyone_active, _) = list("isActive=true").await;
    assert_eq!(everyone_active, 4, "admin, teacher, parent, active student");

    let bad_role = app
        .get_as(&admin.access_token, "/api/v1/users?role=JANITOR")
        .await;
    assert_eq!(bad_role.status, 400, "{}", bad_role.body);
}

#[tokio::test]
async fn searching_users_matches_email_first_and_last_name_ignoring_case() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let by_first = create_user(&app, &admin, "STUDENT", "Zebulon", "Smith").await;
    let by_last = create_user(&app, &admin, "TEACHER", "Anna", "Quackenbush").await;
    let by_email = app
        .post_as(
            &admin.access_token,
            "/api/v1/users",
            &json!({
                "email": "Xylo_Phone.Player@Band.test", "firstName": "Ola",
                "lastName": "Jones", "role": "PARENT",
            }),
        )
        .await;
    assert_eq!(by_email.status, 201, "{}", by_email.body);
    let by_email = by_email.body["data"]["user"].clone();
    assert_eq!(by_email["email"], "xylo_phone.player@band.test");

    let search = |term: &'static str| {
        let app = &app;
        let token = admin.access_token.clone();
        async move {
            let answer = app
                .get_as(&token, &with_query("/api/v1/users", &[("search", term)]))
                .await;
            assert_eq!(answer.status, 200, "{term}: {}", answer.body);
            listed_ids(&answer.body)
        }
    };
    let id = |u: &Value| vec![u["id"].as_str().unwrap().to_owned()];

    assert_eq!(search("zebu").await, id(&by_first));
    assert_eq!(search("ZEBULON").await, id(&by_first));
    assert_eq!(search("quACKen").await, id(&by_last));
    assert_eq!(search("XYLO_PHONE.player").await, id(&by_email));
    assert_eq!(search("band.TEST").await, id(&by_email));
    assert_eq!(search("  zebulon  ").await, id(&by_first), "trimmed");
    assert!(search("nobody-has-this").await.is_empty());
    // LIKE wildcards are searched for as text, not used as patterns.
    assert_eq!(
        search("_").await,
        id(&by_email),
        "only the email with a `_`"
    );
    assert!(search("%").await.is_empty(), "no one has a `%`");
    assert!(search("xylo%phone").await.is_empty());
    assert!(search("xylo_").await.len() == 1);
    assert!(search("xyl__phone").await.is_empty());

    let combined = app
        .get_as(
            &admin.access_token,
            "/api/v1/users?search=quackenbush&role=STUDENT",
        )
        .await;
    assert_eq!(combined.status, 200);
    assert!(
        listed_ids(&combined.body).is_empty(),
        "role narrows a search"
    );
}

// ---------------------------------------------------------------------------------
// POST /users

#[tokio::test]
async fn a_user_an_admin_creates_with_a_password_can_log_in_with_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let email = unique_email("teacher");
    let answer = app
        .post_as(
            &admin.access_token,
            "/api/v1/users",
            &json!({
                "email": email, "password": PASSWORD, "firstName": "Ada",
                "lastName": "Lovelace", "phone": "+44 20 7946-0958", "role": "TEACHER",
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let user = &answer.body["data"]["user"];
    assert_eq!(user["email"], email);
    assert_eq!(user["role"], "TEACHER");
    assert_eq!(user["phone"], "+442079460958");
    assert_eq!(user["isActive"], true);
    assert!(user.get("teacherProfile").is_some(), "{user}");
    assert!(answer.body["data"].get("twoFactor").is_none());

    let session = login_ok(&app, &email, PASSWORD).await;
    assert_eq!(session["user"]["id"], user["id"]);
    assert_eq!(session["user"]["role"], "TEACHER");

    let created = audit_events(&app, &admin, "USER_CREATED").await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["subjectId"], user["id"]);
    assert_eq!(created[0]["actorId"].as_str(), Some(admin.id.as_str()));
}

#[tokio::test]
async fn a_user_created_without_a_password_is_mailed_a_code_that_sets_one() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let email = unique_email("student");
    let answer = app
        .post_as(
            &admin.access_token,
            "/api/v1/users",
            &json!({
                "email": email, "firstName": "Noel", "lastName": "Password",
                "role": "STUDENT",
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);

    let outbox = app
        .get_as(
            &admin.access_token,
            &with_query("/api/v1/admin/outbox", &[("recipient", &email)]),
        )
        .await;
    assert_eq!(outbox.status, 200, "{}", outbox.body);
    let messages = outbox.body["data"]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["recipient"], email);
    assert!(
        messages[0]["subject"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("password"),
        "{}",
        messages[0]
    );

    // No password yet: nothing signs in.
    let before = app.login(&email, PASSWORD).await;
    assert_eq!(before.status, 401, "{}", before.body);

    let code = app.mailed_code(&admin.access_token, &email).await;
    let wrong = app
        .post_json(
            "/api/v1/auth/reset-password",
            &json!({ "email": email, "otp": "000000", "newPassword": PASSWORD }),
        )
        .await;
    if code != "000000" {
        assert_eq!(wrong.status, 400, "{}", wrong.body);
    }
    let set = app
        .post_json(
            "/api/v1/auth/reset-password",
            &json!({ "email": email, "otp": code, "newPassword": PASSWORD }),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let session = login_ok(&app, &email, PASSWORD).await;
    assert_eq!(session["user"]["email"], email);

    let again = app
        .post_json(
            "/api/v1/auth/reset-password",
            &json!({ "email": email, "otp": code, "newPassword": "An0ther-Secret!" }),
        )
        .await;
    assert_eq!(again.status, 400, "the code works once: {}", again.body);
}

#[tokio::test]
async fn a_new_admin_gets_a_2fa_secret_and_recovery_codes_once_and_signs_in_with_them() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let email = unique_email("second-admin");
    let answer = app
        .post_as(
            &admin.access_token,
            "/api/v1/users",
            &json!({
                "email": email, "password": PASSWORD, "firstName": "Grace",
                "lastName": "Hopper", "role": "ADMIN",
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let data = &answer.body["data"];
    assert_eq!(data["user"]["role"], "ADMIN");
    assert_eq!(data["user"]["twoFactorEnabled"], true);
    let secret = data["twoFactor"]["secret"].as_str().expect("secret");
    assert!(
        data["twoFactor"]["otpauthUri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/"),
        "{data}"
    );
    let recovery: Vec<&str> = data["twoFactor"]["recoveryCodes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(recovery.iter().collect::<BTreeSet<_>>().len(), 10);

    // The password alone is not enough.
    let challenge = login_ok(&app, &email, PASSWORD).await;
    assert_eq!(challenge["mfaRequired"], true, "{challenge}");
    assert!(challenge.get("accessToken").is_none());
    let signed_in = app
        .post_json(
            "/api/v1/auth/2fa/verify",
            &json!({ "challengeToken": challenge["challengeToken"], "code": totp_now(secret) }),
        )
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let token = signed_in.body["data"]["accessToken"].as_str().unwrap();
    let users = app.get_as(token, "/api/v1/users").await;
    assert_eq!(
        users.status, 200,
        "the new admin administers: {}",
        users.body
    );

    // A recovery code works too (the TOTP code of this step is spent), once.
    for expected in [200, 401] {
        let challenge = login_ok(&app, &email, PASSWORD).await;
        let answer = app
            .post_json(
                "/api/v1/auth/2fa/verify",
                &json!({ "challengeToken": challenge["challengeToken"], "code": recovery[0] }),
            )
            .await;
        assert_eq!(answer.status, expected, "{}", answer.body);
    }

    // The secret is shown once: the user as read later never carries it.
    let read = app
        .get_as(
            &admin.access_token,
            &format!("/api/v1/users/{}", data["user"]["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(read.status, 200);
    assert!(!read.body.to_string().contains(secret));
}

#[tokio::test]
async fn creating_a_user_with_invalid_fields_answers_400_naming_each_field() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let answer = app
        .post_as(
            &admin.access_token,
            "/api/v1/users",
            &json!({
                "email": "not-an-email", "password": "short", "firstName": "",
                "lastName": "Valid", "phone": "call me", "role": "STUDENT",
            }),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["success"], false);
    assert_eq!(answer.body["code"], "VALIDATION_FAILED");
    assert_eq!(
        error_fields(&answer.body),
        ["email", "firstName", "password", "phone"]
            .map(String::from)
            .into()
    );

    let missing_role = app
        .post_as(
            &admin.access_token,
            "/api/v1/users",
            &json!({ "email": unique_email("x"), "firstName": "A", "lastName": "B" }),
        )
        .await;
    assert_eq!(missing_role.status, 400, "{}", missing_role.body);
    assert!(error_fields(&missing_role.body).contains("role"));

    let bad_role = app
        .post_as(
            &admin.access_token,
            "/api/v1/users",
            &json!({ "email": unique_email("x"), "firstName": "A", "lastName": "B", "role": "KING" }),
        )
        .await;
    assert_eq!(bad_role.status, 400, "{}", bad_role.body);
    assert!(error_fields(&bad_role.body).contains("role"));

    let list = app.get_as(&admin.access_token, "/api/v1/users").await;
    assert_eq!(
        list.body["data"]["pagination"]["total"], 1,
        "nothing was created"
    );
}

#[tokio::test]
async fn creating_a_user_with_a_taken_email_is_a_409_naming_email() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let student = app.register("STUDENT").await;
    let answer = app
        .post_as(
            &admin.access_token,
            "/api/v1/users",
            &json!({
                "email": format!("  {}  ", student.email.to_uppercase()),
                "firstName": "Dup", "lastName": "Licate", "role": "TEACHER",
            }),
        )
        .await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert_eq!(answer.body["code"], "CONFLICT");
    assert_eq!(
        answer.body["message"],
        "User with this email already exists"
    );
    assert_eq!(answer.body["errors"][0]["field"], "email");
}

// ---------------------------------------------------------------------------------
// PATCH /users/me

#[tokio::test]
async fn a_user_updates_their_names_phone_bio_and_avatar() {
    let app = spawn_app().await;
    let student = app.register("STUDENT").await;
    let answer = app
        .patch_as(
            &student.access_token,
            "/api/v1/users/me",
            &json!({
                "firstName": "Marie", "lastName": "Curie", "phone": "+91 98765-43210",
                "bio": "Physics and chemistry.", "avatar": "https://cdn.school.test/m.png",
            }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let user = &answer.body["data"];
    assert_eq!(user["firstName"], "Marie");
    assert_eq!(user["lastName"], "Curie");
    assert_eq!(user["phone"], "+919876543210", "normalised");
    assert_eq!(user["isPhoneVerified"], false);
    assert_eq!(user["bio"], "Physics and chemistry.");
    assert_eq!(user["avatar"], "https://cdn.school.test/m.png");

    // Absent fields stay as they are.
    let partial = app
        .patch_as(
            &student.access_token,
            "/api/v1/users/me",
            &json!({ "bio": "Radioactivity." }),
        )
        .await;
    assert_eq!(partial.status, 200, "{}", partial.body);
    let me = app.get_as(&student.access_token, "/api/v1/auth/me").await;
    assert_eq!(me.body["data"]["firstName"], "Marie");
    assert_eq!(me.body["data"]["phone"], "+919876543210");
    assert_eq!(me.body["data"]["bio"], "Radioactivity.");
    assert_eq!(me.body["data"]["avatar"], "https://cdn.school.test/m.png");
    assert_eq!(me.body["data"]["email"], student.email, "email untouched");
}

#[tokio::test]
async fn updating_me_with_invalid_fields_answers_400_naming_them_and_changes_nothing() {
    let app = spawn_app().await;
    let student = app.register("STUDENT").await;
    for avatar in ["javascript:alert(1)", "ftp://files.test/a.png", "/a.png"] {
        let answer = app
            .patch_as(
                &student.access_token,
                "/api/v1/users/me",
                &json!({ "avatar": avatar }),
            )
            .await;
        assert_eq!(answer.status, 400, "{avatar}: {}", answer.body);
        assert_eq!(error_fields(&answer.body), ["avatar".to_owned()].into());
    }
    let answer = app
        .patch_as(
            &student.access_token,
            "/api/v1/users/me",
            &json!({
                "firstName": "  ", "phone": "12", "bio": "x".repeat(2001),
                "lastName": "Fine",
            }),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(
        error_fields(&answer.body),
        ["bio", "firstName", "phone"].map(String::from).into()
    );
    let me = app.get_as(&student.access_token, "/api/v1/auth/me").await;
    assert_eq!(me.body["data"]["lastName"], "STUDENT", "all or nothing");

    let email = app
        .patch_as(
            &student.access_token,
            "/api/v1/users/me",
            &json!({ "email": "new@school.test" }),
        )
        .await;
    assert_eq!(
        email.status, 400,
        "email is not changed here: {}",
        email.body
    );
    let role = app
        .patch_as(
            &student.access_token,
            "/api/v1/users/me",
            &json!({ "role": "ADMIN" }),
        )
        .await;
    assert_eq!(role.status, 400, "nor is the role: {}", role.body);
    let me = app.get_as(&student.access_token, "/api/v1/auth/me").await;
    assert_eq!(me.body["data"]["role"], "STUDENT");
}

#[tokio::test]
async fn a_student_may_send_their_student_profile_but_not_a_teacher_profile() {
    let app = spawn_app().await;
    let student = app.register("STUDENT").await;
    let answer = app
        .patch_as(
            &student.access_token,
            "/api/v1/users/me",
            &json!({ "studentProfile": {
                "grade": "10", "school": "Springfield High", "dateOfBirth": "2010-04-01",
            } }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let profile = &answer.body["data"]["studentProfile"];
    assert_eq!(profile["grade"], "10");
    assert_eq!(profile["school"], "Springfield High");
    assert_eq!(profile["dateOfBirth"], "2010-04-01");

    let wrong = app
        .patch_as(
            &student.access_token,
            "/api/v1/users/me",
            &json!({ "teacherProfile": { "qualification": "PhD" } }),
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert_eq!(wrong.body["code"], "VALIDATION_FAILED");
    assert_eq!(error_fields(&wrong.body), ["profile".to_owned()].into());

    let unknown = app
        .patch_as(
            &student.access_token,
            "/api/v1/users/me",
            &json!({ "studentProfile": { "favouriteColour": "blue" } }),
        )
        .await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);

    let me = app.get_as(&student.access_token, "/api/v1/auth/me").await;
    assert_eq!(
        me.body["data"]["studentProfile"]["school"],
        "Springfield High"
    );
    assert!(me.body["data"].get("teacherProfile").is_none());

    let teacher = app.register("TEACHER").await;
    let answer = app
        .patch_as(
            &teacher.access_token,
            "/api/v1/users/me",
            &json!({ "teacherProfile": {
                "qualification": "M.Ed.", "experienceYears": 7,
                "specialization": ["Algebra", "Geometry"],
            } }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["data"]["teacherProfile"]["experienceYears"], 7);
    let wrong = app
        .patch_as(
            &teacher.access_token,
            "/api/v1/users/me",
            &json!({ "parentProfile": { "occupation": "Chef" } }),
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
}

#[tokio::test]
async fn a_student_cannot_award_themselves_xp_levels_or_streaks_through_their_profile() {
    let app = spawn_app().await;
    let student = app.register("STUDENT").await;
    let answer = app
        .patch_as(
            &student.access_token,
            "/api/v1/users/me",
            &json!({ "studentProfile": {
                "grade": "9", "totalXp": 1_000_000, "level": 99, "currentStreak": 365,
            } }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let me = app.get_as(&student.access_token, "/api/v1/auth/me").await;
    let profile = &me.body["data"]["studentProfile"];
    assert_eq!(profile["grade"], "9", "the student's own fields are saved");
    assert_eq!(profile["totalXp"], 0, "XP is earned, not sent: {profile}");
    assert_eq!(profile["level"], 1, "no XP is level 1: {profile}");
    assert_eq!(profile["currentStreak"], 0, "{profile}");
    assert_eq!(profile["longestStreak"], 0, "{profile}");
}

// ---------------------------------------------------------------------------------
// PATCH /users/{id}/role

#[tokio::test]
async fn an_admin_changes_a_role_which_is_audited_and_ends_the_users_tokens_at_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let student = app.register("STUDENT").await;
    assert_eq!(
        app.get_as(&student.access_token, "/api/v1/auth/me")
            .await
            .status,
        200
    );

    let answer = app
        .patch_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/role", student.id),
            &json!({ "role": "TEACHER" }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["data"]["role"], "TEACHER");
    assert!(answer.body["data"].get("teacherProfile").is_some());
    assert!(answer.body["data"].get("studentProfile").is_none());

    let stale = app.get_as(&student.access_token, "/api/v1/auth/me").await;
    assert_eq!(stale.status, 401, "{}", stale.body);
    let refresh = app
        .post_json(
            "/api/v1/auth/refresh-token",
            &json!({ "refreshToken": student.refresh_token }),
        )
        .await;
    assert_eq!(refresh.status, 401, "the session ended: {}", refresh.body);

    let events = audit_events(&app, &admin, "ROLE_CHANGED").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail"], "STUDENT -> TEACHER");
    assert_eq!(events[0]["subjectId"].as_str(), Some(student.id.as_str()));
    assert_eq!(events[0]["actorId"].as_str(), Some(admin.id.as_str()));
    let by_user = app
        .get_as(
            &admin.access_token,
            &format!(
                "/api/v1/admin/audit?userId={}&action=role_changed",
                student.id
            ),
        )
        .await;
    assert_eq!(by_user.body["data"]["events"].as_array().unwrap().len(), 1);

    let session = login_ok(&app, &student.email, PASSWORD).await;
    assert_eq!(session["user"]["role"], "TEACHER");

    // The same role again changes nothing and records nothing.
    let same = app
        .patch_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/role", student.id),
            &json!({ "role": "TEACHER" }),
        )
        .await;
    assert_eq!(same.status, 200, "{}", same.body);
    let fresh = session["accessToken"].as_str().unwrap();
    assert_eq!(app.get_as(fresh, "/api/v1/auth/me").await.status, 200);
    assert_eq!(audit_events(&app, &admin, "ROLE_CHANGED").await.len(), 1);
}

#[tokio::test]
async fn an_admin_cannot_change_their_own_role() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let answer = app
        .patch_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/role", admin.id),
            &json!({ "role": "TEACHER" }),
        )
        .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.body["code"], "UNPROCESSABLE");
    let me = app.get_as(&admin.access_token, "/api/v1/auth/me").await;
    assert_eq!(me.body["data"]["role"], "ADMIN");
}

#[tokio::test]
async fn only_a_user_with_2fa_on_can_be_made_an_admin() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let teacher = app.register("TEACHER").await;
    let path = format!("/api/v1/users/{}/role", teacher.id);

    let refused = app
        .patch_as(&admin.access_token, &path, &json!({ "role": "ADMIN" }))
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("two-factor"),
        "{}",
        refused.body
    );
    let me = app.get_as(&teacher.access_token, "/api/v1/auth/me").await;
    assert_eq!(me.status, 200, "a refused change ends nothing");
    assert_eq!(me.body["data"]["role"], "TEACHER");

    let enrolled = app
        .post_as(&teacher.access_token, "/api/v1/auth/2fa/enroll", &json!({}))
        .await;
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);
    let secret = enrolled.body["data"]["secret"].as_str().unwrap();
    let confirmed = app
        .post_as(
            &teacher.access_token,
            "/api/v1/auth/2fa/confirm",
            &json!({ "code": totp_now(secret) }),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);

    let promoted = app
        .patch_as(&admin.access_token, &path, &json!({ "role": "ADMIN" }))
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    assert_eq!(promoted.body["data"]["role"], "ADMIN");
    let events = audit_events(&app, &admin, "ROLE_CHANGED").await;
    assert_eq!(events[0]["detail"], "TEACHER -> ADMIN");
}

#[tokio::test]
async fn changing_the_role_of_an_unknown_user_is_a_404_and_of_a_bad_role_a_400() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let nobody = uuid::Uuid::now_v7();
    let answer = app
        .patch_as(
            &admin.access_token,
            &format!("/api/v1/users/{nobody}/role"),
            &json!({ "role": "TEACHER" }),
        )
        .await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert_eq!(answer.body["message"], "User not found");

    let student = app.register("STUDENT").await;
    let answer = app
        .patch_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/role", student.id),
            &json!({ "role": "PRINCIPAL" }),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(error_fields(&answer.body).contains("role"));
}

// ---------------------------------------------------------------------------------
// Deactivation

#[tokio::test]
async fn a_deactivated_user_cannot_log_in_and_their_tokens_stop_working() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let student = app.register("STUDENT").await;
    let pat = personal_access_token(&app, &student, &["read", "write"]).await;
    assert_eq!(app.get_as(&pat, "/api/v1/auth/me").await.status, 200);

    let answer = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/deactivate", student.id),
            &json!({}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["data"]["isActive"], false);

    let login = app.login(&student.email, PASSWORD).await;
    assert_eq!(login.status, 403, "{}", login.body);
    assert_eq!(login.body["code"], "FORBIDDEN");
    assert_eq!(
        app.get_as(&student.access_token, "/api/v1/auth/me")
            .await
            .status,
        401,
        "the access token"
    );
    assert_eq!(
        app.get_as(&pat, "/api/v1/auth/me").await.status,
        401,
        "the personal access token"
    );
    let refresh = app
        .post_json(
            "/api/v1/auth/refresh-token",
            &json!({ "refreshToken": student.refresh_token }),
        )
        .await;
    assert_eq!(refresh.status, 401, "the refresh token: {}", refresh.body);

    let events = audit_events(&app, &admin, "USER_DEACTIVATED").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["subjectId"].as_str(), Some(student.id.as_str()));
    assert_eq!(events[0]["actorId"].as_str(), Some(admin.id.as_str()));

    let seen = app
        .get_as(
            &admin.access_token,
            &format!("/api/v1/users/{}", student.id),
        )
        .await;
    assert_eq!(seen.body["data"]["isActive"], false);
}

#[tokio::test]
async fn a_reactivated_user_logs_in_again_but_their_old_tokens_stay_dead() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let student = app.register("STUDENT").await;
    let pat = personal_access_token(&app, &student, &["read"]).await;
    let deactivate = format!("/api/v1/users/{}/deactivate", student.id);
    let reactivate = format!("/api/v1/users/{}/reactivate", student.id);
    assert_eq!(
        app.post_as(&admin.access_token, &deactivate, &json!({}))
            .await
            .status,
        200
    );

    let answer = app
        .post_as(&admin.access_token, &reactivate, &json!({}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["data"]["isActive"], true);
    let session = login_ok(&app, &student.email, PASSWORD).await;
    let fresh = session["accessToken"].as_str().unwrap();
    assert_eq!(app.get_as(fresh, "/api/v1/auth/me").await.status, 200);

    assert_eq!(
        app.get_as(&student.access_token, "/api/v1/auth/me")
            .await
            .status,
        401,
        "the access token from before stays dead"
    );
    assert_eq!(
        app.get_as(&pat, "/api/v1/auth/me").await.status,
        401,
        "the personal access token from before stays dead"
    );
    let events = audit_events(&app, &admin, "USER_REACTIVATED").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["subjectId"].as_str(), Some(student.id.as_str()));

    // Reactivating an active user is a no-op that records nothing.
    let again = app
        .post_as(&admin.access_token, &reactivate, &json!({}))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(app.get_as(fresh, "/api/v1/auth/me").await.status, 200);
    assert_eq!(
        audit_events(&app, &admin, "USER_REACTIVATED").await.len(),
        1
    );
}

#[tokio::test]
async fn an_admin_cannot_deactivate_themselves_and_unknown_users_are_404() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let own = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/deactivate", admin.id),
            &json!({}),
        )
        .await;
    assert_eq!(own.status, 422, "{}", own.body);
    assert_eq!(
        app.get_as(&admin.access_token, "/api/v1/auth/me")
            .await
            .status,
        200
    );
    let nobody = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/deactivate", uuid::Uuid::now_v7()),
            &json!({}),
        )
        .await;
    assert_eq!(nobody.status, 404, "{}", nobody.body);
}

// ---------------------------------------------------------------------------------
// GET /users/{id}

#[tokio::test]
async fn a_user_is_visible_to_themselves_and_admins_and_unknown_ids_are_404_only_to_admins() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let student = app.register("STUDENT").await;
    let path = format!("/api/v1/users/{}", student.id);

    let own = app.get_as(&student.access_token, &path).await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.body["data"]["email"], student.email);
    assert!(own.body["data"].get("studentProfile").is_some());
    let by_admin = app.get_as(&admin.access_token, &path).await;
    assert_eq!(by_admin.status, 200);
    assert_eq!(by_admin.body["data"], own.body["data"]);

    let unknown = format!("/api/v1/users/{}", uuid::Uuid::now_v7());
    assert_eq!(app.get_as(&admin.access_token, &unknown).await.status, 404);
    assert_eq!(
        app.get_as(&student.access_token, &unknown).await.status,
        403,
        "non-admins can't probe which ids exist"
    );
    // Not an id, but maybe an email or SIS id: looked up, and so the same answers.
    let no_such_key = "/api/v1/users/not-a-uuid";
    let by_admin = app.get_as(&admin.access_token, no_such_key).await;
    assert_eq!(by_admin.status, 404, "{}", by_admin.body);
    assert_eq!(
        app.get_as(&student.access_token, no_such_key).await.status,
        403
    );
}

// ---------------------------------------------------------------------------------
// Parent ↔ child links

#[tokio::test]
async fn an_admin_links_a_parent_to_a_student_and_the_parent_then_sees_that_child() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let parent = app.register("PARENT").await;
    let child = app.register("STUDENT").await;
    let other = app.register("STUDENT").await;
    let children = format!("/api/v1/users/{}/children", parent.id);
    let child_path = format!("/api/v1/users/{}", child.id);

    assert_eq!(
        app.get_as(&parent.access_token, &child_path).await.status,
        403
    );

    let linked = app
        .post_as(
            &admin.access_token,
            &children,
            &json!({ "childId": child.id }),
        )
        .await;
    assert_eq!(linked.status, 201, "{}", linked.body);
    assert_eq!(
        linked.body["data"]["parentId"].as_str(),
        Some(parent.id.as_str())
    );
    assert_eq!(
        linked.body["data"]["childId"].as_str(),
        Some(child.id.as_str())
    );

    let twice = app
        .post_as(
            &admin.access_token,
            &children,
            &json!({ "childId": child.id }),
        )
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert_eq!(twice.body["errors"][0]["field"], "childId");

    for token in [&parent.access_token, &admin.access_token] {
        let list = app.get_as(token, &children).await;
        assert_eq!(list.status, 200, "{}", list.body);
        let ids: Vec<&str> = list.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![child.id.as_str()]);
    }
    let seen = app.get_as(&parent.access_token, &child_path).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.body["data"]["email"], child.email);
    assert_eq!(
        app.get_as(&parent.access_token, &format!("/api/v1/users/{}", other.id))
            .await
            .status,
        403,
        "only linked children"
    );
    assert_eq!(
        app.get_as(&child.access_token, &children).await.status,
        403,
        "the child doesn't list the parent's children"
    );

    let unlink = format!("{children}/{}", child.id);
    let unlinked = app.delete_as(&admin.access_token, &unlink).await;
    assert_eq!(unlinked.status, 200, "{}", unlinked.body);
    let list = app.get_as(&parent.access_token, &children).await;
    assert_eq!(list.body["data"], json!([]));
    assert_eq!(
        app.get_as(&parent.access_token, &child_path).await.status,
        403
    );
    let again = app.delete_as(&admin.access_token, &unlink).await;
    assert_eq!(again.status, 404, "{}", again.body);
}

#[tokio::test]
async fn only_a_parent_can_be_linked_and_only_to_a_student() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let parent = app.register("PARENT").await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;

    let teacher_as_child = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/children", parent.id),
            &json!({ "childId": teacher.id }),
        )
        .await;
    assert_eq!(teacher_as_child.status, 422, "{}", teacher_as_child.body);
    let teacher_as_parent = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/children", teacher.id),
            &json!({ "childId": student.id }),
        )
        .await;
    assert_eq!(teacher_as_parent.status, 422, "{}", teacher_as_parent.body);
    let unknown_child = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/children", parent.id),
            &json!({ "childId": uuid::Uuid::now_v7() }),
        )
        .await;
    assert_eq!(unknown_child.status, 404, "{}", unknown_child.body);
    let missing = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/children", parent.id),
            &json!({}),
        )
        .await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert_eq!(error_fields(&missing.body), ["childId".to_owned()].into());

    let list = app
        .get_as(
            &parent.access_token,
            &format!("/api/v1/users/{}/children", parent.id),
        )
        .await;
    assert_eq!(list.body["data"], json!([]));
}

#[tokio::test]
async fn a_role_change_ends_the_parent_links_that_no_longer_fit() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let parent = app.register("PARENT").await;
    let child = app.register("STUDENT").await;
    let children = format!("/api/v1/users/{}/children", parent.id);
    let linked = app
        .post_as(
            &admin.access_token,
            &children,
            &json!({ "childId": child.id }),
        )
        .await;
    assert_eq!(linked.status, 201, "{}", linked.body);

    // The student becomes a teacher: the parent no longer sees them.
    let changed = app
        .patch_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/role", child.id),
            &json!({ "role": "TEACHER" }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(
        app.get_as(&parent.access_token, &format!("/api/v1/users/{}", child.id))
            .await
            .status,
        403,
        "a parent sees only linked children, and a teacher is nobody's child"
    );
    let list = app.get_as(&admin.access_token, &children).await;
    assert_eq!(list.body["data"], json!([]), "{}", list.body);

    // A parent who becomes a student no longer lists children either.
    let child2 = app.register("STUDENT").await;
    let linked = app
        .post_as(
            &admin.access_token,
            &children,
            &json!({ "childId": child2.id }),
        )
        .await;
    assert_eq!(linked.status, 201, "{}", linked.body);
    let changed = app
        .patch_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/role", parent.id),
            &json!({ "role": "STUDENT" }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let session = login_ok(&app, &parent.email, PASSWORD).await;
    let token = session["accessToken"].as_str().unwrap();
    let list = app.get_as(token, &children).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["data"], json!([]), "{}", list.body);
}

// ---------------------------------------------------------------------------------
// The development outbox

#[tokio::test]
async fn the_mail_outbox_is_a_404_in_production() {
    let app = spawn_app_with(|a| {
        a.environment = Some(edupro_server::platform::config::Environment::Production);
        a.jwt_secret = Some("x".repeat(40));
    })
    .await;
    let admin = app.admin().await;
    let answer = app
        .get_as(&admin.access_token, "/api/v1/admin/outbox")
        .await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert_eq!(answer.body["success"], false);
    assert_eq!(answer.body["code"], "NOT_FOUND");
    let audit = app.get_as(&admin.access_token, "/api/v1/admin/audit").await;
    assert_eq!(audit.status, 200, "the audit log stays: {}", audit.body);
}

#[tokio::test]
async fn get_users_me_answers_the_caller_like_auth_me() {
    let app = spawn_app().await;
    let student = app.register("STUDENT").await;
    let answer = app.get_as(&student.access_token, "/api/v1/users/me").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["data"]["email"], student.email.as_str());
    assert!(answer.body["data"]["studentProfile"].is_object());
    assert_eq!(app.get("/api/v1/users/me").await.status, 401);
}

#[tokio::test]
async fn a_user_is_named_by_id_email_or_sis_id_and_who_may_not_see_them_learns_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let other = app.register("STUDENT").await;
    let sis = format!("SIS-{}", uuid::Uuid::now_v7().simple());
    let imported = create_user(&app, &admin, "STUDENT", "Imported", "Person").await;
    let imported_id = imported["id"].as_str().expect("id").to_owned();
    // A SIS id, as an import sets it.
    {
        use edupro_server::store::entity::user;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        user::Entity::update_many()
            .col_expr(user::Column::ExternalId, Expr::value(sis.clone()))
            .filter(user::Column::Id.eq(uuid::Uuid::parse_str(&imported_id).expect("uuid")))
            .exec(&app.state.db)
            .await
            .expect("set the SIS id");
    }
    let email = imported["email"].as_str().expect("email").to_owned();

    // An admin: by id, by email in any case, by SIS id; an unknown key is 404.
    for key in [imported_id.clone(), email.to_uppercase(), sis.clone()] {
        let found = app
            .get_as(&admin.access_token, &format!("/api/v1/users/{key}"))
            .await;
        assert_eq!(found.status, 200, "{key}: {}", found.body);
        assert_eq!(found.body["data"]["id"], imported_id.as_str());
    }
    let unknown = app
        .get_as(&admin.access_token, "/api/v1/users/nobody@school.test")
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["message"], "No user has this email or SIS id");

    // A teacher may name an active student (to enroll them), not other staff.
    let found = app
        .get_as(&teacher.access_token, &format!("/api/v1/users/{sis}"))
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    let staff = app
        .get_as(
            &teacher.access_token,
            &format!("/api/v1/users/{}", admin.email),
        )
        .await;
    assert_eq!(staff.status, 404);
    assert_eq!(staff.body["message"], "No student has this email or SIS id");

    // A student learns nothing about whether a key exists.
    let existing = app
        .get_as(
            &student.access_token,
            &format!("/api/v1/users/{}", other.email),
        )
        .await;
    let missing = app
        .get_as(&student.access_token, "/api/v1/users/nobody@school.test")
        .await;
    assert_eq!(existing.status, 403);
    assert_eq!(
        (missing.status, &missing.body),
        (existing.status, &existing.body)
    );
    let me = app
        .get_as(
            &student.access_token,
            &format!("/api/v1/users/{}", student.email),
        )
        .await;
    assert_eq!(me.status, 200);
}
