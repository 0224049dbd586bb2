//! The teacher's side over HTTP: the grading queue across a teacher's courses (filters,
//! blind mode, next ungraded), marks and feedback updating the attempt and announcing
//! `attempt.graded`, regrade dry runs and their application, ranks, and the gradebook
//! as JSON and as CSV with formula-like cells escaped.

use serde_json::{Value, json};

use crate::catalogue_helpers::{error_fields, published};
use crate::enrollments::stored_events;
use crate::helpers::{TestApp, TestUser, spawn_app};
use crate::tests_helpers::{
    class, enrolled_student, every_type, pick, published_test, question, start, submit, write,
};

/// `student` takes `test`, answering the MCQ with `mcq` and the essay with `essay`.
async fn take(app: &TestApp, student: &TestUser, test: &str, mcq: &str, essay: &str) -> String {
    let attempt = start(app, &student.access_token, test).await;
    let a = attempt["id"].as_str().expect("id").to_owned();
    let answers = vec![
        pick(question(&attempt, "Unit of force"), &[mcq]),
        write(question(&attempt, "Explain"), essay),
    ];
    let done = submit(app, &student.access_token, &a, answers).await;
    assert_eq!(done.status, 200, "{}", done.body);
    a
}

#[tokio::test]
async fn long_answers_wait_in_the_queue_and_the_last_mark_announces_attempt_graded() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let token = &c.teacher.access_token;
    let id = published_test(&app, token, &every_type(&c.course)).await;
    let a = take(&app, &c.student, &id, "Newton", "Forces come in pairs.").await;

    let queue = app.get_as(token, "/api/v1/grading/queue").await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    let items = queue.body["data"]["items"]
        .as_array()
        .expect("items")
        .clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["answer"], "Forces come in pairs.");
    assert_eq!(items[0]["student"]["id"], c.student.id.as_str());
    assert_eq!(items[0]["maxMarks"], 5.0);
    let answer = items[0]["answerId"].as_str().expect("answer id").to_owned();

    let blind = app
        .get_as(
            token,
            &format!("/api/v1/grading/queue?blind=true&testId={id}"),
        )
        .await;
    assert_eq!(blind.body["data"]["items"][0]["student"], Value::Null);
    assert!(!blind.body.to_string().contains(&c.student.email));

    let next = app
        .get_as(
            token,
            &format!("/api/v1/grading/next?courseId={}", c.course),
        )
        .await;
    assert_eq!(next.body["data"]["item"]["answerId"], answer.as_str());
    assert_eq!(next.body["data"]["remaining"], 1);

    let too_many = app
        .call_as(
            token,
            reqwest::Method::PUT,
            &format!("/api/v1/grading/answers/{answer}"),
            Some(&json!({ "marks": 5.5 })),
        )
        .await;
    assert_eq!(too_many.status, 400);
    assert_eq!(error_fields(&too_many.body), ["marks"]);
    assert!(stored_events(&app, "attempt.graded").await.is_empty());

    let graded = app
        .call_as(
            token,
            reqwest::Method::PUT,
            &format!("/api/v1/grading/answers/{answer}"),
            Some(&json!({ "marks": 4.5, "feedback": "Give an example next time." })),
        )
        .await;
    assert_eq!(graded.status, 200, "{}", graded.body);
    assert_eq!(graded.body["data"]["attemptScore"], 6.5);
    assert_eq!(graded.body["data"]["gradingComplete"], true);

    let events = stored_events(&app, "attempt.graded").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1["attemptId"], a.as_str());
    assert_eq!(events[0].1["studentId"], c.student.id.as_str());
    assert_eq!(events[0].1["testId"], id.as_str());
    assert_eq!(events[0].1["courseId"], c.course.as_str());
    assert_eq!(events[0].1["actorId"], c.teacher.id.as_str());
    assert_eq!(events[0].1["title"], "Unit 1 quiz");

    // Re-marking changes the score but announces nothing new.
    let regraded = app
        .call_as(
            token,
            reqwest::Method::PUT,
            &format!("/api/v1/grading/answers/{answer}"),
            Some(&json!({ "marks": 5 })),
        )
        .await;
    assert_eq!(regraded.body["data"]["attemptScore"], 7.0);
    assert_eq!(stored_events(&app, "attempt.graded").await.len(), 1);

    let next = app.get_as(token, "/api/v1/grading/next").await;
    assert_eq!(next.body["data"]["item"], Value::Null);
    assert_eq!(next.body["data"]["remaining"], 0);

    let seen = app
        .get_as(&c.student.access_token, &format!("/api/v1/attempts/{a}"))
        .await;
    let result = &seen.body["data"]["result"];
    assert_eq!(result["score"], 7.0);
    assert_eq!(result["passed"], true);
    assert_eq!(result["gradingComplete"], true);
    let essay = result["breakdown"]
        .as_array()
        .expect("breakdown")
        .iter()
        .find(|b| b["maxMarks"] == 5.0)
        .expect("essay row")
        .clone();
    assert_eq!(essay["outcome"], "GRADED");
    assert_eq!(essay["feedback"], Value::Null);
}

