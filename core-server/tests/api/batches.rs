//! Batches (cohorts) over HTTP: creating, renaming, resizing and deleting them, seating
//! enrolled students, and a capacity that holds when many join at once.

use serde_json::{Value, json};

use crate::catalogue_helpers::{error_fields, published};
use crate::enrollments::{enroll, staff_enroll};
use crate::helpers::{TestApp, spawn_app};

/// Creates a batch of `course` from `body` as `token`; its id.
async fn create_batch(app: &TestApp, token: &str, course: &str, body: Value) -> String {
    let answer = app
        .post_as(token, &format!("/api/v1/courses/{course}/batches"), &body)
        .await;
    assert_eq!(answer.status, 201, "create batch: {}", answer.body);
    answer.body["data"]["id"]
        .as_str()
        .expect("batch id")
        .to_owned()
}

/// The ids of the batch's members, as its course's staff see them.
async fn member_ids(app: &TestApp, token: &str, batch: &str) -> Vec<String> {
    let answer = app
        .get_as(token, &format!("/api/v1/batches/{batch}/members"))
        .await;
    assert_eq!(answer.status, 200, "members: {}", answer.body);
    answer.body["data"]["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["student"]["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn staff_create_list_rename_resize_and_delete_batches() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let t = &teacher.access_token;
    let (course, _, _) = published(&app, t, "Cohorts").await;
    let morning = create_batch(
        &app,
        t,
        &course,
        json!({ "name": "Morning", "capacity": 30, "startsOn": "2026-01-05", "endsOn": "2026-03-27" }),
    )
    .await;
    create_batch(&app, t, &course, json!({ "name": "Evening" })).await;
    let list = app
        .get_as(t, &format!("/api/v1/courses/{course}/batches"))
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let batches = list.body["data"]["batches"].as_array().expect("batches");
    let names: Vec<&str> = batches.iter().filter_map(|b| b["name"].as_str()).collect();
    assert_eq!(names, ["Evening", "Morning"]);
    assert_eq!(batches[0]["capacity"], Value::Null);
    assert_eq!(batches[1]["capacity"], 30);
    assert_eq!(batches[1]["startsOn"], "2026-01-05");
    assert_eq!(batches[1]["members"], 0);

    let taken = app
        .post_as(
            t,
            &format!("/api/v1/courses/{course}/batches"),
            &json!({ "name": "Morning" }),
        )
        .await;
    assert_eq!(taken.status, 409, "{}", taken.body);
    assert_eq!(error_fields(&taken.body), ["name"]);
    let rename_clash = app
        .patch_as(
            t,
            &format!("/api/v1/batches/{morning}"),
            &json!({ "name": "Evening" }),
        )
        .await;
    assert_eq!(rename_clash.status, 409, "{}", rename_clash.body);
    assert_eq!(error_fields(&rename_clash.body), ["name"]);

    let invalid = app
        .post_as(
            t,
            &format!("/api/v1/courses/{course}/batches"),
            &json!({ "name": " ", "capacity": 0, "startsOn": "2026-02-01", "endsOn": "2026-01-01" }),
        )
        .await;
    assert_eq!(invalid.status, 400, "{}", invalid.body);
    assert_eq!(error_fields(&invalid.body), ["name", "capacity", "endsOn"]);

    let patched = app
        .patch_as(
            t,
            &format!("/api/v1/batches/{morning}"),
            &json!({ "name": "Early", "capacity": null, "endsOn": null }),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["data"]["name"], "Early");
    assert_eq!(patched.body["data"]["capacity"], Value::Null);
    assert_eq!(patched.body["data"]["endsOn"], Value::Null);
    assert_eq!(patched.body["data"]["startsOn"], "2026-01-05");

    let deleted = app
        .delete_as(t, &format!("/api/v1/batches/{morning}"))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let gone = app
        .patch_as(
            t,
            &format!("/api/v1/batches/{morning}"),
            &json!({ "name": "X" }),
        )
        .await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert_eq!(gone.body["message"], "Batch not found");
}

#[tokio::test]
async fn only_enrolled_students_join_a_batch_once_and_a_full_batch_is_a_409_naming_capacity() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let t = &teacher.access_token;
    let (course, _, _) = published(&app, t, "Seats").await;
    let pair = create_batch(&app, t, &course, json!({ "name": "Pair", "capacity": 2 })).await;
    let other = create_batch(&app, t, &course, json!({ "name": "Other" })).await;
    let members = format!("/api/v1/batches/{pair}/members");
    let outsider = app.register("STUDENT").await;
    let refused = app
        .post_as(t, &members, &json!({ "studentId": outsider.id }))
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(
        refused.body["message"],
        "Only students enrolled in the batch's course can join it; enroll them first"
    );

    let mut students = Vec::new();
    for _ in 0..3 {
        let s = app.register("STUDENT").await;
        enroll(&app, &s.access_token, &course).await;
        students.push(s);
    }
    for s in &students[..2] {
        let added = app
            .post_as(t, &members, &json!({ "studentId": s.id }))
            .await;
        assert_eq!(added.status, 201, "{}", added.body);
        assert_eq!(added.body["data"]["student"]["id"], s.id);
    }
    let twice = app
        .post_as(t, &members, &json!({ "studentId": students[0].id }))
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert_eq!(error_fields(&twice.body), ["studentId"]);
    let elsewhere = app
        .post_as(
            t,
            &format!("/api/v1/batches/{other}/members"),
            &json!({ "studentId": students[0].id }),
        )
        .await;
    assert_eq!(elsewhere.status, 409, "{}", elsewhere.body);
    assert_eq!(error_fields(&elsewhere.body), ["studentId"]);
    let full = app
        .post_as(t, &members, &json!({ "studentId": students[2].id }))
        .await;
    assert_eq!(full.status, 409, "{}", full.body);
    assert_eq!(error_fields(&full.body), ["capacity"]);
    assert_eq!(full.body["message"], "Batch \"Pair\" is full (capacity 2)");

    let shrink = app
        .patch_as(
            t,
            &format!("/api/v1/batches/{pair}"),
            &json!({ "capacity": 1 }),
        )
        .await;
    assert_eq!(shrink.status, 422, "{}", shrink.body);
    assert_eq!(
        shrink.body["message"],
        "capacity can't be 1: the batch has 2 members; remove some first"
    );

    let out = app
        .delete_as(t, &format!("{members}/{}", students[1].id))
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    let again = app
        .delete_as(t, &format!("{members}/{}", students[1].id))
        .await;
    assert_eq!(again.status, 404, "{}", again.body);
    let seat_freed = app
        .post_as(t, &members, &json!({ "studentId": students[2].id }))
        .await;
    assert_eq!(seat_freed.status, 201, "{}", seat_freed.body);
    let mut expected = vec![students[0].id.clone(), students[2].id.clone()];
    expected.sort();
    let mut actual = member_ids(&app, t, &pair).await;
    actual.sort();
    assert_eq!(actual, expected);
    let roster = app
        .get_as(
            t,
            &format!("/api/v1/courses/{course}/enrollments?batch={pair}"),
        )
        .await;
    assert_eq!(
        roster.body["data"]["pagination"]["total"], 2,
        "{}",
        roster.body
    );
}

