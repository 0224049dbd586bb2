//! Bulk import over real HTTP: plan and apply, re-runs, revert, maxErrors, bad input.

use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

/// The answer of an import: status, and its NDJSON lines (or the error body).
struct Imported {
    status: u16,
    rows: Vec<Value>,
    summary: Value,
}

impl Imported {
    fn outcomes(&self) -> Vec<&str> {
        self.rows
            .iter()
            .map(|r| r["outcome"].as_str().expect("outcome"))
            .collect()
    }

    fn row(&self, line: u64) -> &Value {
        self.rows
            .iter()
            .find(|r| r["line"] == line)
            .unwrap_or_else(|| panic!("no row for line {line} in {:?}", self.rows))
    }
}

async fn import(
    app: &TestApp,
    token: &str,
    kind: &str,
    query: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> Imported {
    let response = app
        .send_raw(
            app.client
                .post(app.url(&format!("/api/v1/imports/{kind}?{query}")))
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(body),
        )
        .await;
    let status = response.status().as_u16();
    let text = response.text().await.expect("import answer");
    if status != 200 {
        return Imported {
            status,
            rows: Vec::new(),
            summary: serde_json::from_str(&text).expect("error body"),
        };
    }
    let mut rows = Vec::new();
    let mut summary = Value::Null;
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).expect("an NDJSON line");
        match value["type"].as_str() {
            Some("row") => rows.push(value),
            Some("summary") => summary = value,
            other => panic!("unexpected line type {other:?}: {line}"),
        }
    }
    assert!(summary.is_object(), "no summary in {text}");
    Imported {
        status,
        rows,
        summary,
    }
}

async fn csv(app: &TestApp, token: &str, kind: &str, query: &str, body: &str) -> Imported {
    import(app, token, kind, query, "text/csv", body.to_owned()).await
}

/// Users whose email ends with `domain`, as (email, first name, active, role).
async fn users_of(app: &TestApp, token: &str, domain: &str) -> Vec<(String, String, bool, String)> {
    let answer = app
        .get_as(token, &format!("/api/v1/users?search={domain}&limit=100"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mut users: Vec<_> = answer.body["data"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| {
            (
                u["email"].as_str().expect("email").to_owned(),
                u["firstName"].as_str().expect("name").to_owned(),
                u["isActive"].as_bool().expect("active"),
                u["role"].as_str().expect("role").to_owned(),
            )
        })
        .collect();
    users.sort();
    users
}

const USERS: &str = "user_id,login_id,first_name,last_name,role,status,password\n\
s1,ada@sis.test,Ada,Lovelace,student,active,\n\
t1,alan@sis.test,Alan,Turing,TEACHER,active,Sup3r-Secret!pw\n\
p1,grace@sis.test,Grace,Hopper,Parent,active,\n";

#[tokio::test]
async fn a_plan_writes_nothing_and_applying_its_file_gives_exactly_the_plan() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;

    let plan = csv(&app, token, "users", "mode=plan&fileName=users.csv", USERS).await;
    assert_eq!(plan.status, 200);
    assert_eq!(plan.outcomes(), ["create", "create", "create"]);
    assert_eq!(plan.summary["counts"]["create"], 3);
    assert!(users_of(&app, token, "sis.test").await.is_empty());

    let apply = csv(&app, token, "users", "mode=apply&fileName=users.csv", USERS).await;
    assert_eq!(apply.rows, plan.rows);
    assert_eq!(apply.summary["counts"], plan.summary["counts"]);
    assert_eq!(
        users_of(&app, token, "sis.test").await,
        vec![
            ("ada@sis.test".into(), "Ada".into(), true, "STUDENT".into()),
            (
                "alan@sis.test".into(),
                "Alan".into(),
                true,
                "TEACHER".into()
            ),
            (
                "grace@sis.test".into(),
                "Grace".into(),
                true,
                "PARENT".into()
            ),
        ]
    );
    // The teacher's password works; the others were mailed a code to set theirs.
    let login = app.login("alan@sis.test", "Sup3r-Secret!pw").await;
    assert_eq!(login.status, 200, "{}", login.body);
    let code = app.mailed_code(token, "ada@sis.test").await;
    let mail = app
        .get_as(token, "/api/v1/admin/outbox?recipient=ada@sis.test")
        .await;
    let body = mail.body["data"]["messages"][0]["body"].to_string();
    assert!(body.contains("expires in 72 hours"), "{body}");
    let reset = app
        .post_json(
            "/api/v1/auth/reset-password",
            &serde_json::json!({
                "email": "ada@sis.test", "otp": code, "newPassword": "Ada-L0velace!!"
            }),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    let login = app.login("ada@sis.test", "Ada-L0velace!!").await;
    assert_eq!(
        login.status, 200,
        "the mailed code set a password: {}",
        login.body
    );

    let runs = app.get_as(token, "/api/v1/imports").await;
    assert_eq!(runs.status, 200);
    let latest = &runs.body["data"]["imports"][0];
    assert_eq!(latest["mode"], "apply");
    assert_eq!(latest["status"], "APPLIED");
    assert_eq!(latest["fileName"], "users.csv");
    assert_eq!(latest["counts"]["create"], 3);
    assert_eq!(runs.body["data"]["imports"][1]["status"], "PLANNED");
}

#[tokio::test]
async fn re_running_the_same_file_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    csv(&app, token, "users", "mode=apply", USERS).await;
    let before = users_of(&app, token, "sis.test").await;

    let again = csv(&app, token, "users", "mode=apply", USERS).await;
    assert_eq!(again.outcomes(), ["unchanged", "unchanged", "unchanged"]);
    assert_eq!(again.summary["counts"]["unchanged"], 3);
    assert_eq!(users_of(&app, token, "sis.test").await, before);
}

#[tokio::test]
async fn json_lines_import_like_csv() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let body = "{\"user_id\":\"j1\",\"email\":\"jo@sis.test\",\"first_name\":\"Jo\",\"last_name\":\"March\",\"role\":\"student\"}\n\
{\"user_id\":\"j2\",\"email\":\"meg@sis.test\",\"first_name\":\"Meg\"}\n";
    let answer = import(
        &app,
        &admin.access_token,
        "users",
        "mode=apply",
        "application/x-ndjson",
        body,
    )
    .await;
    assert_eq!(answer.outcomes(), ["create", "error"]);
    assert_eq!(answer.row(2)["errors"][0]["field"], "last_name");
}

