//! Notifications over HTTP: made from domain events exactly once and for the right
//! people, the inbox (pages, unread only, mark read, read-all, unread count) and the
//! preferences (muted types, quiet hours, time zone).

use serde_json::{Value, json};

use crate::catalogue_helpers::{draft, error_fields, published};
use crate::enrollments::staff_enroll;
use crate::helpers::spawn_app;
use crate::realtime_helpers::{
    announce, classroom, inbox, newest_id, publish_event, wait_for_title,
};

/// The inbox's notifications of `type`.
fn of_type(notifications: &[Value], kind: &str) -> Vec<Value> {
    notifications
        .iter()
        .filter(|n| n["type"] == kind)
        .cloned()
        .collect()
}

#[tokio::test]
async fn enrolling_makes_one_enrolled_notification_for_the_student_and_no_more() {
    let app = spawn_app().await;
    let room = classroom(&app, "Algebra", 1).await;
    let student = &room.students[0];
    let enrolled = wait_for_title(&app, student, "Enrolled in Algebra").await;
    assert_eq!(enrolled["type"], "ENROLLED");
    assert_eq!(enrolled["message"], "You enrolled in Algebra.");
    assert_eq!(enrolled["isRead"], false);
    assert_eq!(enrolled["data"]["courseId"], room.course);
    assert_eq!(enrolled["actionUrl"], format!("/courses/{}", room.course));

    // A later event is handled after the first: by then the first can't come again.
    announce(&app, &room.teacher, &room.course, "Welcome", "Hello class").await;
    wait_for_title(&app, student, "Welcome").await;
    let mine = inbox(&app, student).await;
    assert_eq!(of_type(&mine, "ENROLLED").len(), 1, "{mine:?}");
    assert_eq!(of_type(&mine, "ANNOUNCEMENT").len(), 1, "{mine:?}");
    // The teacher who announced gets nothing of it (only the news of the student who
    // enrolled); nor does anyone else.
    let teachers = inbox(&app, &room.teacher).await;
    assert!(
        teachers.iter().all(|n| n["type"] == "STUDENT_ENROLLED"),
        "{teachers:?}"
    );
    let stranger = app.register("STUDENT").await;
    assert!(inbox(&app, &stranger).await.is_empty());
}

#[tokio::test]
async fn staff_enrolling_and_removing_a_student_tells_them_and_publishing_tells_the_enrolled() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let course = draft(&app, &teacher.access_token, "Geometry").await;
    let section =
        crate::catalogue_helpers::add_section(&app, &teacher.access_token, &course, "W1").await;
    crate::catalogue_helpers::add_lesson(&app, &teacher.access_token, &section, "Hi", true).await;
    staff_enroll(&app, &teacher.access_token, &course, &student.id).await;
    let enrolled = wait_for_title(&app, &student, "Enrolled in Geometry").await;
    assert_eq!(enrolled["message"], "You were enrolled in Geometry.");

    let answer = app
        .post_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{course}/publish"),
            &json!({}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let opened = wait_for_title(&app, &student, "Geometry is open").await;
    assert_eq!(opened["type"], "COURSE_PUBLISHED");

    let removed = app
        .delete_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{course}/enrollments/{}", student.id),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    let cancelled = wait_for_title(&app, &student, "Removed from Geometry").await;
    assert_eq!(cancelled["type"], "ENROLLMENT_CANCELLED");
    // News about the course's content is for members only: once removed, the student
    // no longer sees "Geometry is open"; the notice about their removal stays.
    let mine = inbox(&app, &student).await;
    let types: Vec<&str> = mine.iter().filter_map(|n| n["type"].as_str()).collect();
    assert_eq!(types, ["ENROLLMENT_CANCELLED", "ENROLLED"], "{mine:?}");
    assert!(
        inbox(&app, &teacher).await.is_empty(),
        "the actor hears nothing"
    );
}

