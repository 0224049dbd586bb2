//! Live classes over real HTTP: scheduling and clashes (host, batch, concurrent),
//! weekly series, capacity, attendance with absentees, visibility, notifications,
//! reminders exactly once across a restart, the iCalendar feed, and the class room
//! (chat and presence) over a real WebSocket.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::catalogue_helpers::draft;
use crate::helpers::{Answer, TestApp, TestUser, spawn_app, spawn_app_with};

/// `minutes` from now, as the API takes instants.
fn at(minutes: i64) -> String {
    (Utc::now() + Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not an instant: {v}"))
}

async fn enroll(app: &TestApp, token: &str, course: &str, student: &TestUser) {
    let answer = app
        .post_as(
            token,
            &format!("/api/v1/courses/{course}/enrollments"),
            &json!({ "studentId": student.id }),
        )
        .await;
    assert_eq!(answer.status, 201, "enroll: {}", answer.body);
}

async fn batch(
    app: &TestApp,
    token: &str,
    course: &str,
    name: &str,
    members: &[&TestUser],
) -> String {
    let answer = app
        .post_as(
            token,
            &format!("/api/v1/courses/{course}/batches"),
            &json!({ "name": name }),
        )
        .await;
    assert_eq!(answer.status, 201, "batch: {}", answer.body);
    let id = answer.body["data"]["id"]
        .as_str()
        .expect("batch id")
        .to_owned();
    for m in members {
        let seated = app
            .post_as(
                token,
                &format!("/api/v1/batches/{id}/members"),
                &json!({ "studentId": m.id }),
            )
            .await;
        assert_eq!(seated.status, 201, "seat: {}", seated.body);
    }
    id
}

/// A teacher's draft course with `n` enrolled students.
async fn school(app: &TestApp, n: usize) -> (TestUser, String, Vec<TestUser>) {
    let teacher = app.register("TEACHER").await;
    let course = draft(app, &teacher.access_token, "Algebra").await;
    let mut students = Vec::new();
    for _ in 0..n {
        let s = app.register("STUDENT").await;
        enroll(app, &teacher.access_token, &course, &s).await;
        students.push(s);
    }
    (teacher, course, students)
}

async fn schedule(app: &TestApp, token: &str, body: Value) -> Answer {
    app.post_as(token, "/api/v1/live-classes", &body).await
}

async fn class_at(
    app: &TestApp,
    token: &str,
    course: &str,
    title: &str,
    minutes: i64,
    extra: Value,
) -> String {
    let mut body = json!({
        "courseId": course, "title": title, "scheduledAt": at(minutes), "duration": 60,
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let answer = schedule(app, token, body).await;
    assert_eq!(answer.status, 201, "schedule {title}: {}", answer.body);
    answer.body["data"]["id"]
        .as_str()
        .expect("class id")
        .to_owned()
}

async fn join(app: &TestApp, student: &TestUser, id: &str) -> Answer {
    app.post_as(
        &student.access_token,
        &format!("/api/v1/live-classes/{id}/join"),
        &json!({}),
    )
    .await
}

fn titles(answer: &Answer) -> Vec<String> {
    answer.body["data"]["classes"]
        .as_array()
        .unwrap_or_else(|| panic!("classes: {}", answer.body))
        .iter()
        .map(|c| c["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The student's notifications of `kind`, waiting (polling) until `count` exist.
async fn notifications_of(app: &TestApp, user: &TestUser, kind: &str, count: usize) -> Vec<Value> {
    let mut found = Vec::new();
    for _ in 0..200 {
        let answer = app
            .get_as(&user.access_token, "/api/v1/notifications?limit=100")
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        found = answer.body["data"]["notifications"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|n| n["type"] == kind)
            .collect();
        if found.len() >= count {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    found
}

#[tokio::test]
async fn a_host_cannot_hold_two_overlapping_classes_even_in_different_courses() {
    let app = spawn_app().await;
    let (teacher, course, _) = school(&app, 0).await;
    let other_course = draft(&app, &teacher.access_token, "Geometry").await;
    let first = class_at(
        &app,
        &teacher.access_token,
        &course,
        "Algebra 1",
        60,
        json!({}),
    )
    .await;

    let clash = schedule(
        &app,
        &teacher.access_token,
        json!({ "courseId": other_course, "title": "Geometry 1", "scheduledAt": at(90), "duration": 30 }),
    )
    .await;
    assert_eq!(clash.status, 409, "{}", clash.body);
    let message = clash.body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Algebra 1") && message.contains(&first),
        "{message}"
    );
    assert!(message.contains("same host"), "{message}");
    assert_eq!(
        clash.body["errors"][0]["field"], "scheduledAt",
        "{}",
        clash.body
    );

    // Back to back is no clash.
    let after = schedule(
        &app,
        &teacher.access_token,
        json!({ "courseId": other_course, "title": "Geometry 1", "scheduledAt": at(120), "duration": 30 }),
    )
    .await;
    assert_eq!(after.status, 201, "{}", after.body);
}

#[tokio::test]
async fn a_batch_cannot_have_two_overlapping_classes_but_another_batch_can() {
    let app = spawn_app().await;
    let (teacher, course, students) = school(&app, 2).await;
    let co = app.register("TEACHER").await;
    crate::catalogue_helpers::add_staff(&app, &teacher.access_token, &course, &co.id, "CO_TEACHER")
        .await;
    let red = batch(&app, &teacher.access_token, &course, "Red", &[&students[0]]).await;
    let blue = batch(
        &app,
        &teacher.access_token,
        &course,
        "Blue",
        &[&students[1]],
    )
    .await;
    class_at(
        &app,
        &teacher.access_token,
        &course,
        "Red session",
        60,
        json!({ "batchId": red }),
    )
    .await;

    let body = |batch: &str| {
        json!({ "courseId": course, "batchId": batch, "title": "Co session", "scheduledAt": at(75),
                "duration": 30, "hostId": co.id })
    };
    let clash = schedule(&app, &co.access_token, body(&red)).await;
    assert_eq!(clash.status, 409, "{}", clash.body);
    let message = clash.body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Red session") && message.contains("same batch"),
        "{message}"
    );

    let other = schedule(&app, &co.access_token, body(&blue)).await;
    assert_eq!(other.status, 201, "{}", other.body);

    // A course-wide class involves every batch.
    let everyone = schedule(
        &app,
        &co.access_token,
        json!({ "courseId": course, "title": "All hands", "scheduledAt": at(65), "duration": 10 }),
    )
    .await;
    assert_eq!(everyone.status, 409, "{}", everyone.body);
}

#[tokio::test]
async fn concurrent_creates_for_one_host_and_slot_leave_exactly_one_class() {
    let app = spawn_app().await;
    let (teacher, course, _) = school(&app, 0).await;
    let when = at(180);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let client = app.client.clone();
        let url = app.url("/api/v1/live-classes");
        let token = teacher.access_token.clone();
        let body = json!({ "courseId": course, "title": format!("Race {i}"), "scheduledAt": when, "duration": 45 });
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("sent")
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    statuses.sort();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
    let list = app
        .get_as(&teacher.access_token, "/api/v1/live-classes")
        .await;
    assert_eq!(list.body["data"]["pagination"]["total"], 1, "{}", list.body);
}

#[tokio::test]
async fn a_weekly_series_expands_and_one_occurrence_or_the_rest_can_change() {
    let app = spawn_app().await;
    let (teacher, course, _) = school(&app, 0).await;
    // Next Monday, 10:00 UTC, at least a day away.
    let mut monday = (Utc::now() + Duration::days(1)).date_naive();
    while chrono::Datelike::weekday(&monday) != chrono::Weekday::Mon {
        monday = monday.succ_opt().expect("date");
    }
    let first = monday.and_hms_opt(10, 0, 0).expect("time").and_utc();
    let created = schedule(
        &app,
        &teacher.access_token,
        json!({ "courseId": course, "title": "Drill", "scheduledAt": first.to_rfc3339(), "duration": 50,
                "recurrence": { "daysOfWeek": ["MON", "THU"], "count": 5 } }),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let occurrences = created.body["data"]["occurrences"]
        .as_array()
        .expect("occurrences")
        .clone();
    let starts: Vec<DateTime<Utc>> = occurrences
        .iter()
        .map(|o| instant(&o["scheduledAt"]))
        .collect();
    let days = |n: i64| first + Duration::days(n);
    assert_eq!(starts, vec![days(0), days(3), days(7), days(10), days(14)]);
    let series = created.body["data"]["seriesId"]
        .as_str()
        .expect("series id")
        .to_owned();
    assert!(occurrences.iter().all(|o| o["seriesId"] == series));

    // Cancel the second occurrence only.
    let second = occurrences[1]["id"].as_str().expect("id");
    let cancelled = app
        .delete_as(
            &teacher.access_token,
            &format!("/api/v1/live-classes/{second}"),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(
        cancelled.body["data"]["classes"].as_array().map(Vec::len),
        Some(1)
    );

    // Move the third and every later one by an hour.
    let third = occurrences[2]["id"].as_str().expect("id");
    let moved = app
        .patch_as(
            &teacher.access_token,
            &format!("/api/v1/live-classes/{third}?scope=following"),
            &json!({ "scheduledAt": (days(7) + Duration::hours(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let moved_starts: Vec<DateTime<Utc>> = moved.body["data"]["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| instant(&c["scheduledAt"]))
        .collect();
    let hour = Duration::hours(1);
    assert_eq!(
        moved_starts,
        vec![days(7) + hour, days(10) + hour, days(14) + hour]
    );

    let list = app
        .get_as(
            &teacher.access_token,
            &format!("/api/v1/live-classes?seriesId={series}&status=upcoming"),
        )
        .await;
    assert_eq!(list.body["data"]["pagination"]["total"], 4, "{}", list.body);

    // Cancel what is left of the series.
    let rest = app
        .delete_as(
            &teacher.access_token,
            &format!("/api/v1/live-classes/{third}?scope=series"),
        )
        .await;
    assert_eq!(rest.status, 200, "{}", rest.body);
    assert_eq!(
        rest.body["data"]["classes"].as_array().map(Vec::len),
        Some(4)
    );
    let cancelled = app
        .get_as(
            &teacher.access_token,
            &format!("/api/v1/live-classes?seriesId={series}&status=cancelled"),
        )
        .await;
    assert_eq!(
        cancelled.body["data"]["pagination"]["total"], 5,
        "{}",
        cancelled.body
    );
}

#[tokio::test]
async fn a_series_that_would_clash_is_not_created_at_all() {
    let app = spawn_app().await;
    let (teacher, course, _) = school(&app, 0).await;
    let start = Utc::now() + Duration::days(2);
    class_at(
        &app,
        &teacher.access_token,
        &course,
        "Blocker",
        2 * 24 * 60 + 7 * 24 * 60,
        json!({}),
    )
    .await;
    let weekday = chrono::Datelike::weekday(&start).to_string().to_uppercase();
    let answer = schedule(
        &app,
        &teacher.access_token,
        json!({ "courseId": course, "title": "Weekly", "scheduledAt": start.to_rfc3339(), "duration": 60,
                "recurrence": { "daysOfWeek": [weekday], "count": 3 } }),
    )
    .await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Blocker")
    );
    let list = app
        .get_as(&teacher.access_token, "/api/v1/live-classes")
        .await;
    assert_eq!(titles(&list), vec!["Blocker"]);
}

#[tokio::test]
async fn bad_fields_are_named() {
    let app = spawn_app().await;
    let (teacher, course, _) = school(&app, 0).await;
    let answer = schedule(
        &app,
        &teacher.access_token,
        json!({ "courseId": course, "title": "", "scheduledAt": at(-60), "duration": 0, "capacity": 0,
                "platform": "ZOOM", "reminderMinutes": -1,
                "recurrence": { "daysOfWeek": [], "count": 2 } }),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    let mut fields = crate::catalogue_helpers::error_fields(&answer.body);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "capacity",
            "duration",
            "meetingUrl",
            "recurrence.daysOfWeek",
            "reminderMinutes",
            "scheduledAt",
            "title"
        ]
    );
    let stranger = app.register("TEACHER").await;
    let answer = schedule(
        &app,
        &teacher.access_token,
        json!({ "courseId": course, "title": "x", "scheduledAt": at(60), "duration": 30, "hostId": stranger.id }),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["errors"][0]["field"], "hostId");
    let answer = schedule(
        &app,
        &stranger.access_token,
        json!({ "courseId": course, "title": "x", "scheduledAt": at(60), "duration": 30 }),
    )
    .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
}

#[tokio::test]
async fn joining_is_for_enrolled_students_within_capacity() {
    let app = spawn_app().await;
    let (teacher, course, students) = school(&app, 3).await;
    let id = class_at(
        &app,
        &teacher.access_token,
        &course,
        "Small group",
        5,
        json!({ "capacity": 2, "platform": "ZOOM", "meetingUrl": "https://zoom.test/j/42",
                "meetingId": "42", "meetingPassword": "s3cret" }),
    )
    .await;
    let first = join(&app, &students[0], &id).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["data"]["meetingLink"], "https://zoom.test/j/42");
    assert_eq!(first.body["data"]["password"], "s3cret");
    assert_eq!(first.body["data"]["attendanceRecorded"], true);
    assert_eq!(join(&app, &students[1], &id).await.status, 200);
    let full = join(&app, &students[2], &id).await;
    assert_eq!(full.status, 409, "{}", full.body);
    assert_eq!(full.body["errors"][0]["field"], "capacity");
    // Someone admitted before may come back.
    let left = app
        .post_as(
            &students[0].access_token,
            &format!("/api/v1/live-classes/{id}/leave"),
            &json!({}),
        )
        .await;
    assert_eq!(left.status, 200, "{}", left.body);
    assert_eq!(join(&app, &students[0], &id).await.status, 200);

    // Students don't see the password in the class itself; staff do.
    let seen = app
        .get_as(
            &students[2].access_token,
            &format!("/api/v1/live-classes/{id}"),
        )
        .await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.body["data"]["meetingPassword"], Value::Null);
    let staff = app
        .get_as(&teacher.access_token, &format!("/api/v1/live-classes/{id}"))
        .await;
    assert_eq!(staff.body["data"]["meetingPassword"], "s3cret");

    let outsider = app.register("STUDENT").await;
    assert_eq!(join(&app, &outsider, &id).await.status, 404);
}

#[tokio::test]
async fn a_class_opens_for_joining_shortly_before_its_start() {
    let app = spawn_app().await;
    let (teacher, course, students) = school(&app, 1).await;
    let id = class_at(
        &app,
        &teacher.access_token,
        &course,
        "Later",
        120,
        json!({}),
    )
    .await;
    let early = app
        .post_as(
            &students[0].access_token,
            &format!("/api/v1/live-classes/{id}/join"),
            &json!({}),
        )
        .await;
    assert_eq!(early.status, 422, "{}", early.body);
    assert!(
        early.body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("opens for joining")
    );
}

#[tokio::test]
async fn the_attendance_report_lists_who_came_with_minutes_and_who_never_did() {
    let app = spawn_app().await;
    let (teacher, course, students) = school(&app, 3).await;
    let id = class_at(&app, &teacher.access_token, &course, "Review", 5, json!({})).await;
    let path = |what: &str| format!("/api/v1/live-classes/{id}/{what}");

    let not_host = app
        .post_as(&students[0].access_token, &path("start"), &json!({}))
        .await;
    assert_eq!(not_host.status, 403, "{}", not_host.body);
    let started = app
        .post_as(&teacher.access_token, &path("start"), &json!({}))
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    assert_eq!(started.body["data"]["status"], "LIVE");

    for s in &students[..2] {
        let joined = app
            .post_as(&s.access_token, &path("join"), &json!({}))
            .await;
        assert_eq!(joined.status, 200, "{}", joined.body);
        assert_eq!(joined.body["data"]["room"], format!("live_class:{id}"));
    }
    let left = app
        .post_as(&students[0].access_token, &path("leave"), &json!({}))
        .await;
    assert_eq!(left.status, 200, "{}", left.body);
    let never = app
        .post_as(&students[2].access_token, &path("leave"), &json!({}))
        .await;
    assert_eq!(never.status, 422, "{}", never.body);

    let ended = app
        .post_as(&teacher.access_token, &path("end"), &json!({}))
        .await;
    assert_eq!(ended.status, 200, "{}", ended.body);
    assert_eq!(ended.body["data"]["status"], "COMPLETED");
    let late = app
        .post_as(&students[2].access_token, &path("join"), &json!({}))
        .await;
    assert_eq!(late.status, 422, "{}", late.body);

    let report = app.get_as(&teacher.access_token, &path("attendance")).await;
    assert_eq!(report.status, 200, "{}", report.body);
    let data = &report.body["data"];
    assert_eq!(data["expected"], 3);
    let present: Vec<&str> = data["present"]
        .as_array()
        .expect("present")
        .iter()
        .map(|p| p["student"]["id"].as_str().unwrap_or_default())
        .collect();
    let mut want = vec![students[0].id.as_str(), students[1].id.as_str()];
    want.sort();
    let mut got = present.clone();
    got.sort();
    assert_eq!(got, want);
    for p in data["present"].as_array().expect("present") {
        assert_eq!(p["presentNow"], false, "the end closed every stay: {p}");
        assert!(p["minutes"].as_i64().is_some_and(|m| m >= 0));
        assert!(p["leftAt"].is_string());
    }
    let absent: Vec<&str> = data["absent"]
        .as_array()
        .expect("absent")
        .iter()
        .map(|p| p["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(absent, vec![students[2].id.as_str()]);

    let student_view = app
        .get_as(&students[0].access_token, &path("attendance"))
        .await;
    assert_eq!(student_view.status, 403, "{}", student_view.body);
}

#[tokio::test]
async fn students_see_the_classes_of_their_courses_and_batches_only() {
    let app = spawn_app().await;
    let (teacher, course, students) = school(&app, 2).await;
    let red = batch(&app, &teacher.access_token, &course, "Red", &[&students[0]]).await;
    let open = class_at(
        &app,
        &teacher.access_token,
        &course,
        "Everyone",
        60,
        json!({}),
    )
    .await;
    let red_only = class_at(
        &app,
        &teacher.access_token,
        &course,
        "Red only",
        180,
        json!({ "batchId": red }),
    )
    .await;

    let mine = app
        .get_as(&students[0].access_token, "/api/v1/live-classes")
        .await;
    assert_eq!(titles(&mine), vec!["Everyone", "Red only"]);
    let theirs = app
        .get_as(&students[1].access_token, "/api/v1/live-classes")
        .await;
    assert_eq!(titles(&theirs), vec!["Everyone"]);
    assert_eq!(
        app.get_as(
            &students[1].access_token,
            &format!("/api/v1/live-classes/{red_only}")
        )
        .await
        .status,
        404
    );
    let outsider = app.register("STUDENT").await;
    assert!(
        titles(
            &app.get_as(&outsider.access_token, "/api/v1/live-classes")
                .await
        )
        .is_empty()
    );
    assert_eq!(
        app.get_as(
            &outsider.access_token,
            &format!("/api/v1/live-classes/{open}")
        )
        .await
        .status,
        404
    );
    let other_teacher = app.register("TEACHER").await;
    assert!(
        titles(
            &app.get_as(&other_teacher.access_token, "/api/v1/live-classes")
                .await
        )
        .is_empty()
    );
    let admin = app.admin().await;
    let all = app
        .get_as(
            &admin.access_token,
            &format!("/api/v1/live-classes?courseId={course}"),
        )
        .await;
    assert_eq!(titles(&all), vec!["Everyone", "Red only"]);
    let filtered = app
        .get_as(
            &teacher.access_token,
            &format!("/api/v1/live-classes?batchId={red}&from={}", at(0)),
        )
        .await;
    assert_eq!(titles(&filtered), vec!["Red only"]);
    let window = app
        .get_as(
            &teacher.access_token,
            &format!("/api/v1/live-classes?to={}", urlencode(&at(120))),
        )
        .await;
    assert_eq!(titles(&window), vec!["Everyone"]);
    let bad = app
        .get_as(&teacher.access_token, "/api/v1/live-classes?status=someday")
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn scheduling_rescheduling_and_cancelling_notify_the_enrolled_students() {
    let app = spawn_app_with(|args| {
        args.realtime.notification_poll_interval = Some("100ms".into());
    })
    .await;
    let (teacher, course, students) = school(&app, 1).await;
    let id = class_at(
        &app,
        &teacher.access_token,
        &course,
        "Notified",
        600,
        json!({}),
    )
    .await;
    let moved = app
        .patch_as(
            &teacher.access_token,
            &format!("/api/v1/live-classes/{id}"),
            &json!({ "scheduledAt": at(660) }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(
        app.delete_as(&teacher.access_token, &format!("/api/v1/live-classes/{id}"))
            .await
            .status,
        200
    );
    for kind in ["CLASS_SCHEDULED", "CLASS_RESCHEDULED", "CLASS_CANCELLED"] {
        let found = notifications_of(&app, &students[0], kind, 1).await;
        assert_eq!(found.len(), 1, "{kind}: {found:?}");
        assert_eq!(found[0]["data"]["liveClassId"], id.as_str());
    }
    let teacher_inbox = notifications_of(&app, &teacher, "CLASS_SCHEDULED", 0).await;
    assert!(
        teacher_inbox.is_empty(),
        "the host is not told of their own change"
    );
}

#[tokio::test]
async fn the_calendar_feed_is_rfc_5545_and_opened_by_its_own_token_only() {
    let app = spawn_app().await;
    let (teacher, course, students) = school(&app, 1).await;
    let long_title = format!("Algebra, review; {}", "é".repeat(60));
    let id = class_at(
        &app,
        &teacher.access_token,
        &course,
        &long_title,
        60,
        json!({ "description": "Line one\nLine two" }),
    )
    .await;
    let gone = class_at(
        &app,
        &teacher.access_token,
        &course,
        "Dropped",
        300,
        json!({}),
    )
    .await;
    assert_eq!(
        app.delete_as(
            &teacher.access_token,
            &format!("/api/v1/live-classes/{gone}")
        )
        .await
        .status,
        200
    );

    let token = app
        .post_as(
            &students[0].access_token,
            "/api/v1/live-classes/calendar-token",
            &json!({}),
        )
        .await;
    assert_eq!(token.status, 201, "{}", token.body);
    let url = token.body["data"]["url"].as_str().expect("url").to_owned();
    let response = app.send_raw(app.client.get(app.url(&url))).await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/calendar"),
        "{:?}",
        response.headers()
    );
    let text = response.text().await.expect("body");
    assert!(
        text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
        "{text}"
    );
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "bare LF in {text:?}"
    );
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "line of {} octets: {line}", line.len());
    }
    let unfolded = text.replace("\r\n ", "");
    assert!(
        unfolded.contains(&format!("UID:{id}@edupro\r\n")),
        "{unfolded}"
    );
    assert!(
        unfolded.contains("SUMMARY:Algebra\\, review\\; "),
        "{unfolded}"
    );
    assert!(
        unfolded.contains("DESCRIPTION:Line one\\nLine two\r\n"),
        "{unfolded}"
    );
    assert!(unfolded.contains(&format!("UID:{gone}@edupro\r\n")));
    assert!(unfolded.contains("STATUS:CANCELLED\r\n"));
    assert!(unfolded.contains("STATUS:CONFIRMED\r\n"));
    assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), 2);
    for l in unfolded.split("\r\n").filter(|l| {
        l.starts_with("DTSTART:") || l.starts_with("DTEND:") || l.starts_with("DTSTAMP:")
    }) {
        let value = l.split_once(':').map(|(_, v)| v).unwrap_or_default();
        assert!(value.len() == 16 && value.ends_with('Z'), "{l}");
    }

    // The JWT is not a feed token; a rotated token replaces the old one.
    let with_jwt = app
        .send_raw(app.client.get(app.url(&format!(
            "/api/v1/live-classes/calendar.ics?token={}",
            students[0].access_token
        ))))
        .await;
    assert_eq!(with_jwt.status().as_u16(), 401);
    let rotated = app
        .post_as(
            &students[0].access_token,
            "/api/v1/live-classes/calendar-token",
            &json!({}),
        )
        .await;
    assert_eq!(rotated.status, 201);
    let old = app.send_raw(app.client.get(app.url(&url))).await;
    assert_eq!(old.status().as_u16(), 401);
    let outsider = app.register("STUDENT").await;
    let theirs = app
        .post_as(
            &outsider.access_token,
            "/api/v1/live-classes/calendar-token",
            &json!({}),
        )
        .await;
    let empty = app
        .send_raw(
            app.client
                .get(app.url(theirs.body["data"]["url"].as_str().expect("url"))),
        )
        .await
        .text()
        .await
        .expect("body");
    assert!(!empty.contains("BEGIN:VEVENT"), "{empty}");
}
