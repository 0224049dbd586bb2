//! Dashboards and analytics over HTTP against a known history: exact figures from the
//! roll-ups, a re-run and a run stopped half-way giving the same rows, who may see
//! what, and heartbeats that try to count time they did not spend.

use chrono::{Duration, NaiveDate, Utc};
use edupro_server::service::analytics::{consumer, rollup};
use edupro_server::service::events::follow;
use edupro_server::store::entity::{daily_stat, notification_cursor};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::catalogue_helpers::{add_lesson, error_fields, published};
use crate::enrollments::{enroll, progress};
use crate::helpers::{TestApp, TestUser, spawn_app};

/// The school of these tests: a teacher's course with two lessons and three students,
/// another teacher's course, a parent linked to the first student and one who is not.
struct School {
    admin: TestUser,
    teacher: TestUser,
    other_teacher: TestUser,
    course: String,
    lessons: [String; 2],
    other_lesson: String,
    students: [TestUser; 3],
    parent: TestUser,
    other_parent: TestUser,
}

async fn school(app: &TestApp) -> School {
    let admin = app.admin().await;
    let teacher = app.register("TEACHER").await;
    let other_teacher = app.register("TEACHER").await;
    let (course, section, first) = published(app, &teacher.access_token, "Algebra").await;
    let second = add_lesson(app, &teacher.access_token, &section, "Equations", true).await;
    let (_, _, other_lesson) = published(app, &other_teacher.access_token, "Biology").await;
    let students = [
        app.register("STUDENT").await,
        app.register("STUDENT").await,
        app.register("STUDENT").await,
    ];
    let parent = app.register("PARENT").await;
    let other_parent = app.register("PARENT").await;
    let linked = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/children", parent.id),
            &json!({ "childId": students[0].id }),
        )
        .await;
    assert_eq!(linked.status, 201, "{}", linked.body);
    School {
        admin,
        teacher,
        other_teacher,
        course,
        lessons: [first, second],
        other_lesson,
        students,
        parent,
        other_parent,
    }
}

fn day(ago: i64) -> NaiveDate {
    Utc::now().date_naive() - Duration::days(ago)
}

/// Noon UTC `ago` days back, plus `minutes`.
fn at(ago: i64, minutes: i64) -> String {
    (day(ago).and_hms_opt(12, 0, 0).expect("noon").and_utc() + Duration::minutes(minutes))
        .to_rfc3339()
}

fn row(user: &TestUser, kind: &str, lesson: Option<&str>, seconds: u32, when: String) -> Value {
    let mut row = json!({
        "id": Uuid::now_v7(), "userId": user.id, "kind": kind, "seconds": seconds, "at": when,
    });
    if let Some(lesson) = lesson {
        row["lessonId"] = json!(lesson);
    }
    row
}

