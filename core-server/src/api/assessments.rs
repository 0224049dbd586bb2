//! Tests (quizzes, assignments, mock tests, final exams), their questions, students'
//! attempts, the grading queue, regrades, results and the course gradebook.
//!
//! Marks are numbers with at most two decimals (`2.5`); the server keeps them as
//! hundredths, so sums never drift. Times are UTC. A student never receives a correct
//! answer, an explanation or another student's data before the test's results policy
//! allows: [`AttemptQuestion`] carries no key, and [`QuestionResult::correct`] is filled in
//! only when `showAnswers` says so.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Pagination, StudentRef};

wire_enum!(
    /// What kind of test this is (the seed's types).
    TestType { Quiz = "QUIZ", Assignment = "ASSIGNMENT", MockTest = "MOCK_TEST", FinalExam = "FINAL_EXAM" }
);

wire_enum!(
    /// A test is a draft (staff only) until published.
    TestStatus { Draft = "DRAFT", Published = "PUBLISHED" }
);

wire_enum!(
    /// The seed's question types. LONG_ANSWER is graded by hand.
    QuestionType {
        Mcq = "MCQ",
        MultipleSelect = "MULTIPLE_SELECT",
        TrueFalse = "TRUE_FALSE",
        ShortAnswer = "SHORT_ANSWER",
        LongAnswer = "LONG_ANSWER",
    }
);

wire_enum!(
    /// How a MULTIPLE_SELECT question scores: all or nothing, or in proportion.
    MultipleSelectScoring { AllOrNothing = "ALL_OR_NOTHING", Proportional = "PROPORTIONAL" }
);

wire_enum!(
    /// When students see correct answers and explanations: never; after submitting once
    /// no attempt is left (or the window has closed); or once the window has closed.
    ShowAnswers { Never = "NEVER", AfterSubmit = "AFTER_SUBMIT", AfterWindow = "AFTER_WINDOW" }
);

wire_enum!(
    /// An attempt is open until submitted (by the student, or at its deadline).
    AttemptStatus { InProgress = "IN_PROGRESS", Submitted = "SUBMITTED" }
);

wire_enum!(
    /// How one answer was marked. PENDING: a long answer waiting in the grading queue;
    /// GRADED: marked by hand.
    AnswerOutcome {
        Correct = "CORRECT",
        Wrong = "WRONG",
        Partial = "PARTIAL",
        Empty = "EMPTY",
        Pending = "PENDING",
        Graded = "GRADED",
    }
);

// The derives belong to `wire_enum!`, so the defaults are written out.
#[allow(clippy::derivable_impls)]
impl Default for MultipleSelectScoring {
    fn default() -> Self {
        Self::AllOrNothing
    }
}

#[allow(clippy::derivable_impls)]
impl Default for ShowAnswers {
    fn default() -> Self {
        Self::Never
    }
}

fn one() -> i32 {
    1
}

fn yes() -> bool {
    true
}

/// A whole test as one document: `POST /tests` (with `courseId`), `POST
/// /courses/{id}/tests` (JSON or TOML), and what `GET /tests/{id}/export` gives back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestDocument {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<Uuid>,
    /// Only this batch (cohort) of the course sees the test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<Uuid>,
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub title: String,
    #[serde(rename = "type")]
    pub test_type: TestType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Minutes from the start of an attempt; none for no limit.
    #[serde(default, alias = "duration", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 10080))]
    pub duration_minutes: Option<i32>,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(multiple_of = 0.01, minimum = 0))]
    pub passing_marks: f64,
    /// Derived from the questions; when sent it must match their sum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_marks: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_until: Option<DateTime<Utc>>,
    #[serde(default = "one")]
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 100))]
    pub attempts_allowed: i32,
    #[serde(default)]
    pub shuffle_questions: bool,
    #[serde(default)]
    pub shuffle_options: bool,
    #[serde(default)]
    pub multiple_select_scoring: MultipleSelectScoring,
    /// Whether the total may go below zero through negative marks.
    #[serde(default)]
    pub allow_negative_total: bool,
    /// Whether students see their score once submitted.
    #[serde(default = "yes")]
    pub show_results: bool,
    #[serde(default)]
    pub show_answers: ShowAnswers,
    #[serde(default)]
    pub questions: Vec<QuestionDocument>,
}

