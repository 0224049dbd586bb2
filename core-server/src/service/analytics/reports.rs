//! `GET /analytics/course/{id}` and `GET /analytics/student/{id}`, and who is at risk.
//!
//! Who sees what: a course's analytics are for its staff and admins. A student's are
//! for the student, their linked parents and admins; a teacher sees the students of
//! their courses, and only what happened in those courses.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::dashboards::{days_ago, labels, profile_of, revenue_of, staff_courses};
use super::series::{self, Key};
use super::{Metric, Range, Scope, percent, round1};
use crate::api::{
    AtRiskStudent, Attendance, CourseAnalytics, CourseLabel, DateRange, EnrollmentStatus,
    LessonFunnelStep, LiveClassStatus, Role, ScoreDistribution, ScorePoint, SeriesPoint,
    StudentAnalytics, StudentCourseProgress, StudentEngagement, SubjectScore, TestScores,
    TestStatus,
};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, course_not_found, find_course, person};
use crate::store::entity::{
    category, course, enrollment, lesson, lesson_progress, live_class, live_class_attendance,
    parent_link, section, test, test_attempt, user,
};

/// Points behind the cohort's median progress that count as falling behind.
const BEHIND_BY: i32 = 25;

/// A score in percent of the test's marks, one decimal.
pub fn score_percent(score: i64, total: i64) -> f64 {
    if total <= 0 {
        return 0.0;
    }
    round1(score as f64 * 100.0 / total as f64)
}

/// Graded attempts (fully marked) of `filter`'s tests or students.
async fn graded_attempts(
    db: &impl ConnectionTrait,
    courses: Option<&[Uuid]>,
    student: Option<Uuid>,
) -> Result<Vec<test_attempt::Model>, ApiError> {
    let mut select = test_attempt::Entity::find()
        .filter(test_attempt::Column::GradedAt.is_not_null())
        .filter(test_attempt::Column::Score.is_not_null())
        .filter(test_attempt::Column::PendingAnswers.eq(0));
    if let Some(courses) = courses {
        if courses.is_empty() {
            return Ok(Vec::new());
        }
        select = select.filter(test_attempt::Column::CourseId.is_in(courses.iter().copied()));
    }
    if let Some(student) = student {
        select = select.filter(test_attempt::Column::StudentId.eq(student));
    }
    Ok(select.all(db).await?)
}

