//! Integrity: every payload a student receives through a test's life cycle (listing,
//! opening, starting, saving, submitting, reading the attempt and the attempts list,
//! after grading) is kept, and none may carry a correct answer, an explanation, or
//! another student's answers, names or scores before the results policy allows it
//! (here AFTER_WINDOW: once the window has closed, the key and explanations appear;
//! other students' data never does).

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};
use crate::tests_helpers::{class, enrolled_student, pick, question, start, submit, write};

const EXPLANATION: &str = "EXPLAINED-Newton-is-the-SI-unit";
const ACCEPTED: &str = "Kilogram-accepted-unit";
const OTHER_ESSAY: &str = "The-other-students-essay";

/// Records student-facing answers as text.
struct Snapshots(Vec<(String, String)>);

impl Snapshots {
    async fn get(&mut self, app: &TestApp, user: &TestUser, path: &str) -> Value {
        let answer = app.get_as(&user.access_token, path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        self.0
            .push((format!("GET {path}"), answer.body.to_string()));
        answer.body
    }

    fn keep(&mut self, what: &str, body: &Value) {
        self.0.push((what.to_owned(), body.to_string()));
    }

    fn assert_none_contain(&self, needles: &[&str], why: &str) {
        for (what, body) in &self.0 {
            for needle in needles {
                assert!(
                    !body.contains(needle),
                    "{what} shows {needle:?} ({why}): {body}"
                );
            }
        }
    }
}

#[tokio::test]
async fn no_student_payload_shows_keys_explanations_or_other_students_before_the_policy_allows() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let other = enrolled_student(&app, &c.course).await;
    let until = chrono::Utc::now() + chrono::Duration::hours(2);
    let doc = json!({
        "courseId": c.course, "title": "Sealed", "type": "FINAL_EXAM", "durationMinutes": 60,
        "availableUntil": until, "showAnswers": "AFTER_WINDOW", "passingMarks": 1,
        "questions": [
            { "type": "MCQ", "questionText": "SI unit of force?", "marks": 2, "explanation": EXPLANATION,
              "options": [ { "text": "Newton", "isCorrect": true }, { "text": "Pascal" } ] },
            { "type": "SHORT_ANSWER", "questionText": "SI unit of mass?", "marks": 1,
              "acceptedAnswers": [ACCEPTED] },
            { "type": "LONG_ANSWER", "questionText": "Essay", "marks": 3 }
        ]
    });
    let t = app
        .post_as(&c.teacher.access_token, "/api/v1/tests", &doc)
        .await;
    assert_eq!(t.status, 201);
    let id = t.body["data"]["id"].as_str().expect("id").to_owned();
    let published = app
        .post_as(
            &c.teacher.access_token,
            &format!("/api/v1/tests/{id}/publish"),
            &json!({}),
        )
        .await;
    assert_eq!(published.status, 200);

    // The other student answers first, so their data exists to leak.
    let theirs = start(&app, &other.access_token, &id).await;
    let their_id = theirs["id"].as_str().expect("id").to_owned();
    let done = submit(
        &app,
        &other.access_token,
        &their_id,
        vec![
            pick(question(&theirs, "SI unit of force"), &["Newton"]),
            write(question(&theirs, "Essay"), OTHER_ESSAY),
        ],
    )
    .await;
    assert_eq!(done.status, 200);

