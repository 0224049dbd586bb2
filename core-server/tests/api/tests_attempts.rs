//! Attempts over HTTP: start on the server's clock with the deadline, save and submit,
//! objective grading at submit (partial, negative, tolerance, unicode), the zero floor,
//! the window, attempts allowed, late submits, automatic submission at the deadline, and
//! students kept out of each other's attempts.

use serde_json::json;

use crate::catalogue_helpers::error_fields;
use crate::helpers::spawn_app;
use crate::tests_helpers::{
    class, enrolled_student, every_type, expire, pick, published_test, question, start, submit,
    write,
};

#[tokio::test]
async fn a_student_takes_a_test_and_objective_answers_are_graded_at_submit() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let id = published_test(&app, &c.teacher.access_token, &every_type(&c.course)).await;
    let before = chrono::Utc::now();
    let attempt = start(&app, &c.student.access_token, &id).await;
    let started: chrono::DateTime<chrono::Utc> = attempt["startedAt"]
        .as_str()
        .expect("startedAt")
        .parse()
        .expect("time");
    let deadline: chrono::DateTime<chrono::Utc> = attempt["deadline"]
        .as_str()
        .expect("deadline")
        .parse()
        .expect("time");
    assert!(started >= before - chrono::Duration::seconds(1));
    assert_eq!(deadline - started, chrono::Duration::minutes(30));
    assert_eq!(attempt["status"], "IN_PROGRESS");
    assert_eq!(attempt["result"], serde_json::Value::Null);
    let a = attempt["id"].as_str().expect("id").to_owned();

    // Saved as the student goes; a later save replaces an answer.
    let mcq = question(&attempt, "Unit of force");
    let saved = app
        .call_as(
            &c.student.access_token,
            reqwest::Method::PUT,
            &format!("/api/v1/attempts/{a}/answers"),
            Some(&json!({ "answers": [pick(mcq, &["Joule"])] })),
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    let answers = vec![
        pick(mcq, &["Newton"]),
        // Two of three correct picks: 2 of 3 marks.
        pick(
            question(&attempt, "Which are vectors"),
            &["Velocity", "Force"],
        ),
        // Wrong: loses its negative mark.
        pick(question(&attempt, "Light is faster"), &["False"]),
        // Within the tolerance, written with full-width digits and spaces.
        write(question(&attempt, "g in"), " \u{ff19}.８ "),
        write(
            question(&attempt, "Explain"),
            "Every action has an equal and opposite reaction.",
        ),
    ];
    let done = submit(&app, &c.student.access_token, &a, answers).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let s = &done.body["data"];
    // 2 + 2 - 1 + 2 (the long answer waits).
    assert_eq!(s["score"], 5.0, "{s}");
    assert_eq!(s["totalMarks"], 13.0);
    assert_eq!(s["gradingComplete"], false);
    assert_eq!(s["passed"], serde_json::Value::Null);
    assert_eq!(s["correctAnswers"], 2);
    assert_eq!(s["wrongAnswers"], 1);

    let view = app
        .get_as(&c.student.access_token, &format!("/api/v1/attempts/{a}"))
        .await;
    assert_eq!(view.status, 200);
    let result = &view.body["data"]["result"];
    let outcomes: Vec<&str> = result["breakdown"]
        .as_array()
        .expect("breakdown")
        .iter()
        .map(|b| b["outcome"].as_str().expect("outcome"))
        .collect();
    let mut sorted = outcomes.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["CORRECT", "CORRECT", "PARTIAL", "PENDING", "WRONG"]
    );
    assert_eq!(result["rank"], 1);
    assert_eq!(result["percentage"], 38.46);

    let again = submit(&app, &c.student.access_token, &a, vec![]).await;
    assert_eq!(again.status, 409, "{}", again.body);
}

#[tokio::test]
async fn the_total_never_goes_below_zero_unless_the_test_allows_it() {
    let app = spawn_app().await;
    let c = class(&app).await;
    for (allow, expected) in [(false, 0.0), (true, -1.5)] {
        let mut doc = every_type(&c.course);
        doc["allowNegativeTotal"] = json!(allow);
        doc["title"] = json!(format!("Negative {allow}"));
        let id = published_test(&app, &c.teacher.access_token, &doc).await;
        let attempt = start(&app, &c.student.access_token, &id).await;
        let answers = vec![
            pick(question(&attempt, "Unit of force"), &["Watt"]),
            pick(question(&attempt, "Light is faster"), &["False"]),
        ];
        let a = attempt["id"].as_str().expect("id");
        let done = submit(&app, &c.student.access_token, a, answers).await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert_eq!(
            done.body["data"]["score"], expected,
            "allowNegativeTotal {allow}"
        );
        // Unanswered, including the long answer: nothing waits for a teacher.
        assert_eq!(done.body["data"]["gradingComplete"], true);
        assert_eq!(done.body["data"]["passed"], false);
    }
}