/// Everything the event consumer has not turned into activity yet, then the roll-ups.
async fn roll_up(app: &TestApp, admin: &TestUser) {
    follow::drain(&app.state, &consumer::Activity)
        .await
        .expect("events drained");
    let answer = app
        .post_as(&admin.access_token, "/api/v1/analytics/rollup", &json!({}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

fn series(points: &Value) -> Vec<(String, i64)> {
    points
        .as_array()
        .expect("series")
        .iter()
        .filter(|p| p["value"].as_i64() != Some(0))
        .map(|p| {
            (
                p["date"].as_str().expect("date").to_owned(),
                p["value"].as_i64().expect("value"),
            )
        })
        .collect()
}

/// The history: two students' time on the lessons three and two days ago, sign-ins,
/// and (today, through the API) three enrollments and progress reports.
async fn history(app: &TestApp, s: &School) {
    let [first, second] = &s.lessons;
    let [a, b, _] = &s.students;
    let mut enrollments = Vec::new();
    for student in &s.students {
        enrollments.push(enroll(app, &student.access_token, &s.course).await);
    }
    let rows = json!({ "rows": [
        row(a, "SIGN_IN", None, 0, at(3, 0)),
        row(a, "LESSON_TIME", Some(first), 600, at(3, 10)),
        row(a, "VIDEO_WATCHED", Some(first), 300, at(3, 10)),
        row(a, "LESSON_TIME", Some(second), 120, at(2, 0)),
        row(b, "LESSON_TIME", Some(first), 60, at(3, 30)),
        row(b, "SIGN_IN", None, 0, at(2, 5)),
        row(&s.teacher, "SIGN_IN", None, 0, at(2, 0)),
    ]});
    let imported = app
        .post_as(&s.admin.access_token, "/api/v1/activity/import", &rows)
        .await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    assert_eq!(imported.body["data"]["imported"], 7);
    // Importing again adds nothing.
    let again = app
        .post_as(&s.admin.access_token, "/api/v1/activity/import", &rows)
        .await;
    assert_eq!(again.body["data"]["duplicates"], 7, "{}", again.body);

    // Today: the first student finishes both lessons (the course), the second one.
    let (a_enrollment, b_enrollment) = (&enrollments[0], &enrollments[1]);
    for lesson in [first, second] {
        let done = progress(app, &a.access_token, a_enrollment, lesson, true, 30).await;
        assert_eq!(done.status, 200, "{}", done.body);
    }
    let done = progress(app, &b.access_token, b_enrollment, first, true, 45).await;
    assert_eq!(done.status, 200, "{}", done.body);
    roll_up(app, &s.admin).await;
}

#[tokio::test]
async fn course_analytics_add_up_the_known_history_exactly() {
    let app = spawn_app().await;
    let s = school(&app).await;
    history(&app, &s).await;
    let range = format!("since={}&until={}", day(3), day(0));
    let answer = app
        .get_as(
            &s.teacher.access_token,
            &format!("/api/v1/analytics/course/{}?{range}", s.course),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let report = &answer.body["data"];
    let d = |ago| day(ago).to_string();
    assert_eq!(report["totalEnrollments"], 3);
    assert_eq!(report["completionRate"], 33.3, "one of three completed");
    assert_eq!(
        series(&report["timeSpent"]),
        [(d(3), 660), (d(2), 120), (d(0), 105)],
        "{report}"
    );
    assert_eq!(series(&report["watchTime"]), [(d(3), 300)]);
    assert_eq!(
        series(&report["activeStudents"]),
        [(d(3), 2), (d(2), 1), (d(0), 2)],
        "enrolling is not learning, a progress report is: {report}"
    );
    let trend: Vec<(String, i64)> = report["enrollmentTrend"]
        .as_array()
        .expect("trend")
        .iter()
        .filter(|p| p["count"] != 0)
        .map(|p| {
            (
                p["date"].as_str().expect("date").to_owned(),
                p["count"].as_i64().expect("n"),
            )
        })
        .collect();
    assert_eq!(trend, [(d(0), 3)]);
    let funnel = report["funnel"].as_array().expect("funnel");
    assert_eq!(funnel.len(), 2);
    assert_eq!(
        (
            &funnel[0]["title"],
            &funnel[0]["completed"],
            &funnel[0]["completionRate"]
        ),
        (&json!("Welcome"), &json!(2), &json!(66.7))
    );
    assert_eq!(
        (&funnel[0]["timeSpent"], &funnel[0]["watchTime"]),
        (&json!(660 + 30 + 45), &json!(300))
    );
    assert_eq!(
        (&funnel[1]["completed"], &funnel[1]["timeSpent"]),
        (&json!(1), &json!(120 + 30))
    );
    assert_eq!(
        report["studentEngagement"],
        json!({ "avgTimeSpent": 295.0, "avgProgress": 50.0 }),
        "(660 + 120 + 105) s over 3 students; (100 + 50 + 0) % / 3"
    );
    // The third student sits far behind the cohort (median 50 %).
    let risk = report["studentsAtRisk"].as_array().expect("at risk");
    assert_eq!(risk.len(), 1, "{report}");
    assert_eq!(risk[0]["student"]["id"], s.students[2].id.as_str());
    assert_eq!(
        risk[0]["reasons"],
        json!(["behind the cohort: 0 % against a median of 50 %"])
    );

    // CSV: every series, every day.
    let csv = app
        .send_raw(
            app.client
                .get(app.url(&format!("/api/v1/analytics/course/{}?{range}", s.course)))
                .bearer_auth(&s.teacher.access_token)
                .header("Accept", "text/csv"),
        )
        .await;
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.expect("csv");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "series,date,value");
    assert_eq!(lines.len(), 1 + 4 * 4, "4 series × 4 days: {text}");
    assert!(
        text.contains(&format!("time_spent_seconds,{},660", d(3))),
        "{text}"
    );

    // The student's own view and the school's.
    let student = app
        .get_as(
            &s.students[0].access_token,
            &format!("/api/v1/analytics/student/{}?{range}", s.students[0].id),
        )
        .await;
    assert_eq!(student.status, 200, "{}", student.body);
    let student = &student.body["data"];
    assert_eq!(student["timeSpent"], 600 + 120 + 60);
    assert_eq!(student["coursesCompleted"], 1);
    assert_eq!(student["overallProgress"], 100.0);
    assert_eq!(student["courses"][0]["timeSpent"], 780);

    let school = app
        .get_as(
            &s.admin.access_token,
            &format!("/api/v1/dashboard/admin?{range}"),
        )
        .await;
    assert_eq!(school.status, 200, "{}", school.body);
    let school = &school.body["data"];
    let users = school["stats"]["totalUsers"].as_i64().expect("users");
    assert_eq!(users, 8, "an admin, 2 teachers, 3 students, 2 parents");
    assert_eq!(
        series(&school["dailyActive"]),
        [(d(3), 2), (d(2), 3), (d(0), users)],
        "everyone signed in today: {school}"
    );
    assert_eq!(school["stats"]["dau"], users);
    assert_eq!(school["stats"]["wau"], users);
    assert_eq!(series(&school["signups"]), [(d(0), users)]);
}

#[tokio::test]
async fn dashboards_answer_each_role_with_its_own_figures() {
    let app = spawn_app().await;
    let s = school(&app).await;
    history(&app, &s).await;
    let mine = app
        .get_as(&s.students[1].access_token, "/api/v1/dashboard/student")
        .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let mine = &mine.body["data"];
    assert_eq!(mine["stats"]["enrolledCourses"], 1);
    assert_eq!(mine["stats"]["completedCourses"], 0);
    assert_eq!(
        mine["stats"]["totalXP"], 15,
        "a lesson (10) and the day (5)"
    );
    assert_eq!(mine["recentCourses"][0]["progressPercent"], 50);
    assert_eq!(
        series(&mine["timeSpent"]),
        [(day(3).to_string(), 60), (day(0).to_string(), 45)]
    );

    let teacher = app
        .get_as(&s.teacher.access_token, "/api/v1/dashboard/teacher")
        .await;
    assert_eq!(teacher.status, 200, "{}", teacher.body);
    let teacher = &teacher.body["data"];
    assert_eq!(teacher["stats"]["totalCourses"], 1);
    assert_eq!(teacher["stats"]["totalStudents"], 3);
    assert_eq!(teacher["stats"]["totalRevenue"], json!([]));
    assert_eq!(
        teacher["recentEnrollments"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(
        teacher["studentsAtRisk"][0]["student"]["id"],
        s.students[2].id.as_str()
    );
    assert_eq!(
        series(&teacher["activeStudents"]),
        [
            (day(3).to_string(), 2),
            (day(2).to_string(), 1),
            (day(0).to_string(), 2)
        ]
    );
    // The other teacher's dashboard has none of it.
    let other = app
        .get_as(&s.other_teacher.access_token, "/api/v1/dashboard/teacher")
        .await;
    assert_eq!(other.body["data"]["stats"]["totalStudents"], 0);
    assert_eq!(other.body["data"]["studentsAtRisk"], json!([]));

    // Each dashboard is for its role.
    for (user, path) in [
        (&s.teacher, "/api/v1/dashboard/student"),
        (&s.students[0], "/api/v1/dashboard/teacher"),
        (&s.teacher, "/api/v1/dashboard/admin"),
        (&s.parent, "/api/v1/dashboard/admin"),
    ] {
        let answer = app.get_as(&user.access_token, path).await;
        assert_eq!(answer.status, 403, "{path}: {}", answer.body);
    }
    // A backwards or too long range names its field.
    let backwards = app
        .get_as(
            &s.admin.access_token,
            &format!("/api/v1/dashboard/admin?since={}&until={}", day(0), day(3)),
        )
        .await;
    assert_eq!(backwards.status, 400);
    assert_eq!(error_fields(&backwards.body), ["since"]);
}

#[tokio::test]
async fn who_sees_a_students_and_a_courses_analytics() {
    let app = spawn_app().await;
    let s = school(&app).await;
    history(&app, &s).await;
    let student = format!("/api/v1/analytics/student/{}", s.students[0].id);
    let course = format!("/api/v1/analytics/course/{}", s.course);
    let cases: [(&str, &TestUser, u16, u16); 7] = [
        ("the student", &s.students[0], 200, 403),
        ("another student", &s.students[1], 403, 403),
        ("their parent", &s.parent, 200, 403),
        ("another parent", &s.other_parent, 403, 403),
        ("the course's teacher", &s.teacher, 200, 200),
        ("another teacher", &s.other_teacher, 403, 403),
        ("an admin", &s.admin, 200, 200),
    ];
    for (who, user, on_student, on_course) in cases {
        let answer = app.get_as(&user.access_token, &student).await;
        assert_eq!(
            answer.status, on_student,
            "{who} on the student: {}",
            answer.body
        );
        let answer = app.get_as(&user.access_token, &course).await;
        assert_eq!(
            answer.status, on_course,
            "{who} on the course: {}",
            answer.body
        );
    }
    // A teacher sees only their courses' part of a student.
    let seen = app.get_as(&s.teacher.access_token, &student).await;
    let courses: Vec<&str> = seen.body["data"]["courses"]
        .as_array()
        .expect("courses")
        .iter()
        .map(|c| c["course"]["title"].as_str().expect("title"))
        .collect();
    assert_eq!(courses, ["Algebra"]);
}

#[tokio::test]
async fn heartbeats_count_time_once_and_refuse_what_was_not_spent() {
    let app = spawn_app().await;
    let s = school(&app).await;
    let student = &s.students[0];
    enroll(&app, &student.access_token, &s.course).await;
    let lesson = &s.lessons[0];
    let now = Utc::now();
    let beat = |id: Uuid, ago_s: i64, seconds: u32, lesson: &str| {
        json!({ "id": id, "kind": "LESSON", "lessonId": lesson, "seconds": seconds,
                "at": (now - Duration::seconds(ago_s)).to_rfc3339() })
    };
    let send = |beats: Vec<Value>| {
        let app = &app;
        async move {
            app.post_as(
                &student.access_token,
                "/api/v1/activity",
                &json!({ "heartbeats": beats }),
            )
            .await
        }
    };
    let first = Uuid::now_v7();
    let ok = send(vec![
        beat(first, 120, 60, lesson),
        json!({ "id": Uuid::now_v7(), "kind": "VIDEO", "lessonId": lesson, "seconds": 60,
                "position": 95, "at": (now - Duration::seconds(90)).to_rfc3339() }),
    ])
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["data"], json!({ "accepted": 2, "duplicates": 0 }));
    // The same heartbeat again is a duplicate, not new time.
    let again = send(vec![beat(first, 120, 60, lesson)]).await;
    assert_eq!(
        again.body["data"],
        json!({ "accepted": 0, "duplicates": 1 })
    );

    // Too fast: 60 s ending 90 s ago start 150 s ago, before the stored minute ended
    // (120 s ago).
    let overlap = send(vec![beat(Uuid::now_v7(), 90, 60, lesson)]).await;
    assert_eq!(overlap.status, 400, "{}", overlap.body);
    assert_eq!(error_fields(&overlap.body), ["heartbeats[0].at"]);
    // Two in one batch that overlap each other.
    let twins = send(vec![
        beat(Uuid::now_v7(), 10, 60, lesson),
        beat(Uuid::now_v7(), 5, 60, lesson),
    ])
    .await;
    assert_eq!(twins.status, 400, "{}", twins.body);
    // The future, a week ago, an impossible length, a lesson of a course not taken.
    let future = send(vec![beat(Uuid::now_v7(), -3600, 60, lesson)]).await;
    assert_eq!(error_fields(&future.body), ["heartbeats[0].at"]);
    let old = send(vec![beat(Uuid::now_v7(), 8 * 86_400, 60, lesson)]).await;
    assert_eq!(error_fields(&old.body), ["heartbeats[0].at"]);
    let long = send(vec![beat(Uuid::now_v7(), 1, 301, lesson)]).await;
    assert_eq!(error_fields(&long.body), ["heartbeats[0].seconds"]);
    let foreign = send(vec![beat(Uuid::now_v7(), 1, 10, &s.other_lesson)]).await;
    assert_eq!(error_fields(&foreign.body), ["heartbeats[0].lessonId"]);
    // A refused batch stores none of its heartbeats.
    let mixed = send(vec![
        beat(Uuid::now_v7(), 1, 10, lesson),
        beat(Uuid::now_v7(), 1, 10, &s.other_lesson),
    ])
    .await;
    assert_eq!(mixed.status, 400);
    // Only students, and not too often.
    let teacher = app
        .post_as(
            &s.teacher.access_token,
            "/api/v1/activity",
            &json!({ "heartbeats": [beat(Uuid::now_v7(), 1, 10, lesson)] }),
        )
        .await;
    assert_eq!(teacher.status, 403);
    let mut limited = None;
    for _ in 0..40 {
        let answer = send(vec![beat(first, 120, 60, lesson)]).await;
        if answer.status == 429 {
            limited = Some(answer);
            break;
        }
    }
    assert!(limited.is_some(), "30 requests a minute, then 429");

    roll_up(&app, &s.admin).await;
    let seen = app
        .get_as(
            &s.teacher.access_token,
            &format!("/api/v1/analytics/course/{}", s.course),
        )
        .await;
    let report = &seen.body["data"];
    assert_eq!(
        (
            &report["funnel"][0]["timeSpent"],
            &report["funnel"][0]["watchTime"]
        ),
        (&json!(60), &json!(60)),
        "only the accepted minute of each: {report}"
    );
}

async fn stats(app: &TestApp) -> Vec<(NaiveDate, String, Uuid, Uuid, String, i64)> {
    daily_stat::Entity::find()
        .order_by_asc(daily_stat::Column::Day)
        .order_by_asc(daily_stat::Column::Scope)
        .order_by_asc(daily_stat::Column::Subject)
        .order_by_asc(daily_stat::Column::Object)
        .order_by_asc(daily_stat::Column::Metric)
        .all(&app.state.db)
        .await
        .expect("stats")
        .into_iter()
        .map(|r| (r.day, r.scope, r.subject, r.object, r.metric, r.value))
        .collect()
}

async fn rewind(app: &TestApp) {
    notification_cursor::Entity::update_many()
        .col_expr(notification_cursor::Column::EventSeq, Expr::value(0i64))
        .filter(notification_cursor::Column::Name.eq("rollup"))
        .exec(&app.state.db)
        .await
        .expect("cursor rewound");
}

#[tokio::test]
async fn rolling_up_again_or_after_a_stop_half_way_gives_the_same_rows() {
    let app = spawn_app().await;
    let s = school(&app).await;
    history(&app, &s).await;
    let first = stats(&app).await;
    assert!(!first.is_empty());
    // Again, and again from the very start: the same rows.
    rollup::catch_up(&app.state).await.expect("re-run");
    assert_eq!(stats(&app).await, first);
    rewind(&app).await;
    let report = rollup::catch_up(&app.state).await.expect("from the start");
    assert!(report.days >= 4, "{report:?}");
    assert_eq!(stats(&app).await, first);

    // New history on two days; a run that recomputed one of them and stopped (the
    // cursor not advanced), then the next run, as after a restart.
    let [a, _, c] = &s.students;
    let rows = json!({ "rows": [
        row(a, "LESSON_TIME", Some(&s.lessons[0]), 100, at(5, 0)),
        row(c, "LESSON_TIME", Some(&s.lessons[1]), 200, at(2, 30)),
    ]});
    let imported = app
        .post_as(&s.admin.access_token, "/api/v1/activity/import", &rows)
        .await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    rollup::recompute_day(&app.state, day(5))
        .await
        .expect("one day");
    rollup::catch_up(&app.state).await.expect("the next run");
    let resumed = stats(&app).await;
    // The same as computing everything from nothing.
    daily_stat::Entity::delete_many()
        .exec(&app.state.db)
        .await
        .expect("emptied");
    rewind(&app).await;
    rollup::catch_up(&app.state).await.expect("from nothing");
    assert_eq!(stats(&app).await, resumed);
    let time_on = |ago: i64| {
        resumed
            .iter()
            .filter(|r| r.0 == day(ago) && r.1 == "COURSE" && r.4 == "TIME_SPENT")
            .map(|r| r.5)
            .sum::<i64>()
    };
    assert_eq!((time_on(5), time_on(2)), (100, 120 + 200));
}