    let mut seen = Snapshots(Vec::new());
    let student = &c.student;
    seen.get(&app, student, "/api/v1/tests").await;
    seen.get(
        &app,
        student,
        &format!("/api/v1/tests?courseId={}", c.course),
    )
    .await;
    seen.get(&app, student, &format!("/api/v1/tests/{id}"))
        .await;
    let mine = start(&app, &student.access_token, &id).await;
    seen.keep("POST attempts", &mine);
    let a = mine["id"].as_str().expect("id").to_owned();
    let saved = app
        .call_as(
            &student.access_token,
            reqwest::Method::PUT,
            &format!("/api/v1/attempts/{a}/answers"),
            Some(&json!({ "answers": [pick(question(&mine, "SI unit of force"), &["Pascal"])] })),
        )
        .await;
    seen.keep("PUT answers", &saved.body);
    seen.get(&app, student, &format!("/api/v1/attempts/{a}"))
        .await;
    let submitted = submit(
        &app,
        &student.access_token,
        &a,
        vec![
            write(question(&mine, "SI unit of mass"), "gram"),
            write(question(&mine, "Essay"), "mine"),
        ],
    )
    .await;
    assert_eq!(submitted.status, 200);
    seen.keep("POST submit", &submitted.body);
    let after_submit = seen
        .get(&app, student, &format!("/api/v1/attempts/{a}"))
        .await;
    seen.get(&app, student, &format!("/api/v1/tests/{id}/attempts"))
        .await;
    seen.get(&app, student, &format!("/api/v1/tests/{id}"))
        .await;

    // Grading finishes the attempt; still inside the window.
    let queue = app
        .get_as(
            &c.teacher.access_token,
            &format!("/api/v1/grading/queue?testId={id}"),
        )
        .await;
    for item in queue.body["data"]["items"].as_array().expect("items") {
        let answer = item["answerId"].as_str().expect("id");
        let graded = app
            .call_as(
                &c.teacher.access_token,
                reqwest::Method::PUT,
                &format!("/api/v1/grading/answers/{answer}"),
                Some(&json!({ "marks": 1 })),
            )
            .await;
        assert_eq!(graded.status, 200);
    }
    let graded = seen
        .get(&app, student, &format!("/api/v1/attempts/{a}"))
        .await;
    assert_eq!(graded["data"]["result"]["gradingComplete"], true);

    let others = [
        other.id.as_str(),
        other.email.as_str(),
        their_id.as_str(),
        OTHER_ESSAY,
    ];
    seen.assert_none_contain(
        &["isCorrect", "acceptedAnswers", EXPLANATION, ACCEPTED],
        "before the window closes",
    );
    seen.assert_none_contain(&others, "another student's data");
    for body in [&after_submit, &graded] {
        for row in body["data"]["result"]["breakdown"]
            .as_array()
            .expect("breakdown")
        {
            assert_eq!(row["correct"], Value::Null, "{row}");
            assert_eq!(row["explanation"], Value::Null, "{row}");
        }
    }
    // Results themselves are allowed (showResults): the student sees their own score.
    assert!(after_submit["data"]["result"]["score"].is_number());

