//! The demo teacher's classroom: a published test in "Rust for Beginners" with three
//! submitted attempts whose long answers wait for marks (and an objective question a
//! regrade changes), and upcoming live classes. Created once: a course that already
//! has a test or a class is left as it is.

use chrono::{Days, NaiveTime, Utc};
use edupro_server::api::{
    AcceptAnswer, AnswerInput, CourseFilter, DoubtAnswerInput, DoubtFilter, EnrollmentFilter,
    LiveClassFilter, MultipleSelectScoring, NewDoubt, NewLiveClass, OptionDocument,
    QuestionDocument, QuestionType, ShowAnswers, SubmitAttempt, TestDocument, TestType,
};
use uuid::Uuid;

use super::SeedReport;
use crate::api::{self, ApiClient};
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

fn test_document(course: Uuid) -> TestDocument {
    let question = |question_type, text: &str, marks, options: &[(&str, bool)]| QuestionDocument {
        question_type,
        question_text: text.to_owned(),
        marks,
        negative_marks: 0.0,
        explanation: None,
        options: options
            .iter()
            .map(|&(text, is_correct)| OptionDocument {
                text: text.to_owned(),
                is_correct,
            })
            .collect(),
        accepted_answers: Vec::new(),
        numeric_tolerance: None,
        position: None,
    };
    TestDocument {
        course_id: Some(course),
        batch_id: None,
        title: "Ownership check".into(),
        test_type: TestType::Quiz,
        instructions: Some("Short questions, then two in your own words.".into()),
        duration_minutes: Some(30),
        passing_marks: 6.0,
        total_marks: None,
        available_from: None,
        available_until: None,
        attempts_allowed: 1,
        shuffle_questions: false,
        shuffle_options: false,
        multiple_select_scoring: MultipleSelectScoring::AllOrNothing,
        allow_negative_total: false,
        show_results: true,
        show_answers: ShowAnswers::AfterSubmit,
        questions: vec![
            question(
                QuestionType::Mcq,
                "Which keyword makes a binding mutable?",
                2.0,
                &[("let", false), ("mut", true), ("ref", false)],
            ),
            question(
                QuestionType::LongAnswer,
                "Explain borrowing in your own words.",
                5.0,
                &[],
            ),
            question(
                QuestionType::LongAnswer,
                "When would you reach for Box<T>?",
                5.0,
                &[],
            ),
        ],
    }
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
    let me = teacher.me().await?;
    let filter = CourseFilter {
        creator: Some(me.id),
        search: Some(CLASSROOM_COURSE.into()),
        ..CourseFilter::default()
    };
    let mine = teacher.courses(&filter, api::DEFAULT_PAGE).await?;
    let Some(course) = mine
        .courses
        .into_iter()
        .find(|c| c.title == CLASSROOM_COURSE)
    else {
        return Ok(report);
    };
    let course_id = course.id.to_string();

    let tests = teacher.tests(Some(&course_id), api::DEFAULT_PAGE).await?;
    if tests.tests.is_empty() {
        let test = teacher.create_test(&test_document(course.id)).await?.id;
        teacher.publish_test(test).await?;
        report.created += 1;
        let roster = teacher
            .enrollments(&course_id, &EnrollmentFilter::default(), api::first(100))
            .await?;
        let mut students: Vec<_> = roster.enrollments.into_iter().map(|e| e.student).collect();
        students.sort_by(|a, b| a.email.cmp(&b.email));
        for (student, (choice, first, second)) in students.iter().zip(ANSWERS) {
            let Some(client) = student_client(&teacher.server, &student.email).await? else {
                continue;
            };
            let attempt = client.start_attempt(test).await?;
            let mut essays = [first, second].into_iter();
            let answers: Vec<AnswerInput> = attempt
                .questions
                .iter()
                .map(|q| match q.question_type {
                    QuestionType::LongAnswer => AnswerInput {
                        question_id: q.id,
                        selected_options: Vec::new(),
                        answer: Some(essays.next().unwrap_or_default().to_owned()),
                    },
                    _ => AnswerInput {
                        question_id: q.id,
                        selected_options: q
                            .options
                            .iter()
                            .filter(|o| o.text == choice)
                            .map(|o| o.id)
                            .collect(),
                        answer: None,
                    },
                })
                .collect();
            let submit = SubmitAttempt {
                answers,
                time_spent: Some(900),
            };
            client.submit_attempt(attempt.id, &submit).await?;
            report.created += 1;
        }
    } else {
        report.unchanged += tests.tests.len();
    }

    report.add(seed_doubts(teacher, &course_id).await?);

    let filter = LiveClassFilter {
        course_id: Some(course.id),
        ..LiveClassFilter::default()
    };
    let classes = teacher.live_classes(&filter, api::first(1)).await?;
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
            let class = NewLiveClass {
                course_id: course.id,
                batch_id: None,
                title: title.into(),
                description: None,
                scheduled_at: at,
                duration,
                capacity: Some(30),
                platform: None,
                meeting_url: None,
                meeting_id: None,
                meeting_password: None,
                host_id: None,
                reminder_minutes: None,
                recurrence: None,
            };
            teacher.schedule_live_class(&class).await?;
            report.created += 1;
        }
    } else {
        report.unchanged += 1;
    }
    Ok(report)
}

/// Doubts the demo students asked: one answered by a classmate and accepted (XP and a
/// notification for the answerer), two waiting in the teacher's queue; with the lessons
/// the seed's students completed, the Doubts tab, Today, XP, badges and the leaderboard
/// show real activity. Once: a course with doubts is left as it is.
async fn seed_doubts(teacher: &ApiClient, course: &str) -> Result<SeedReport> {
    let mut report = SeedReport::default();
    let existing = teacher
        .doubts(course, &DoubtFilter::default(), api::first(1))
        .await?;
    if existing.pagination.total > 0 {
        report.unchanged += 1;
        return Ok(report);
    }
    let roster = teacher
        .enrollments(course, &EnrollmentFilter::default(), api::first(100))
        .await?;
    let mut students: Vec<_> = roster.enrollments.into_iter().map(|e| e.student).collect();
    students.sort_by(|a, b| a.email.cmp(&b.email));
    let mut clients = Vec::new();
    for student in students.iter().take(3) {
        if let Some(client) = student_client(&teacher.server, &student.email).await? {
            clients.push(client);
        }
    }
    let [first, second, third] = clients.as_slice() else {
        return Ok(report);
    };
    let ask = |title: &str, body: &str| NewDoubt {
        title: title.into(),
        body: body.into(),
        link: None,
        lesson_id: None,
    };
    let answered = first
        .ask_doubt(
            course,
            &ask(
                "Why can't I use a value after moving it?",
                "After `let b = a;` the compiler says `a` was moved. It's just an integer array?",
            ),
        )
        .await?;
    let reply = third
        .answer_doubt(
            answered.id,
            &DoubtAnswerInput {
                body: "Arrays of `Copy` types are copied, but a `Vec` or `String` moves: \
                       clone it, or borrow with `&a`."
                    .into(),
            },
        )
        .await?;
    first
        .accept_answer(
            answered.id,
            &AcceptAnswer {
                answer_id: reply.id,
            },
        )
        .await?;
    second
        .ask_doubt(
            course,
            &ask(
                "When do I need lifetimes?",
                "The book's `longest` example needs `'a` but my own functions never do. Why?",
            ),
        )
        .await?;
    third
        .ask_doubt(
            course,
            &ask(
                "Box<T> vs &T",
                "Both point somewhere. When is `Box` the right one?",
            ),
        )
        .await?;
    report.created += 4;
    Ok(report)
}
