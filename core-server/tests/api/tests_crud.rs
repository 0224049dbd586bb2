//! Tests and their questions over HTTP: drafts with every question type and derived
//! total marks, field errors named by path, publishing (and its event), who sees what,
//! gapless question order, export and import as JSON and TOML, batch tests.

use serde_json::{Value, json};

use crate::catalogue_helpers::{draft, error_fields, published};
use crate::enrollments::stored_events;
use crate::helpers::spawn_app;
use crate::tests_helpers::{
    class, create_test, enrolled_student, every_type, publish, published_test, start,
};

#[tokio::test]
async fn a_teacher_creates_a_draft_test_and_its_total_marks_are_the_sum_of_its_questions() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let id = create_test(&app, &c.teacher.access_token, &every_type(&c.course)).await;

    let answer = app
        .get_as(&c.teacher.access_token, &format!("/api/v1/tests/{id}"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let t = &answer.body["data"];
    assert_eq!(t["status"], "DRAFT");
    assert_eq!(t["totalMarks"], 13.0);
    assert_eq!(t["totalQuestions"], 5);
    assert_eq!(t["duration"], 30);
    let questions = t["questions"].as_array().expect("staff see questions");
    let orders: Vec<i64> = questions
        .iter()
        .map(|q| q["order"].as_i64().expect("order"))
        .collect();
    assert_eq!(orders, [1, 2, 3, 4, 5]);
    assert_eq!(questions[0]["options"][1]["isCorrect"], true);
    assert_eq!(questions[3]["acceptedAnswers"], json!(["9.81"]));
    assert_eq!(questions[3]["numericTolerance"], 0.05);

    // A draft is the staff's alone.
    let hidden = app
        .get_as(&c.student.access_token, &format!("/api/v1/tests/{id}"))
        .await;
    assert_eq!(hidden.status, 404);
    let list = app
        .get_as(
            &c.student.access_token,
            &format!("/api/v1/tests?courseId={}", c.course),
        )
        .await;
    assert_eq!(list.body["data"]["tests"], json!([]), "{}", list.body);
}

#[tokio::test]
async fn invalid_tests_are_refused_with_every_bad_field_named_by_its_path() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let mut doc = every_type(&c.course);
    doc["questions"][2]["marks"] = json!(0);
    doc["questions"][0]["options"][0]["isCorrect"] = json!(true);
    doc["questions"][3]["acceptedAnswers"] = json!([]);
    doc["questions"][1]["marks"] = json!(1.005);
    doc["attemptsAllowed"] = json!(0);
    doc["availableFrom"] = json!("2030-01-02T00:00:00Z");
    doc["availableUntil"] = json!("2030-01-01T00:00:00Z");
    let answer = app
        .post_as(&c.teacher.access_token, "/api/v1/tests", &doc)
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    let fields = error_fields(&answer.body);
    for field in [
        "questions[2].marks",
        "questions[0].options",
        "questions[3].acceptedAnswers",
        "questions[1].marks",
        "attemptsAllowed",
        "availableUntil",
    ] {
        assert!(
            fields.contains(&field.to_owned()),
            "{field} missing in {fields:?}"
        );
    }

    // A type error is named by its path too.
    let mut doc = every_type(&c.course);
    doc["questions"][4]["marks"] = json!("five");
    let answer = app
        .post_as(&c.teacher.access_token, "/api/v1/tests", &doc)
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(error_fields(&answer.body), ["questions[4].marks"]);

    // Nothing was half-written.
    let list = app
        .get_as(
            &c.teacher.access_token,
            &format!("/api/v1/tests?courseId={}", c.course),
        )
        .await;
    assert_eq!(list.body["data"]["pagination"]["total"], 0);
}

#[tokio::test]
async fn publishing_needs_a_question_and_announces_test_published_once() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let empty = create_test(
        &app,
        &c.teacher.access_token,
        &json!({ "courseId": c.course, "title": "Empty", "type": "MOCK_TEST" }),
    )
    .await;
    let refused = app
        .post_as(
            &c.teacher.access_token,
            &format!("/api/v1/tests/{empty}/publish"),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);

    let id = create_test(&app, &c.teacher.access_token, &every_type(&c.course)).await;
    publish(&app, &c.teacher.access_token, &id).await;
    publish(&app, &c.teacher.access_token, &id).await;
    let events = stored_events(&app, "test.published").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].1["testId"], id.as_str());
    assert_eq!(events[0].1["courseId"], c.course.as_str());
    assert_eq!(events[0].1["title"], "Unit 1 quiz");
    assert_eq!(events[0].1["actorId"], c.teacher.id.as_str());
    assert_eq!(events[0].1["batchId"], Value::Null);

    // The enrolled student now sees it, without its questions.
    let seen = app
        .get_as(&c.student.access_token, &format!("/api/v1/tests/{id}"))
        .await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.body["data"]["totalQuestions"], 5);
    assert!(
        seen.body["data"].get("questions").is_none(),
        "{}",
        seen.body
    );
    assert_eq!(seen.body["data"]["attemptsUsed"], 0);
}