#[tokio::test]
async fn a_test_published_to_a_batch_reaches_its_members_only_and_grading_reaches_the_student() {
    let app = spawn_app().await;
    let room = classroom(&app, "Physics", 3).await;
    let t = &room.teacher.access_token;
    let batch = app
        .post_as(
            t,
            &format!("/api/v1/courses/{}/batches", room.course),
            &json!({ "name": "Morning" }),
        )
        .await;
    assert_eq!(batch.status, 201, "{}", batch.body);
    let batch = batch.body["data"]["id"]
        .as_str()
        .expect("batch id")
        .to_owned();
    let seated = app
        .post_as(
            t,
            &format!("/api/v1/batches/{batch}/members"),
            &json!({ "studentId": room.students[0].id }),
        )
        .await;
    assert_eq!(seated.status, 201, "{}", seated.body);

    let test_id = uuid::Uuid::now_v7();
    publish_event(
        &app,
        "test.published",
        json!({ "testId": test_id, "courseId": room.course, "batchId": batch,
                "title": "Kinematics quiz", "actorId": room.teacher.id }),
    )
    .await;
    let whole_course = uuid::Uuid::now_v7();
    publish_event(
        &app,
        "test.published",
        json!({ "testId": whole_course, "courseId": room.course,
                "title": "Midterm", "actorId": room.teacher.id }),
    )
    .await;
    for student in &room.students {
        wait_for_title(&app, student, "New test: Midterm").await;
    }
    let quiz = wait_for_title(&app, &room.students[0], "New test: Kinematics quiz").await;
    assert_eq!(quiz["type"], "TEST_PUBLISHED");
    assert_eq!(quiz["data"]["testId"], test_id.to_string());
    assert_eq!(quiz["actionUrl"], format!("/tests/{test_id}"));
    for outside in &room.students[1..] {
        let titles: Vec<Value> = inbox(&app, outside)
            .await
            .into_iter()
            .map(|n| n["title"].clone())
            .collect();
        assert!(
            !titles.contains(&json!("New test: Kinematics quiz")),
            "a batch's test is for its members: {titles:?}"
        );
    }

    let attempt = uuid::Uuid::now_v7();
    publish_event(
        &app,
        "attempt.graded",
        json!({ "attemptId": attempt, "testId": whole_course, "courseId": room.course,
                "studentId": room.students[1].id, "title": "Midterm",
                "actorId": room.teacher.id }),
    )
    .await;
    let graded = wait_for_title(&app, &room.students[1], "Graded: Midterm").await;
    assert_eq!(graded["type"], "TEST_GRADED");
    assert_eq!(graded["data"]["attemptId"], attempt.to_string());
    for other in [&room.students[0], &room.students[2]] {
        assert!(
            of_type(&inbox(&app, other).await, "TEST_GRADED").is_empty(),
            "only the graded student hears of it"
        );
    }
}

#[tokio::test]
async fn a_finished_import_tells_the_admin_who_ran_it_with_its_counts() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let import_id = uuid::Uuid::now_v7();
    publish_event(
        &app,
        "import.finished",
        json!({ "importId": import_id, "kind": "users", "mode": "apply",
                "actorId": admin.id,
                "counts": { "created": 3, "updated": 1, "unchanged": 0,
                            "failed": 2, "skipped": 0 } }),
    )
    .await;
    let done = wait_for_title(&app, &admin, "Import of users finished").await;
    assert_eq!(done["type"], "IMPORT_FINISHED");
    assert_eq!(
        done["message"],
        "3 created, 1 updated, 0 unchanged, 2 failed, 0 skipped."
    );
    assert_eq!(done["data"]["importId"], import_id.to_string());
    assert_eq!(done["actionUrl"], format!("/imports/{import_id}"));
}

#[tokio::test]
async fn events_without_what_they_need_or_of_unknown_kinds_make_nothing() {
    let app = spawn_app().await;
    let room = classroom(&app, "Chemistry", 1).await;
    let student = &room.students[0];
    wait_for_title(&app, student, "Enrolled in Chemistry").await;
    publish_event(&app, "test.published", json!({ "title": "No course" })).await;
    publish_event(&app, "something.new", json!({ "courseId": room.course })).await;
    announce(&app, &room.teacher, &room.course, "After", "them").await;
    wait_for_title(&app, student, "After").await;
    assert_eq!(inbox(&app, student).await.len(), 2);
}

