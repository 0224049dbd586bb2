//! Dashboards and analytics figures (issue 22), with 1M activity rows and 10k students:
//!
//! 1. seeding: 10k students, 20 teachers with 50 published courses of 10 lessons and a
//!    test each, 30k enrollments (with lesson progress and graded attempts), then 1M
//!    activity rows over the last 30 days through `analytics::activity::record`, 10k
//!    rows a transaction (rows/s);
//! 2. the roll-ups: `rollup::catch_up` over the 30 days, then `rollup::recompute_day`
//!    of one typical day (activity rows/s), and the `daily_stats` rows they make;
//! 3. the database size per million activity rows (SQLite: the file, after a WAL
//!    checkpoint, and per table where `dbstat` is compiled in; PostgreSQL:
//!    `pg_total_relation_size`), and the size of `daily_stats`;
//! 4. each dashboard's p50/p99 over HTTP (200 sequential requests after a warm-up):
//!    `/dashboard/student|teacher|admin`, `/analytics/course/{id}` (the biggest course,
//!    as its teacher) and `/analytics/student/{id}` (as the admin). Goal: p99 < 20 ms on
//!    SQLite.
//!
//! SQLite always; PostgreSQL too when `EDUPRO_DATABASE_URL` (or `PG_URL`, as
//! `scripts/with-postgres.sh` sets) is a postgres:// URL. Run with `--release`:
//!
//! `cargo run --release -p edupro-server --example analytics_bench`
//!
//! `scripts/with-postgres.sh cargo run --release -p edupro-server --example analytics_bench`
//!
//! To see where a dashboard's time goes: `ANALYTICS_BENCH_SQL=1` logs every statement
//! (with its time) of one extra request of each dashboard, after the timed ones;
//! `ANALYTICS_BENCH_KEEP=1` keeps the SQLite data dir (printed) for `sqlite3`.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use edupro_server::api::{ActivityKind, AttemptStatus, EnrollmentStatus, LessonType, Role};
use edupro_server::platform::state::AppState;
use edupro_server::service::accounts;
use edupro_server::service::analytics::activity::{self, NewActivity};
use edupro_server::service::analytics::rollup;
use edupro_server::store::db::begin_write;
use edupro_server::store::entity::{
    course, daily_stat, enrollment, lesson, lesson_progress, section, test, test_attempt, user,
};
use edupro_server::store::json::AttemptLayout;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter, Set,
    Statement,
};
use serde_json::{Value, json};
use uuid::Uuid;

mod support;

const STUDENTS: usize = 10_000;
const TEACHERS: usize = 20;
const LESSONS: usize = 10;
const COURSES_PER_STUDENT: usize = 3;
const ACTIVITY_ROWS: usize = 1_000_000;
const ACTIVITY_DAYS: i64 = 30;
const ACTIVITY_TXN: usize = 10_000;
const WARM_UP: usize = 5;
const REQUESTS: usize = 200;
const GOAL_P99_MS: f64 = 20.0;

/// One dashboard's latency.
struct Figure {
    database: &'static str,
    name: String,
    p50: f64,
    p99: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let log = logging();
    let mut figures = Vec::new();
    for (name, database_url) in support::databases().await? {
        figures.extend(bench(name, database_url, &log).await?);
    }
    println!();
    println!(
        "Summary: dashboards over HTTP ({REQUESTS} sequential requests each, {ACTIVITY_ROWS} activity rows, {STUDENTS} students); goal p99 < {GOAL_P99_MS} ms on SQLite"
    );
    println!(
        "{:<11} {:<28} {:>9} {:>9}  goal",
        "database", "dashboard", "p50 ms", "p99 ms"
    );
    for f in &figures {
        let verdict = match (f.database, f.p99 < GOAL_P99_MS) {
            ("SQLite", true) => "met",
            ("SQLite", false) => "MISSED",
            (_, true) => "(under 20 ms)",
            (_, false) => "(over 20 ms)",
        };
        println!(
            "{:<11} {:<28} {:>9.1} {:>9.1}  {verdict}",
            f.database, f.name, f.p50, f.p99
        );
    }
    Ok(())
}