#[tokio::test]
async fn revert_restores_the_users_as_they_were() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let first = csv(&app, token, "users", "mode=apply", USERS).await;
    let original = users_of(&app, token, "sis.test").await;

    let changed = "user_id,email,first_name,last_name,status\n\
s1,ada.l@sis.test,Augusta,Lovelace,deleted\n\
n1,new@sis.test,New,Person,active\n";
    let second = csv(&app, token, "users", "mode=apply", changed).await;
    assert_eq!(second.outcomes(), ["update", "create"]);
    assert_eq!(
        second.row(2)["changes"],
        serde_json::json!(["email", "first_name", "status"])
    );
    let id = second.summary["importId"].as_str().expect("id");

    let revert = app
        .post_as(token, &format!("/api/v1/imports/{id}/revert"), &Value::Null)
        .await;
    assert_eq!(revert.status, 200, "{}", revert.body);
    assert_eq!(revert.body["data"]["restored"], 1);
    assert_eq!(revert.body["data"]["deleted"], 1);
    assert_eq!(users_of(&app, token, "sis.test").await, original);

    let twice = app
        .post_as(token, &format!("/api/v1/imports/{id}/revert"), &Value::Null)
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);

    let first_id = first.summary["importId"].as_str().expect("id");
    let undo_all = app
        .post_as(
            token,
            &format!("/api/v1/imports/{first_id}/revert"),
            &Value::Null,
        )
        .await;
    assert_eq!(undo_all.status, 200, "{}", undo_all.body);
    assert!(users_of(&app, token, "sis.test").await.is_empty());
    let run = app
        .get_as(token, &format!("/api/v1/imports/{first_id}"))
        .await;
    assert_eq!(run.body["data"]["status"], "REVERTED");
}

