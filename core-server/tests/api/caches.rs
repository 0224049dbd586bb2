//! The memory caches of the hot path: the session check and the public catalogue's
//! pages. Each answer is first read (so it is cached), then changed; the next request
//! must see the change at once — on the same instance, and within moments on a second
//! instance on the same PostgreSQL.

use serde_json::{Value, json};

use crate::catalogue_helpers::published;
use crate::enrollments::enroll;
use crate::helpers::{PASSWORD, TestApp, TestUser, spawn_app, spawn_two_instances};

const ME: &str = "/api/v1/auth/me";
const LIST: &str = "/api/v1/courses?limit=100";

/// The course `id` as the first 100 of the public list show it to `token` (`None`:
/// anonymous), asked twice so the second answer comes from the cache if one is kept.
async fn listed(app: &TestApp, token: Option<&str>, id: &str) -> Option<Value> {
    let mut last = None;
    for _ in 0..2 {
        let answer = match token {
            Some(token) => app.get_as(token, LIST).await,
            None => app.get(LIST).await,
        };
        assert_eq!(answer.status, 200, "{}", answer.body);
        last = answer.body["data"]["courses"]
            .as_array()
            .expect("courses")
            .iter()
            .find(|c| c["id"] == id)
            .cloned();
    }
    last
}

/// Uses `user`'s token twice (so its session is cached) and checks it works.
async fn warm(app: &TestApp, user: &TestUser) {
    for _ in 0..2 {
        let answer = app.get_as(&user.access_token, ME).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
}

#[tokio::test]
async fn a_cached_catalogue_page_shows_each_change_at_once() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let (course, _, _) = published(&app, &teacher.access_token, "Cached Rust").await;
    let seen = listed(&app, Some(&student.access_token), &course)
        .await
        .expect("a published course is listed");
    assert_eq!(seen["title"], "Cached Rust");
    assert_eq!(seen["totalStudents"], 0);
    assert!(listed(&app, None, &course).await.is_some());

    // An edit by its teacher.
    let edit = app
        .patch_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{course}"),
            &json!({ "title": "Cached Rust, Revised" }),
        )
        .await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    let seen = listed(&app, Some(&student.access_token), &course)
        .await
        .expect("listed");
    assert_eq!(seen["title"], "Cached Rust, Revised");

    // An enrollment changes its count.
    enroll(&app, &student.access_token, &course).await;
    let seen = listed(&app, None, &course).await.expect("listed");
    assert_eq!(seen["totalStudents"], 1);

    // The owner's new name shows on the course.
    let renamed = app
        .patch_as(
            &teacher.access_token,
            "/api/v1/users/me",
            &json!({ "firstName": "Grace" }),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let seen = listed(&app, None, &course).await.expect("listed");
    assert_eq!(seen["teacher"]["firstName"], "Grace", "{seen}");

    // Archived: gone from the public list.
    let archive = app
        .post_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{course}/archive"),
            &json!({}),
        )
        .await;
    assert_eq!(archive.status, 200, "{}", archive.body);
    assert!(
        listed(&app, Some(&student.access_token), &course)
            .await
            .is_none()
    );
    assert!(listed(&app, None, &course).await.is_none());
}

#[tokio::test]
async fn a_cached_session_ends_at_once_with_logout_password_change_role_change_and_deactivation() {
    let app = spawn_app().await;
    let admin = app.admin().await;

    let out = app.register("STUDENT").await;
    warm(&app, &out).await;
    let logout = app
        .post_as(&out.access_token, "/api/v1/auth/logout", &json!({}))
        .await;
    assert_eq!(logout.status, 200, "{}", logout.body);
    assert_eq!(app.get_as(&out.access_token, ME).await.status, 401);

    let changed = app.register("STUDENT").await;
    let other = app.login(&changed.email, PASSWORD).await;
    assert_eq!(other.status, 200, "{}", other.body);
    let other = TestUser::from_session(&other.body["data"], PASSWORD, None);
    warm(&app, &other).await;
    let change = app
        .post_as(
            &changed.access_token,
            "/api/v1/auth/change-password",
            &json!({ "oldPassword": PASSWORD, "newPassword": "N3w-Password!" }),
        )
        .await;
    assert_eq!(change.status, 200, "{}", change.body);
    assert_eq!(app.get_as(&other.access_token, ME).await.status, 401);

    let promoted = app.register("STUDENT").await;
    warm(&app, &promoted).await;
    let role = app
        .patch_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/role", promoted.id),
            &json!({ "role": "TEACHER" }),
        )
        .await;
    assert_eq!(role.status, 200, "{}", role.body);
    assert_eq!(app.get_as(&promoted.access_token, ME).await.status, 401);

    let gone = app.register("STUDENT").await;
    warm(&app, &gone).await;
    let deactivate = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/deactivate", gone.id),
            &json!({}),
        )
        .await;
    assert_eq!(deactivate.status, 200, "{}", deactivate.body);
    assert_eq!(app.get_as(&gone.access_token, ME).await.status, 401);

    // A profile change shows in the next request's `me`.
    let named = app.register("STUDENT").await;
    warm(&app, &named).await;
    let rename = app
        .patch_as(
            &named.access_token,
            "/api/v1/users/me",
            &json!({ "lastName": "Hopper" }),
        )
        .await;
    assert_eq!(rename.status, 200, "{}", rename.body);
    let me = app.get_as(&named.access_token, ME).await;
    assert_eq!(me.body["data"]["lastName"], "Hopper", "{}", me.body);
}

/// Polls `check` for up to 3 s: another instance hears of a change through
/// PostgreSQL's NOTIFY, a moment after the commit.
async fn eventually(mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..60 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_second_instance_forgets_what_the_first_changed() {
    let Some((a, b)) = spawn_two_instances("the two-instance cache test").await else {
        return;
    };

    // A session ended on A stops working on B.
    let student = a.register("STUDENT").await;
    warm(&b, &student).await;
    let logout = a
        .post_as(&student.access_token, "/api/v1/auth/logout", &json!({}))
        .await;
    assert_eq!(logout.status, 200, "{}", logout.body);
    assert!(
        eventually(async || b.get_as(&student.access_token, ME).await.status == 401).await,
        "B still accepts a token whose session ended on A"
    );

    // A course edited on A shows edited on B.
    let teacher = a.register("TEACHER").await;
    let (course, _, _) = published(&a, &teacher.access_token, "Shared Course").await;
    assert!(listed(&b, None, &course).await.is_some());
    let edit = a
        .patch_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{course}"),
            &json!({ "title": "Shared Course, Revised" }),
        )
        .await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    assert!(
        eventually(async || listed(&b, None, &course)
            .await
            .is_some_and(|c| c["title"] == "Shared Course, Revised"))
        .await,
        "B still lists the old title"
    );
}