/// One question of a [`TestDocument`], also the body of `POST /tests/{id}/questions` and
/// `PUT /questions/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuestionDocument {
    #[serde(rename = "type")]
    pub question_type: QuestionType,
    #[cfg_attr(feature = "server", schema(min_length = 1, pattern = r"\S"))]
    pub question_text: String,
    #[cfg_attr(
        feature = "server",
        schema(multiple_of = 0.01, minimum = 0.01, maximum = 1000)
    )]
    pub marks: f64,
    /// Taken off for a wrong (not an empty) answer.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(minimum = 0))]
    #[cfg_attr(
        feature = "server",
        schema(multiple_of = 0.01, minimum = 0, maximum = 1000)
    )]
    pub negative_marks: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// MCQ, MULTIPLE_SELECT and TRUE_FALSE.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<OptionDocument>,
    /// SHORT_ANSWER: matched ignoring case, spacing and Unicode form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_answers: Vec<String>,
    /// SHORT_ANSWER with numeric answers: how far off a number may be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric_tolerance: Option<f64>,
    /// Where to insert (1-based) with `POST /tests/{id}/questions`; appended when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "server",
        schema(minimum = 1, maximum = 9_223_372_036_854_775_807_i64)
    )]
    pub position: Option<i64>,
}

/// An option of a choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OptionDocument {
    #[cfg_attr(feature = "server", schema(min_length = 1, pattern = r"\S"))]
    pub text: String,
    #[serde(default)]
    pub is_correct: bool,
}

/// `PATCH /tests/{id}`: any setting; `null` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTest {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub title: Option<String>,
    #[serde(rename = "type")]
    pub test_type: Option<TestType>,
    #[serde(default, deserialize_with = "nullable")]
    pub instructions: Option<Option<String>>,
    #[serde(default, alias = "duration", deserialize_with = "nullable")]
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 10080))]
    pub duration_minutes: Option<Option<i32>>,
    #[cfg_attr(feature = "server", schema(multiple_of = 0.01, minimum = 0))]
    pub passing_marks: Option<f64>,
    #[serde(default, deserialize_with = "nullable")]
    pub available_from: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub available_until: Option<Option<DateTime<Utc>>>,
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 100))]
    pub attempts_allowed: Option<i32>,
    pub shuffle_questions: Option<bool>,
    pub shuffle_options: Option<bool>,
    pub multiple_select_scoring: Option<MultipleSelectScoring>,
    pub allow_negative_total: Option<bool>,
    pub show_results: Option<bool>,
    pub show_answers: Option<ShowAnswers>,
}

/// `Some(None)` for an explicit `null`, `None` for an absent field.
fn nullable<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

/// A test as staff and students see it. Students get `questions: null` (questions come
/// with an attempt, so the clock runs from when they are first seen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Test {
    pub id: Uuid,
    pub course_id: Uuid,
    pub batch_id: Option<Uuid>,
    pub title: String,
    #[serde(rename = "type")]
    pub test_type: TestType,
    pub status: TestStatus,
    pub instructions: Option<String>,
    pub duration_minutes: Option<i32>,
    /// The contract's name for `durationMinutes`.
    pub duration: Option<i32>,
    pub passing_marks: f64,
    pub total_marks: f64,
    pub total_questions: i64,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
    pub attempts_allowed: i32,
    pub shuffle_questions: bool,
    pub shuffle_options: bool,
    pub multiple_select_scoring: MultipleSelectScoring,
    pub allow_negative_total: bool,
    pub show_results: bool,
    pub show_answers: ShowAnswers,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Staff only: the questions with their keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questions: Option<Vec<Question>>,
    /// Students only: how many attempts they have used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_used: Option<i64>,
}

/// `GET /tests?courseId=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TestList {
    pub tests: Vec<Test>,
    pub pagination: Pagination,
}

/// `POST /tests` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedTest {
    pub id: Uuid,
    pub title: String,
    pub status: TestStatus,
}

