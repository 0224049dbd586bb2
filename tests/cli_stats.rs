//! `edupro stats course|student|school` end to end: the real binary against a spawned
//! server. An admin imports a small known history (through the client library's
//! `import_activity`) into a course with two students and rolls it up; the course's,
//! a student's and the school's figures then read exactly that history, as JSON, as
//! the server's CSV and as the human report. A bad `--since` is a usage error naming
//! it; a student may not read another student's analytics.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use edupro::api::ApiClient;
use edupro::error::ClientError;
use edupro_server::api::{
    ActivityImport, ActivityKind, ActivityRecord, Heartbeat, HeartbeatBatch, HeartbeatKind,
};
use harness::{
    PASSWORD, Run, Server, Terminal, access_token, create_admin, register, sign_in, spawn_server,
};
use serde_json::Value;
use uuid::Uuid;

/// The run's JSON, after checking that it succeeded.
fn ok(run: &Run, what: &str) -> Value {
    assert_eq!(run.code, 0, "{what}: {}{}", run.stdout, run.stderr);
    run.json()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).unwrap()
}

/// The school of the tests: `mechanics` (two published lessons) taught by a teacher,
/// with sam and kim enrolled; an admin signed in over HTTP.
struct School {
    teacher: Terminal,
    sam: Terminal,
    kim: Terminal,
    /// The admin's terminal: run with [`School::as_admin`].
    admin: Terminal,
    admin_token: String,
    sam_id: Uuid,
    kim_id: Uuid,
    course: Uuid,
    lessons: [Uuid; 2],
}

impl School {
    /// `edupro ARGS` as the admin.
    async fn as_admin(&self, args: &[&str]) -> Run {
        self.admin
            .run_with(args, "", &[("EDUPRO_TOKEN", &self.admin_token)])
            .await
    }

    /// The admin's client library.
    fn admin_client(&self, server: &Server) -> ApiClient {
        ApiClient::with_token(&server.url, &self.admin_token).unwrap()
    }
}

async fn school(server: &Server) -> School {
    register(server, "teacher@stats.test", "TEACHER").await;
    register(server, "sam@stats.test", "STUDENT").await;
    register(server, "kim@stats.test", "STUDENT").await;
    let (_, sam_id) = sign_in(&server.url, "sam@stats.test").await;
    let (_, kim_id) = sign_in(&server.url, "kim@stats.test").await;
    let teacher = Terminal::new(server);
    teacher.login("teacher@stats.test", PASSWORD).await;
    let sam = Terminal::new(server);
    sam.login("sam@stats.test", PASSWORD).await;
    let kim = Terminal::new(server);
    kim.login("kim@stats.test", PASSWORD).await;

    let course = ok(
        &teacher
            .run(&["courses", "create", "--title", "Mechanics", "--json"])
            .await,
        "create the course",
    );
    let section = ok(
        &teacher
            .run(&[
                "sections",
                "add",
                "mechanics",
                "--title",
                "Forces",
                "--json",
            ])
            .await,
        "add a section",
    );
    let mut lessons = Vec::new();
    for title in ["Newton's laws", "Friction"] {
        let lesson = ok(
            &teacher
                .run(&[
                    "lessons",
                    "add",
                    &id(&section),
                    "--title",
                    title,
                    "--content",
                    "F = ma",
                    "--publish",
                    "--json",
                ])
                .await,
            "add a lesson",
        );
        lessons.push(uuid(&id(&lesson)));
    }
    ok(
        &teacher
            .run(&["courses", "publish", "mechanics", "--yes", "--json"])
            .await,
        "publish",
    );
    for student in [&sam, &kim] {
        ok(
            &student
                .run(&["enrollments", "add", "mechanics", "--json"])
                .await,
            "enroll",
        );
    }
    let secret = create_admin(server, "root@stats.test").await;
    let admin_token = access_token(&server.url, "root@stats.test", PASSWORD, Some(&secret)).await;
    School {
        teacher,
        sam,
        kim,
        admin: Terminal::new(server),
        admin_token,
        sam_id: uuid(&sam_id),
        kim_id: uuid(&kim_id),
        course: uuid(&id(&course)),
        lessons: [lessons[0], lessons[1]],
    }
}