    // The window closes: now the key and the explanation are the student's to see.
    let closed = app
        .patch_as(
            &c.teacher.access_token,
            &format!("/api/v1/tests/{id}"),
            &json!({ "availableUntil": chrono::Utc::now() - chrono::Duration::seconds(1) }),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    let mut after = Snapshots(Vec::new());
    let open = after
        .get(&app, student, &format!("/api/v1/attempts/{a}"))
        .await;
    after
        .get(&app, student, &format!("/api/v1/tests/{id}/attempts"))
        .await;
    after
        .get(&app, student, &format!("/api/v1/tests/{id}"))
        .await;
    let text = open.to_string();
    assert!(text.contains(EXPLANATION), "{text}");
    assert!(text.contains(ACCEPTED), "{text}");
    after.assert_none_contain(&others, "another student's data, even after the window");
}

#[tokio::test]
async fn a_test_that_hides_results_shows_its_students_no_score_at_all() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let doc = json!({
        "courseId": c.course, "title": "Hidden", "type": "ASSIGNMENT", "showResults": false,
        "showAnswers": "AFTER_SUBMIT",
        "questions": [ { "type": "TRUE_FALSE", "questionText": "Sky is blue", "marks": 1, "explanation": EXPLANATION,
                         "options": [ { "text": "True", "isCorrect": true }, { "text": "False" } ] } ]
    });
    let t = app
        .post_as(&c.teacher.access_token, "/api/v1/tests", &doc)
        .await;
    let id = t.body["data"]["id"].as_str().expect("id").to_owned();
    app.post_as(
        &c.teacher.access_token,
        &format!("/api/v1/tests/{id}/publish"),
        &json!({}),
    )
    .await;
    let attempt = start(&app, &c.student.access_token, &id).await;
    let a = attempt["id"].as_str().expect("id").to_owned();
    let done = submit(
        &app,
        &c.student.access_token,
        &a,
        vec![pick(question(&attempt, "Sky"), &["True"])],
    )
    .await;
    assert_eq!(done.body["data"]["score"], Value::Null, "{}", done.body);
    assert_eq!(done.body["data"]["correctAnswers"], Value::Null);
    let view = app
        .get_as(&c.student.access_token, &format!("/api/v1/attempts/{a}"))
        .await;
    assert_eq!(view.body["data"]["result"]["score"], Value::Null);
    assert_eq!(view.body["data"]["result"]["breakdown"], Value::Null);
    assert!(!view.body.to_string().contains(EXPLANATION));
    let list = app
        .get_as(
            &c.student.access_token,
            &format!("/api/v1/tests/{id}/attempts"),
        )
        .await;
    assert_eq!(list.body["data"]["attempts"][0]["score"], Value::Null);
    // Staff see it.
    let staff = app
        .get_as(&c.teacher.access_token, &format!("/api/v1/attempts/{a}"))
        .await;
    assert_eq!(staff.body["data"]["result"]["score"], 1.0);
}

#[tokio::test]
async fn after_submit_shows_the_key_only_once_no_attempt_is_left() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let doc = json!({
        "courseId": c.course, "title": "Two tries", "type": "QUIZ", "attemptsAllowed": 2,
        "showAnswers": "AFTER_SUBMIT",
        "questions": [ { "type": "TRUE_FALSE", "questionText": "Sky is blue", "marks": 1,
                         "explanation": EXPLANATION,
                         "options": [ { "text": "True", "isCorrect": true }, { "text": "False" } ] } ]
    });
    let id = crate::tests_helpers::published_test(&app, &c.teacher.access_token, &doc).await;
    let token = &c.student.access_token;
    let row =
        |answer: &crate::helpers::Answer| answer.body["data"]["result"]["breakdown"][0].clone();

    let first = start(&app, token, &id).await;
    let q = question(&first, "Sky");
    let a1 = first["id"].as_str().expect("id").to_owned();
    let done = submit(&app, token, &a1, vec![pick(q, &["False"])]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let read = app.get_as(token, &format!("/api/v1/attempts/{a1}")).await;
    // One attempt is left: the key would answer it. The score is shown.
    assert_eq!(read.body["data"]["result"]["score"], 0.0, "{}", read.body);
    assert_eq!(row(&read)["correct"], Value::Null, "{}", read.body);
    assert_eq!(row(&read)["explanation"], Value::Null, "{}", read.body);
    assert!(!read.body.to_string().contains(EXPLANATION));

    let second = start(&app, token, &id).await;
    let a2 = second["id"].as_str().expect("id").to_owned();
    let done = submit(
        &app,
        token,
        &a2,
        vec![pick(question(&second, "Sky"), &["True"])],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let read = app.get_as(token, &format!("/api/v1/attempts/{a2}")).await;
    // No attempt left: the key and the explanation are shown, on both attempts.
    assert_eq!(row(&read)["explanation"], EXPLANATION, "{}", read.body);
    assert!(!row(&read)["correct"].is_null(), "{}", read.body);
    let earlier = app.get_as(token, &format!("/api/v1/attempts/{a1}")).await;
    assert_eq!(
        row(&earlier)["explanation"],
        EXPLANATION,
        "{}",
        earlier.body
    );
}
