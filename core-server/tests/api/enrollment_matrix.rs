//! The enrollments' authorization matrix: each enrollment and batch route (and what an
//! enrollment opens) × six callers → the status each must get. Every cell runs against
//! a fresh course (owned by O, with ST as co-teacher, one section holding one published
//! lesson, ES and OTHER enrolled, ES seated in batch B), so no cell changes another's.

use std::fmt::Write as _;

use reqwest::Method;
use serde_json::{Value, json};

use crate::catalogue_helpers::{add_lesson, add_section, add_staff, draft};
use crate::enrollments::staff_enroll;
use crate::helpers::{TestApp, TestUser, spawn_app};

/// The callers: anonymous, a student not enrolled, the enrolled student, a teacher not
/// on the staff, the staff (a co-teacher), an admin.
const ACTORS: [&str; 6] = ["anon", "S", "ES", "T2", "ST", "A"];

/// One row: a name, the status of the fresh course, method, path and body
/// (placeholders `{C}` course, `{L}` lesson, `{E}` ES's enrollment, `{ES}` ES's user id,
/// `{B}` the batch, `{OTHER}` an enrolled student in no batch, `{NEWS}` a student not
/// enrolled), then what each of [`ACTORS`] must get.
type Row = (
    &'static str,
    &'static str,
    Method,
    &'static str,
    Option<&'static str>,
    [u16; 6],
);