#[tokio::test]
async fn a_student_cannot_start_outside_the_window_or_beyond_the_attempts_allowed() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let token = &c.student.access_token;
    let mut doc = every_type(&c.course);
    doc["availableFrom"] = json!(chrono::Utc::now() + chrono::Duration::hours(1));
    let later = published_test(&app, &c.teacher.access_token, &doc).await;
    let refused = app
        .post_as(
            token,
            &format!("/api/v1/tests/{later}/attempts"),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("opens"))
    );

    let mut doc = every_type(&c.course);
    doc["availableUntil"] = json!(chrono::Utc::now() + chrono::Duration::hours(1));
    let id = published_test(&app, &c.teacher.access_token, &doc).await;
    let closed = app
        .patch_as(
            &c.teacher.access_token,
            &format!("/api/v1/tests/{id}"),
            &json!({ "availableUntil": chrono::Utc::now() - chrono::Duration::minutes(1) }),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    let refused = app
        .post_as(token, &format!("/api/v1/tests/{id}/attempts"), &json!({}))
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("closed"))
    );

    // Two attempts allowed; an open attempt is given back, not doubled.
    let id = published_test(&app, &c.teacher.access_token, &every_type(&c.course)).await;
    let first = start(&app, token, &id).await;
    let resumed = app
        .post_as(token, &format!("/api/v1/tests/{id}/attempts"), &json!({}))
        .await;
    assert_eq!(resumed.status, 200);
    assert_eq!(resumed.body["data"]["id"], first["id"]);
    let first = first["id"].as_str().expect("id");
    assert_eq!(submit(&app, token, first, vec![]).await.status, 200);
    let second = start(&app, token, &id).await;
    assert_eq!(second["number"], 2);
    assert_eq!(
        submit(&app, token, second["id"].as_str().expect("id"), vec![])
            .await
            .status,
        200
    );
    let third = app
        .post_as(token, &format!("/api/v1/tests/{id}/attempts"), &json!({}))
        .await;
    assert_eq!(third.status, 422, "{}", third.body);
    let seen = app.get_as(token, &format!("/api/v1/tests/{id}")).await;
    assert_eq!(seen.body["data"]["attemptsUsed"], 2);

    // Staff don't take tests.
    let staff = app
        .post_as(
            &c.teacher.access_token,
            &format!("/api/v1/tests/{id}/attempts"),
            &json!({}),
        )
        .await;
    assert_eq!(staff.status, 403);
}

#[tokio::test]
async fn a_late_submit_is_refused_and_the_attempt_counts_what_was_saved_by_its_deadline() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let token = &c.student.access_token;
    let id = published_test(&app, &c.teacher.access_token, &every_type(&c.course)).await;
    let attempt = start(&app, token, &id).await;
    let a = attempt["id"].as_str().expect("id").to_owned();
    let mcq = question(&attempt, "Unit of force");
    let saved = app
        .call_as(
            token,
            reqwest::Method::PUT,
            &format!("/api/v1/attempts/{a}/answers"),
            Some(&json!({ "answers": [pick(mcq, &["Newton"])] })),
        )
        .await;
    assert_eq!(saved.status, 200);
    expire(&app, &a).await;

    let late = submit(
        &app,
        token,
        &a,
        vec![pick(question(&attempt, "Light is faster"), &["True"])],
    )
    .await;
    assert_eq!(late.status, 422, "{}", late.body);
    let late_save = app
        .call_as(
            token,
            reqwest::Method::PUT,
            &format!("/api/v1/attempts/{a}/answers"),
            Some(&json!({ "answers": [pick(mcq, &["Watt"])] })),
        )
        .await;
    assert_eq!(late_save.status, 422, "{}", late_save.body);

    let view = app.get_as(token, &format!("/api/v1/attempts/{a}")).await;
    let data = &view.body["data"];
    assert_eq!(data["status"], "SUBMITTED");
    assert_eq!(data["autoSubmitted"], true);
    assert_eq!(data["submittedAt"], data["deadline"]);
    // Only the answer saved in time counts.
    assert_eq!(data["result"]["score"], 2.0, "{data}");
}