#[tokio::test]
async fn a_teacher_queue_holds_only_their_courses_answers() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let id = published_test(&app, &c.teacher.access_token, &every_type(&c.course)).await;
    take(&app, &c.student, &id, "Newton", "Mine").await;

    let other = app.register("TEACHER").await;
    let (other_course, _, _) = published(&app, &other.access_token, "Biology").await;
    let bio_student = enrolled_student(&app, &other_course).await;
    let bio = published_test(&app, &other.access_token, &every_type(&other_course)).await;
    take(&app, &bio_student, &bio, "Joule", "Theirs").await;

    let mine = app
        .get_as(&c.teacher.access_token, "/api/v1/grading/queue")
        .await;
    let answers: Vec<&str> = mine.body["data"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["answer"].as_str().expect("answer"))
        .collect();
    assert_eq!(answers, ["Mine"]);
    let theirs = app
        .get_as(&other.access_token, "/api/v1/grading/queue")
        .await;
    assert_eq!(theirs.body["data"]["pagination"]["total"], 1);

    for path in [
        format!("/api/v1/grading/queue?courseId={other_course}"),
        format!("/api/v1/grading/queue?testId={bio}"),
    ] {
        assert_eq!(
            app.get_as(&c.teacher.access_token, &path).await.status,
            404,
            "{path}"
        );
    }
    let bio_answer = theirs.body["data"]["items"][0]["answerId"]
        .as_str()
        .expect("id")
        .to_owned();
    let foreign = app
        .call_as(
            &c.teacher.access_token,
            reqwest::Method::PUT,
            &format!("/api/v1/grading/answers/{bio_answer}"),
            Some(&json!({ "marks": 5 })),
        )
        .await;
    assert_eq!(foreign.status, 404);
    let student = app
        .get_as(&c.student.access_token, "/api/v1/grading/queue")
        .await;
    assert_eq!(student.body["data"]["items"], json!([]));
}

#[tokio::test]
async fn a_regrade_dry_run_lists_every_affected_attempt_and_applying_it_rescores_them() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let token = &c.teacher.access_token;
    let id = published_test(&app, token, &every_type(&c.course)).await;
    let right = take(&app, &c.student, &id, "Newton", "x").await;
    let second = enrolled_student(&app, &c.course).await;
    let joule = take(&app, &second, &id, "Joule", "y").await;
    let third = enrolled_student(&app, &c.course).await;
    take(&app, &third, &id, "Watt", "z").await;

    let t = app.get_as(token, &format!("/api/v1/tests/{id}")).await;
    let mcq = t.body["data"]["questions"][0].clone();
    let joule_option = mcq["options"][0]["id"].clone();
    let q = mcq["id"].as_str().expect("question id");
    // Joule becomes the key and the question is worth 4.
    let body = json!({ "dryRun": true, "correctOptions": [joule_option], "marks": 4 });
    let dry = app
        .post_as(token, &format!("/api/v1/questions/{q}/regrade"), &body)
        .await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    let report = &dry.body["data"];
    assert_eq!(report["examined"], 3);
    let mut changes: Vec<(String, f64, f64)> = report["affected"]
        .as_array()
        .expect("affected")
        .iter()
        .map(|c| {
            (
                c["attemptId"].as_str().expect("id").to_owned(),
                c["oldScore"].as_f64().expect("old"),
                c["newScore"].as_f64().expect("new"),
            )
        })
        .collect();
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![(right.clone(), 2.0, 0.0), (joule.clone(), 0.0, 4.0)];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        changes, expected,
        "Watt stays wrong: -0.5 either way, floored at 0"
    );

    // The dry run changed nothing.
    let still = app
        .get_as(
            &c.student.access_token,
            &format!("/api/v1/attempts/{right}"),
        )
        .await;
    assert_eq!(still.body["data"]["result"]["score"], 2.0);

    let mut apply = body.clone();
    apply["dryRun"] = json!(false);
    let applied = app
        .post_as(token, &format!("/api/v1/questions/{q}/regrade"), &apply)
        .await;
    assert_eq!(applied.status, 200, "{}", applied.body);
    assert_eq!(applied.body["data"]["affected"], report["affected"]);
    let now = app
        .get_as(&second.access_token, &format!("/api/v1/attempts/{joule}"))
        .await;
    assert_eq!(now.body["data"]["result"]["score"], 4.0);
    assert_eq!(now.body["data"]["result"]["totalMarks"], 15.0);
    assert_eq!(now.body["data"]["result"]["rank"], 1);
    let then = app
        .get_as(
            &c.student.access_token,
            &format!("/api/v1/attempts/{right}"),
        )
        .await;
    assert_eq!(then.body["data"]["result"]["score"], 0.0);

    // A second identical regrade changes nothing.
    let again = app
        .post_as(token, &format!("/api/v1/questions/{q}/regrade"), &apply)
        .await;
    assert_eq!(again.body["data"]["affected"], json!([]));

    let bad = app
        .post_as(
            token,
            &format!("/api/v1/questions/{q}/regrade"),
            &json!({ "dryRun": true, "correctOptions": [uuid::Uuid::now_v7()] }),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(error_fields(&bad.body), ["correctOptions"]);
    let essay = t.body["data"]["questions"][4]["id"].as_str().expect("id");
    let manual = app
        .post_as(
            token,
            &format!("/api/v1/questions/{essay}/regrade"),
            &json!({ "marks": 6 }),
        )
        .await;
    assert_eq!(manual.status, 422);
    let by_student = app
        .post_as(
            &c.student.access_token,
            &format!("/api/v1/questions/{q}/regrade"),
            &apply,
        )
        .await;
    assert_eq!(by_student.status, 403);
}

