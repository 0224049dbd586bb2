//! The demo teacher's classroom: a published test in "Rust for Beginners" with three
//! submitted attempts whose long answers wait for marks (and an objective question a
//! regrade changes), and upcoming live classes. Created once: a course that already
//! has a test or a class is left as it is.

use chrono::{Days, NaiveTime, Utc};
use edupro_server::api::{
    ApiResponse, Attempt, CourseEnrollmentList, CourseList, CreatedTest, LiveClassList,
    QuestionType, TestList, User,
};
use serde_json::{Value, json};

use super::SeedReport;
use crate::api::ApiClient;
use crate::error::Result;

/// The course the classroom goes into.
const CLASSROOM_COURSE: &str = "Rust for Beginners";

/// What each of the first three students answers: the MCQ option, then two essays.
const ANSWERS: [(&str, &str, &str); 3] = [
    (
        "mut",
        "Borrowing lets a function use a value through a reference without taking ownership; the borrow checker makes sure the value outlives it.",
        "When a value's size isn't known at compile time, like a recursive enum.",
    ),
    (
        "mut",
        "A reference is a pointer the compiler checks. Many shared borrows or one mutable one.",
        "To put something on the heap.",
    ),
    (
        "ref",
        "I am not sure. Something about pointers?",
        "Never used it.",
    ),
];

fn test_document(course: &str) -> Value {
    json!({
        "courseId": course,
        "title": "Ownership check",
        "type": "QUIZ",
        "instructions": "Short questions, then two in your own words.",
        "durationMinutes": 30,
        "passingMarks": 6,
        "attemptsAllowed": 1,
        "showAnswers": "AFTER_SUBMIT",
        "questions": [
            { "type": "MCQ", "questionText": "Which keyword makes a binding mutable?", "marks": 2,
              "options": [ { "text": "let" }, { "text": "mut", "isCorrect": true }, { "text": "ref" } ] },
            { "type": "LONG_ANSWER", "questionText": "Explain borrowing in your own words.", "marks": 5 },
            { "type": "LONG_ANSWER", "questionText": "When would you reach for Box<T>?", "marks": 5 }
        ]
    })
}

/// Signs a demo student in.
async fn student_client(server: &str, email: &str) -> Result<Option<ApiClient>> {
    match super::demo_session(server, email).await? {
        Some(session) => Ok(Some(ApiClient::with_token(server, &session.access_token)?)),
        None => Ok(None),
    }
}

/// Creates the classroom of [`CLASSROOM_COURSE`] (see the module doc) as `teacher`.
pub(super) async fn seed_demo_classroom(teacher: &ApiClient) -> Result<SeedReport> {
    let mut report = SeedReport::default();
    let me: User = teacher.get("/auth/me", &()).await?;
    let mine: CourseList = teacher
        .get(
            "/courses",
            &[
                ("creator", me.id.to_string()),
                ("search", CLASSROOM_COURSE.into()),
            ],
        )
        .await?;
    let Some(course) = mine
        .courses
        .into_iter()
        .find(|c| c.title == CLASSROOM_COURSE)
    else {
        return Ok(report);
    };
    let course_id = course.id.to_string();

    let tests: TestList = teacher
        .get("/tests", &[("courseId", course_id.as_str())])
        .await?;
    if tests.tests.is_empty() {
        let created: ApiResponse<CreatedTest> =
            teacher.post("/tests", &test_document(&course_id)).await?;
        let test = created.data.id;
        teacher
            .post::<Value>(&format!("/tests/{test}/publish"), &json!({}))
            .await?;
        report.created += 1;
        let roster: CourseEnrollmentList = teacher
            .get(
                &format!("/courses/{course_id}/enrollments"),
                &[("limit", 100)],
            )
            .await?;
        let mut students: Vec<_> = roster.enrollments.into_iter().map(|e| e.student).collect();
        students.sort_by(|a, b| a.email.cmp(&b.email));
        for (student, (choice, first, second)) in students.iter().zip(ANSWERS) {
            let Some(client) = student_client(&teacher.server, &student.email).await? else {
                continue;
            };
            let attempt: ApiResponse<Attempt> = client
                .post(&format!("/tests/{test}/attempts"), &json!({}))
                .await?;
            let attempt = attempt.data;
            let mut essays = [first, second].into_iter();
            let answers: Vec<Value> = attempt
                .questions
                .iter()
                .map(|q| match q.question_type {
                    QuestionType::LongAnswer => {
                        json!({ "questionId": q.id, "answer": essays.next().unwrap_or_default() })
                    }
                    _ => {
                        let picked: Vec<_> = q
                            .options
                            .iter()
                            .filter(|o| o.text == choice)
                            .map(|o| o.id)
                            .collect();
                        json!({ "questionId": q.id, "selectedOptions": picked })
                    }
                })
                .collect();
            client
                .post::<Value>(
                    &format!("/attempts/{}/submit", attempt.id),
                    &json!({ "answers": answers, "timeSpent": 900 }),
                )
                .await?;
            report.created += 1;
        }
    } else {
        report.unchanged += tests.tests.len();
    }

    let classes: LiveClassList = teacher
        .get(
            "/live-classes",
            &[("courseId", course_id.as_str()), ("limit", "1")],
        )
        .await?;
    if classes.classes.is_empty() {
        let today = Utc::now().date_naive();
        let plan = [
            (1, 10, "Ownership Q&A", 60),
            (2, 15, "Borrowing workshop", 90),
            (7, 10, "Lifetimes clinic", 60),
        ];
        for (days, hour, title, duration) in plan {
            let day = today + Days::new(days);
            let at = day
                .and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN))
                .and_utc();
            teacher
                .post::<Value>(
                    "/live-classes",
                    &json!({ "courseId": course_id, "title": title, "scheduledAt": at,
                             "duration": duration, "capacity": 30 }),
                )
                .await?;
            report.created += 1;
        }
    } else {
        report.unchanged += 1;
    }
    Ok(report)
}
