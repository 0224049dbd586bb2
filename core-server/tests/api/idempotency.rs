//! `Idempotency-Key` on writes: a retry replays the first answer and creates nothing twice.

use chrono::{Duration, Utc};
use edupro_server::entity::idempotency_key;
use sea_orm::sea_query::Expr;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{Answer, PASSWORD, TestApp, spawn_app};

fn registration(email: &str) -> Value {
    json!({ "email": email, "password": PASSWORD, "firstName": "Ada", "lastName": "Lovelace" })
}

async fn register_with_key(app: &TestApp, key: &str, body: &Value) -> Answer {
    app.send(
        app.client
            .post(app.url("/api/v1/auth/register"))
            .header("idempotency-key", key)
            .json(body),
    )
    .await
}

#[tokio::test]
async fn a_retried_write_with_the_same_key_replays_the_first_answer_and_creates_nothing() {
    let app = spawn_app().await;
    let body = registration("ada@school.test");
    let first = register_with_key(&app, "k-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(first.header("idempotent-replayed").is_none());
    let retry = register_with_key(&app, "k-1", &body).await;
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        retry.body, first.body,
        "the very same answer, tokens included"
    );

    let again_without_key = app.post_json("/api/v1/auth/register", &body).await;
    assert_eq!(again_without_key.status, 409, "only one account exists");
}

#[tokio::test]
async fn the_same_key_for_a_different_request_is_refused() {
    let app = spawn_app().await;
    register_with_key(&app, "k-2", &registration("ada@school.test")).await;
    let other = register_with_key(&app, "k-2", &registration("grace@school.test")).await;
    assert_eq!(other.status, 422, "{}", other.body);
    assert!(
        other.body["message"]
            .as_str()
            .unwrap()
            .contains("different request")
    );
    let login = app.login("grace@school.test", PASSWORD).await;
    assert_eq!(login.status, 401, "the second request was not run");
}

#[tokio::test]
async fn a_client_error_is_replayed_too() {
    let app = spawn_app().await;
    let bad = json!({ "email": "nope", "password": PASSWORD, "firstName": "A", "lastName": "B" });
    let first = register_with_key(&app, "k-3", &bad).await;
    assert_eq!(first.status, 400);
    let retry = register_with_key(&app, "k-3", &bad).await;
    assert_eq!(retry.status, 400);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body, first.body);
}

#[tokio::test]
async fn keys_belong_to_their_user() {
    let app = spawn_app().await;
    let (ada, grace) = (app.register("TEACHER").await, app.register("TEACHER").await);
    let create = |token: String| {
        app.send(
            app.client
                .post(app.url("/api/v1/auth/tokens"))
                .bearer_auth(token)
                .header("idempotency-key", "same-key")
                .json(&json!({ "name": "ci", "scopes": ["read"] })),
        )
    };
    let a = create(ada.access_token.clone()).await;
    let g = create(grace.access_token.clone()).await;
    assert_eq!((a.status, g.status), (201, 201));
    assert!(
        g.header("idempotent-replayed").is_none(),
        "grace's request ran"
    );
    assert_ne!(a.body["data"]["token"], g.body["data"]["token"]);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_create_one_account() {
    let app = spawn_app().await;
    let body = registration("race@school.test");
    let answers =
        futures_util::future::join_all((0..10).map(|_| register_with_key(&app, "k-race", &body)))
            .await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    let in_progress = answers.iter().filter(|a| a.status == 409).count();
    assert_eq!(
        created + in_progress,
        10,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(created >= 1);
    for a in answers.iter().filter(|a| a.status == 409) {
        assert!(
            a.body["message"]
                .as_str()
                .unwrap()
                .contains("still running"),
            "{}",
            a.body
        );
    }
    let ids: std::collections::HashSet<_> = answers
        .iter()
        .filter(|a| a.status == 201)
        .map(|a| a.body["data"]["user"]["id"].to_string())
        .collect();
    assert_eq!(ids.len(), 1, "every 201 is the same account");
}

#[tokio::test]
async fn a_key_is_forgotten_after_a_day() {
    let app = spawn_app().await;
    let body = registration("ada@school.test");
    register_with_key(&app, "k-old", &body).await;
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::hours(25)),
        )
        .exec(&app.state.db)
        .await
        .unwrap();
    let retry = register_with_key(&app, "k-old", &body).await;
    assert_eq!(
        retry.status, 409,
        "the write ran again (and met the existing account)"
    );
    assert!(retry.header("idempotent-replayed").is_none());
    assert_eq!(
        idempotency_key::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn reads_ignore_the_key_and_an_over_long_key_is_refused() {
    let app = spawn_app().await;
    let health = app
        .send(
            app.client
                .get(app.url("/health"))
                .header("idempotency-key", "k"),
        )
        .await;
    assert_eq!(health.status, 200);
    let long = register_with_key(&app, &"k".repeat(300), &registration("a@school.test")).await;
    assert_eq!(long.status, 400);
    assert_eq!(long.body["errors"][0]["field"], "Idempotency-Key");
}