#[tokio::test]
async fn staff_of_another_course_and_strangers_see_nothing_and_students_change_nothing() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let id = published_test(&app, &c.teacher.access_token, &every_type(&c.course)).await;
    let other_teacher = app.register("TEACHER").await;
    let (other_course, _, _) = published(&app, &other_teacher.access_token, "Chemistry").await;
    let outsider = enrolled_student(&app, &other_course).await;

    for token in [&other_teacher.access_token, &outsider.access_token] {
        for path in [
            format!("/api/v1/tests/{id}"),
            format!("/api/v1/tests/{id}/export"),
            format!("/api/v1/tests/{id}/attempts"),
        ] {
            assert_eq!(app.get_as(token, &path).await.status, 404, "{path}");
        }
        let patch = app
            .patch_as(
                token,
                &format!("/api/v1/tests/{id}"),
                &json!({ "title": "Mine" }),
            )
            .await;
        assert_eq!(patch.status, 404);
        let start = app
            .post_as(token, &format!("/api/v1/tests/{id}/attempts"), &json!({}))
            .await;
        assert_eq!(start.status, 404);
        let list = app.get_as(token, "/api/v1/tests").await;
        assert_eq!(list.body["data"]["tests"], json!([]), "{}", list.body);
    }
    // Another teacher can't add a test to this course either.
    let mut doc = every_type(&c.course);
    doc["title"] = json!("Intruder");
    let answer = app
        .post_as(&other_teacher.access_token, "/api/v1/tests", &doc)
        .await;
    assert_eq!(answer.status, 403, "{}", answer.body);

    // The course's own student sees the test but can't change it.
    let patch = app
        .patch_as(
            &c.student.access_token,
            &format!("/api/v1/tests/{id}"),
            &json!({ "title": "Mine" }),
        )
        .await;
    assert_eq!(patch.status, 403);
    let export = app
        .get_as(
            &c.student.access_token,
            &format!("/api/v1/tests/{id}/export"),
        )
        .await;
    assert_eq!(export.status, 403);
}