#[tokio::test]
async fn the_inbox_pages_newest_first_filters_unread_and_marks_read() {
    let app = spawn_app().await;
    let room = classroom(&app, "History", 1).await;
    let student = &room.students[0];
    let t = &student.access_token;
    for i in 1..=4 {
        announce(&app, &room.teacher, &room.course, &format!("News {i}"), "x").await;
    }
    wait_for_title(&app, student, "News 4").await;

    let page = app.get_as(t, "/api/v1/notifications?page=2&limit=2").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let data = &page.body["data"];
    let titles: Vec<&str> = data["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .filter_map(|n| n["title"].as_str())
        .collect();
    assert_eq!(titles, ["News 2", "News 1"]);
    assert_eq!(data["unreadCount"], 5);
    assert_eq!(
        data["pagination"],
        json!({ "page": 2, "limit": 2, "total": 5, "pages": 3, "hasNext": true, "hasPrev": true })
    );

    let newest = newest_id(&app, student).await;
    let read = app
        .patch_as(
            t,
            &format!("/api/v1/notifications/{newest}/read"),
            &json!({}),
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["data"]["isRead"], true);
    assert_eq!(read.body["data"]["title"], "News 4");
    let again = app
        .patch_as(
            t,
            &format!("/api/v1/notifications/{newest}/read"),
            &json!({}),
        )
        .await;
    assert_eq!(
        again.status, 200,
        "marking twice is harmless: {}",
        again.body
    );

    let count = app.get_as(t, "/api/v1/notifications/unread-count").await;
    assert_eq!(count.body["data"]["unreadCount"], 4, "{}", count.body);
    let unread = app
        .get_as(t, "/api/v1/notifications?unreadOnly=true&limit=100")
        .await;
    let unread_titles: Vec<&str> = unread.body["data"]["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .filter_map(|n| n["title"].as_str())
        .collect();
    assert_eq!(
        unread_titles,
        ["News 3", "News 2", "News 1", "Enrolled in History"]
    );
    assert_eq!(unread.body["data"]["pagination"]["total"], 4);

    // Someone else's notification is nobody's business: 404, and it stays unread.
    let other = app.register("STUDENT").await;
    let theirs = app
        .patch_as(
            &other.access_token,
            &format!("/api/v1/notifications/{}/read", newest - 1),
            &json!({}),
        )
        .await;
    assert_eq!(theirs.status, 404, "{}", theirs.body);
    let missing = app
        .patch_as(t, "/api/v1/notifications/999999/read", &json!({}))
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);

    let all = app
        .patch_as(t, "/api/v1/notifications/read-all", &json!({}))
        .await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["data"], json!({ "marked": 4, "unreadCount": 0 }));
    let none = app.get_as(t, "/api/v1/notifications?unreadOnly=true").await;
    assert_eq!(none.body["data"]["notifications"], json!([]));
    let unauthenticated = app.get("/api/v1/notifications").await;
    assert_eq!(unauthenticated.status, 401);
}

#[tokio::test]
async fn a_muted_type_makes_no_notification_until_it_is_unmuted() {
    let app = spawn_app().await;
    let room = classroom(&app, "Biology", 2).await;
    let (student, classmate) = (&room.students[0], &room.students[1]);
    let t = &student.access_token;
    let defaults = app.get_as(t, "/api/v1/notifications/preferences").await;
    assert_eq!(
        defaults.body["data"],
        json!({ "mutedTypes": [], "quietHours": null, "timeZone": "UTC" })
    );
    let muted = app
        .call_as(
            t,
            reqwest::Method::PUT,
            "/api/v1/notifications/preferences",
            Some(
                &json!({ "mutedTypes": ["announcement"], "timeZone": "Asia/Kolkata",
                          "quietHours": { "start": "22:00", "end": "07:00" } }),
            ),
        )
        .await;
    assert_eq!(muted.status, 200, "{}", muted.body);
    assert_eq!(
        muted.body["data"],
        json!({ "mutedTypes": ["ANNOUNCEMENT"], "timeZone": "Asia/Kolkata",
                "quietHours": { "start": "22:00", "end": "07:00" } })
    );
    announce(&app, &room.teacher, &room.course, "Muted news", "x").await;
    // Preferences apply when the event is handled: once the classmate has it, it was.
    wait_for_title(&app, classmate, "Muted news").await;

    // Fields left out keep their value; `null` turns quiet hours off.
    let unmuted = app
        .call_as(
            t,
            reqwest::Method::PUT,
            "/api/v1/notifications/preferences",
            Some(&json!({ "mutedTypes": [], "quietHours": null })),
        )
        .await;
    assert_eq!(
        unmuted.body["data"],
        json!({ "mutedTypes": [], "quietHours": null, "timeZone": "Asia/Kolkata" })
    );
    announce(&app, &room.teacher, &room.course, "Heard news", "x").await;
    wait_for_title(&app, student, "Heard news").await;
    let titles: Vec<Value> = inbox(&app, student)
        .await
        .into_iter()
        .map(|n| n["title"].clone())
        .collect();
    assert_eq!(titles, [json!("Heard news"), json!("Enrolled in Biology")]);
}