/// `days` days before today (UTC).
fn day(days: i64) -> NaiveDate {
    Utc::now().date_naive() - Duration::days(days)
}

/// `hour`:00 on `date` (UTC).
fn at(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    date.and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap())
        .and_utc()
}

/// The known history: three and two days ago, sam reads both lessons (600 s and
/// 1200 s) and watches 300 s of the first one's video; kim signs in and reads the first
/// lesson for 900 s three days ago.
fn history(s: &School) -> Vec<ActivityRecord> {
    let row = |n: u128, user, kind, lesson: Option<Uuid>, seconds, at| ActivityRecord {
        id: Uuid::from_u128(0x5747_0000 + n),
        user_id: user,
        kind,
        course_id: Some(s.course),
        lesson_id: lesson,
        seconds,
        score: None,
        at,
    };
    let (first, second) = (Some(s.lessons[0]), Some(s.lessons[1]));
    vec![
        row(
            1,
            s.sam_id,
            ActivityKind::LessonOpened,
            first,
            0,
            at(day(3), 9),
        ),
        row(
            2,
            s.sam_id,
            ActivityKind::LessonTime,
            first,
            600,
            at(day(3), 10),
        ),
        row(
            3,
            s.sam_id,
            ActivityKind::VideoWatched,
            first,
            300,
            at(day(3), 11),
        ),
        row(
            4,
            s.sam_id,
            ActivityKind::LessonTime,
            second,
            1200,
            at(day(2), 10),
        ),
        ActivityRecord {
            score: Some(80),
            ..row(
                5,
                s.sam_id,
                ActivityKind::TestGraded,
                None,
                0,
                at(day(2), 12),
            )
        },
        ActivityRecord {
            course_id: None,
            ..row(6, s.kim_id, ActivityKind::SignIn, None, 0, at(day(3), 8))
        },
        row(
            7,
            s.kim_id,
            ActivityKind::LessonTime,
            first,
            900,
            at(day(3), 9),
        ),
    ]
}

/// Imports [`history`] as the admin and rolls it up.
async fn import_history(server: &Server, s: &School) {
    let client = s.admin_client(server);
    let body = ActivityImport { rows: history(s) };
    let receipt = client.import_activity(&body).await.unwrap();
    assert_eq!((receipt.imported, receipt.duplicates), (7, 0));
    let again = client.import_activity(&body).await.unwrap();
    assert_eq!(
        (again.imported, again.duplicates),
        (0, 7),
        "rows are idempotent by id"
    );
    let report = client.rollup().await.unwrap();
    assert!(report.rows >= 7, "{report:?}");
}

/// `--since D --until D` for the four days ending yesterday.
fn range() -> [String; 4] {
    [
        "--since".into(),
        day(4).to_string(),
        "--until".into(),
        day(1).to_string(),
    ]
}

fn with<'a>(args: &[&'a str], range: &'a [String; 4]) -> Vec<&'a str> {
    args.iter()
        .copied()
        .chain(range.iter().map(String::as_str))
        .collect()
}

