//! The catalogue's visibility and ownership matrix: each course route × six callers →
//! the status each must get. Every cell runs against a fresh course (owned by O, with
//! CO as co-teacher, one section holding one published lesson) in the status the row
//! needs, so a destructive cell (delete, publish) never changes another cell's answer.

use std::fmt::Write as _;

use reqwest::Method;
use serde_json::{Value, json};

use crate::catalogue_helpers::{add_lesson, add_section, add_staff, draft};
use crate::helpers::{TestApp, TestUser, spawn_app};

/// The callers: anonymous, a student, a teacher not on the staff, the co-teacher, the
/// owner, an admin.
const ACTORS: [&str; 6] = ["anon", "S", "T2", "CO", "O", "A"];

/// "Listed" / "not listed" for the listing row, whose answer is always 200.
const LISTED: u16 = 1;
const HIDDEN: u16 = 0;

/// One row: a name, the status of the fresh course, method, path and body
/// (placeholders `{C}` course, `{SEC}` section, `{L}` lesson, `{NEWT}` a teacher to add),
/// then what each of [`ACTORS`] must get.
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
    const STAFF_ONLY: [u16; 6] = [401, 403, 403, 200, 200, 200];
    const STAFF_CREATE: [u16; 6] = [401, 403, 403, 201, 201, 201];
    vec![
        (
            "list shows the draft",
            "DRAFT",
            M::GET,
            "/courses",
            None,
            [HIDDEN, HIDDEN, HIDDEN, LISTED, LISTED, LISTED],
        ),
        (
            "list shows the published",
            "PUBLISHED",
            M::GET,
            "/courses",
            None,
            [LISTED; 6],
        ),
        (
            "get draft",
            "DRAFT",
            M::GET,
            "/courses/{C}",
            None,
            [404, 404, 404, 200, 200, 200],
        ),
        (
            "get published",
            "PUBLISHED",
            M::GET,
            "/courses/{C}",
            None,
            [200; 6],
        ),
        (
            "get archived",
            "ARCHIVED",
            M::GET,
            "/courses/{C}",
            None,
            [404, 404, 404, 200, 200, 200],
        ),
        (
            "create",
            "DRAFT",
            M::POST,
            "/courses",
            Some(r#"{"title":"Matrix Course"}"#),
            [401, 403, 201, 201, 201, 201],
        ),
        (
            "patch",
            "DRAFT",
            M::PATCH,
            "/courses/{C}",
            Some(r#"{"description":"changed"}"#),
            STAFF_ONLY,
        ),
        (
            "patch published",
            "PUBLISHED",
            M::PATCH,
            "/courses/{C}",
            Some(r#"{"title":"Renamed"}"#),
            STAFF_ONLY,
        ),
        (
            "publish",
            "DRAFT",
            M::POST,
            "/courses/{C}/publish",
            Some("{}"),
            STAFF_ONLY,
        ),
        (
            "archive",
            "PUBLISHED",
            M::POST,
            "/courses/{C}/archive",
            Some("{}"),
            STAFF_ONLY,
        ),
        (
            "delete",
            "DRAFT",
            M::DELETE,
            "/courses/{C}",
            None,
            [401, 403, 403, 403, 200, 200],
        ),
        (
            "add section",
            "DRAFT",
            M::POST,
            "/courses/{C}/sections",
            Some(r#"{"title":"New"}"#),
            STAFF_CREATE,
        ),
        (
            "patch section",
            "DRAFT",
            M::PATCH,
            "/sections/{SEC}",
            Some(r#"{"title":"Renamed"}"#),
            STAFF_ONLY,
        ),
        (
            "delete section",
            "DRAFT",
            M::DELETE,
            "/sections/{SEC}",
            None,
            STAFF_ONLY,
        ),
        (
            "reorder sections",
            "DRAFT",
            M::POST,
            "/courses/{C}/sections/reorder",
            Some(r#"{"sectionIds":["{SEC}"]}"#),
            STAFF_ONLY,
        ),
        (
            "add lesson",
            "DRAFT",
            M::POST,
            "/sections/{SEC}/lessons",
            Some(r#"{"title":"New","type":"TEXT"}"#),
            STAFF_CREATE,
        ),
        (
            "patch lesson",
            "PUBLISHED",
            M::PATCH,
            "/lessons/{L}",
            Some(r#"{"duration":30}"#),
            STAFF_ONLY,
        ),
        (
            "delete lesson",
            "DRAFT",
            M::DELETE,
            "/lessons/{L}",
            None,
            STAFF_ONLY,
        ),
        (
            "reorder lessons",
            "DRAFT",
            M::POST,
            "/sections/{SEC}/lessons/reorder",
            Some(r#"{"lessonIds":["{L}"]}"#),
            STAFF_ONLY,
        ),
        (
            "get unpreviewed lesson",
            "PUBLISHED",
            M::GET,
            "/lessons/{L}",
            None,
            [403, 403, 403, 200, 200, 200],
        ),
        (
            "list staff",
            "DRAFT",
            M::GET,
            "/courses/{C}/staff",
            None,
            STAFF_ONLY,
        ),
        (
            "add staff",
            "DRAFT",
            M::POST,
            "/courses/{C}/staff",
            Some(r#"{"userId":"{NEWT}","role":"TA"}"#),
            [401, 403, 403, 403, 201, 201],
        ),
        (
            "reviews of published",
            "PUBLISHED",
            M::GET,
            "/courses/{C}/reviews",
            None,
            [200; 6],
        ),
        (
            "reviews of draft",
            "DRAFT",
            M::GET,
            "/courses/{C}/reviews",
            None,
            [404, 404, 404, 200, 200, 200],
        ),
        // None of these callers is enrolled; enrollment_matrix.rs has the enrolled student.
        (
            "write a review",
            "PUBLISHED",
            Method::PUT,
            "/courses/{C}/reviews/mine",
            Some(r#"{"rating":5}"#),
            [401, 403, 403, 403, 403, 403],
        ),
    ]
}

/// The six callers on one server (the anonymous one has no user).
struct World {
    app: TestApp,
    users: Vec<TestUser>,
}

/// One fresh course for one cell.
struct Fixture {
    course: String,
    section: String,
    lesson: String,
    new_teacher: String,
}

impl World {
    async fn new() -> Self {
        let app = spawn_app().await;
        let mut users = Vec::new();
        for role in ["STUDENT", "TEACHER", "TEACHER", "TEACHER"] {
            users.push(app.register(role).await);
        }
        users.push(app.admin().await);
        Self { app, users }
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
        let owner = &self.user("O").access_token;
        let title = format!("Matrix {}", uuid::Uuid::now_v7().simple());
        let course = draft(app, owner, &title).await;
        add_staff(app, owner, &course, &self.user("CO").id, "CO_TEACHER").await;
        let section = add_section(app, owner, &course, "Week 1").await;
        let lesson = add_lesson(app, owner, &section, "Lesson 1", true).await;
        for (needed, action) in [
            ("PUBLISHED", "publish"),
            ("ARCHIVED", "publish"),
            ("ARCHIVED", "archive"),
        ] {
            if status == needed {
                let answer = app
                    .post_as(
                        owner,
                        &format!("/api/v1/courses/{course}/{action}"),
                        &json!({}),
                    )
                    .await;
                assert_eq!(answer.status, 200, "fixture {action}: {}", answer.body);
            }
        }
        let new_teacher = app.register("TEACHER").await.id;
        Fixture {
            course,
            section,
            lesson,
            new_teacher,
        }
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

fn expand(template: &str, f: &Fixture) -> String {
    template
        .replace("{C}", &f.course)
        .replace("{SEC}", &f.section)
        .replace("{L}", &f.lesson)
        .replace("{NEWT}", &f.new_teacher)
}

/// Whether a `GET /courses` answer lists the fixture's course.
fn lists(body: &Value, course: &str) -> bool {
    body["data"]["courses"]
        .as_array()
        .is_some_and(|courses| courses.iter().any(|c| c["id"] == course))
}

#[tokio::test]
async fn every_caller_gets_what_the_catalogue_matrix_gives_on_every_course_route() {
    let world = World::new().await;
    let mut mismatches = Vec::new();
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<26} {}",
        "route",
        ACTORS.map(|a| format!("{a:>5}")).join(" ")
    );
    for (name, status, method, template, body, expected) in matrix() {
        let mut actual = [0u16; 6];
        for (i, actor) in ACTORS.iter().enumerate() {
            let fixture = world.fixture(status).await;
            let path = expand(template, &fixture);
            let body = body.map(|b| {
                serde_json::from_str::<Value>(&expand(b, &fixture)).expect("row body is JSON")
            });
            let (code, answer) = world.call(actor, &method, &path, body.as_ref()).await;
            let success = (200..300).contains(&code);
            assert_eq!(answer["success"], success, "{name} as {actor}: {answer}");
            actual[i] = if template == "/courses" && method == Method::GET {
                assert_eq!(code, 200, "{name} as {actor}: {answer}");
                if lists(&answer, &fixture.course) {
                    LISTED
                } else {
                    HIDDEN
                }
            } else {
                code
            };
            if actual[i] != expected[i] {
                mismatches.push(format!(
                    "{name} ({method} {template}) as {actor}: expected {}, got {}: {}",
                    expected[i], actual[i], answer["message"]
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
        let _ = writeln!(table, "{name:<26} {}", cells.join(" "));
    }
    assert!(
        mismatches.is_empty(),
        "{} cell(s) of the catalogue matrix differ (actual≠expected; 1 = listed, 0 = not):\n{table}\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