/// A question with its key (staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Question {
    pub id: Uuid,
    pub test_id: Uuid,
    pub order: i64,
    #[serde(rename = "type")]
    pub question_type: QuestionType,
    pub question_text: String,
    pub marks: f64,
    pub negative_marks: f64,
    pub explanation: Option<String>,
    pub options: Vec<QuestionOption>,
    pub accepted_answers: Vec<String>,
    pub numeric_tolerance: Option<f64>,
}

/// An option with its correct flag (staff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct QuestionOption {
    pub id: Uuid,
    pub text: String,
    pub order: i64,
    pub is_correct: bool,
}

/// `POST /questions/{id}/move`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MoveQuestion {
    #[cfg_attr(
        feature = "server",
        schema(minimum = 1, maximum = 9_223_372_036_854_775_807_i64)
    )]
    pub position: i64,
}

/// A question as a student sees it in an attempt: no key, no explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttemptQuestion {
    pub id: Uuid,
    pub order: i64,
    #[serde(rename = "type")]
    pub question_type: QuestionType,
    pub question_text: String,
    pub marks: f64,
    pub options: Vec<AttemptOption>,
}

/// An option as a student sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttemptOption {
    pub id: Uuid,
    pub text: String,
    pub order: i64,
}

/// One answer sent by a student: chosen options, or text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnswerInput {
    pub question_id: Uuid,
    #[serde(default)]
    pub selected_options: Vec<Uuid>,
    #[serde(default)]
    pub answer: Option<String>,
}

/// `PUT /attempts/{id}/answers`: answers saved as the student goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SaveAnswers {
    pub answers: Vec<AnswerInput>,
}

/// `POST /attempts/{id}/submit` and the contract's `POST /tests/{id}/submit`: last
/// answers (saved first) and the seconds spent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubmitAttempt {
    #[serde(default)]
    pub answers: Vec<AnswerInput>,
    /// Seconds, 0 to a week.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 604_800))]
    pub time_spent: Option<i64>,
}

/// A saved answer as its student sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SavedAnswer {
    pub question_id: Uuid,
    pub selected_options: Vec<Uuid>,
    pub answer: Option<String>,
}

/// An attempt: its clock, its questions in the attempt's order, the saved answers and,
/// once submitted, the result as the policy allows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub id: Uuid,
    pub test_id: Uuid,
    pub student_id: Uuid,
    pub number: i32,
    pub status: AttemptStatus,
    pub started_at: DateTime<Utc>,
    /// The earlier of the window's end and start + duration; none for no limit.
    pub deadline: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub auto_submitted: bool,
    pub questions: Vec<AttemptQuestion>,
    pub answers: Vec<SavedAnswer>,
    pub result: Option<AttemptResult>,
}

/// A submitted attempt's result, as much as the policy allows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttemptResult {
    pub attempt_id: Uuid,
    /// False while long answers wait for a teacher; the score is provisional then.
    pub grading_complete: bool,
    /// Hidden (`null`) when the test does not show results.
    pub score: Option<f64>,
    pub total_marks: f64,
    pub percentage: Option<f64>,
    /// Known once grading is complete.
    pub passed: Option<bool>,
    /// Among the students' best scores of the test, 1 = best (ties share a rank).
    pub rank: Option<i64>,
    pub correct_answers: Option<i64>,
    pub wrong_answers: Option<i64>,
    pub breakdown: Option<Vec<QuestionResult>>,
}

/// One question of a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct QuestionResult {
    pub question_id: Uuid,
    pub order: i64,
    pub max_marks: f64,
    /// `null` while waiting for a teacher.
    pub marks: Option<f64>,
    pub outcome: AnswerOutcome,
    pub feedback: Option<String>,
    /// The key, once `showAnswers` allows.
    pub correct: Option<CorrectAnswer>,
    pub explanation: Option<String>,
}

/// A question's key as shown with results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CorrectAnswer {
    pub options: Vec<Uuid>,
    pub accepted_answers: Vec<String>,
}