/// A day series as `[value, …]`, oldest first.
fn values(series: &Value) -> Vec<i64> {
    series
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_courses_stats_read_the_imported_history_as_json_csv_and_a_report() {
    let server = spawn_server().await;
    let s = school(&server).await;
    import_history(&server, &s).await;
    let range = range();

    let json = ok(
        &s.teacher
            .run(&with(&["stats", "course", "mechanics", "--json"], &range))
            .await,
        "stats course --json",
    );
    assert_eq!(json["course"]["title"], "Mechanics");
    assert_eq!(json["since"], day(4).to_string());
    assert_eq!(json["until"], day(1).to_string());
    assert_eq!(json["totalEnrollments"], 2);
    assert_eq!(values(&json["timeSpent"]), [0, 1500, 1200, 0], "{json}");
    assert_eq!(values(&json["watchTime"]), [0, 300, 0, 0]);
    assert_eq!(values(&json["activeStudents"]), [0, 2, 1, 0]);
    assert_eq!(json["studentEngagement"]["avgTimeSpent"], 1350.0);
    let funnel = json["funnel"].as_array().unwrap();
    assert_eq!(funnel.len(), 2);
    assert_eq!(funnel[0]["title"], "Newton's laws");
    assert_eq!(funnel[0]["timeSpent"], 1500);
    assert_eq!(funnel[0]["watchTime"], 300);
    assert_eq!(funnel[1]["title"], "Friction");
    assert_eq!(funnel[1]["timeSpent"], 1200);

    // The server's CSV: every day series, one row a day.
    let csv = s
        .teacher
        .run(&with(&["stats", "course", "mechanics", "--csv"], &range))
        .await;
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines[0], "series,date,value");
    assert_eq!(lines.len(), 1 + 4 * 4, "{}", csv.stdout);
    for expected in [
        format!("time_spent_seconds,{},1500", day(3)),
        format!("time_spent_seconds,{},1200", day(2)),
        format!("watch_time_seconds,{},300", day(3)),
        format!("active_students,{},2", day(3)),
        format!("enrollments,{},0", day(1)),
    ] {
        assert!(
            lines.contains(&expected.as_str()),
            "{expected}:\n{}",
            csv.stdout
        );
    }

    // Piped, the report: headline figures, then the funnel.
    let report = s
        .teacher
        .run(&with(&["stats", "course", "mechanics"], &range))
        .await;
    assert_eq!(report.code, 0, "{}", report.stderr);
    let text = &report.stdout;
    assert!(text.contains("course           Mechanics"), "{text}");
    assert!(
        text.contains("enrolled         2 (0 new in the range)"),
        "{text}"
    );
    assert!(
        text.contains("time on lessons  45m (22m per student)"),
        "{text}"
    );
    assert!(text.contains("video watched    5m"), "{text}");
    assert!(
        text.contains("\nLesson funnel\nNewton's laws\t0\t0%\t25m\t5m\n"),
        "{text}"
    );
    assert!(text.contains("Friction\t0\t0%\t20m\t0s\n"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_students_stats_are_theirs_by_default_and_another_student_is_refused() {
    let server = spawn_server().await;
    let s = school(&server).await;
    import_history(&server, &s).await;
    let range = range();

    // Signed in as sam, no argument: sam.
    let mine = ok(
        &s.sam
            .run(&with(&["stats", "student", "--json"], &range))
            .await,
        "stats student --json",
    );
    assert_eq!(mine["student"]["id"], s.sam_id.to_string());
    assert_eq!(mine["timeSpent"], 1800);
    assert_eq!(values(&mine["timeSeries"]), [0, 600, 1200, 0]);
    assert_eq!(mine["coursesInProgress"], 1);
    assert_eq!(mine["courses"][0]["course"]["title"], "Mechanics");
    assert_eq!(mine["courses"][0]["timeSpent"], 1800);

    // Their teacher names them by email; the CSV has the day series.
    let csv = s
        .teacher
        .run(&with(
            &["stats", "student", "sam@stats.test", "--csv"],
            &range,
        ))
        .await;
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines[0], "series,date,value");
    assert!(
        lines.contains(&format!("time_spent_seconds,{},1200", day(2)).as_str()),
        "{}",
        csv.stdout
    );
    let report = s
        .teacher
        .run(&with(&["stats", "student", "sam@stats.test"], &range))
        .await;
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(
        report.stdout.contains("time spent  30m"),
        "{}",
        report.stdout
    );
    assert!(
        report
            .stdout
            .contains("\nCourses\nMechanics\tACTIVE\t0%\t30m\t-\n"),
        "{}",
        report.stdout
    );

    // Kim may not read sam's.
    let refused = s
        .kim
        .run(&["stats", "student", &s.sam_id.to_string(), "--json"])
        .await;
    assert_eq!(refused.code, 3, "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    assert!(
        refused.stderr.starts_with("error: You "),
        "{}",
        refused.stderr
    );

    // A teacher must name the student.
    let unnamed = s.teacher.run(&["stats", "student"]).await;
    assert_eq!(unnamed.code, 2, "{}", unnamed.stderr);
    assert!(
        unnamed.stderr.contains("name the student"),
        "{}",
        unnamed.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_schools_stats_count_users_and_daily_activity() {
    let server = spawn_server().await;
    let s = school(&server).await;
    import_history(&server, &s).await;
    let range = range();

    let json = ok(
        &s.as_admin(&with(&["stats", "school", "--json"], &range))
            .await,
        "stats school --json",
    );
    let roles: Vec<(String, i64)> = json["stats"]["usersByRole"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["role"].as_str().unwrap().to_owned(),
                r["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("ADMIN".to_owned(), 1),
            ("TEACHER".to_owned(), 1),
            ("STUDENT".to_owned(), 2),
            ("PARENT".to_owned(), 0)
        ]
    );
    assert_eq!(json["stats"]["totalUsers"], 4);
    assert_eq!(json["stats"]["totalCourses"], 1);
    assert_eq!(values(&json["dailyActive"]), [0, 2, 1, 0], "{json}");
    // On the range's last day (yesterday): nobody that day, both in the week.
    assert_eq!(json["stats"]["dau"], 0);
    assert_eq!(json["stats"]["wau"], 2);
    assert_eq!(json["stats"]["mau"], 2);

    let csv = s
        .as_admin(&with(&["stats", "school", "--csv"], &range))
        .await;
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines[0], "series,date,value");
    assert!(
        lines.contains(&format!("daily_active,{},2", day(3)).as_str()),
        "{}",
        csv.stdout
    );
    assert!(
        lines.contains(&format!("signups,{},0", day(3)).as_str()),
        "{}",
        csv.stdout
    );

    let report = s.as_admin(&with(&["stats", "school"], &range)).await;
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(
        report.stdout.contains("dau / wau / mau  0 / 2 / 2"),
        "{}",
        report.stdout
    );
    assert!(
        report.stdout.contains("\nUsers by role\nADMIN\t1\n"),
        "{}",
        report.stdout
    );
    assert!(report.stdout.contains("Mechanics\t"), "{}", report.stdout);

    // Teachers don't see the school's.
    let refused = s.teacher.run(&["stats", "school", "--json"]).await;
    assert_eq!(refused.code, 3, "{}", refused.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_ranges_are_refused_naming_the_flag_and_heartbeats_count_once() {
    let server = spawn_server().await;
    let s = school(&server).await;

    let bad = s
        .teacher
        .run(&["stats", "course", "mechanics", "--since", "2026-13-01"])
        .await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stdout.is_empty());
    assert!(
        bad.stderr.contains(
            "invalid value '2026-13-01' for '--since <DATE>': expected a day as YYYY-MM-DD"
        ),
        "{}",
        bad.stderr
    );

    let backwards = s
        .teacher
        .run(&[
            "stats",
            "course",
            "mechanics",
            "--since",
            "2026-03-02",
            "--until",
            "2026-03-01",
        ])
        .await;
    assert_eq!(backwards.code, 2, "{}", backwards.stderr);
    assert!(
        backwards
            .stderr
            .contains("error: --since 2026-03-02 is after --until 2026-03-01"),
        "{}",
        backwards.stderr
    );

    // Longer than the server's 366 days: refused by the server, naming `since`.
    let long = s
        .teacher
        .run(&[
            "stats",
            "course",
            "mechanics",
            "--since",
            "2024-01-01",
            "--until",
            "2026-01-01",
        ])
        .await;
    assert_eq!(long.code, 5, "{}", long.stderr);
    assert!(long.stderr.contains("since"), "{}", long.stderr);

    // A heartbeat from sam's client counts once, however often it is sent.
    let (token, _) = sign_in(&server.url, "sam@stats.test").await;
    let client = ApiClient::with_token(&server.url, &token).unwrap();
    let beat = HeartbeatBatch {
        heartbeats: vec![Heartbeat {
            id: Uuid::now_v7(),
            kind: HeartbeatKind::Video,
            lesson_id: s.lessons[0],
            at: Utc::now() - Duration::seconds(5),
            seconds: 30,
            position: Some(30),
        }],
    };
    let first = client.send_heartbeats(&beat).await.unwrap();
    assert_eq!((first.accepted, first.duplicates), (1, 0));
    let again = client.send_heartbeats(&beat).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, 1));
    let not_admin = client.rollup().await.unwrap_err();
    assert!(
        matches!(not_admin, ClientError::Api { status: 403, .. }),
        "{not_admin:?}"
    );
}
