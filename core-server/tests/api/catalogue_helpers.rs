//! Building blocks for the catalogue tests: courses, sections and lessons made over HTTP.

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Creates a course as `token` from `body`; its id.
pub async fn create_course(app: &TestApp, token: &str, body: Value) -> String {
    let answer = app.post_as(token, "/api/v1/courses", &body).await;
    assert_eq!(answer.status, 201, "create course: {}", answer.body);
    answer.body["data"]["id"]
        .as_str()
        .expect("course id")
        .to_owned()
}

/// A draft course titled `title` with defaults for everything else.
pub async fn draft(app: &TestApp, token: &str, title: &str) -> String {
    create_course(app, token, json!({ "title": title })).await
}

/// Adds a section (appended) to `course`; its id.
pub async fn add_section(app: &TestApp, token: &str, course: &str, title: &str) -> String {
    let answer = app
        .post_as(
            token,
            &format!("/api/v1/courses/{course}/sections"),
            &json!({ "title": title }),
        )
        .await;
    assert_eq!(answer.status, 201, "add section: {}", answer.body);
    answer.body["data"]["id"]
        .as_str()
        .expect("section id")
        .to_owned()
}

/// Adds a lesson (appended) to `section`; its id.
pub async fn add_lesson(
    app: &TestApp,
    token: &str,
    section: &str,
    title: &str,
    published: bool,
) -> String {
    let answer = app
        .post_as(
            token,
            &format!("/api/v1/sections/{section}/lessons"),
            &json!({ "title": title, "type": "VIDEO", "duration": 12,
                     "url": "https://video.school.test/v/1", "isPublished": published }),
        )
        .await;
    assert_eq!(answer.status, 201, "add lesson: {}", answer.body);
    answer.body["data"]["id"]
        .as_str()
        .expect("lesson id")
        .to_owned()
}

/// A published course with one section holding one published lesson; (course, section, lesson).
pub async fn published(app: &TestApp, token: &str, title: &str) -> (String, String, String) {
    let course = draft(app, token, title).await;
    let section = add_section(app, token, &course, "Week 1").await;
    let lesson = add_lesson(app, token, &section, "Welcome", true).await;
    let answer = app
        .post_as(
            token,
            &format!("/api/v1/courses/{course}/publish"),
            &json!({}),
        )
        .await;
    assert_eq!(answer.status, 200, "publish: {}", answer.body);
    (course, section, lesson)
}

/// Adds `user_id` to `course`'s staff with `role`, as `token`.
pub async fn add_staff(app: &TestApp, token: &str, course: &str, user_id: &str, role: &str) {
    let answer = app
        .post_as(
            token,
            &format!("/api/v1/courses/{course}/staff"),
            &json!({ "userId": user_id, "role": role }),
        )
        .await;
    assert_eq!(answer.status, 201, "add staff: {}", answer.body);
}

/// The course as `token` sees it (`data`).
pub async fn course_as(app: &TestApp, token: &str, course: &str) -> Value {
    let answer = app
        .get_as(token, &format!("/api/v1/courses/{course}"))
        .await;
    assert_eq!(answer.status, 200, "get course: {}", answer.body);
    answer.body["data"].clone()
}

/// The titles of the course's sections, in order, checking `order` is 1..n.
pub fn section_titles(course: &Value) -> Vec<String> {
    let sections = course["sections"].as_array().expect("sections");
    for (i, s) in sections.iter().enumerate() {
        assert_eq!(s["order"], i as i64 + 1, "section orders: {sections:?}");
    }
    sections
        .iter()
        .map(|s| s["title"].as_str().expect("title").to_owned())
        .collect()
}

/// The titles of one section's lessons, in order, checking `order` is 1..n.
pub fn lesson_titles(section: &Value) -> Vec<String> {
    let lessons = section["lessons"].as_array().expect("lessons");
    for (i, l) in lessons.iter().enumerate() {
        assert_eq!(l["order"], i as i64 + 1, "lesson orders: {lessons:?}");
    }
    lessons
        .iter()
        .map(|l| l["title"].as_str().expect("title").to_owned())
        .collect()
}

/// The field names of a 400's `errors`.
pub fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}
