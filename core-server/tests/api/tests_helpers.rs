//! Building blocks for the tests-and-grading tests: a published course with a teacher
//! and an enrolled student, test documents, attempts and answers over HTTP.

use serde_json::{Value, json};

use crate::catalogue_helpers::published;
use crate::enrollments::enroll;
use crate::helpers::{TestApp, TestUser};

/// A teacher's published course with one enrolled student.
pub struct Class {
    pub teacher: TestUser,
    pub student: TestUser,
    pub course: String,
}

/// A published course of a new teacher, with a new student enrolled.
pub async fn class(app: &TestApp) -> Class {
    let teacher = app.register("TEACHER").await;
    let (course, _, _) = published(app, &teacher.access_token, "Physics 101").await;
    let student = enrolled_student(app, &course).await;
    Class {
        teacher,
        student,
        course,
    }
}

/// A new student enrolled in `course`.
pub async fn enrolled_student(app: &TestApp, course: &str) -> TestUser {
    let student = app.register("STUDENT").await;
    enroll(app, &student.access_token, course).await;
    student
}

/// A test of every question type (MCQ 2, MULTIPLE_SELECT 3, TRUE_FALSE 1, SHORT_ANSWER 2
/// with a tolerance, LONG_ANSWER 5: 13 marks), shown answers after submit.
pub fn every_type(course: &str) -> Value {
    json!({
        "courseId": course,
        "title": "Unit 1 quiz",
        "type": "QUIZ",
        "instructions": "Answer everything.",
        "durationMinutes": 30,
        "passingMarks": 6,
        "attemptsAllowed": 2,
        "multipleSelectScoring": "PROPORTIONAL",
        "showAnswers": "AFTER_SUBMIT",
        "questions": [
            { "type": "MCQ", "questionText": "Unit of force?", "marks": 2, "negativeMarks": 0.5,
              "explanation": "Force is measured in newtons.",
              "options": [ { "text": "Joule" }, { "text": "Newton", "isCorrect": true }, { "text": "Watt" } ] },
            { "type": "MULTIPLE_SELECT", "questionText": "Which are vectors?", "marks": 3,
              "options": [ { "text": "Velocity", "isCorrect": true }, { "text": "Mass" },
                           { "text": "Force", "isCorrect": true }, { "text": "Acceleration", "isCorrect": true } ] },
            { "type": "TRUE_FALSE", "questionText": "Light is faster than sound.", "marks": 1, "negativeMarks": 1,
              "options": [ { "text": "True", "isCorrect": true }, { "text": "False" } ] },
            { "type": "SHORT_ANSWER", "questionText": "g in m/s² (two decimals)?", "marks": 2,
              "acceptedAnswers": ["9.81"], "numericTolerance": 0.05 },
            { "type": "LONG_ANSWER", "questionText": "Explain Newton's third law.", "marks": 5 }
        ]
    })
}

/// Creates a test from `doc` as `token`; its id.
pub async fn create_test(app: &TestApp, token: &str, doc: &Value) -> String {
    let answer = app.post_as(token, "/api/v1/tests", doc).await;
    assert_eq!(answer.status, 201, "create test: {}", answer.body);
    answer.body["data"]["id"]
        .as_str()
        .expect("test id")
        .to_owned()
}

/// Publishes `test` as `token`.
pub async fn publish(app: &TestApp, token: &str, test: &str) {
    let answer = app
        .post_as(token, &format!("/api/v1/tests/{test}/publish"), &json!({}))
        .await;
    assert_eq!(answer.status, 200, "publish test: {}", answer.body);
}

/// A published test made from `doc`; its id.
pub async fn published_test(app: &TestApp, token: &str, doc: &Value) -> String {
    let id = create_test(app, token, doc).await;
    publish(app, token, &id).await;
    id
}

/// Starts an attempt as `token`; the attempt (`data`).
pub async fn start(app: &TestApp, token: &str, test: &str) -> Value {
    let answer = app
        .post_as(token, &format!("/api/v1/tests/{test}/attempts"), &json!({}))
        .await;
    assert_eq!(answer.status, 201, "start attempt: {}", answer.body);
    answer.body["data"].clone()
}

/// The attempt's question whose text starts with `prefix`.
pub fn question<'a>(attempt: &'a Value, prefix: &str) -> &'a Value {
    attempt["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .find(|q| {
            q["questionText"]
                .as_str()
                .is_some_and(|t| t.starts_with(prefix))
        })
        .unwrap_or_else(|| panic!("no question starting {prefix:?} in {attempt}"))
}

/// The ids of `question`'s options with these texts.
pub fn options(question: &Value, texts: &[&str]) -> Vec<String> {
    texts
        .iter()
        .map(|t| {
            question["options"]
                .as_array()
                .expect("options")
                .iter()
                .find(|o| o["text"] == *t)
                .unwrap_or_else(|| panic!("no option {t:?} in {question}"))["id"]
                .as_str()
                .expect("option id")
                .to_owned()
        })
        .collect()
}

/// A choice answer.
pub fn pick(question: &Value, texts: &[&str]) -> Value {
    json!({ "questionId": question["id"], "selectedOptions": options(question, texts) })
}

/// A text answer.
pub fn write(question: &Value, text: &str) -> Value {
    json!({ "questionId": question["id"], "answer": text })
}

/// Submits `attempt` with `answers` as `token`; the answer.
pub async fn submit(
    app: &TestApp,
    token: &str,
    attempt: &str,
    answers: Vec<Value>,
) -> crate::helpers::Answer {
    app.post_as(
        token,
        &format!("/api/v1/attempts/{attempt}/submit"),
        &json!({ "answers": answers }),
    )
    .await
}

/// Moves an attempt's deadline into the past, as if its time had run out.
pub async fn expire(app: &TestApp, attempt: &str) {
    use edupro_server::store::entity::test_attempt;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let id: uuid::Uuid = attempt.parse().expect("attempt id");
    let past = chrono::Utc::now() - chrono::Duration::seconds(5);
    test_attempt::Entity::update_many()
        .col_expr(test_attempt::Column::Deadline, Expr::value(past))
        .filter(test_attempt::Column::Id.eq(id))
        .exec(&app.state.db)
        .await
        .expect("deadline moved");
}