/// The contract's `POST /tests/{id}/submit` answer (also `POST /attempts/{id}/submit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    pub submission_id: Uuid,
    pub attempt_id: Uuid,
    pub auto_submitted: bool,
    pub grading_complete: bool,
    pub score: Option<f64>,
    pub total_marks: f64,
    pub percentage: Option<f64>,
    pub passed: Option<bool>,
    pub correct_answers: Option<i64>,
    pub wrong_answers: Option<i64>,
    pub xp_earned: i64,
}

/// `GET /tests/{id}/attempts`: staff see everyone's, a student their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttemptList {
    pub attempts: Vec<AttemptSummary>,
}

/// One attempt in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttemptSummary {
    pub id: Uuid,
    pub test_id: Uuid,
    /// Staff only.
    pub student: Option<StudentRef>,
    pub number: i32,
    pub status: AttemptStatus,
    pub started_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub auto_submitted: bool,
    pub grading_complete: bool,
    pub score: Option<f64>,
    pub percentage: Option<f64>,
    pub passed: Option<bool>,
    pub rank: Option<i64>,
}

/// `GET /grading/queue` filters (and `GET /grading/next`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct GradingFilter {
    pub course_id: Option<Uuid>,
    pub test_id: Option<Uuid>,
    /// Hide students' names and ids.
    #[serde(default)]
    pub blind: bool,
    pub page: Option<u64>,
    pub limit: Option<u64>,
}

/// One answer waiting for (or given) a teacher's marks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GradingItem {
    pub answer_id: Uuid,
    pub attempt_id: Uuid,
    pub test_id: Uuid,
    pub test_title: String,
    pub course_id: Uuid,
    pub question_id: Uuid,
    pub question_order: i64,
    pub question_text: String,
    pub max_marks: f64,
    pub answer: Option<String>,
    /// `null` in blind mode.
    pub student: Option<StudentRef>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub marks: Option<f64>,
    pub feedback: Option<String>,
    pub outcome: AnswerOutcome,
}

/// `GET /grading/queue`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GradingQueue {
    pub items: Vec<GradingItem>,
    pub pagination: Pagination,
}

/// `GET /grading/next`: the oldest ungraded answer, if any, and how many wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NextUngraded {
    pub item: Option<GradingItem>,
    pub remaining: u64,
}

/// `PUT /grading/answers/{id}`: marks (0 to the question's marks) and feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GradeAnswer {
    pub marks: f64,
    #[serde(default)]
    pub feedback: Option<String>,
}

/// `PUT /grading/answers/{id}` answer: the graded answer and its attempt's new state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GradedAnswer {
    pub item: GradingItem,
    pub attempt_score: f64,
    pub grading_complete: bool,
}

/// `POST /questions/{id}/regrade`: a new key or marks for an objective question. With
/// `dryRun` nothing changes and the answer lists what would.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Regrade {
    #[serde(default)]
    pub dry_run: bool,
    pub marks: Option<f64>,
    pub negative_marks: Option<f64>,
    /// The ids of the options that are now correct.
    pub correct_options: Option<Vec<Uuid>>,
    pub accepted_answers: Option<Vec<String>>,
    /// `null` removes the tolerance; absent keeps it (so a `None` is not sent).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub numeric_tolerance: Option<Option<f64>>,
}

/// What a regrade changes (or would).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RegradeReport {
    pub question_id: Uuid,
    pub dry_run: bool,
    /// Submitted attempts looked at.
    pub examined: u64,
    /// The attempts whose score changes.
    pub affected: Vec<RegradeChange>,
}

/// One attempt whose score a regrade changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RegradeChange {
    pub attempt_id: Uuid,
    pub student_id: Uuid,
    pub old_score: f64,
    pub new_score: f64,
}

/// `GET /courses/{id}/gradebook`: students × tests, each cell a student's best score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Gradebook {
    pub course_id: Uuid,
    pub tests: Vec<GradebookTest>,
    pub rows: Vec<GradebookRow>,
}

/// A column of the gradebook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GradebookTest {
    pub id: Uuid,
    pub title: String,
    pub total_marks: f64,
}

/// A student's row: one cell per test, in the order of `tests` (`null`: no submission).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GradebookRow {
    pub student: StudentRef,
    pub scores: Vec<Option<f64>>,
}
