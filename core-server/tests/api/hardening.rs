//! What a hostile client tries (issue "Hardening"): a page too deep for an offset, a
//! control character in a query, huge collections in a body, a `since` from the future.
//! Each is answered at once with a 400 naming the field, or handled, never a panic.

use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

/// Every list of the API: the GET operations of the served document that take `page`,
/// with their path parameters filled in (extractors fail before any lookup).
async fn every_list(app: &TestApp) -> Vec<String> {
    let document = app.get("/api/v1/openapi.json").await.body;
    let mut lists = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        let Some(parameters) = item["get"]["parameters"].as_array() else {
            continue;
        };
        let paged = parameters
            .iter()
            .any(|p| p["in"] == "query" && p["name"] == "page");
        if !paged {
            continue;
        }
        let mut filled = String::new();
        for segment in path.split_inclusive('/') {
            if segment.starts_with('{') {
                filled.push_str(&uuid::Uuid::now_v7().to_string());
                if segment.ends_with('/') {
                    filled.push('/');
                }
            } else {
                filled.push_str(segment);
            }
        }
        lists.push(filled);
    }
    lists
}

fn field_errors(answer: &Value) -> Vec<(String, String)> {
    answer["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or_default().to_owned(),
                        e["message"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_page_too_deep_for_any_offset_is_a_400_naming_page_not_a_dropped_connection() {
    let app = spawn_app().await;
    let answer = app.get("/api/v1/courses?page=9223372036854775808").await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["code"], "VALIDATION_FAILED");
    let errors = field_errors(&answer.body);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "page");
    assert!(errors[0].1.contains("1 to 100000"), "{errors:?}");

    // The deepest page allowed is an empty page, not an error.
    let deepest = app.get("/api/v1/courses?page=100000&limit=100").await;
    assert_eq!(deepest.status, 200, "{}", deepest.body);
    assert_eq!(deepest.body["data"]["courses"], serde_json::json!([]));
    assert_eq!(deepest.body["data"]["pagination"]["page"], 100_000);
}

#[tokio::test]
async fn every_list_bounds_page_and_limit_with_a_400_naming_the_parameter() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let lists = every_list(&app).await;
    assert!(lists.len() >= 12, "the document lists the lists: {lists:?}");
    for list in &lists {
        for (query, field) in [
            ("page=9223372036854775808", "page"),
            ("page=18446744073709551615", "page"),
            ("page=0", "page"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=18446744073709551616", "limit"),
        ] {
            let answer = app
                .get_as(&admin.access_token, &format!("{list}?{query}"))
                .await;
            assert_eq!(answer.status, 400, "{list}?{query}: {}", answer.body);
            let errors = field_errors(&answer.body);
            assert!(
                errors.iter().any(|(f, _)| f == field),
                "{list}?{query} names {field}: {errors:?}"
            );
        }
        let deepest = app
            .get_as(
                &admin.access_token,
                &format!("{list}?page=100000&limit=100"),
            )
            .await;
        assert!(
            deepest.status != 400 && deepest.status < 500,
            "{list}: the bounds themselves are accepted: {} {}",
            deepest.status,
            deepest.body
        );
    }
}

#[tokio::test]
async fn a_control_character_in_a_query_is_a_400_naming_the_parameter() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for (path, field) in [
        ("/api/v1/courses?search=%00", "search"),
        ("/api/v1/courses?search=algebra%0A", "search"),
        ("/api/v1/users?search=%00", "search"),
        ("/api/v1/notifications?unreadOnly=true&x=%1B", "x"),
    ] {
        let answer = app.get_as(&admin.access_token, path).await;
        assert_eq!(answer.status, 400, "{path}: {}", answer.body);
        let errors = field_errors(&answer.body);
        assert_eq!(errors.len(), 1, "{path}: {errors:?}");
        assert_eq!(errors[0].0, field, "{path}: {errors:?}");
        assert!(errors[0].1.contains("control characters"), "{errors:?}");
    }
    // Text that merely looks odd is still searched.
    let answer = app.get("/api/v1/courses?search=%25%5F%C3%A9").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn a_query_value_of_the_wrong_form_is_a_400_naming_its_parameter() {
    let app = spawn_app().await;
    let answer = app.get("/api/v1/courses?level=GURU").await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    let errors = field_errors(&answer.body);
    assert_eq!(errors[0].0, "level", "{errors:?}");
}

#[tokio::test]
async fn a_since_beyond_the_newest_notification_still_hears_new_ones() {
    use crate::realtime_helpers::{Ws, announce, classroom, newest_id, wait_for_title};
    let app = spawn_app().await;
    let room = classroom(&app, "Geometry", 1).await;
    let student = &room.students[0];
    wait_for_title(&app, student, "Enrolled in Geometry").await;
    let newest = newest_id(&app, student).await;

    let mut ws = Ws::connect(&app, &student.access_token, Some(i64::MAX)).await;
    let caught_up = ws.next().await;
    assert_eq!(
        caught_up["type"], "caughtUp",
        "nothing to replay: {caught_up}"
    );
    assert_eq!(
        caught_up["lastId"], newest,
        "the cursor is clamped to the newest id"
    );

    announce(&app, &room.teacher, &room.course, "Homework", "Page 12").await;
    let pushed = ws.next_notification().await;
    assert_eq!(pushed["title"], "Homework", "{pushed}");
    assert!(pushed["id"].as_i64().expect("id") > newest);
}