#[tokio::test]
async fn bad_preferences_are_400s_naming_each_field_and_change_nothing() {
    let app = spawn_app().await;
    let student = app.register("STUDENT").await;
    let t = &student.access_token;
    let bad = app
        .call_as(
            t,
            reqwest::Method::PUT,
            "/api/v1/notifications/preferences",
            Some(
                &json!({ "mutedTypes": ["ENROLLED", "GOSSIP"], "timeZone": "Mars/Olympus",
                          "quietHours": { "start": "7:00", "end": "25:00" } }),
            ),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let mut fields = error_fields(&bad.body);
    fields.sort();
    assert_eq!(
        fields,
        [
            "mutedTypes[1]",
            "quietHours.end",
            "quietHours.start",
            "timeZone"
        ]
    );
    let same = app
        .call_as(
            t,
            reqwest::Method::PUT,
            "/api/v1/notifications/preferences",
            Some(&json!({ "quietHours": { "start": "08:00", "end": "08:00" } })),
        )
        .await;
    assert_eq!(error_fields(&same.body), ["quietHours.end"]);
    let unknown = app
        .call_as(
            t,
            reqwest::Method::PUT,
            "/api/v1/notifications/preferences",
            Some(&json!({ "mute": ["ENROLLED"] })),
        )
        .await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    let kept = app.get_as(t, "/api/v1/notifications/preferences").await;
    assert_eq!(
        kept.body["data"],
        json!({ "mutedTypes": [], "quietHours": null, "timeZone": "UTC" })
    );
}

#[tokio::test]
async fn only_a_courses_staff_may_announce_and_a_batch_must_be_the_courses() {
    let app = spawn_app().await;
    let room = classroom(&app, "Music", 1).await;
    let outsider = app.register("TEACHER").await;
    let (other_course, _, _) = published(&app, &outsider.access_token, "Art").await;
    let path = format!("/api/v1/courses/{}/announcements", room.course);
    let forbidden = app
        .post_as(
            &outsider.access_token,
            &path,
            &json!({ "title": "Hi", "message": "x" }),
        )
        .await;
    assert_eq!(forbidden.status, 403, "{}", forbidden.body);
    let student = app
        .post_as(
            &room.students[0].access_token,
            &path,
            &json!({ "title": "Hi", "message": "x" }),
        )
        .await;
    assert_eq!(student.status, 403, "{}", student.body);
    let empty = app
        .post_as(
            &room.teacher.access_token,
            &path,
            &json!({ "title": "", "message": " " }),
        )
        .await;
    assert_eq!(empty.status, 400, "{}", empty.body);
    let mut fields = error_fields(&empty.body);
    fields.sort();
    assert_eq!(fields, ["message", "title"]);
    let their_batch = app
        .post_as(
            &outsider.access_token,
            &format!("/api/v1/courses/{other_course}/batches"),
            &json!({ "name": "Evening" }),
        )
        .await;
    assert_eq!(their_batch.status, 201, "{}", their_batch.body);
    let wrong_batch = app
        .post_as(
            &room.teacher.access_token,
            &path,
            &json!({ "title": "Hi", "message": "x", "batchId": their_batch.body["data"]["id"] }),
        )
        .await;
    assert_eq!(error_fields(&wrong_batch.body), ["batchId"]);
    assert!(
        inbox(&app, &room.students[0])
            .await
            .iter()
            .all(|n| n["type"] != "ANNOUNCEMENT")
    );
}