#[tokio::test]
async fn courses_import_as_drafts_owned_by_the_admin_and_revert() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let file = "course_id,short_name,long_name,status\n\
C1,BIO 101,Biology One,active\n\
C2,CHEM101,Chemistry,completed\n";
    let plan = csv(&app, token, "courses", "mode=plan", file).await;
    let first = csv(&app, token, "courses", "mode=apply", file).await;
    assert_eq!(first.rows, plan.rows);
    assert_eq!(first.outcomes(), ["create", "create"]);
    let bio = app.get_as(token, "/api/v1/courses/bio-101").await;
    assert_eq!(bio.status, 200, "{}", bio.body);
    assert_eq!(bio.body["data"]["status"], "DRAFT");
    assert_eq!(bio.body["data"]["title"], "Biology One");
    let chem = app.get_as(token, "/api/v1/courses/chem101").await;
    assert_eq!(chem.body["data"]["status"], "ARCHIVED");

    let rerun = csv(&app, token, "courses", "mode=apply", file).await;
    assert_eq!(rerun.outcomes(), ["unchanged", "unchanged"]);

    let change = "course_id,short_name,long_name,status\nC1,BIO 101,Biology I,deleted\n";
    let second = csv(&app, token, "courses", "mode=apply", change).await;
    assert_eq!(
        second.row(2)["changes"],
        serde_json::json!(["long_name", "status"])
    );
    let bio = app.get_as(token, "/api/v1/courses/bio-101").await;
    assert_eq!(bio.body["data"]["status"], "ARCHIVED");

    let id = second.summary["importId"].as_str().expect("id");
    let revert = app
        .post_as(token, &format!("/api/v1/imports/{id}/revert"), &Value::Null)
        .await;
    assert_eq!(revert.status, 200, "{}", revert.body);
    let bio = app.get_as(token, "/api/v1/courses/bio-101").await;
    assert_eq!(bio.body["data"]["status"], "DRAFT");
    assert_eq!(bio.body["data"]["title"], "Biology One");

    let first_id = first.summary["importId"].as_str().expect("id");
    let undo = app
        .post_as(
            token,
            &format!("/api/v1/imports/{first_id}/revert"),
            &Value::Null,
        )
        .await;
    assert_eq!(undo.status, 200, "{}", undo.body);
    assert_eq!(
        app.get_as(token, "/api/v1/courses/bio-101").await.status,
        404
    );
}

#[tokio::test]
async fn max_errors_stops_the_apply_and_leaves_the_failing_batch_unwritten() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let file = "user_id,email,first_name,last_name\n\
m1,m1@max.test,One,Row\n\
m2,not-an-email,Two,Row\n\
m3,m3@max.test,Three,Row\n\
m4,m4@max.test,,Row\n\
m5,m5@max.test,Five,Row\n";
    let query = "mode=apply&maxErrors=2&batch=2";
    let plan = csv(&app, token, "users", "mode=plan&maxErrors=2&batch=2", file).await;
    let answer = csv(&app, token, "users", query, file).await;
    assert_eq!(answer.rows, plan.rows);
    assert_eq!(
        answer.outcomes(),
        ["create", "error", "skipped", "error", "skipped"]
    );
    assert_eq!(answer.summary["stopped"], true);
    assert_eq!(answer.summary["counts"]["skipped"], 2);
    let users = users_of(&app, token, "max.test").await;
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0].0, "m1@max.test");
}

#[tokio::test]
async fn a_bad_header_is_a_400_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let missing = csv(
        &app,
        token,
        "users",
        "mode=apply",
        "user_id,first_name,last_name\nx,A,B\n",
    )
    .await;
    assert_eq!(missing.status, 400);
    assert!(
        missing.summary["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("missing column `email` or `login_id`"),
        "{}",
        missing.summary
    );
    let unknown = csv(
        &app,
        token,
        "users",
        "mode=apply",
        "user_id,email,first_name,last_name,shoe_size\nx,x@h.test,A,B,9\n",
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown
            .summary
            .to_string()
            .contains("unknown column `shoe_size`")
    );
    let empty = csv(&app, token, "courses", "mode=apply", "").await;
    assert_eq!(empty.status, 400);
    let binary = import(
        &app,
        token,
        "users",
        "mode=apply",
        "text/csv",
        b"user_id,\xffmail\n".to_vec(),
    )
    .await;
    assert_eq!(binary.status, 400);
    assert!(binary.summary.to_string().contains("UTF-8"));
    let wrong_type = import(&app, token, "users", "mode=apply", "application/json", "{}").await;
    assert_eq!(wrong_type.status, 415);
    assert!(users_of(&app, token, "h.test").await.is_empty());
}