/// Who among `enrollments` (of one course) is at risk, and why: inactive for the
/// configured days (or never active since enrolling that long ago), progress more than
/// [`BEHIND_BY`] points behind the cohort's median, or failing graded tests (their best
/// attempt under the passing marks). Completed enrollments are not at risk. With
/// `tests`, the course's tests (else they are read).
pub async fn at_risk(
    state: &AppState,
    course: &CourseLabel,
    enrollments: &[&enrollment::Model],
    known: Option<(&[test::Model], &[test_attempt::Model])>,
) -> Result<Vec<AtRiskStudent>, ApiError> {
    let db = &state.db;
    let active: Vec<&&enrollment::Model> = enrollments
        .iter()
        .filter(|e| e.status == EnrollmentStatus::Active)
        .collect();
    if active.is_empty() {
        return Ok(Vec::new());
    }
    let cutoff = days_ago(state.settings.analytics.inactive_days);
    // The last day each student was active in the course, from the roll-ups: the rows
    // come from the covering index `idx_daily_stats_object` and are reduced here (a
    // GROUP BY made SQLite's planner walk another index, 1 s instead of milliseconds).
    let lookback = Range {
        since: days_ago(super::MAX_RANGE_DAYS as u32 - 1),
        until: Utc::now().date_naive(),
    };
    let mut last_day: HashMap<Uuid, NaiveDate> = HashMap::new();
    for row in series::rows(
        db,
        Scope::Student,
        Key::Objects(&[course.id]),
        &[Metric::Active],
        lookback,
    )
    .await?
    {
        let day = last_day.entry(row.subject).or_insert(row.day);
        *day = (*day).max(row.day);
    }
    let mut progress: Vec<i32> = enrollments.iter().map(|e| e.progress_percent).collect();
    progress.sort_unstable();
    let median = progress.get(progress.len() / 2).copied().unwrap_or(0);

    let (tests, attempts) = match known {
        Some((tests, attempts)) => (tests.to_vec(), attempts.to_vec()),
        None => (
            test::Entity::find()
                .filter(test::Column::CourseId.eq(course.id))
                .all(db)
                .await?,
            graded_attempts(db, Some(&[course.id]), None).await?,
        ),
    };
    let marks: HashMap<Uuid, i64> = tests.iter().map(|t| (t.id, t.passing_marks)).collect();
    let mut best: HashMap<(Uuid, Uuid), i64> = HashMap::new();
    for attempt in &attempts {
        let Some(score) = attempt.score else { continue };
        let slot = best
            .entry((attempt.student_id, attempt.test_id))
            .or_insert(score);
        *slot = (*slot).max(score);
    }
    let mut failing: HashMap<Uuid, (usize, usize)> = HashMap::new();
    for ((student, test), score) in &best {
        let entry = failing.entry(*student).or_default();
        entry.1 += 1;
        if marks.get(test).is_some_and(|pass| score < pass) {
            entry.0 += 1;
        }
    }

    let mut found = Vec::new();
    for e in active {
        let mut reasons = Vec::new();
        let last = last_day.get(&e.student_id).copied();
        let accessed = e.last_accessed_at.map(|at| at.date_naive());
        let last_seen = last.max(accessed);
        let today = Utc::now().date_naive();
        match last_seen {
            Some(day) if day < cutoff => {
                reasons.push(format!("inactive for {} days", (today - day).num_days()))
            }
            None if e.enrolled_at.date_naive() < cutoff => reasons.push(format!(
                "no activity since enrolling {} days ago",
                (today - e.enrolled_at.date_naive()).num_days()
            )),
            _ => {}
        }
        if median >= BEHIND_BY && e.progress_percent <= median - BEHIND_BY {
            reasons.push(format!(
                "behind the cohort: {} % against a median of {} %",
                e.progress_percent, median
            ));
        }
        if let Some((failed, graded)) = failing.get(&e.student_id)
            && *failed > 0
        {
            reasons.push(format!("failing {failed} of {graded} graded tests"));
        }
        if !reasons.is_empty() {
            found.push((e.student_id, e.progress_percent, last_seen, reasons));
        }
    }
    let people: HashMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(found.iter().map(|f| f.0)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut out: Vec<AtRiskStudent> = found
        .into_iter()
        .filter_map(|(student, progress_percent, last_seen, reasons)| {
            Some(AtRiskStudent {
                student: person(people.get(&student)?),
                course: course.clone(),
                progress_percent,
                last_active_at: last_seen.map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc()),
                reasons,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.reasons
            .len()
            .cmp(&a.reasons.len())
            .then(a.progress_percent.cmp(&b.progress_percent))
            .then(a.student.last_name.cmp(&b.student.last_name))
    });
    Ok(out)
}

/// `GET /analytics/course/{id}`: for the course's staff and admins.
pub async fn course(
    state: &AppState,
    auth: &AuthUser,
    key: &str,
    query: &DateRange,
) -> Result<CourseAnalytics, ApiError> {
    let range = Range::parse(query, 30)?;
    let db = &state.db;
    let course = find_course(db, key).await?;
    let access = catalogue::access(db, Some(auth), course.id).await?;
    if !access.can_edit() {
        if !catalogue::can_view(db, &course, access, Some(auth)).await? {
            return Err(course_not_found());
        }
        return Err(ApiError::Forbidden(
            "Only the course's staff and admins see its analytics".into(),
        ));
    }
    let label = CourseLabel {
        id: course.id,
        title: course.title.clone(),
    };
    let enrollments = enrollment::Entity::find()
        .filter(enrollment::Column::CourseId.eq(course.id))
        .filter(enrollment::Column::Status.is_in([
            EnrollmentStatus::Active.as_str(),
            EnrollmentStatus::Completed.as_str(),
        ]))
        .all(db)
        .await?;
    let enrolled = enrollments.len() as i64;
    let completed = enrollments
        .iter()
        .filter(|e| e.status == EnrollmentStatus::Completed)
        .count() as i64;
    let course_rows = series::rows(
        db,
        Scope::Course,
        Key::Subjects(&[course.id]),
        &[
            Metric::Enrollments,
            Metric::ActiveStudents,
            Metric::TimeSpent,
            Metric::WatchTime,
        ],
        range,
    )
    .await?;
    let enrollment_series = series::daily(&course_rows, Metric::Enrollments, range);
    let time_spent = series::daily(&course_rows, Metric::TimeSpent, range);

    // The funnel: published lessons in the course's order.
    let sections: HashMap<Uuid, i32> = section::Entity::find()
        .filter(section::Column::CourseId.eq(course.id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.position))
        .collect();
    let mut lessons = lesson::Entity::find()
        .filter(lesson::Column::CourseId.eq(course.id))
        .filter(lesson::Column::IsPublished.eq(true))
        .all(db)
        .await?;
    lessons.sort_by_key(|l| {
        (
            sections.get(&l.section_id).copied().unwrap_or(0),
            l.position,
        )
    });
    let enrollment_ids: HashSet<Uuid> = enrollments.iter().map(|e| e.id).collect();
    let done: Vec<(Uuid, Uuid)> = lesson_progress::Entity::find()
        .select_only()
        .column(lesson_progress::Column::LessonId)
        .column(lesson_progress::Column::EnrollmentId)
        .filter(lesson_progress::Column::LessonId.is_in(lessons.iter().map(|l| l.id)))
        .filter(lesson_progress::Column::Completed.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    let mut completed_by: HashMap<Uuid, i64> = HashMap::new();
    for (lesson, enrollment) in done {
        if enrollment_ids.contains(&enrollment) {
            *completed_by.entry(lesson).or_default() += 1;
        }
    }
    let lesson_rows = series::rows(
        db,
        Scope::Lesson,
        Key::Objects(&[course.id]),
        &[Metric::TimeSpent, Metric::WatchTime],
        range,
    )
    .await?;
    let mut per_lesson: HashMap<(Uuid, &str), i64> = HashMap::new();
    for row in &lesson_rows {
        *per_lesson
            .entry((row.subject, row.metric.as_str()))
            .or_default() += row.value;
    }
    let funnel: Vec<LessonFunnelStep> = lessons
        .iter()
        .map(|l| {
            let done = completed_by.get(&l.id).copied().unwrap_or(0);
            LessonFunnelStep {
                lesson_id: l.id,
                title: l.title.clone(),
                completed: done,
                completion_rate: percent(done, enrolled),
                time_spent: per_lesson
                    .get(&(l.id, Metric::TimeSpent.as_str()))
                    .copied()
                    .unwrap_or(0),
                watch_time: per_lesson
                    .get(&(l.id, Metric::WatchTime.as_str()))
                    .copied()
                    .unwrap_or(0),
            }
        })
        .collect();
    let mut top = funnel.clone();
    top.sort_by(|a, b| {
        b.completion_rate
            .total_cmp(&a.completion_rate)
            .then(b.time_spent.cmp(&a.time_spent))
    });
    top.truncate(5);

    // Scores per published test.
    let tests = test::Entity::find()
        .filter(test::Column::CourseId.eq(course.id))
        .order_by_asc(test::Column::CreatedAt)
        .all(db)
        .await?;
    let attempts = graded_attempts(db, Some(&[course.id]), None).await?;
    let score_distribution = tests
        .iter()
        .filter(|t| t.status == TestStatus::Published)
        .map(|t| {
            let mut buckets = vec![0i64; 10];
            let mut sum = 0.0;
            let mut n = 0i64;
            for a in attempts.iter().filter(|a| a.test_id == t.id) {
                let Some(score) = a.score else { continue };
                let pct = score_percent(score, t.total_marks).clamp(0.0, 100.0);
                buckets[((pct / 10.0) as usize).min(9)] += 1;
                sum += pct;
                n += 1;
            }
            ScoreDistribution {
                test_id: t.id,
                title: t.title.clone(),
                attempts: n,
                average: (n > 0).then(|| round1(sum / n as f64)),
                buckets,
            }
        })
        .collect();

    let attendance = attendance(
        db,
        &[course.id],
        &enrollments.iter().collect::<Vec<_>>(),
        None,
        range,
    )
    .await?;
    let refs: Vec<&enrollment::Model> = enrollments.iter().collect();
    let students_at_risk = at_risk(state, &label, &refs, Some((&tests, &attempts))).await?;
    let avg_progress = if enrolled > 0 {
        round1(
            enrollments
                .iter()
                .map(|e| f64::from(e.progress_percent))
                .sum::<f64>()
                / enrolled as f64,
        )
    } else {
        0.0
    };
    let spent = series::total(&course_rows, Metric::TimeSpent);
    Ok(CourseAnalytics {
        course: label,
        since: range.since,
        until: range.until,
        total_enrollments: enrolled,
        completion_rate: percent(completed, enrolled),
        avg_rating: course.rating_avg,
        total_revenue: revenue_of(db, &[course.id]).await?,
        enrollment_trend: series::counts(&enrollment_series),
        active_students: series::daily(&course_rows, Metric::ActiveStudents, range),
        watch_time: series::daily(&course_rows, Metric::WatchTime, range),
        time_spent,
        funnel,
        top_performing_lessons: top,
        score_distribution,
        attendance_rate: attendance.rate,
        student_engagement: StudentEngagement {
            avg_time_spent: if enrolled > 0 {
                round1(spent as f64 / enrolled as f64)
            } else {
                0.0
            },
            avg_progress,
        },
        students_at_risk,
    })
}

/// The course report's series, for CSV.
pub fn course_series(report: &CourseAnalytics) -> Vec<(String, Vec<SeriesPoint>)> {
    vec![
        (
            "enrollments".to_owned(),
            report
                .enrollment_trend
                .iter()
                .map(|d| SeriesPoint {
                    date: d.date,
                    value: d.count,
                })
                .collect(),
        ),
        ("active_students".to_owned(), report.active_students.clone()),
        ("time_spent_seconds".to_owned(), report.time_spent.clone()),
        ("watch_time_seconds".to_owned(), report.watch_time.clone()),
    ]
}

/// Classes of `courses` that ended in `range` against the seats expected at them (the
/// enrolled students of the course, or of the class's batch); with `student`, only
/// that student's seats.
async fn attendance(
    db: &impl ConnectionTrait,
    courses: &[Uuid],
    enrollments: &[&enrollment::Model],
    student: Option<Uuid>,
    range: Range,
) -> Result<Attendance, ApiError> {
    if courses.is_empty() {
        return Ok(Attendance {
            attended: 0,
            held: 0,
            rate: None,
        });
    }
    let (start, end) = range.bounds();
    let classes = live_class::Entity::find()
        .filter(live_class::Column::CourseId.is_in(courses.iter().copied()))
        .filter(live_class::Column::Status.eq(LiveClassStatus::Completed.as_str()))
        .filter(live_class::Column::ScheduledAt.gte(start))
        .filter(live_class::Column::ScheduledAt.lt(end))
        .all(db)
        .await?;
    let present: HashSet<(Uuid, Uuid)> = if classes.is_empty() {
        HashSet::new()
    } else {
        live_class_attendance::Entity::find()
            .select_only()
            .column(live_class_attendance::Column::LiveClassId)
            .column(live_class_attendance::Column::UserId)
            .filter(live_class_attendance::Column::LiveClassId.is_in(classes.iter().map(|c| c.id)))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let (mut expected, mut attended) = (0i64, 0i64);
    for class in &classes {
        for e in enrollments.iter().filter(|e| {
            e.course_id == class.course_id
                && student.is_none_or(|s| s == e.student_id)
                && class.batch_id.is_none_or(|b| e.batch_id == Some(b))
                && e.enrolled_at <= class.ends_at
        }) {
            expected += 1;
            if present.contains(&(class.id, e.student_id)) {
                attended += 1;
            }
        }
    }
    Ok(Attendance {
        attended,
        held: expected,
        rate: (expected > 0).then(|| percent(attended, expected)),
    })
}

/// The courses of `student` whose analytics `auth` may see (`None`: all of them), or
/// 403: the student themselves, their linked parents and admins see everything; a
/// teacher sees the courses they teach that the student is in.
async fn visible_courses(
    state: &AppState,
    auth: &AuthUser,
    student: &user::Model,
) -> Result<Option<Vec<Uuid>>, ApiError> {
    let refused = || {
        ApiError::Forbidden(
            "You may see your own analytics, your linked children's, or your courses' students'"
                .into(),
        )
    };
    if auth.is_admin() || auth.id() == student.id {
        return Ok(None);
    }
    match auth.role() {
        Role::Parent => {
            let linked = parent_link::Entity::find()
                .filter(parent_link::Column::ParentId.eq(auth.id()))
                .filter(parent_link::Column::ChildId.eq(student.id))
                .one(&state.db)
                .await?
                .is_some();
            if linked { Ok(None) } else { Err(refused()) }
        }
        Role::Teacher => {
            let mine: HashSet<Uuid> = staff_courses(&state.db, auth.id())
                .await?
                .into_iter()
                .collect();
            let theirs: Vec<Uuid> = enrollment::Entity::find()
                .select_only()
                .column(enrollment::Column::CourseId)
                .filter(enrollment::Column::StudentId.eq(student.id))
                .into_tuple::<Uuid>()
                .all(&state.db)
                .await?
                .into_iter()
                .filter(|c| mine.contains(c))
                .collect();
            if theirs.is_empty() {
                Err(refused())
            } else {
                Ok(Some(theirs))
            }
        }
        _ => Err(refused()),
    }
}

/// `GET /analytics/student/{id}` (`id`: the student's id, email or SIS id).
pub async fn student(
    state: &AppState,
    auth: &AuthUser,
    key: &str,
    query: &DateRange,
) -> Result<StudentAnalytics, ApiError> {
    let range = Range::parse(query, 30)?;
    let db = &state.db;
    let found = crate::service::accounts::users::find_visible_by_key(state, auth, key).await?;
    let student = user::Entity::find_by_id(found.id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound("No such user".into()))?;
    if student.role != Role::Student {
        return Err(ApiError::field("id", "is not a student"));
    }
    let only = visible_courses(state, auth, &student).await?;
    let mut select = enrollment::Entity::find()
        .filter(enrollment::Column::StudentId.eq(student.id))
        .filter(enrollment::Column::Status.is_in([
            EnrollmentStatus::Active.as_str(),
            EnrollmentStatus::Completed.as_str(),
        ]));
    if let Some(only) = &only {
        select = select.filter(enrollment::Column::CourseId.is_in(only.iter().copied()));
    }
    let enrollments = select.all(db).await?;
    let courses: Vec<Uuid> = enrollments.iter().map(|e| e.course_id).collect();
    let names = labels(db, courses.iter().copied()).await?;

    // Time, from the roll-ups (only the visible courses' for a teacher).
    let rows = series::rows(
        db,
        Scope::Student,
        Key::Subjects(&[student.id]),
        &[Metric::TimeSpent],
        range,
    )
    .await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| only.is_none() || courses.contains(&r.object))
        .collect();
    let time_series = series::daily(&rows, Metric::TimeSpent, range);
    let mut time_by_course: HashMap<Uuid, i64> = HashMap::new();
    for row in &rows {
        *time_by_course.entry(row.object).or_default() += row.value;
    }

    // Scores in the range.
    let (start, end) = range.bounds();
    let attempts: Vec<test_attempt::Model> = graded_attempts(db, only.as_deref(), Some(student.id))
        .await?
        .into_iter()
        .filter(|a| a.graded_at.is_some_and(|g| g >= start && g < end))
        .collect();
    let tests: HashMap<Uuid, test::Model> = test::Entity::find()
        .filter(test::Column::Id.is_in(attempts.iter().map(|a| a.test_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut scored: Vec<(DateTime<Utc>, Uuid, String, f64)> = attempts
        .iter()
        .filter_map(|a| {
            let test = tests.get(&a.test_id)?;
            Some((
                a.graded_at?,
                a.course_id,
                test.title.clone(),
                score_percent(a.score?, test.total_marks),
            ))
        })
        .collect();
    scored.sort_by_key(|s| s.0);
    let percents: Vec<f64> = scored.iter().map(|s| s.3).collect();
    let average = |values: &[f64]| {
        (!values.is_empty()).then(|| round1(values.iter().sum::<f64>() / values.len() as f64))
    };
    let mut by_course: HashMap<Uuid, Vec<f64>> = HashMap::new();
    for s in &scored {
        by_course.entry(s.1).or_default().push(s.3);
    }

    // Subjects: the courses' categories.
    let course_rows = course::Entity::find()
        .filter(course::Column::Id.is_in(courses.iter().copied()))
        .all(db)
        .await?;
    let categories: HashMap<Uuid, String> = category::Entity::find()
        .filter(category::Column::Id.is_in(course_rows.iter().filter_map(|c| c.category_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut by_subject: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for c in &course_rows {
        let Some(name) = c.category_id.and_then(|id| categories.get(&id)) else {
            continue;
        };
        if let Some(scores) = by_course.get(&c.id) {
            by_subject.entry(name.clone()).or_default().extend(scores);
        }
    }
    let subjects: Vec<SubjectScore> = by_subject
        .into_iter()
        .filter_map(|(subject, scores)| {
            Some(SubjectScore {
                average: average(&scores)?,
                graded: scores.len() as i64,
                subject,
            })
        })
        .collect();
    let mut strong: Vec<SubjectScore> = subjects
        .iter()
        .filter(|s| s.average >= 75.0)
        .cloned()
        .collect();
    strong.sort_by(|a, b| b.average.total_cmp(&a.average));
    let mut weak: Vec<SubjectScore> = subjects
        .iter()
        .filter(|s| s.average < 50.0)
        .cloned()
        .collect();
    weak.sort_by(|a, b| a.average.total_cmp(&b.average));

    let refs: Vec<&enrollment::Model> = enrollments.iter().collect();
    let attendance = attendance(db, &courses, &refs, Some(student.id), range).await?;
    let profile = profile_of(&student);
    let mut course_lines: Vec<StudentCourseProgress> = enrollments
        .iter()
        .map(|e| StudentCourseProgress {
            course: names.get(&e.course_id).cloned().unwrap_or(CourseLabel {
                id: e.course_id,
                title: String::new(),
            }),
            status: e.status,
            progress_percent: e.progress_percent,
            time_spent: time_by_course.get(&e.course_id).copied().unwrap_or(0),
            average_score: by_course.get(&e.course_id).and_then(|s| average(s)),
        })
        .collect();
    course_lines.sort_by(|a, b| a.course.title.cmp(&b.course.title));
    let overall = if enrollments.is_empty() {
        0.0
    } else {
        round1(
            enrollments
                .iter()
                .map(|e| f64::from(e.progress_percent))
                .sum::<f64>()
                / enrollments.len() as f64,
        )
    };
    Ok(StudentAnalytics {
        student: person(&student),
        since: range.since,
        until: range.until,
        overall_progress: overall,
        courses_completed: enrollments
            .iter()
            .filter(|e| e.status == EnrollmentStatus::Completed)
            .count() as i64,
        courses_in_progress: enrollments
            .iter()
            .filter(|e| e.status == EnrollmentStatus::Active)
            .count() as i64,
        total_xp: profile.total_xp,
        test_scores: TestScores {
            average: average(&percents),
            highest: percents.iter().copied().reduce(f64::max),
            lowest: percents.iter().copied().reduce(f64::min),
            graded: percents.len() as i64,
        },
        learning_streak: profile.current_streak,
        longest_streak: profile.longest_streak,
        time_spent: series::total(&rows, Metric::TimeSpent),
        time_series,
        scores: scored
            .into_iter()
            .map(|(at, _, test_title, percent)| ScorePoint {
                date: at.date_naive(),
                test_title,
                percent,
            })
            .collect(),
        attendance,
        courses: course_lines,
        strong_subjects: strong,
        weak_subjects: weak,
    })
}

/// The student report's series, for CSV.
pub fn student_series(report: &StudentAnalytics) -> Vec<(String, Vec<SeriesPoint>)> {
    vec![
        ("time_spent_seconds".to_owned(), report.time_series.clone()),
        (
            "score_percent".to_owned(),
            report
                .scores
                .iter()
                .map(|s| SeriesPoint {
                    date: s.date,
                    value: s.percent.round() as i64,
                })
                .collect(),
        ),
    ]
}