#[tokio::test]
async fn question_order_has_no_gaps_or_duplicates_through_insert_move_and_delete() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let token = &c.teacher.access_token;
    let id = create_test(&app, token, &every_type(&c.course)).await;
    let texts = |body: &Value| -> Vec<String> {
        let qs = body["data"]["questions"]
            .as_array()
            .expect("questions")
            .clone();
        for (i, q) in qs.iter().enumerate() {
            assert_eq!(q["order"], i as i64 + 1, "{qs:?}");
        }
        qs.iter()
            .map(|q| q["questionText"].as_str().expect("text")[..4].to_owned())
            .collect()
    };
    let added = app
        .post_as(
            token,
            &format!("/api/v1/tests/{id}/questions"),
            &json!({ "type": "TRUE_FALSE", "questionText": "Zero is even.", "marks": 1, "position": 2,
                     "options": [ { "text": "True", "isCorrect": true }, { "text": "False" } ] }),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let zero = added.body["data"]["id"].as_str().expect("id").to_owned();
    let t = app.get_as(token, &format!("/api/v1/tests/{id}")).await;
    assert_eq!(
        texts(&t.body),
        ["Unit", "Zero", "Whic", "Ligh", "g in", "Expl"]
    );
    assert_eq!(t.body["data"]["totalMarks"], 14.0);

    let moved = app
        .post_as(
            token,
            &format!("/api/v1/questions/{zero}/move"),
            &json!({ "position": 6 }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let t = app.get_as(token, &format!("/api/v1/tests/{id}")).await;
    assert_eq!(
        texts(&t.body),
        ["Unit", "Whic", "Ligh", "g in", "Expl", "Zero"]
    );

    let out_of_range = app
        .post_as(
            token,
            &format!("/api/v1/questions/{zero}/move"),
            &json!({ "position": 7 }),
        )
        .await;
    assert_eq!(out_of_range.status, 400);
    assert_eq!(error_fields(&out_of_range.body), ["position"]);

    let first = t.body["data"]["questions"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let deleted = app
        .delete_as(token, &format!("/api/v1/questions/{first}"))
        .await;
    assert_eq!(deleted.status, 200);
    let t = app.get_as(token, &format!("/api/v1/tests/{id}")).await;
    assert_eq!(texts(&t.body), ["Whic", "Ligh", "g in", "Expl", "Zero"]);
    assert_eq!(t.body["data"]["totalMarks"], 12.0);

    // Once a student has started, questions are frozen (changed by regrade only).
    publish(&app, token, &id).await;
    start(&app, &c.student.access_token, &id).await;
    let frozen = app
        .delete_as(token, &format!("/api/v1/questions/{zero}"))
        .await;
    assert_eq!(frozen.status, 422, "{}", frozen.body);
}

#[tokio::test]
async fn a_test_exports_and_imports_as_one_json_or_toml_document() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let token = &c.teacher.access_token;
    let id = create_test(&app, token, &every_type(&c.course)).await;
    let json_doc = app
        .get_as(token, &format!("/api/v1/tests/{id}/export"))
        .await;
    assert_eq!(json_doc.status, 200);
    assert_eq!(json_doc.body["questions"].as_array().map(Vec::len), Some(5));

    let toml_text = app
        .send_raw(
            app.client
                .get(app.url(&format!("/api/v1/tests/{id}/export?format=toml")))
                .bearer_auth(token),
        )
        .await
        .text()
        .await
        .expect("text");
    assert!(toml_text.contains("[[questions]]"), "{toml_text}");

    let second = draft(&app, token, "Physics 102").await;
    let imported = app
        .send(
            app.client
                .post(app.url(&format!("/api/v1/courses/{second}/tests")))
                .bearer_auth(token)
                .header("content-type", "application/toml")
                .body(toml_text.clone()),
        )
        .await;
    assert_eq!(imported.status, 201, "{}", imported.body);
    let new_id = imported.body["data"]["id"].as_str().expect("id").to_owned();
    let again = app
        .get_as(token, &format!("/api/v1/tests/{new_id}/export"))
        .await;
    assert_eq!(again.body, json_doc.body, "a round trip keeps the document");

    let from_json = app
        .post_as(
            token,
            &format!("/api/v1/courses/{second}/tests"),
            &json_doc.body,
        )
        .await;
    assert_eq!(from_json.status, 201, "{}", from_json.body);

    // A bad TOML document names the path of the bad field.
    let broken = toml_text.replacen("marks = 3.0", "marks = -3.0", 1);
    assert_ne!(broken, toml_text);
    let refused = app
        .send(
            app.client
                .post(app.url(&format!("/api/v1/courses/{second}/tests")))
                .bearer_auth(token)
                .header("content-type", "application/toml")
                .body(broken),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(error_fields(&refused.body), ["questions[1].marks"]);
    let typo = toml_text.replacen("marks = 3.0", "marks = \"three\"", 1);
    let refused = app
        .send(
            app.client
                .post(app.url(&format!("/api/v1/courses/{second}/tests")))
                .bearer_auth(token)
                .header("content-type", "application/toml")
                .body(typo),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(error_fields(&refused.body), ["questions[1].marks"]);
}

#[tokio::test]
async fn a_batch_test_is_only_for_the_students_of_that_batch() {
    let app = spawn_app().await;
    let c = class(&app).await;
    let token = &c.teacher.access_token;
    let batch = app
        .post_as(
            token,
            &format!("/api/v1/courses/{}/batches", c.course),
            &json!({ "name": "Morning" }),
        )
        .await;
    assert_eq!(batch.status, 201, "{}", batch.body);
    let batch = batch.body["data"]["id"].as_str().expect("batch").to_owned();
    let seated = app
        .post_as(
            token,
            &format!("/api/v1/batches/{batch}/members"),
            &json!({ "studentId": c.student.id }),
        )
        .await;
    assert_eq!(seated.status, 201, "{}", seated.body);
    let other = enrolled_student(&app, &c.course).await;
    let mut doc = every_type(&c.course);
    doc["batchId"] = json!(batch);
    let id = published_test(&app, token, &doc).await;
    let events = stored_events(&app, "test.published").await;
    assert_eq!(events[0].1["batchId"], batch.as_str());

    assert_eq!(
        app.get_as(&c.student.access_token, &format!("/api/v1/tests/{id}"))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get_as(&other.access_token, &format!("/api/v1/tests/{id}"))
            .await
            .status,
        404
    );
    let list = app.get_as(&other.access_token, "/api/v1/tests").await;
    assert_eq!(list.body["data"]["tests"], json!([]));
    let list = app.get_as(&c.student.access_token, "/api/v1/tests").await;
    assert_eq!(list.body["data"]["tests"][0]["id"], id.as_str());

    let mut doc = every_type(&c.course);
    doc["batchId"] = json!(uuid::Uuid::now_v7());
    let answer = app.post_as(token, "/api/v1/tests", &doc).await;
    assert_eq!(answer.status, 400);
    assert_eq!(error_fields(&answer.body), ["batchId"]);
}