#[tokio::test]
async fn each_bad_row_gets_its_own_error_with_its_line() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    csv(
        &app,
        token,
        "users",
        "mode=apply",
        "user_id,email,first_name,last_name\nold,taken@bad.test,Old,User\n",
    )
    .await;
    let long = "x".repeat(70 * 1024);
    let mut file = Vec::new();
    file.extend_from_slice(b"user_id,email,first_name,last_name,role,status\n");
    file.extend_from_slice(b"b1,b1@bad.test,Ok,Row,student,active\n"); // 2
    file.extend_from_slice(b"b2,b2@bad.test,\xff\xfe,Row,student,active\n"); // 3
    file.extend_from_slice(b"b3,b3@bad.test,Too,Few\n"); // 4
    file.extend_from_slice(format!("b4,b4@bad.test,{long},Row,student,active\n").as_bytes()); // 5
    file.extend_from_slice(b"b1,b5@bad.test,Dup,Key,student,active\n"); // 6
    file.extend_from_slice(b"b6,B1@bad.test,Dup,Email,student,active\n"); // 7
    file.extend_from_slice(b"b7,b7@bad.test,Bad,Role,wizard,active\n"); // 8
    file.extend_from_slice(b"b8,b8@bad.test,Bad,Status,student,asleep\n"); // 9
    file.extend_from_slice(b"b9,not-an-email,Bad,Email,student,active\n"); // 10
    file.extend_from_slice(b"b10,taken@bad.test,Taken,Email,student,active\n"); // 11
    file.extend_from_slice(b"b11,b11@bad.test,\"Quoted\nName\",Row,student,active\n"); // 12-13
    file.extend_from_slice(b"b12,b12@bad.test,Last,Row,admin,active"); // 14
    let answer = import(&app, token, "users", "mode=apply", "text/csv", file).await;
    assert_eq!(answer.status, 200);
    let field_of = |line: u64| {
        let row = answer.row(line);
        assert_eq!(row["outcome"], "error", "line {line}: {row}");
        (
            row["errors"][0]["field"]
                .as_str()
                .expect("field")
                .to_owned(),
            row["errors"][0]["message"]
                .as_str()
                .expect("message")
                .to_owned(),
        )
    };
    assert_eq!(answer.row(2)["outcome"], "create");
    assert!(field_of(3).1.contains("UTF-8"));
    assert!(field_of(4).1.contains("has 4 columns; the header has 6"));
    assert!(field_of(5).1.contains("longer than 64 KiB"));
    assert_eq!(field_of(6).0, "user_id");
    assert!(field_of(6).1.contains("first on line 2"));
    assert_eq!(field_of(7).0, "email");
    assert!(field_of(7).1.contains("appears twice"));
    assert_eq!(field_of(8).0, "role");
    assert_eq!(field_of(9).0, "status");
    assert_eq!(field_of(10).0, "email");
    let (field, message) = field_of(11);
    assert_eq!(field, "email");
    assert!(message.contains("external id `old`"), "{message}");
    // A quoted field may span lines; the next row still has its own line number.
    assert_eq!(field_of(12).0, "first_name");
    assert_eq!(field_of(14).0, "role");
    assert_eq!(answer.summary["counts"]["error"], 11);
    // Only the good rows were written.
    let emails: Vec<String> = users_of(&app, token, "bad.test")
        .await
        .into_iter()
        .map(|u| u.0)
        .collect();
    assert_eq!(emails, ["b1@bad.test", "taken@bad.test"]);
}

#[tokio::test]
async fn only_admins_import() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let answer = csv(&app, &teacher.access_token, "users", "mode=plan", USERS).await;
    assert_eq!(answer.status, 403);
    let list = app.get_as(&teacher.access_token, "/api/v1/imports").await;
    assert_eq!(list.status, 403);
}