fn matrix() -> Vec<Row> {
    use Method as M;
    const STAFF_ONLY: [u16; 6] = [401, 403, 403, 403, 200, 200];
    const STAFF_CREATE: [u16; 6] = [401, 403, 403, 403, 201, 201];
    vec![
        (
            "enroll myself",
            "PUBLISHED",
            M::POST,
            "/enrollments",
            Some(r#"{"courseId":"{C}"}"#),
            [401, 201, 409, 403, 403, 403],
        ),
        (
            "my courses",
            "PUBLISHED",
            M::GET,
            "/enrollments/my-courses",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "record progress",
            "PUBLISHED",
            M::POST,
            "/enrollments/{E}/progress",
            Some(r#"{"lessonId":"{L}","completed":true,"timeSpent":30}"#),
            [401, 403, 200, 403, 403, 403],
        ),
        (
            "roster",
            "PUBLISHED",
            M::GET,
            "/courses/{C}/enrollments",
            None,
            STAFF_ONLY,
        ),
        (
            "staff enroll",
            "PUBLISHED",
            M::POST,
            "/courses/{C}/enrollments",
            Some(r#"{"studentId":"{NEWS}"}"#),
            STAFF_CREATE,
        ),
        (
            "remove student",
            "PUBLISHED",
            M::DELETE,
            "/courses/{C}/enrollments/{ES}",
            None,
            STAFF_ONLY,
        ),
        (
            "list batches",
            "PUBLISHED",
            M::GET,
            "/courses/{C}/batches",
            None,
            STAFF_ONLY,
        ),
        (
            "create batch",
            "PUBLISHED",
            M::POST,
            "/courses/{C}/batches",
            Some(r#"{"name":"New","capacity":3}"#),
            STAFF_CREATE,
        ),
        (
            "patch batch",
            "PUBLISHED",
            M::PATCH,
            "/batches/{B}",
            Some(r#"{"capacity":10}"#),
            STAFF_ONLY,
        ),
        (
            "delete batch",
            "PUBLISHED",
            M::DELETE,
            "/batches/{B}",
            None,
            STAFF_ONLY,
        ),
        (
            "batch members",
            "PUBLISHED",
            M::GET,
            "/batches/{B}/members",
            None,
            STAFF_ONLY,
        ),
        (
            "add batch member",
            "PUBLISHED",
            M::POST,
            "/batches/{B}/members",
            Some(r#"{"studentId":"{OTHER}"}"#),
            STAFF_CREATE,
        ),
        (
            "remove batch member",
            "PUBLISHED",
            M::DELETE,
            "/batches/{B}/members/{ES}",
            None,
            STAFF_ONLY,
        ),
        (
            "get archived course",
            "ARCHIVED",
            M::GET,
            "/courses/{C}",
            None,
            [404, 404, 200, 404, 200, 200],
        ),
        (
            "open a lesson",
            "PUBLISHED",
            M::GET,
            "/lessons/{L}",
            None,
            [403, 403, 200, 403, 200, 200],
        ),
        (
            "write a review",
            "PUBLISHED",
            M::PUT,
            "/courses/{C}/reviews/mine",
            Some(r#"{"rating":5}"#),
            [401, 403, 201, 403, 403, 403],
        ),
        (
            "see the enrolled student",
            "PUBLISHED",
            M::GET,
            "/users/{ES}",
            None,
            [401, 403, 200, 403, 200, 200],
        ),
        (
            "delete a course with students",
            "PUBLISHED",
            M::DELETE,
            "/courses/{C}",
            None,
            [401, 403, 403, 403, 403, 409],
        ),
    ]
}

/// The callers on one server, plus the owner and two students the fixtures use.
struct World {
    app: TestApp,
    users: Vec<TestUser>,
    owner: TestUser,
    other: TestUser,
    newcomer: TestUser,
}

/// One fresh course for one cell.
struct Fixture {
    course: String,
    lesson: String,
    enrollment: String,
    batch: String,
}

impl World {
    async fn new() -> Self {
        let app = spawn_app().await;
        let mut users = Vec::new();
        for role in ["STUDENT", "STUDENT", "TEACHER", "TEACHER"] {
            users.push(app.register(role).await);
        }
        users.push(app.admin().await);
        let owner = app.register("TEACHER").await;
        let other = app.register("STUDENT").await;
        let newcomer = app.register("STUDENT").await;
        Self {
            app,
            users,
            owner,
            other,
            newcomer,
        }
    }

    fn user(&self, actor: &str) -> &TestUser {
        let index = ACTORS
            .iter()
            .position(|a| *a == actor)
            .expect("known actor");
        &self.users[index - 1]
    }

    async fn fixture(&self, status: &str) -> Fixture {
        let app = &self.app;
        let owner = &self.owner.access_token;
        let title = format!("Enrollment Matrix {}", uuid::Uuid::now_v7().simple());
        let course = draft(app, owner, &title).await;
        add_staff(app, owner, &course, &self.user("ST").id, "CO_TEACHER").await;
        let section = add_section(app, owner, &course, "Week 1").await;
        let lesson = add_lesson(app, owner, &section, "Lesson 1", true).await;
        let publish = app
            .post_as(
                owner,
                &format!("/api/v1/courses/{course}/publish"),
                &json!({}),
            )
            .await;
        assert_eq!(publish.status, 200, "fixture publish: {}", publish.body);
        let enrolled = staff_enroll(app, owner, &course, &self.user("ES").id).await;
        let enrollment = enrolled["enrollmentId"]
            .as_str()
            .expect("enrollment id")
            .to_owned();
        staff_enroll(app, owner, &course, &self.other.id).await;
        let batch = app
            .post_as(
                owner,
                &format!("/api/v1/courses/{course}/batches"),
                &json!({ "name": "B" }),
            )
            .await;
        assert_eq!(batch.status, 201, "fixture batch: {}", batch.body);
        let batch = batch.body["data"]["id"]
            .as_str()
            .expect("batch id")
            .to_owned();
        let seated = app
            .post_as(
                owner,
                &format!("/api/v1/batches/{batch}/members"),
                &json!({ "studentId": self.user("ES").id }),
            )
            .await;
        assert_eq!(seated.status, 201, "fixture seat: {}", seated.body);
        if status == "ARCHIVED" {
            let archive = app
                .post_as(
                    owner,
                    &format!("/api/v1/courses/{course}/archive"),
                    &json!({}),
                )
                .await;
            assert_eq!(archive.status, 200, "fixture archive: {}", archive.body);
        }
        Fixture {
            course,
            lesson,
            enrollment,
            batch,
        }
    }

    fn expand(&self, template: &str, f: &Fixture) -> String {
        template
            .replace("{C}", &f.course)
            .replace("{L}", &f.lesson)
            .replace("{E}", &f.enrollment)
            .replace("{B}", &f.batch)
            .replace("{ES}", &self.user("ES").id)
            .replace("{OTHER}", &self.other.id)
            .replace("{NEWS}", &self.newcomer.id)
    }

    async fn call(
        &self,
        actor: &str,
        method: &Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self
            .app
            .client
            .request(method.clone(), self.app.url(&format!("/api/v1{path}")));
        if actor != "anon" {
            request = request.bearer_auth(&self.user(actor).access_token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = self.app.send(request).await;
        (answer.status, answer.body)
    }
}

#[tokio::test]
async fn every_caller_gets_what_the_enrollment_matrix_gives_on_every_enrollment_and_batch_route() {
    let world = World::new().await;
    let mut mismatches = Vec::new();
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<30} {}",
        "route",
        ACTORS.map(|a| format!("{a:>5}")).join(" ")
    );
    for (name, status, method, template, body, expected) in matrix() {
        let mut actual = [0u16; 6];
        for (i, actor) in ACTORS.iter().enumerate() {
            let fixture = world.fixture(status).await;
            let path = world.expand(template, &fixture);
            let body = body.map(|b| {
                serde_json::from_str::<Value>(&world.expand(b, &fixture)).expect("row body is JSON")
            });
            let (code, answer) = world.call(actor, &method, &path, body.as_ref()).await;
            let success = (200..300).contains(&code);
            assert_eq!(answer["success"], success, "{name} as {actor}: {answer}");
            actual[i] = code;
            if code != expected[i] {
                mismatches.push(format!(
                    "{name} ({method} {template}) as {actor}: expected {}, got {code}: {}",
                    expected[i], answer["message"]
                ));
            }
        }
        let cells: Vec<String> = actual
            .iter()
            .zip(expected)
            .map(|(a, e)| {
                if *a == e {
                    format!("{a:>5}")
                } else {
                    format!("{:>5}", format!("{a}≠{e}"))
                }
            })
            .collect();
        let _ = writeln!(table, "{name:<30} {}", cells.join(" "));
    }
    assert!(
        mismatches.is_empty(),
        "{} cell(s) of the enrollment matrix differ (actual≠expected):\n{table}\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