#[tokio::test]
async fn results_rank_students_and_the_gradebook_comes_as_json_and_escaped_csv() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let token = &c.teacher.access_token;
    let mut doc = every_type(&c.course);
    doc["title"] = json!("=HYPERLINK(\"http://evil\")");
    let id = published_test(&app, token, &doc).await;
    take(&app, &c.student, &id, "Newton", "a").await;
    let second = enrolled_student(&app, &c.course).await;
    take(&app, &second, &id, "Newton", "b").await;
    let third = enrolled_student(&app, &c.course).await;
    take(&app, &third, &id, "Joule", "c").await;
    let absent = enrolled_student(&app, &c.course).await;

    let list = app
        .get_as(token, &format!("/api/v1/tests/{id}/attempts"))
        .await;
    let mut ranks: Vec<(f64, i64)> = list.body["data"]["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| {
            (
                a["score"].as_f64().expect("score"),
                a["rank"].as_i64().expect("rank"),
            )
        })
        .collect();
    ranks.sort_by_key(|r| r.1);
    assert_eq!(ranks, [(2.0, 1), (2.0, 1), (0.0, 3)]);

    let book = app
        .get_as(token, &format!("/api/v1/courses/{}/gradebook", c.course))
        .await;
    assert_eq!(book.status, 200, "{}", book.body);
    let rows = book.body["data"]["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4);
    let absent_row = rows
        .iter()
        .find(|r| r["student"]["id"] == absent.id.as_str())
        .expect("row");
    assert_eq!(absent_row["scores"], json!([null]));
    let third_row = rows
        .iter()
        .find(|r| r["student"]["id"] == third.id.as_str())
        .expect("row");
    assert_eq!(third_row["scores"], json!([0.0]));

    let csv = app
        .send_raw(
            app.client
                .get(app.url(&format!(
                    "/api/v1/courses/{}/gradebook?format=csv",
                    c.course
                )))
                .bearer_auth(token),
        )
        .await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    let text = csv.text().await.expect("text");
    let header = text.lines().next().expect("header");
    assert_eq!(
        header,
        "studentId,firstName,lastName,email,\"'=HYPERLINK(\"\"http://evil\"\")\""
    );
    assert_eq!(text.lines().count(), 5);
    assert!(
        text.contains(&format!(
            "{},Test,STUDENT,{},2",
            c.student.id, c.student.email
        )),
        "{text}"
    );

    assert_eq!(
        app.get_as(
            &c.student.access_token,
            &format!("/api/v1/courses/{}/gradebook", c.course)
        )
        .await
        .status,
        403
    );
    let other = app.register("TEACHER").await;
    published(&app, &other.access_token, "Art").await;
    assert_eq!(
        app.get_as(
            &other.access_token,
            &format!("/api/v1/courses/{}/gradebook", c.course)
        )
        .await
        .status,
        403
    );
}