/// The course's roster as (email, status, batch id) and its `totalStudents`.
async fn roster(app: &TestApp, token: &str, course: &str) -> (Vec<(String, String, Value)>, i64) {
    let answer = app
        .get_as(token, &format!("/api/v1/courses/{course}/enrollments"))
        .await;
    assert_eq!(answer.status, 200, "roster: {}", answer.body);
    let mut rows: Vec<(String, String, Value)> = answer.body["data"]["enrollments"]
        .as_array()
        .expect("enrollments")
        .iter()
        .map(|e| {
            (
                e["student"]["email"].as_str().expect("email").to_owned(),
                e["status"].as_str().expect("status").to_owned(),
                e["batchId"].clone(),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let course = app
        .get_as(token, &format!("/api/v1/courses/{course}"))
        .await;
    let total = course.body["data"]["totalStudents"]
        .as_i64()
        .expect("totalStudents");
    (rows, total)
}

/// The course's staff as (email, role), owner first.
async fn staff(app: &TestApp, token: &str, course: &str) -> Vec<(String, String)> {
    let answer = app
        .get_as(token, &format!("/api/v1/courses/{course}/staff"))
        .await;
    assert_eq!(answer.status, 200, "staff: {}", answer.body);
    answer.body["data"]
        .as_array()
        .expect("staff")
        .iter()
        .map(|m| {
            (
                m["email"].as_str().expect("email").to_owned(),
                m["role"].as_str().expect("role").to_owned(),
            )
        })
        .collect()
}

/// Students s1–s3, teacher t1, and courses ENR 1 (with batch "Morning", one seat) and
/// ENR 2, all imported.
async fn enrollment_fixture(app: &TestApp, token: &str) -> String {
    let users = "user_id,email,first_name,last_name,role\n\
s1,s1@enr.test,Sam,One,student\n\
s2,s2@enr.test,Sue,Two,student\n\
s3,s3@enr.test,Sid,Three,student\n\
t1,t1@enr.test,Tia,Teach,teacher\n";
    let answer = csv(app, token, "users", "mode=apply", users).await;
    assert_eq!(answer.outcomes(), ["create"; 4], "{:?}", answer.rows);
    let courses = "course_id,short_name,long_name,status\n\
E1,ENR 1,Enrollment One,active\n\
E2,ENR 2,Enrollment Two,active\n\
E3,ENR 3,Enrollment Three,completed\n";
    let answer = csv(app, token, "courses", "mode=apply", courses).await;
    assert_eq!(answer.outcomes(), ["create"; 3], "{:?}", answer.rows);
    let batch = app
        .post_as(
            token,
            "/api/v1/courses/enr-1/batches",
            &serde_json::json!({ "name": "Morning", "capacity": 1 }),
        )
        .await;
    assert_eq!(batch.status, 201, "{}", batch.body);
    batch.body["data"]["id"]
        .as_str()
        .expect("batch id")
        .to_owned()
}

#[tokio::test]
async fn enrollments_import_plans_applies_reruns_and_reverts() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let morning = enrollment_fixture(&app, token).await;
    let file = "course_id,user_id,role,status,batch\n\
E1,s1,student,active,Morning\n\
E1,s2,student,active,Morning\n\
E1,s2b,student,active,\n\
E1,t1,teacher,active,\n\
E2,s1,student,completed,\n\
E2,s3,student,active,\n\
X9,s1,student,active,\n\
E1,s1,student,deleted,\n\
E3,s3,student,active,\n\
E1,t1x,ta,active,\n\
E1,s3,teacher,active,\n\
E2,s2,student,deleted,\n";
    let plan = csv(&app, token, "enrollments", "mode=plan&batch=3", file).await;
    assert_eq!(
        plan.outcomes(),
        [
            "create",
            "error",
            "error",
            "create",
            "create",
            "create",
            "error",
            "error",
            "error",
            "error",
            "error",
            "unchanged"
        ],
        "{:?}",
        plan.rows
    );
    // The plan wrote nothing.
    assert_eq!(roster(&app, token, "enr-1").await.0, []);
    let first = csv(&app, token, "enrollments", "mode=apply&batch=3", file).await;
    assert_eq!(
        first.rows, plan.rows,
        "applying the plan's file gives the plan"
    );
    assert_eq!(first.summary["counts"]["create"], 4);
    assert_eq!(first.summary["counts"]["error"], 7);

    let messages: Vec<(u64, String, String)> = first
        .rows
        .iter()
        .filter(|r| r["outcome"] == "error")
        .map(|r| {
            (
                r["line"].as_u64().expect("line"),
                r["errors"][0]["field"].as_str().expect("field").to_owned(),
                r["errors"][0]["message"]
                    .as_str()
                    .expect("message")
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(messages[0].0, 3);
    assert_eq!(messages[0].1, "batch");
    assert!(messages[0].2.contains("full (capacity 1)"), "{messages:?}");
    assert_eq!(messages[1].1, "user_id");
    assert!(messages[1].2.contains("`s2b`"), "{messages:?}");
    assert_eq!(messages[2].1, "course_id");
    assert!(messages[2].2.contains("`X9`"), "{messages:?}");
    assert_eq!(messages[3].0, 9);
    assert!(messages[3].2.contains("twice"), "{messages:?}");
    assert!(messages[3].2.contains("line 2"), "{messages:?}");
    assert!(messages[4].2.contains("archived"), "{messages:?}");
    assert!(messages[5].2.contains("`t1x`"), "{messages:?}");
    assert_eq!(messages[6].1, "role");
    assert!(messages[6].2.contains("STUDENT"), "{messages:?}");

    let (e1, total) = roster(&app, token, "enr-1").await;
    assert_eq!(
        e1,
        [(
            "s1@enr.test".into(),
            "ACTIVE".into(),
            Value::from(morning.clone())
        )]
    );
    assert_eq!(total, 1);
    let (e2, total) = roster(&app, token, "enr-2").await;
    assert_eq!(
        e2,
        [
            ("s1@enr.test".into(), "COMPLETED".into(), Value::Null),
            ("s3@enr.test".into(), "ACTIVE".into(), Value::Null),
        ]
    );
    assert_eq!(total, 2);
    let e1_staff = staff(&app, token, "enr-1").await;
    assert!(
        e1_staff.contains(&("t1@enr.test".into(), "CO_TEACHER".into())),
        "{e1_staff:?}"
    );

    let rerun = csv(&app, token, "enrollments", "mode=apply&batch=3", file).await;
    assert_eq!(rerun.summary["counts"]["create"], 0);
    assert_eq!(rerun.summary["counts"]["update"], 0);
    assert_eq!(rerun.summary["counts"]["unchanged"], 5);

    // s1 leaves E1 and frees the seat s2 takes in the same file; t1 becomes a TA.
    let change = "course_id,user_id,role,status,batch\n\
E1,s1,student,deleted,\n\
E1,s2,student,active,Morning\n\
E1,t1,ta,active,\n";
    let second = csv(&app, token, "enrollments", "mode=apply", change).await;
    assert_eq!(
        second.outcomes(),
        ["update", "create", "update"],
        "{:?}",
        second.rows
    );
    assert_eq!(
        second.row(2)["changes"],
        serde_json::json!(["status", "batch"])
    );
    assert_eq!(second.row(4)["changes"], serde_json::json!(["role"]));
    let (e1, total) = roster(&app, token, "enr-1").await;
    assert_eq!(
        e1,
        [
            ("s1@enr.test".into(), "CANCELLED".into(), Value::Null),
            (
                "s2@enr.test".into(),
                "ACTIVE".into(),
                Value::from(morning.clone())
            ),
        ]
    );
    assert_eq!(total, 1);

    let id = second.summary["importId"].as_str().expect("id");
    let revert = app
        .post_as(token, &format!("/api/v1/imports/{id}/revert"), &Value::Null)
        .await;
    assert_eq!(revert.status, 200, "{}", revert.body);
    assert_eq!(revert.body["data"]["restored"], 2);
    assert_eq!(revert.body["data"]["deleted"], 1);
    let (e1, total) = roster(&app, token, "enr-1").await;
    assert_eq!(
        e1,
        [("s1@enr.test".into(), "ACTIVE".into(), Value::from(morning))]
    );
    assert_eq!(total, 1);
    assert!(
        staff(&app, token, "enr-1")
            .await
            .contains(&("t1@enr.test".into(), "CO_TEACHER".into()))
    );

    let first_id = first.summary["importId"].as_str().expect("id");
    let undo = app
        .post_as(
            token,
            &format!("/api/v1/imports/{first_id}/revert"),
            &Value::Null,
        )
        .await;
    assert_eq!(undo.status, 200, "{}", undo.body);
    assert_eq!(roster(&app, token, "enr-1").await, (vec![], 0));
    assert_eq!(roster(&app, token, "enr-2").await, (vec![], 0));
    assert!(
        !staff(&app, token, "enr-1")
            .await
            .iter()
            .any(|(email, _)| email == "t1@enr.test")
    );
}

/// Reverting a users run deletes the users it created who never signed in, and their
/// enrollments with them: the courses they counted in are recounted.
#[tokio::test]
async fn reverting_a_users_import_recounts_the_courses_its_users_were_in() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    enrollment_fixture(&app, token).await;
    let users = csv(
        &app,
        token,
        "users",
        "mode=apply",
        "user_id,email,first_name,last_name,role\ns9,s9@enr.test,Sia,Nine,student\n",
    )
    .await;
    assert_eq!(users.outcomes(), ["create"], "{:?}", users.rows);
    let file = "course_id,user_id,role,status\n\
E1,s9,student,active\n\
E2,s9,student,active\n\
E2,s1,student,active\n";
    let enrolled = csv(&app, token, "enrollments", "mode=apply", file).await;
    assert_eq!(enrolled.outcomes(), ["create"; 3], "{:?}", enrolled.rows);
    assert_eq!(roster(&app, token, "enr-1").await.1, 1);
    assert_eq!(roster(&app, token, "enr-2").await.1, 2);

    let id = users.summary["importId"].as_str().expect("id");
    let revert = app
        .post_as(token, &format!("/api/v1/imports/{id}/revert"), &Value::Null)
        .await;
    assert_eq!(revert.status, 200, "{}", revert.body);
    assert_eq!(revert.body["data"]["deleted"], 1);
    assert_eq!(roster(&app, token, "enr-1").await, (vec![], 0));
    assert_eq!(
        roster(&app, token, "enr-2").await,
        (
            vec![("s1@enr.test".into(), "ACTIVE".into(), Value::Null)],
            1
        )
    );
}

/// With the consumer's batches held to 2 notifications, an import's 5 enrollment events
/// (committed together) and an announcement to all 5 students (an audience over the
/// limit, never split) still make every notification once, with dense ids.
#[tokio::test]
async fn the_notification_consumer_cuts_big_batches_without_losing_or_repeating_any() {
    use edupro_server::store::entity::{domain_event, notification, notification_cursor};
    use sea_orm::{EntityTrait, QueryOrder};

    // No polling: the consumer drains only when events are announced, so a batch cut
    // that failed to go on to the rest would leave them unhandled.
    let app = crate::helpers::spawn_app_with(|args| {
        args.realtime.notification_batch_rows = Some(2);
        args.realtime.notification_poll_interval = Some("1h".into());
    })
    .await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    // With passwords, so that a student can sign in and watch their inbox.
    let mut users = String::from("user_id,email,first_name,last_name,role,password\n");
    let mut enrollments = String::from("course_id,user_id,role,status\n");
    for i in 1..=5 {
        users.push_str(&format!(
            "c{i},c{i}@cut.test,Cut,Number{i},student,Cut-pass{i}!\n"
        ));
        enrollments.push_str(&format!("K1,c{i},student,active\n"));
    }
    assert_eq!(
        csv(&app, token, "users", "mode=apply", &users)
            .await
            .outcomes(),
        ["create"; 5]
    );
    let courses = "course_id,short_name,long_name,status\nK1,KEY 1,Cut Course,active\n";
    assert_eq!(
        csv(&app, token, "courses", "mode=apply", courses)
            .await
            .outcomes(),
        ["create"]
    );
    let enrolled = csv(&app, token, "enrollments", "mode=apply", &enrollments).await;
    assert_eq!(enrolled.outcomes(), ["create"; 5], "{:?}", enrolled.rows);
    crate::realtime_helpers::announce(&app, &admin, "key-1", "Cut", "All of you").await;

    // The announcement is the last event, and the consumer handles events in order,
    // committing each batch with the cursor: once a student has it, every event is
    // handled and every notification made.
    let signed_in = app.login("c1@cut.test", "Cut-pass1!").await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let student =
        crate::helpers::TestUser::from_session(&signed_in.body["data"], "Cut-pass1!", None);
    crate::realtime_helpers::wait_for_title(&app, &student, "Cut").await;
    let db = &app.state.db;
    let last = domain_event::Entity::find()
        .order_by_desc(domain_event::Column::Seq)
        .one(db)
        .await
        .expect("events")
        .expect("an event")
        .seq;
    // The notification consumer's own row: the table also holds the webhook, activity
    // and roll-up cursors.
    let cursor = notification_cursor::Entity::find_by_id("notifications".to_owned())
        .one(db)
        .await
        .expect("cursor")
        .expect("the cursor row");
    assert_eq!(cursor.event_seq, last, "{cursor:?}");
    let made = notification::Entity::find()
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await
        .expect("notifications");
    let ids: Vec<i64> = made.iter().map(|n| n.id).collect();
    let first = ids[0];
    assert_eq!(
        ids,
        (first..first + ids.len() as i64).collect::<Vec<_>>(),
        "dense ids"
    );
    // The five enrollment events committed together; held to 2 notifications a batch,
    // they were made in at least 3 (each batch's rows share its timestamp).
    let mut batches: Vec<_> = made
        .iter()
        .filter(|n| n.kind.as_str() == "ENROLLED")
        .map(|n| n.created_at)
        .collect();
    batches.dedup();
    assert!(
        batches.len() >= 3,
        "made in {} batches: {made:?}",
        batches.len()
    );
    for kind in ["ENROLLED", "ANNOUNCEMENT"] {
        let mut to: Vec<uuid::Uuid> = made
            .iter()
            .filter(|n| n.kind.as_str() == kind)
            .map(|n| n.user_id)
            .collect();
        assert_eq!(to.len(), 5, "{kind}: {made:?}");
        to.sort();
        to.dedup();
        assert_eq!(to.len(), 5, "{kind} reached each student once: {made:?}");
    }
    // The three imports' reports to the admin.
    assert_eq!(
        made.iter()
            .filter(|n| n.kind.as_str() == "IMPORT_FINISHED")
            .count(),
        3
    );
    assert_eq!(made.len(), 13, "{made:?}");
}

#[tokio::test]
async fn enrollments_need_their_key_columns_and_take_json_lines() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    enrollment_fixture(&app, token).await;
    let missing = csv(
        &app,
        token,
        "enrollments",
        "mode=apply",
        "course_id,user_id\nE1,s1\n",
    )
    .await;
    assert_eq!(missing.status, 400, "{}", missing.summary);
    assert!(
        missing
            .summary
            .to_string()
            .contains("missing column `role`"),
        "{}",
        missing.summary
    );
    let lines = "{\"course_id\":\"E2\",\"user_id\":\"s2\",\"role\":\"student\"}\n\
{\"course_id\":\"E2\",\"user_id\":\"t1\",\"role\":\"ta\",\"status\":\"active\"}\n\
{\"course_id\":\"E2\",\"user_id\":\"s3\",\"role\":\"student\",\"status\":\"graduated\"}\n";
    let answer = import(
        &app,
        token,
        "enrollments",
        "mode=apply",
        "application/x-ndjson",
        lines.to_owned(),
    )
    .await;
    assert_eq!(
        answer.outcomes(),
        ["create", "create", "error"],
        "{:?}",
        answer.rows
    );
    assert_eq!(answer.row(3)["errors"][0]["field"], "status");
    assert_eq!(
        roster(&app, token, "enr-2").await,
        (
            vec![("s2@enr.test".into(), "ACTIVE".into(), Value::Null)],
            1
        )
    );
    assert!(
        staff(&app, token, "enr-2")
            .await
            .contains(&("t1@enr.test".into(), "TA".into()))
    );
}

#[tokio::test]
async fn the_admin_is_notified_when_an_import_finishes_with_its_counts() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let file = "user_id,email,first_name,last_name\n\
n1,n1@note.test,Nia,One\n\
n2,not-an-email,Nat,Two\n";
    let done = csv(&app, token, "users", "mode=apply", file).await;
    let id = done.summary["importId"].as_str().expect("id").to_owned();
    for _ in 0..200 {
        let inbox = app.get_as(token, "/api/v1/notifications").await;
        assert_eq!(inbox.status, 200, "{}", inbox.body);
        let found = inbox.body["data"]["notifications"]
            .as_array()
            .expect("notifications")
            .iter()
            .find(|n| n["type"] == "IMPORT_FINISHED" && n["data"]["importId"] == id.as_str())
            .cloned();
        if let Some(n) = found {
            assert_eq!(n["title"], "Import of users finished");
            assert_eq!(
                n["message"],
                "1 created, 0 updated, 0 unchanged, 1 failed, 0 skipped."
            );
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no import.finished notification for {id}");
}