#[tokio::test]
async fn the_background_sweep_submits_an_attempt_left_open_past_its_deadline() {
    use edupro_server::store::entity::test_attempt;
    use sea_orm::EntityTrait;
    let app = spawn_app().await;
    let c = class(&app).await;
    let id = published_test(&app, &c.teacher.access_token, &every_type(&c.course)).await;
    let attempt = start(&app, &c.student.access_token, &id).await;
    let a = attempt["id"].as_str().expect("id").to_owned();
    expire(&app, &a).await;
    let key: uuid::Uuid = a.parse().expect("uuid");
    // Read the row itself (a read through the API would submit it on the way).
    let mut status = String::new();
    for _ in 0..300 {
        let row = test_attempt::Entity::find_by_id(key)
            .one(&app.state.db)
            .await
            .expect("query")
            .expect("row");
        status = row.status.to_string();
        if status == "SUBMITTED" {
            assert!(row.auto_submitted);
            assert_eq!(row.score, Some(0));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, "SUBMITTED", "the sweep never submitted the attempt");
}

#[tokio::test]
async fn a_student_can_neither_read_nor_answer_nor_submit_another_students_attempt() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let other = enrolled_student(&app, &c.course).await;
    let id = published_test(&app, &c.teacher.access_token, &every_type(&c.course)).await;
    let attempt = start(&app, &c.student.access_token, &id).await;
    let a = attempt["id"].as_str().expect("id").to_owned();
    let answer = pick(question(&attempt, "Unit of force"), &["Newton"]);

    assert_eq!(
        app.get_as(&other.access_token, &format!("/api/v1/attempts/{a}"))
            .await
            .status,
        404
    );
    let save = app
        .call_as(
            &other.access_token,
            reqwest::Method::PUT,
            &format!("/api/v1/attempts/{a}/answers"),
            Some(&json!({ "answers": [answer.clone()] })),
        )
        .await;
    assert_eq!(save.status, 404);
    assert_eq!(
        submit(&app, &other.access_token, &a, vec![answer])
            .await
            .status,
        404
    );
    let list = app
        .get_as(&other.access_token, &format!("/api/v1/tests/{id}/attempts"))
        .await;
    assert_eq!(list.body["data"]["attempts"], json!([]), "{}", list.body);

    // The teacher reads it but can't answer for the student.
    assert_eq!(
        app.get_as(&c.teacher.access_token, &format!("/api/v1/attempts/{a}"))
            .await
            .status,
        200
    );
    let by_teacher = submit(&app, &c.teacher.access_token, &a, vec![]).await;
    assert_eq!(by_teacher.status, 403);
}

#[tokio::test]
async fn answers_naming_another_question_or_option_are_refused_by_path() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let id = published_test(&app, &c.teacher.access_token, &every_type(&c.course)).await;
    let attempt = start(&app, &c.student.access_token, &id).await;
    let a = attempt["id"].as_str().expect("id").to_owned();
    let mcq = question(&attempt, "Unit of force");
    let tf = question(&attempt, "Light is faster");
    let mut stray = pick(mcq, &["Newton"]);
    stray["selectedOptions"] = json!([tf["options"][0]["id"]]);
    let answer = app
        .call_as(
            &c.student.access_token,
            reqwest::Method::PUT,
            &format!("/api/v1/attempts/{a}/answers"),
            Some(&json!({ "answers": [
                { "questionId": uuid::Uuid::now_v7(), "answer": "x" },
                stray,
                pick(question(&attempt, "Which are vectors"), &["Mass"]),
                { "questionId": tf["id"], "answer": "True" },
            ] })),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(
        error_fields(&answer.body),
        [
            "answers[0].questionId",
            "answers[1].selectedOptions",
            "answers[3].answer"
        ]
    );
}

#[tokio::test]
async fn the_contract_submit_starts_and_submits_in_one_request() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let id = published_test(&app, &c.teacher.access_token, &every_type(&c.course)).await;
    // The question ids come from the staff view; option ids are the test's.
    let t = app
        .get_as(&c.teacher.access_token, &format!("/api/v1/tests/{id}"))
        .await;
    let mcq = &t.body["data"]["questions"][0];
    let newton = mcq["options"][1]["id"].clone();
    let done = app
        .post_as(
            &c.student.access_token,
            &format!("/api/v1/tests/{id}/submit"),
            &json!({ "answers": [ { "questionId": mcq["id"], "selectedOptions": [newton] } ], "timeSpent": 95 }),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let s = &done.body["data"];
    assert_eq!(s["score"], 2.0);
    assert_eq!(s["submissionId"], s["attemptId"]);
    assert_eq!(s["xpEarned"], 0);
}
