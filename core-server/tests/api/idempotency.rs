//! `Idempotency-Key` on writes: a retry replays the first answer and creates nothing twice.

use chrono::{Duration, Utc};
use edupro_server::store::entity::idempotency_key;
use sea_orm::sea_query::Expr;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, TestUser, spawn_app};

fn course(title: &str) -> Value {
    json!({ "title": title, "description": "Cells, genes and evolution." })
}

async fn create_course(app: &TestApp, teacher: &TestUser, key: &str, body: &Value) -> Answer {
    app.send(
        app.client
            .post(app.url("/api/v1/courses"))
            .bearer_auth(&teacher.access_token)
            .header("idempotency-key", key)
            .json(body),
    )
    .await
}

async fn course_count(app: &TestApp, teacher: &TestUser) -> u64 {
    let list = app.get_as(&teacher.access_token, "/api/v1/courses").await;
    list.body["data"]["pagination"]["total"]
        .as_u64()
        .expect("total")
}

#[tokio::test]
async fn a_retried_write_with_the_same_key_replays_the_first_answer_and_creates_nothing() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let body = course("Biology 101");
    let first = create_course(&app, &teacher, "k-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(first.header("idempotent-replayed").is_none());
    let retry = create_course(&app, &teacher, "k-1", &body).await;
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body, first.body, "the very same answer");
    assert_eq!(
        course_count(&app, &teacher).await,
        1,
        "only one course exists"
    );

    let without_key = app
        .post_as(&teacher.access_token, "/api/v1/courses", &body)
        .await;
    assert_eq!(without_key.status, 201, "without a key a write runs again");
    assert_eq!(course_count(&app, &teacher).await, 2);
}

#[tokio::test]
async fn the_same_key_for_a_different_request_is_refused() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    create_course(&app, &teacher, "k-2", &course("Biology 101")).await;
    let other = create_course(&app, &teacher, "k-2", &course("Chemistry 101")).await;
    assert_eq!(other.status, 422, "{}", other.body);
    assert!(
        other.body["message"]
            .as_str()
            .unwrap()
            .contains("different request")
    );
    assert_eq!(
        course_count(&app, &teacher).await,
        1,
        "the second request was not run"
    );
}

#[tokio::test]
async fn a_validation_error_is_replayed_but_a_refusal_is_not_kept() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let bad = json!({ "title": "" });
    let first = create_course(&app, &teacher, "k-3", &bad).await;
    assert_eq!(first.status, 400);
    let retry = create_course(&app, &teacher, "k-3", &bad).await;
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body, first.body);

    // A 403 may stop being one (a role change): the retry runs for real.
    let student = app.register("STUDENT").await;
    let body = course("Biology 101");
    let refused = create_course(&app, &student, "k-4", &body).await;
    assert_eq!(refused.status, 403);
    let again = create_course(&app, &student, "k-4", &body).await;
    assert_eq!(again.status, 403);
    assert!(again.header("idempotent-replayed").is_none());
}

#[tokio::test]
async fn keys_belong_to_their_user() {
    let app = spawn_app().await;
    let (ada, grace) = (app.register("TEACHER").await, app.register("TEACHER").await);
    let a = create_course(&app, &ada, "same-key", &course("Biology 101")).await;
    let g = create_course(&app, &grace, "same-key", &course("Biology 101")).await;
    assert_eq!((a.status, g.status), (201, 201));
    assert!(
        g.header("idempotent-replayed").is_none(),
        "grace's request ran"
    );
    assert_ne!(a.body["data"]["id"], g.body["data"]["id"]);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_create_one_course() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let body = course("Race 101");
    let answers = futures_util::future::join_all(
        (0..10).map(|_| create_course(&app, &teacher, "k-race", &body)),
    )
    .await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    let running = answers.iter().filter(|a| a.status == 409).count();
    assert_eq!(
        created + running,
        10,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
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
    assert_eq!(course_count(&app, &teacher).await, 1, "exactly one course");
}

#[tokio::test]
async fn a_key_is_forgotten_after_a_day_and_an_abandoned_claim_after_minutes() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let body = course("Biology 101");
    create_course(&app, &teacher, "k-old", &body).await;
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::hours(25)),
        )
        .exec(&app.state.db)
        .await
        .unwrap();
    let retry = create_course(&app, &teacher, "k-old", &body).await;
    assert_eq!(retry.status, 201);
    assert!(
        retry.header("idempotent-replayed").is_none(),
        "the write ran again"
    );
    assert_eq!(course_count(&app, &teacher).await, 2);

    // A claim whose request never finished (status still empty) frees itself.
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::Status,
            Expr::value(Option::<i32>::None),
        )
        .col_expr(
            idempotency_key::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::minutes(6)),
        )
        .exec(&app.state.db)
        .await
        .unwrap();
    let after_crash = create_course(&app, &teacher, "k-old", &body).await;
    assert_eq!(after_crash.status, 201, "{}", after_crash.body);
    assert_eq!(
        idempotency_key::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn auth_answers_are_never_stored_since_they_hold_tokens() {
    let app = spawn_app().await;
    let body = json!({ "email": "ada@school.test", "password": "Corr3ct-Horse!",
        "firstName": "Ada", "lastName": "Lovelace" });
    let register = |key: &'static str| {
        app.send(
            app.client
                .post(app.url("/api/v1/auth/register"))
                .header("idempotency-key", key)
                .json(&body),
        )
    };
    assert_eq!(register("k-auth").await.status, 201);
    let again = register("k-auth").await;
    assert_eq!(
        again.status, 409,
        "the retry ran (and met the account) instead of replaying tokens"
    );
    assert_eq!(
        idempotency_key::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn reads_ignore_the_key_and_an_over_long_key_is_refused() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let health = app
        .send(
            app.client
                .get(app.url("/health"))
                .header("idempotency-key", "k"),
        )
        .await;
    assert_eq!(health.status, 200);
    let long = create_course(&app, &teacher, &"k".repeat(300), &course("Biology 101")).await;
    assert_eq!(long.status, 400);
    assert_eq!(long.body["errors"][0]["field"], "Idempotency-Key");
}