type LogFilter =
    tracing_subscriber::reload::Handle<tracing_subscriber::EnvFilter, tracing_subscriber::Registry>;

/// `support::logging`, with a filter that can be widened for one request.
fn logging() -> LogFilter {
    use tracing_subscriber::prelude::*;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .init();
    handle
}

fn flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// 0..n.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn uuid(&mut self) -> Uuid {
        let (a, b) = (self.next(), self.next());
        uuid::Builder::from_random_bytes(((u128::from(a) << 64) | u128::from(b)).to_le_bytes())
            .into_uuid()
    }
}

/// One seeded course.
struct Course {
    id: Uuid,
    teacher: usize,
    lessons: Vec<Uuid>,
    students: usize,
}

async fn bench(
    name: &'static str,
    database_url: Option<String>,
    log: &LogFilter,
) -> anyhow::Result<Vec<Figure>> {
    // No roll-up behind the benchmark's back: it runs them itself.
    let server = support::server_with(database_url, |args| {
        args.analytics.rollup_interval = Some("24h".into());
    })
    .await?;
    let (base, state) = (server.base.clone(), server.state.clone());
    let client = reqwest::Client::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    println!("== {name} ==");

    // 1. Seeding. Teachers, courses and tests over HTTP as a teacher would; the bulk
    // (students, enrollments, progress, attempts) written directly.
    let t0 = Instant::now();
    let mut teachers = Vec::with_capacity(TEACHERS);
    for n in 0..TEACHERS {
        teachers.push(support::account(&state, Role::Teacher, n, true).await?);
    }
    let mut courses: Vec<Course> = Vec::new();
    for (t, (_, token)) in teachers.iter().enumerate() {
        for k in 0..(if t % 2 == 0 { 3 } else { 2 }) {
            let id = support::published_course(&base, token, &format!("Course {t}-{k}")).await?;
            courses.push(Course {
                id,
                teacher: t,
                lessons: Vec::new(),
                students: 0,
            });
        }
    }
    let now = Utc::now();
    let mut lesson_rows = Vec::new();
    for c in &mut courses {
        let first: Vec<lesson::Model> = lesson::Entity::find()
            .filter(lesson::Column::CourseId.eq(c.id))
            .all(&state.db)
            .await?;
        let section = section::Entity::find()
            .filter(section::Column::CourseId.eq(c.id))
            .one(&state.db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("course {} has no section", c.id))?;
        c.lessons.extend(first.iter().map(|l| l.id));
        for position in 2..=LESSONS {
            let id = Uuid::now_v7();
            c.lessons.push(id);
            lesson_rows.push(lesson::ActiveModel {
                id: Set(id),
                section_id: Set(section.id),
                course_id: Set(c.id),
                title: Set(format!("Lesson {position}")),
                r#type: Set(LessonType::Video),
                content: Set(None),
                url: Set(Some(format!("https://video.school.test/v/{position}"))),
                duration_minutes: Set(10),
                is_free_preview: Set(false),
                is_published: Set(true),
                position: Set(position as i32),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
    }
    lesson::Entity::insert_many(lesson_rows)
        .exec_without_returning(&state.db)
        .await?;
    // One published 5-question test a course.
    for c in &courses {
        let token = &teachers[c.teacher].1;
        let questions: Vec<Value> = (0..5)
            .map(|i| {
                json!({ "type": "MCQ", "questionText": format!("Question {i}"), "marks": 2,
                        "options": [ { "text": "A", "isCorrect": true }, { "text": "B" } ] })
            })
            .collect();
        let created = support::call(
            &client,
            &base,
            token,
            reqwest::Method::POST,
            "/api/v1/tests",
            &json!({ "courseId": c.id, "title": "Quiz", "type": "QUIZ", "passingMarks": 5,
                     "attemptsAllowed": 3, "questions": questions }),
        )
        .await?;
        let id = created["id"].as_str().unwrap_or_default().to_owned();
        support::call(
            &client,
            &base,
            token,
            reqwest::Method::POST,
            &format!("/api/v1/tests/{id}/publish"),
            &json!({}),
        )
        .await?;
    }
    let tests: HashMap<Uuid, test::Model> = test::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|t| (t.course_id, t))
        .collect();
    let t_http = t0.elapsed().as_secs_f64();

    // Students: every fifth one inactive for the last 10 days (the at-risk lists).
    let t1 = Instant::now();
    let mut students = Vec::with_capacity(STUDENTS);
    let txn = begin_write(&state.db).await?;
    let mut rows = Vec::with_capacity(1000);
    for n in 0..STUDENTS {
        let id = Uuid::now_v7();
        students.push(id);
        let created = now
            - Duration::days(rng.below(ACTIVITY_DAYS as u64 * 2) as i64)
            - Duration::seconds(rng.below(86_400) as i64);
        rows.push(user::ActiveModel {
            id: Set(id),
            email: Set(format!("student{n}@bench.test")),
            phone: Set(None),
            password_hash: Set(None),
            first_name: Set("Bench".into()),
            last_name: Set(format!("Student{n}")),
            role: Set(Role::Student),
            avatar: Set(None),
            bio: Set(None),
            profile: Set(None),
            is_email_verified: Set(true),
            is_phone_verified: Set(false),
            is_active: Set(true),
            last_login: Set(None),
            referral_code: Set(format!("S{n:07}")),
            token_version: Set(0),
            totp_secret: Set(None),
            totp_enabled: Set(false),
            totp_last_step: Set(None),
            external_id: Set(None),
            created_at: Set(created),
            updated_at: Set(created),
        });
        if rows.len() == 1000 {
            user::Entity::insert_many(std::mem::take(&mut rows))
                .exec_without_returning(&txn)
                .await?;
        }
    }
    if !rows.is_empty() {
        user::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    let t_students = t1.elapsed().as_secs_f64();

    // Enrollments: each student in 3 courses, courses weighted 2–6 (300–900 students).
    let t2 = Instant::now();
    let weights: Vec<u64> = (0..courses.len()).map(|c| 2 + (c % 5) as u64).collect();
    let total_weight: u64 = weights.iter().sum();
    let mut student_courses: Vec<[usize; COURSES_PER_STUDENT]> = Vec::with_capacity(STUDENTS);
    let (mut enrollments, mut progress, mut attempts) = (Vec::new(), Vec::new(), Vec::new());
    for (s, student) in students.iter().enumerate() {
        let mut picked: Vec<usize> = Vec::with_capacity(COURSES_PER_STUDENT);
        while picked.len() < COURSES_PER_STUDENT {
            let mut r = rng.below(total_weight);
            let mut c = 0;
            while r >= weights[c] {
                r -= weights[c];
                c += 1;
            }
            if !picked.contains(&c) {
                picked.push(c);
            }
        }
        student_courses.push([picked[0], picked[1], picked[2]]);
        for &c in &picked {
            courses[c].students += 1;
            let course = &courses[c];
            let id = Uuid::now_v7();
            let enrolled_at = now
                - Duration::days(7 + rng.below(120) as i64)
                - Duration::seconds(rng.below(86_400) as i64);
            let roll = rng.below(100);
            let (status, percent) = match roll {
                0..=2 => (EnrollmentStatus::Cancelled, rng.below(30) as i32),
                3..=17 => (EnrollmentStatus::Completed, 100),
                _ => (EnrollmentStatus::Active, rng.below(100) as i32),
            };
            let inactive = s.is_multiple_of(5);
            let last_accessed = match rng.below(10) {
                0 => None,
                _ if inactive => Some(now - Duration::days(10 + rng.below(30) as i64)),
                _ => Some(now - Duration::seconds(rng.below(3 * 86_400) as i64)),
            };
            enrollments.push(enrollment::ActiveModel {
                id: Set(id),
                course_id: Set(course.id),
                student_id: Set(*student),
                status: Set(status),
                enrolled_at: Set(enrolled_at),
                completed_at: Set((status == EnrollmentStatus::Completed)
                    .then(|| now - Duration::days(rng.below(30) as i64))),
                expires_at: Set(None),
                progress_percent: Set(percent),
                last_accessed_at: Set(last_accessed),
                batch_id: Set(None),
                created_at: Set(enrolled_at),
                updated_at: Set(now),
            });
            if status == EnrollmentStatus::Cancelled {
                continue;
            }
            let done = percent as usize * LESSONS / 100;
            for (i, lesson) in course.lessons.iter().enumerate().take(done + 1) {
                if i == done && (done == LESSONS || percent == 0) {
                    break;
                }
                let completed = i < done;
                let at = now - Duration::seconds(rng.below(40 * 86_400) as i64);
                progress.push(lesson_progress::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    enrollment_id: Set(id),
                    lesson_id: Set(*lesson),
                    completed: Set(completed),
                    completed_at: Set(completed.then_some(at)),
                    time_spent_seconds: Set(60 + rng.below(1200) as i64),
                    xp_earned: Set(if completed { 10 } else { 0 }),
                    created_at: Set(at),
                    updated_at: Set(at),
                });
            }
            // Six in ten have a graded attempt at the course's test.
            if rng.below(10) < 6
                && let Some(test) = tests.get(&course.id)
            {
                let graded =
                    now - Duration::seconds(rng.below(ACTIVITY_DAYS as u64 * 86_400) as i64);
                let score = test.total_marks * (30 + rng.below(71) as i64) / 100;
                attempts.push(test_attempt::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    test_id: Set(test.id),
                    course_id: Set(course.id),
                    student_id: Set(*student),
                    number: Set(1),
                    status: Set(AttemptStatus::Submitted),
                    started_at: Set(graded - Duration::minutes(10)),
                    deadline: Set(None),
                    submitted_at: Set(Some(graded)),
                    auto_submitted: Set(false),
                    raw_score: Set(Some(score)),
                    score: Set(Some(score)),
                    pending_answers: Set(0),
                    graded_at: Set(Some(graded)),
                    time_spent_seconds: Set(Some(600)),
                    layout: Set(AttemptLayout(Vec::new())),
                    created_at: Set(graded),
                    updated_at: Set(graded),
                });
            }
        }
    }
    let txn = begin_write(&state.db).await?;
    for chunk in enrollments.chunks(1000) {
        enrollment::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in progress.chunks(1000) {
        lesson_progress::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in attempts.chunks(1000) {
        test_attempt::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    for c in &courses {
        course::Entity::update_many()
            .col_expr(
                course::Column::TotalStudents,
                Expr::value(c.students as i32),
            )
            .filter(course::Column::Id.eq(c.id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    let t_enrollments = t2.elapsed().as_secs_f64();
    println!(
        "{name}: seeded in {:.1} s: {TEACHERS} teachers, {} courses, {} lessons and {} tests over HTTP ({t_http:.1} s); {STUDENTS} students ({t_students:.1} s); {} enrollments, {} lesson progress rows, {} graded attempts ({t_enrollments:.1} s)",
        t0.elapsed().as_secs_f64(),
        courses.len(),
        courses.len() * LESSONS,
        tests.len(),
        enrollments.len(),
        progress.len(),
        attempts.len(),
    );

    // 1b. The activity: 1M rows in time order over the last 30 days.
    let size_before = db_size(&state, server._dir.path()).await?;
    let t3 = Instant::now();
    let start = now - Duration::days(ACTIVITY_DAYS);
    let span_ms = (ACTIVITY_DAYS * 86_400_000 - 60_000) as u64;
    let mut inserted = 0u64;
    let mut batch = Vec::with_capacity(ACTIVITY_TXN);
    for j in 0..ACTIVITY_ROWS {
        let at = start
            + Duration::milliseconds((j as u64 * span_ms / ACTIVITY_ROWS as u64) as i64)
            + Duration::milliseconds(rng.below(1000) as i64);
        batch.push(activity_row(
            &mut rng,
            at,
            now,
            &students,
            &student_courses,
            &courses,
        ));
        if batch.len() == ACTIVITY_TXN || j + 1 == ACTIVITY_ROWS {
            let txn = begin_write(&state.db).await?;
            inserted += activity::record(&txn, &batch).await?;
            txn.commit().await?;
            batch.clear();
        }
    }
    let t_activity = t3.elapsed().as_secs_f64();
    anyhow::ensure!(
        inserted as usize == ACTIVITY_ROWS,
        "{inserted} activity rows inserted"
    );
    println!(
        "{name}: {inserted} activity rows over {ACTIVITY_DAYS} days via activity::record in {} transactions: {t_activity:.1} s = {:.0} rows/s",
        ACTIVITY_ROWS / ACTIVITY_TXN,
        inserted as f64 / t_activity
    );
    let size_after = db_size(&state, server._dir.path()).await?;
    report_sizes(name, &size_before, &size_after, inserted);

    // 2. The roll-ups.
    let t4 = Instant::now();
    let report = rollup::catch_up(&state)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let t_catch_up = t4.elapsed().as_secs_f64();
    let stats = daily_stat::Entity::find().count(&state.db).await?;
    println!(
        "{name}: rollup::catch_up: {} days, {} activity rows read in {t_catch_up:.1} s = {:.0} rows/s; {stats} daily_stats rows ({:.0} a day)",
        report.days,
        report.rows,
        report.rows as f64 / t_catch_up,
        stats as f64 / f64::from(report.days.max(1))
    );
    let day: NaiveDate = (now - Duration::days(ACTIVITY_DAYS / 2)).date_naive();
    let t5 = Instant::now();
    let read = rollup::recompute_day(&state, day)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let t_day = t5.elapsed().as_secs_f64();
    let day_stats = daily_stat::Entity::find()
        .filter(daily_stat::Column::Day.eq(day))
        .count(&state.db)
        .await?;
    println!(
        "{name}: rollup::recompute_day({day}): {read} activity rows in {:.2} s = {:.0} rows/s; {day_stats} daily_stats rows for the day",
        t_day,
        read as f64 / t_day
    );
    let size_rolled = db_size(&state, server._dir.path()).await?;
    report_rollup_size(name, &size_after, &size_rolled, stats);

    // 4. Dashboards over HTTP.
    let mut figures = Vec::new();
    // A student with activity (index 1: not one of the inactive fifth).
    let student_model = user::Entity::find_by_id(students[1])
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no student"))?;
    let student_token = accounts::start_session(
        &state,
        &student_model,
        None,
        "127.0.0.1",
        accounts::SignIn::Password,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?
    .access_token;
    // The teacher whose courses' distinct students come nearest 1,500.
    let mut per_teacher: Vec<HashSet<usize>> = vec![HashSet::new(); TEACHERS];
    for (s, picked) in student_courses.iter().enumerate() {
        for &c in picked {
            per_teacher[courses[c].teacher].insert(s);
        }
    }
    let (teacher, teacher_students) = per_teacher
        .iter()
        .enumerate()
        .map(|(t, s)| (t, s.len()))
        .min_by_key(|(_, n)| n.abs_diff(1500))
        .ok_or_else(|| anyhow::anyhow!("no teacher"))?;
    let teacher_courses = courses.iter().filter(|c| c.teacher == teacher).count();
    let biggest = courses
        .iter()
        .max_by_key(|c| c.students)
        .ok_or_else(|| anyhow::anyhow!("no course"))?;
    let admin = server.token.clone();
    let cases: Vec<(String, String, String)> = vec![
        (
            "dashboard/student".into(),
            student_token,
            "/api/v1/dashboard/student".into(),
        ),
        (
            format!("dashboard/teacher ({teacher_students} st.)"),
            teachers[teacher].1.clone(),
            "/api/v1/dashboard/teacher".into(),
        ),
        (
            "dashboard/admin".into(),
            admin.clone(),
            "/api/v1/dashboard/admin".into(),
        ),
        (
            format!("analytics/course ({} st.)", biggest.students),
            teachers[biggest.teacher].1.clone(),
            format!("/api/v1/analytics/course/{}", biggest.id),
        ),
        (
            "analytics/student".into(),
            admin,
            format!("/api/v1/analytics/student/{}", students[2]),
        ),
    ];
    println!(
        "{name}: teacher dashboard: teacher {teacher} with {teacher_courses} courses and {teacher_students} distinct enrolled students; course analytics: the biggest course, {} enrollments",
        biggest.students
    );
    for (label, token, path) in cases {
        let (p50, p99) = latency(&client, &base, &token, &path).await?;
        println!("{name}: GET {path}: p50 {p50:.1} ms, p99 {p99:.1} ms over {REQUESTS} requests");
        if flag("ANALYTICS_BENCH_SQL") {
            let set = |filter: &str| {
                log.modify(|f| *f = tracing_subscriber::EnvFilter::new(filter))
                    .map_err(|e| anyhow::anyhow!("{e}"))
            };
            set("warn,sqlx::query=debug")?;
            eprintln!("---- {name}: the statements of one GET {path}");
            let at = Instant::now();
            let answer = client
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await?;
            let bytes = answer.bytes().await?.len();
            eprintln!(
                "---- {name}: GET {path}: {:.1} ms, {bytes} bytes",
                at.elapsed().as_secs_f64() * 1e3
            );
            set("warn")?;
        }
        figures.push(Figure {
            database: name,
            name: label,
            p50,
            p99,
        });
    }
    if flag("ANALYTICS_BENCH_KEEP") && name == "SQLite" {
        let support::Server { _dir: dir, .. } = server;
        println!("{name}: data dir kept: {}", dir.keep().display());
    }
    Ok(figures)
}

/// One activity row at `at`: mostly time on lessons and videos, some sign-ins,
/// completions, tests and live classes, in one of the student's courses. Every fifth
/// student has nothing in the last 10 days.
fn activity_row(
    rng: &mut Rng,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    students: &[Uuid],
    student_courses: &[[usize; COURSES_PER_STUDENT]],
    courses: &[Course],
) -> NewActivity {
    let mut s = rng.below(students.len() as u64) as usize;
    if s.is_multiple_of(5) && at > now - Duration::days(10) {
        s = (s + 1) % students.len();
    }
    let course = &courses[student_courses[s][rng.below(COURSES_PER_STUDENT as u64) as usize]];
    let lesson = course.lessons[rng.below(course.lessons.len() as u64) as usize];
    let (kind, with_lesson, seconds, score) = match rng.below(1000) {
        0..=339 => (
            ActivityKind::LessonTime,
            true,
            30 + rng.below(271) as i32,
            None,
        ),
        340..=589 => (
            ActivityKind::VideoWatched,
            true,
            30 + rng.below(271) as i32,
            None,
        ),
        590..=789 => (ActivityKind::LessonOpened, true, 0, None),
        790..=869 => (ActivityKind::SignIn, false, 0, None),
        870..=919 => (ActivityKind::LessonCompleted, true, 0, None),
        920..=944 => (ActivityKind::TestSubmitted, false, 0, None),
        945..=969 => (
            ActivityKind::TestGraded,
            false,
            0,
            Some(30 + rng.below(71) as i32),
        ),
        970..=989 => (ActivityKind::ClassJoined, false, 0, None),
        990..=994 => (ActivityKind::Enrolled, false, 0, None),
        _ => (ActivityKind::CourseCompleted, false, 0, None),
    };
    let in_course = kind != ActivityKind::SignIn;
    NewActivity {
        course_id: in_course.then_some(course.id),
        lesson_id: with_lesson.then_some(lesson),
        seconds,
        score,
        ..NewActivity::new(students[s], rng.uuid(), kind, at)
    }
}

/// p50 and p99 in ms of `REQUESTS` sequential GETs of `path`, after a warm-up.
async fn latency(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
) -> anyhow::Result<(f64, f64)> {
    let get = || async {
        let answer = client
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await?;
        let status = answer.status();
        let body = answer.bytes().await?;
        anyhow::ensure!(
            status.is_success(),
            "{path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        Ok(body.len())
    };
    for _ in 0..WARM_UP {
        get().await?;
    }
    let mut times = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let at = Instant::now();
        get().await?;
        times.push(at.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok((
        support::percentile(&times, 0.5),
        support::percentile(&times, 0.99),
    ))
}

/// The database's size: on SQLite the file after a WAL checkpoint (and the WAL left),
/// with per-table bytes from `dbstat` where compiled in; on PostgreSQL the relations.
#[derive(Default)]
struct Size {
    /// SQLite: the file; PostgreSQL: the database.
    total: u64,
    /// SQLite: the WAL left after the checkpoint (`None` on PostgreSQL).
    wal: Option<u64>,
    /// Table (with its indexes) → bytes; `.0` of PostgreSQL also the heap alone.
    tables: HashMap<&'static str, (u64, Option<u64>)>,
}

async fn scalar(state: &AppState, sql: &str) -> anyhow::Result<Option<i64>> {
    let row = state
        .db
        .query_one_raw(Statement::from_string(
            state.db.get_database_backend(),
            sql.to_owned(),
        ))
        .await?;
    Ok(row.and_then(|r| r.try_get_by_index::<Option<i64>>(0).ok().flatten()))
}

async fn db_size(state: &AppState, dir: &std::path::Path) -> anyhow::Result<Size> {
    let mut size = Size::default();
    match state.db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            state
                .db
                .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                let file = entry.file_name().to_string_lossy().into_owned();
                if file.ends_with(".db") {
                    size.total += entry.metadata()?.len();
                } else if file.ends_with(".db-wal") {
                    *size.wal.get_or_insert(0) += entry.metadata()?.len();
                }
            }
            for table in ["activity", "daily_stats"] {
                let sql = format!(
                    "SELECT SUM(d.pgsize) FROM dbstat d JOIN sqlite_master m ON m.name = d.name WHERE m.tbl_name = '{table}'"
                );
                // `dbstat` is optional in SQLite builds.
                if let Ok(Some(bytes)) = scalar(state, &sql).await {
                    size.tables.insert(table, (bytes as u64, None));
                }
            }
        }
        _ => {
            size.total = scalar(state, "SELECT pg_database_size(current_database())")
                .await?
                .unwrap_or(0) as u64;
            for table in ["activity", "daily_stats"] {
                let total = scalar(state, &format!("SELECT pg_total_relation_size('{table}')"))
                    .await?
                    .unwrap_or(0) as u64;
                let heap = scalar(state, &format!("SELECT pg_relation_size('{table}')"))
                    .await?
                    .unwrap_or(0) as u64;
                size.tables.insert(table, (total, Some(heap)));
            }
        }
    }
    Ok(size)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn report_sizes(name: &str, before: &Size, after: &Size, rows: u64) {
    let per_million = |bytes: u64| mib(bytes) / rows as f64 * 1e6;
    let grown = after.total.saturating_sub(before.total);
    let how = match after.wal {
        Some(wal) => format!("the file, WAL {:.1} MiB after a checkpoint", mib(wal)),
        None => "pg_database_size".to_owned(),
    };
    println!(
        "{name}: database {:.1} MiB before the activity, {:.1} MiB after ({how}): +{:.1} MiB = {:.1} MiB per million activity rows",
        mib(before.total),
        mib(after.total),
        mib(grown),
        per_million(grown)
    );
    if let Some((total, heap)) = after.tables.get("activity") {
        match heap {
            Some(heap) => println!(
                "{name}: activity: pg_total_relation_size {:.1} MiB (table {:.1} MiB, indexes {:.1} MiB) = {:.1} MiB per million rows",
                mib(*total),
                mib(*heap),
                mib(total - heap),
                per_million(*total)
            ),
            None => println!(
                "{name}: activity with its indexes (dbstat): {:.1} MiB = {:.1} MiB per million rows",
                mib(*total),
                per_million(*total)
            ),
        }
    }
}

fn report_rollup_size(name: &str, before: &Size, after: &Size, stats: u64) {
    let grown = after.total.saturating_sub(before.total);
    let table = after.tables.get("daily_stats").map(|(total, heap)| {
        let heap = heap.map_or(String::new(), |h| format!(", table {:.1} MiB", mib(h)));
        format!(
            "; daily_stats with its indexes {:.1} MiB{heap}",
            mib(*total)
        )
    });
    println!(
        "{name}: after the roll-ups the database is {:.1} MiB (+{:.1} MiB for {stats} daily_stats rows){}",
        mib(after.total),
        mib(grown),
        table.unwrap_or_default()
    );
}
