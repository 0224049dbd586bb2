//! A course's outline keeps positions 1..n without gaps or duplicates through every
//! insert, move, reorder and delete of sections and lessons, concurrent inserts included.

use serde_json::json;

use crate::catalogue_helpers::{
    add_lesson, add_section, course_as, draft, error_fields, lesson_titles, section_titles,
};
use crate::helpers::{TestApp, spawn_app};

/// A teacher's token and a draft course with sections titled `titles`; (token, course, ids).
async fn course_with_sections(app: &TestApp, titles: &[&str]) -> (String, String, Vec<String>) {
    let teacher = app.register("TEACHER").await;
    let token = teacher.access_token;
    let course = draft(app, &token, "Outline").await;
    let mut ids = Vec::new();
    for title in titles {
        ids.push(add_section(app, &token, &course, title).await);
    }
    (token, course, ids)
}

#[tokio::test]
async fn a_section_inserted_at_a_position_pushes_the_later_ones_down() {
    let app = spawn_app().await;
    let (token, course, _) = course_with_sections(&app, &["A", "B", "C"]).await;
    let answer = app
        .post_as(
            &token,
            &format!("/api/v1/courses/{course}/sections"),
            &json!({ "title": "D", "position": 2 }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["data"]["order"], 2);
    let first = app
        .post_as(
            &token,
            &format!("/api/v1/courses/{course}/sections"),
            &json!({ "title": "E", "position": 1 }),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(
        section_titles(&course_as(&app, &token, &course).await),
        ["E", "A", "D", "B", "C"]
    );
    for bad in [0, 7, -1] {
        let answer = app
            .post_as(
                &token,
                &format!("/api/v1/courses/{course}/sections"),
                &json!({ "title": "X", "position": bad }),
            )
            .await;
        assert_eq!(answer.status, 400, "position {bad}: {}", answer.body);
        assert_eq!(error_fields(&answer.body), ["position"]);
    }
}

#[tokio::test]
async fn a_section_moves_up_and_down_and_can_be_renamed() {
    let app = spawn_app().await;
    let (token, course, ids) = course_with_sections(&app, &["A", "B", "C", "D"]).await;
    let down = app
        .patch_as(
            &token,
            &format!("/api/v1/sections/{}", ids[0]),
            &json!({ "position": 3 }),
        )
        .await;
    assert_eq!(down.status, 200, "{}", down.body);
    assert_eq!(down.body["data"]["order"], 3);
    assert_eq!(
        section_titles(&course_as(&app, &token, &course).await),
        ["B", "C", "A", "D"]
    );
    let up = app
        .patch_as(
            &token,
            &format!("/api/v1/sections/{}", ids[3]),
            &json!({ "position": 1, "title": "D!" }),
        )
        .await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert_eq!(
        section_titles(&course_as(&app, &token, &course).await),
        ["D!", "B", "C", "A"]
    );
    let beyond = app
        .patch_as(
            &token,
            &format!("/api/v1/sections/{}", ids[1]),
            &json!({ "position": 5 }),
        )
        .await;
    assert_eq!(beyond.status, 400, "{}", beyond.body);
}

#[tokio::test]
async fn deleting_a_section_from_the_middle_closes_the_gap_and_takes_its_lessons() {
    let app = spawn_app().await;
    let (token, course, ids) = course_with_sections(&app, &["A", "B", "C"]).await;
    let lesson = add_lesson(&app, &token, &ids[1], "In B", true).await;
    let answer = app
        .delete_as(&token, &format!("/api/v1/sections/{}", ids[1]))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        section_titles(&course_as(&app, &token, &course).await),
        ["A", "C"]
    );
    assert_eq!(
        app.get_as(&token, &format!("/api/v1/lessons/{lesson}"))
            .await
            .status,
        404
    );
    assert_eq!(
        app.delete_as(&token, &format!("/api/v1/sections/{}", ids[1]))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn reordering_sections_takes_exactly_the_courses_sections() {
    let app = spawn_app().await;
    let (token, course, ids) = course_with_sections(&app, &["A", "B", "C"]).await;
    let path = format!("/api/v1/courses/{course}/sections/reorder");
    let answer = app
        .post_as(
            &token,
            &path,
            &json!({ "sectionIds": [ids[2], ids[0], ids[1]] }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let titles: Vec<&str> = answer.body["data"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|s| s["title"].as_str().expect("title"))
        .collect();
    assert_eq!(titles, ["C", "A", "B"]);
    let (_, other_course, other_ids) = course_with_sections(&app, &["X"]).await;
    let _ = other_course;
    for wrong in [
        json!([ids[0], ids[1]]),
        json!([ids[0], ids[1], ids[2], ids[2]]),
        json!([ids[0], ids[1], other_ids[0]]),
    ] {
        let answer = app
            .post_as(&token, &path, &json!({ "sectionIds": wrong }))
            .await;
        assert_eq!(answer.status, 400, "{wrong}: {}", answer.body);
        assert_eq!(error_fields(&answer.body), ["sectionIds"]);
    }
    assert_eq!(
        section_titles(&course_as(&app, &token, &course).await),
        ["C", "A", "B"]
    );
}

/// The titles of the first section's lessons, checking their orders are 1..n.
async fn outline(app: &TestApp, token: &str, course: &str) -> Vec<String> {
    lesson_titles(&course_as(app, token, course).await["sections"][0])
}

#[tokio::test]
async fn lessons_insert_move_reorder_and_delete_keeping_orders_one_to_n() {
    let app = spawn_app().await;
    let (token, course, sections) = course_with_sections(&app, &["S1"]).await;
    let mut ids = Vec::new();
    for title in ["a", "b", "c"] {
        ids.push(add_lesson(&app, &token, &sections[0], title, true).await);
    }
    let inserted = app
        .post_as(
            &token,
            &format!("/api/v1/sections/{}/lessons", sections[0]),
            &json!({ "title": "first", "type": "PDF", "position": 1 }),
        )
        .await;
    assert_eq!(inserted.status, 201, "{}", inserted.body);
    let first = inserted.body["data"]["id"].as_str().expect("id").to_owned();

    assert_eq!(
        outline(&app, &token, &course).await,
        ["first", "a", "b", "c"]
    );
    let moved = app
        .patch_as(
            &token,
            &format!("/api/v1/lessons/{first}"),
            &json!({ "position": 4 }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(
        outline(&app, &token, &course).await,
        ["a", "b", "c", "first"]
    );
    let up = app
        .patch_as(
            &token,
            &format!("/api/v1/lessons/{}", ids[2]),
            &json!({ "position": 1 }),
        )
        .await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert_eq!(
        outline(&app, &token, &course).await,
        ["c", "a", "b", "first"]
    );
    let deleted = app
        .delete_as(&token, &format!("/api/v1/lessons/{}", ids[0]))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(outline(&app, &token, &course).await, ["c", "b", "first"]);
    let reorder = app
        .post_as(
            &token,
            &format!("/api/v1/sections/{}/lessons/reorder", sections[0]),
            &json!({ "lessonIds": [first, ids[1], ids[2]] }),
        )
        .await;
    assert_eq!(reorder.status, 200, "{}", reorder.body);
    assert_eq!(outline(&app, &token, &course).await, ["first", "b", "c"]);
    let wrong = app
        .post_as(
            &token,
            &format!("/api/v1/sections/{}/lessons/reorder", sections[0]),
            &json!({ "lessonIds": [first, ids[1]] }),
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert_eq!(error_fields(&wrong.body), ["lessonIds"]);
}

#[tokio::test]
async fn a_lesson_moves_to_another_section_of_its_course_and_both_stay_gapless() {
    let app = spawn_app().await;
    let (token, course, sections) = course_with_sections(&app, &["S1", "S2"]).await;
    let mut s1 = Vec::new();
    for title in ["a", "b", "c"] {
        s1.push(add_lesson(&app, &token, &sections[0], title, true).await);
    }
    for title in ["x", "y"] {
        add_lesson(&app, &token, &sections[1], title, true).await;
    }
    let moved = app
        .patch_as(
            &token,
            &format!("/api/v1/lessons/{}", s1[1]),
            &json!({ "sectionId": sections[1], "position": 2, "title": "b moved" }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["data"]["sectionId"], sections[1].as_str());
    assert_eq!(moved.body["data"]["order"], 2);
    let seen = course_as(&app, &token, &course).await;
    assert_eq!(lesson_titles(&seen["sections"][0]), ["a", "c"]);
    assert_eq!(lesson_titles(&seen["sections"][1]), ["x", "b moved", "y"]);
    // Appended when no position is given.
    let appended = app
        .patch_as(
            &token,
            &format!("/api/v1/lessons/{}", s1[0]),
            &json!({ "sectionId": sections[1] }),
        )
        .await;
    assert_eq!(appended.status, 200, "{}", appended.body);
    let seen = course_as(&app, &token, &course).await;
    assert_eq!(lesson_titles(&seen["sections"][0]), ["c"]);
    assert_eq!(
        lesson_titles(&seen["sections"][1]),
        ["x", "b moved", "y", "a"]
    );

    let other = draft(&app, &token, "Other").await;
    let foreign = add_section(&app, &token, &other, "Elsewhere").await;
    let across = app
        .patch_as(
            &token,
            &format!("/api/v1/lessons/{}", s1[2]),
            &json!({ "sectionId": foreign }),
        )
        .await;
    assert_eq!(across.status, 422, "{}", across.body);
    assert_eq!(
        across.body["message"],
        "A lesson can only move to a section of its own course"
    );
}

#[tokio::test]
async fn ten_sections_added_at_once_get_positions_one_to_ten() {
    let app = spawn_app().await;
    let (token, course, _) = course_with_sections(&app, &[]).await;
    let path = format!("/api/v1/courses/{course}/sections");
    let inserts = (0..10).map(|i| {
        let (app, token, path) = (&app, &token, &path);
        async move {
            app.post_as(token, path, &json!({ "title": format!("S{i}") }))
                .await
        }
    });
    let answers = futures_util::future::join_all(inserts).await;
    for answer in &answers {
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
    let mut orders: Vec<i64> = answers
        .iter()
        .map(|a| a.body["data"]["order"].as_i64().expect("order"))
        .collect();
    orders.sort();
    assert_eq!(orders, (1..=10).collect::<Vec<_>>());
    assert_eq!(
        section_titles(&course_as(&app, &token, &course).await).len(),
        10
    );
}

#[tokio::test]
async fn ten_lessons_inserted_at_the_top_at_once_get_positions_one_to_ten() {
    let app = spawn_app().await;
    let (token, course, sections) = course_with_sections(&app, &["Only"]).await;
    let path = format!("/api/v1/sections/{}/lessons", sections[0]);
    let inserts = (0..10).map(|i| {
        let (app, token, path) = (&app, &token, &path);
        async move {
            app.post_as(
                token,
                path,
                &json!({ "title": format!("L{i}"), "type": "TEXT", "position": 1 }),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(inserts).await;
    for answer in &answers {
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(answer.body["data"]["order"], 1);
    }
    let titles = lesson_titles(&course_as(&app, &token, &course).await["sections"][0]);
    assert_eq!(titles.len(), 10);
}