#[tokio::test]
async fn removing_a_student_from_the_course_frees_their_seat_and_deleting_a_batch_keeps_them_enrolled()
 {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let t = &teacher.access_token;
    let (course, _, _) = published(&app, t, "Seat Free").await;
    let batch = create_batch(&app, t, &course, json!({ "name": "One", "capacity": 1 })).await;
    let first = app.register("STUDENT").await;
    let second = app.register("STUDENT").await;
    let seated = app
        .post_as(
            t,
            &format!("/api/v1/courses/{course}/enrollments"),
            &json!({ "studentId": first.id, "batchId": batch }),
        )
        .await;
    assert_eq!(seated.status, 201, "{}", seated.body);
    assert_eq!(seated.body["data"]["batchId"], batch);
    app.delete_as(
        t,
        &format!("/api/v1/courses/{course}/enrollments/{}", first.id),
    )
    .await;
    assert!(member_ids(&app, t, &batch).await.is_empty());
    staff_enroll(&app, t, &course, &second.id).await;
    let added = app
        .post_as(
            t,
            &format!("/api/v1/batches/{batch}/members"),
            &json!({ "studentId": second.id }),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);

    let deleted = app.delete_as(t, &format!("/api/v1/batches/{batch}")).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let mine = app
        .get_as(&second.access_token, "/api/v1/enrollments/my-courses")
        .await;
    let row = &mine.body["data"]["enrollments"][0];
    assert_eq!(row["status"], "ACTIVE");
    assert_eq!(row["batchId"], Value::Null);
}

#[tokio::test]
async fn a_batch_of_another_course_is_a_400_naming_batch_id() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let t = &teacher.access_token;
    let (course, _, _) = published(&app, t, "Here").await;
    let (other, _, _) = published(&app, t, "There").await;
    let foreign = create_batch(&app, t, &other, json!({ "name": "Theirs" })).await;
    let answer = app
        .post_as(
            t,
            &format!("/api/v1/courses/{course}/enrollments"),
            &json!({ "studentId": student.id, "batchId": foreign }),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(error_fields(&answer.body), ["batchId"]);
    let roster = app
        .get_as(t, &format!("/api/v1/courses/{course}/enrollments"))
        .await;
    assert_eq!(roster.body["data"]["pagination"]["total"], 0);
}

#[tokio::test]
async fn twenty_students_joining_a_batch_of_five_at_once_leave_exactly_five_members() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let t = &teacher.access_token;
    let (course, _, _) = published(&app, t, "Rush").await;
    let batch = create_batch(&app, t, &course, json!({ "name": "Five", "capacity": 5 })).await;
    let mut students = Vec::new();
    for _ in 0..20 {
        let s = app.register("STUDENT").await;
        staff_enroll(&app, t, &course, &s.id).await;
        students.push(s);
    }
    let path = format!("/api/v1/batches/{batch}/members");
    let joins = students.iter().map(|s| {
        let body = json!({ "studentId": s.id });
        let path = path.clone();
        let app = &app;
        async move { app.post_as(t, &path, &body).await }
    });
    let answers = futures_util::future::join_all(joins).await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [vec![201; 5], vec![409; 15]].concat(),
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    for refused in answers.iter().filter(|a| a.status == 409) {
        assert_eq!(
            error_fields(&refused.body),
            ["capacity"],
            "{}",
            refused.body
        );
    }
    assert_eq!(member_ids(&app, t, &batch).await.len(), 5);
    let list = app
        .get_as(t, &format!("/api/v1/courses/{course}/batches"))
        .await;
    assert_eq!(list.body["data"]["batches"][0]["members"], 5);
}
