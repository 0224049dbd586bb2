//! What a hostile client tries (issue "Hardening"): a page too deep for an offset, a
//! control character in a query, huge collections in a body, a `since` from the future.
//! Each is answered at once with a 400 naming the field, or handled, never a panic.

use serde_json::{Value, json};

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

/// The one error of a 400 answer; fails when there are more (a list was examined).
fn only_error(answer: &crate::helpers::Answer) -> (String, String) {
    assert_eq!(answer.status, 400, "{}", answer.body);
    let errors = field_errors(&answer.body);
    assert_eq!(errors.len(), 1, "one error for the whole list: {errors:?}");
    errors[0].clone()
}

#[tokio::test]
async fn twenty_thousand_tags_are_refused_by_their_count_before_any_tag_is_read() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    // An empty first tag: had the tags been read before they were counted, the answer
    // would be about that tag.
    let mut tags = vec![String::new()];
    tags.extend((0..20_000).map(|i| format!("tag{i}")));
    let body = json!({ "title": "Tags galore", "tags": tags });
    let created = app
        .post_as(&teacher.access_token, "/api/v1/courses", &body)
        .await;
    assert_eq!(
        only_error(&created),
        (
            "tags".to_owned(),
            "must hold at most 20 tags (20001 given)".to_owned()
        )
    );

    let course = crate::catalogue_helpers::draft(&app, &teacher.access_token, "Tagged").await;
    let updated = app
        .patch_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{course}"),
            &json!({ "tags": tags }),
        )
        .await;
    assert_eq!(only_error(&updated).0, "tags");
    // Repeats count as sent; twenty are fine and are de-duplicated ignoring case.
    let repeated = app
        .patch_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{course}"),
            &json!({ "tags": vec!["Rust"; 21] }),
        )
        .await;
    assert_eq!(only_error(&repeated).0, "tags");
    let mut twenty = vec!["rust"; 19];
    twenty.push("Web");
    let fine = app
        .patch_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{course}"),
            &json!({ "tags": twenty }),
        )
        .await;
    assert_eq!(fine.status, 200, "{}", fine.body);
    assert_eq!(fine.body["data"]["tags"], json!(["rust", "Web"]));
}

#[tokio::test]
async fn a_test_document_with_too_many_questions_options_or_answers_names_only_that_list() {
    let app = spawn_app().await;
    let c = crate::tests_helpers::class(&app).await;
    let t = &c.teacher.access_token;
    let blank = json!({ "type": "MCQ", "questionText": "", "marks": 0, "options": [] });
    let mut doc = crate::tests_helpers::every_type(&c.course);
    doc["questions"] = json!(vec![blank; 501]);
    let answer = app.post_as(t, "/api/v1/tests", &doc).await;
    assert_eq!(only_error(&answer).0, "questions");

    let mut doc = crate::tests_helpers::every_type(&c.course);
    doc["questions"][0]["options"] = json!(vec![json!({ "text": "" }); 1000]);
    let answer = app.post_as(t, "/api/v1/tests", &doc).await;
    let (field, message) = only_error(&answer);
    assert_eq!(field, "questions[0].options");
    assert!(message.contains("at most 26"), "{message}");

    let mut doc = crate::tests_helpers::every_type(&c.course);
    doc["questions"][3]["acceptedAnswers"] = json!(vec![""; 51]);
    doc["questions"][3]
        .as_object_mut()
        .expect("question")
        .remove("numericTolerance");
    let answer = app.post_as(t, "/api/v1/tests", &doc).await;
    let (field, message) = only_error(&answer);
    assert_eq!(field, "questions[3].acceptedAnswers");
    assert!(message.contains("at most 50"), "{message}");
}

#[tokio::test]
async fn answers_beyond_one_per_question_are_refused_as_a_whole() {
    use crate::tests_helpers::{class, every_type, pick, published_test, question, start};
    let app = spawn_app().await;
    let c = class(&app).await;
    let test = published_test(&app, &c.teacher.access_token, &every_type(&c.course)).await;
    let attempt = start(&app, &c.student.access_token, &test).await;
    let a = attempt["id"].as_str().expect("id");
    let mcq = question(&attempt, "Unit of force");
    let path = format!("/api/v1/attempts/{a}/answers");
    let save = |answers: Value| {
        let path = path.clone();
        let token = c.student.access_token.clone();
        let app = &app;
        async move {
            app.call_as(
                &token,
                reqwest::Method::PUT,
                &path,
                Some(&json!({ "answers": answers })),
            )
            .await
        }
    };

    // The same answer 5,000 times: one error, not one per repeat.
    let repeated = save(json!(vec![pick(mcq, &["Newton"]); 5_000])).await;
    let (field, message) = only_error(&repeated);
    assert_eq!(field, "answers");
    assert!(message.contains("this test has 5"), "{message}");

    // More selections than the question has options (one option, 10,000 times).
    let vectors = question(&attempt, "Which are vectors");
    let mut flood = pick(vectors, &["Velocity"]);
    flood["selectedOptions"] = json!(vec![vectors["options"][0]["id"].clone(); 10_000]);
    let answer = save(json!([flood])).await;
    assert_eq!(only_error(&answer).0, "answers[0].selectedOptions");

    let fine = save(json!([pick(mcq, &["Newton"])])).await;
    assert_eq!(fine.status, 200, "{}", fine.body);
}

#[tokio::test]
async fn lists_of_scopes_days_muted_types_and_subjects_are_bounded() {
    use crate::realtime_helpers::classroom;
    let app = spawn_app().await;
    let room = classroom(&app, "Bounded", 0).await;
    let t = &room.teacher.access_token;

    let token = app
        .post_as(
            t,
            "/api/v1/auth/tokens",
            &json!({ "name": "ci", "scopes": vec!["read"; 1000], "expiresInDays": 30 }),
        )
        .await;
    assert_eq!(only_error(&token).0, "scopes");

    let at = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let class = app
        .post_as(
            t,
            "/api/v1/live-classes",
            &json!({ "courseId": room.course, "title": "Drill", "scheduledAt": at, "duration": 50,
                     "recurrence": { "daysOfWeek": vec!["MON"; 8], "count": 3 } }),
        )
        .await;
    assert_eq!(only_error(&class).0, "recurrence.daysOfWeek");

    let preferences = app
        .call_as(
            t,
            reqwest::Method::PUT,
            "/api/v1/notifications/preferences",
            Some(&json!({ "mutedTypes": vec!["no-such-type"; 1000] })),
        )
        .await;
    assert_eq!(only_error(&preferences).0, "mutedTypes");

    let me = app
        .patch_as(
            t,
            "/api/v1/users/me",
            &json!({ "teacherProfile": { "specialization": vec!["Physics"; 21] } }),
        )
        .await;
    assert_eq!(only_error(&me).0, "teacherProfile.specialization");
    let me = app
        .patch_as(
            t,
            "/api/v1/users/me",
            &json!({ "teacherProfile": { "specialization": ["Physics", "Maths"] } }),
        )
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
}
