//! The error envelope on the paths every client meets: unknown routes, wrong methods.

use crate::helpers::spawn_app;

#[tokio::test]
async fn an_unknown_route_is_a_json_404_in_the_envelope() {
    let app = spawn_app().await;
    let answer = app.get("/api/v1/definitely-not-here").await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body["success"], false);
    assert_eq!(answer.body["code"], "NOT_FOUND");
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap()
            .contains("/api/v1/definitely-not-here")
    );
}

#[tokio::test]
async fn a_path_outside_the_api_is_a_json_404_too() {
    let app = spawn_app().await;
    let answer = app.send(app.client.delete(app.url("/wp-admin"))).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.header("content-type"), Some("application/json"));
}

const REGISTER: &str = "/api/v1/auth/register";

#[tokio::test]
async fn malformed_json_is_a_400_naming_line_and_column() {
    let app = spawn_app().await;
    let answer = app
        .send(
            app.client
                .post(app.url(REGISTER))
                .header("content-type", "application/json")
                .body("{\n  \"email\": \"ada@school.edu\",\n  \"password\": oops\n}"),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["code"], "BAD_REQUEST");
    let message = answer.body["message"].as_str().unwrap();
    assert!(
        message.contains("line 3") && message.contains("column"),
        "{message}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_refused_with_415() {
    let app = spawn_app().await;
    let answer = app
        .send(
            app.client
                .post(app.url(REGISTER))
                .header("content-type", "text/plain")
                .body("email=ada@school.edu"),
        )
        .await;
    assert_eq!(answer.status, 415);
    assert_eq!(answer.body["code"], "UNSUPPORTED_MEDIA_TYPE");
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = crate::helpers::spawn_app_with(|args| args.body_limit = Some(1024)).await;
    let big = serde_json::json!({ "email": "a@b.io", "password": "x".repeat(4096),
        "firstName": "A", "lastName": "B" });
    let answer = app.post_json(REGISTER, &big).await;
    assert_eq!(answer.status, 413);
    assert_eq!(answer.body["code"], "PAYLOAD_TOO_LARGE");
    assert!(answer.body["message"].as_str().unwrap().contains("1024"));
}

#[tokio::test]
async fn field_validation_is_a_400_listing_every_bad_field() {
    let app = spawn_app().await;
    let answer = app
        .post_json(
            REGISTER,
            &serde_json::json!({ "email": "not-an-email", "password": "short",
                "firstName": "", "lastName": "Lovelace" }),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["success"], false);
    assert_eq!(answer.body["message"], "Validation failed");
    assert_eq!(answer.body["code"], "VALIDATION_FAILED");
    let fields: Vec<&str> = answer.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "password", "firstName"]);
}

#[tokio::test]
async fn a_missing_or_mistyped_field_is_named_in_the_errors() {
    let app = spawn_app().await;
    let missing = app
        .post_json(
            REGISTER,
            &serde_json::json!({ "email": "a@b.io", "password": "Corr3ct-Horse!" }),
        )
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["errors"][0]["field"], "firstName");
    assert_eq!(missing.body["errors"][0]["message"], "is required");
    let mistyped = app
        .post_json(REGISTER, &serde_json::json!({ "email": 42 }))
        .await;
    assert_eq!(mistyped.status, 400);
    assert_eq!(mistyped.body["errors"][0]["field"], "email");
}

#[tokio::test]
async fn an_invalid_path_id_is_a_400_not_a_500() {
    let app = spawn_app().await;
    let student = app.register("STUDENT").await;
    // Users and courses take a name too (email, slug, SIS id); a test only its id.
    let answer = app
        .get_as(&student.access_token, "/api/v1/tests/not-a-uuid")
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["code"], "BAD_REQUEST");
}

#[tokio::test]
async fn errors_carry_the_request_id_too() {
    let app = spawn_app().await;
    let answer = app.get("/api/v1/nothing-here").await;
    assert!(answer.header("x-request-id").is_some());
}
