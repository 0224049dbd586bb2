//! `GET /dashboard/student|teacher|admin`: each role's first screen, from the roll-ups
//! and the current state, in a handful of indexed queries each.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::series::{self, Key};
use super::{Metric, Range, Scope, reports};
use crate::api::{
    AdminDashboard, AdminStats, CourseLabel, CourseProgressItem, DateRange, EnrollmentStatus,
    ImportRunLine, LiveClassStatus, MailStatus, PendingTest, RecentEnrollment, RecentGrade,
    RecentUser, RevenueQuery, RevenueSeries, RevenueTotal, Role, RoleCount, SeriesPoint,
    StudentDashboard, StudentProfile, StudentStats, SystemHealth, TeacherDashboard, TeacherStats,
    TestStatus, TopCourse, UpcomingClass, WebhookDeliveryStatus,
};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, person};
use crate::service::payments::history;
use crate::store::entity::{
    course, course_staff, domain_event, doubt, enrollment, import_run, live_class,
    notification_cursor, outbox_message, payment, test, test_attempt, user, webhook_delivery,
};

/// Days in a dashboard's small charts.
const CHART_DAYS: i64 = 14;

/// The student's profile figures (defaults for a profile never written).
pub fn profile_of(row: &user::Model) -> StudentProfile {
    row.profile
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// Course labels for `ids`.
pub async fn labels(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, CourseLabel>, ApiError> {
    Ok(catalogue::course_titles(db, ids)
        .await?
        .into_iter()
        .map(|(id, title)| (id, CourseLabel { id, title }))
        .collect())
}

fn label(labels: &HashMap<Uuid, CourseLabel>, id: Uuid) -> CourseLabel {
    labels.get(&id).cloned().unwrap_or(CourseLabel {
        id,
        title: String::new(),
    })
}

/// Live classes of `courses` still to come or under way, soonest first; with
/// `batches`, only those for the whole course or the student's batch.
pub async fn upcoming_classes(
    db: &impl ConnectionTrait,
    courses: &[Uuid],
    batches: Option<&HashMap<Uuid, Option<Uuid>>>,
    limit: usize,
) -> Result<Vec<UpcomingClass>, ApiError> {
    if courses.is_empty() {
        return Ok(Vec::new());
    }
    let rows = live_class::Entity::find()
        .filter(live_class::Column::CourseId.is_in(courses.iter().copied()))
        .filter(live_class::Column::Status.is_in([
            LiveClassStatus::Scheduled.as_str(),
            LiveClassStatus::Live.as_str(),
        ]))
        .filter(live_class::Column::EndsAt.gt(Utc::now()))
        .order_by_asc(live_class::Column::ScheduledAt)
        .limit(limit as u64 * 4)
        .all(db)
        .await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|c| match (batches, c.batch_id) {
            (Some(seats), Some(batch)) => seats.get(&c.course_id) == Some(&Some(batch)),
            _ => true,
        })
        .take(limit)
        .collect();
    let labels = labels(db, rows.iter().map(|c| c.course_id)).await?;
    Ok(rows
        .into_iter()
        .map(|c| UpcomingClass {
            id: c.id,
            title: c.title,
            course: label(&labels, c.course_id),
            scheduled_at: c.scheduled_at,
            ends_at: c.ends_at,
        })
        .collect())
}

/// `GET /dashboard/student`.
pub async fn student(state: &AppState, auth: &AuthUser) -> Result<StudentDashboard, ApiError> {
    auth.require_role(&[Role::Student])?;
    let db = &state.db;
    let me = auth.id();
    let profile = profile_of(&auth.user);
    let enrollments = enrollment::Entity::find()
        .filter(enrollment::Column::StudentId.eq(me))
        .filter(enrollment::Column::Status.is_in([
            EnrollmentStatus::Active.as_str(),
            EnrollmentStatus::Completed.as_str(),
        ]))
        .all(db)
        .await?;
    let completed = enrollments
        .iter()
        .filter(|e| e.status == EnrollmentStatus::Completed)
        .count() as i64;
    let courses: Vec<Uuid> = enrollments.iter().map(|e| e.course_id).collect();
    let seats: HashMap<Uuid, Option<Uuid>> = enrollments
        .iter()
        .map(|e| (e.course_id, e.batch_id))
        .collect();
    let names = labels(db, courses.iter().copied()).await?;
    let mut recent = enrollments.clone();
    recent.sort_by(|a, b| {
        b.last_accessed_at
            .cmp(&a.last_accessed_at)
            .then(b.enrolled_at.cmp(&a.enrolled_at))
    });
    let recent_courses = recent
        .iter()
        .take(5)
        .map(|e| CourseProgressItem {
            course: label(&names, e.course_id),
            enrollment_id: e.id,
            status: e.status,
            progress_percent: e.progress_percent,
            last_accessed_at: e.last_accessed_at,
        })
        .collect();
    let upcoming_classes = upcoming_classes(db, &courses, Some(&seats), 5).await?;

    // Published tests still open, with no submitted attempt of the student's.
    let now = Utc::now();
    let tests = if courses.is_empty() {
        Vec::new()
    } else {
        test::Entity::find()
            .filter(test::Column::CourseId.is_in(courses.iter().copied()))
            .filter(test::Column::Status.eq(TestStatus::Published.as_str()))
            .all(db)
            .await?
    };
    let attempts = test_attempt::Entity::find()
        .filter(test_attempt::Column::StudentId.eq(me))
        .all(db)
        .await?;
    let submitted: HashSet<Uuid> = attempts
        .iter()
        .filter(|a| a.submitted_at.is_some())
        .map(|a| a.test_id)
        .collect();
    let mut pending: Vec<PendingTest> = tests
        .iter()
        .filter(|t| !submitted.contains(&t.id))
        .filter(|t| t.available_until.is_none_or(|until| until > now))
        .filter(|t| match t.batch_id {
            Some(batch) => seats.get(&t.course_id) == Some(&Some(batch)),
            None => true,
        })
        .map(|t| PendingTest {
            id: t.id,
            title: t.title.clone(),
            course: label(&names, t.course_id),
            due_at: t.available_until,
        })
        .collect();
    pending.sort_by_key(|t| (t.due_at.is_none(), t.due_at, t.title.clone()));
    pending.truncate(10);

    let titles: HashMap<Uuid, &test::Model> = tests.iter().map(|t| (t.id, t)).collect();
    let mut graded: Vec<&test_attempt::Model> = attempts
        .iter()
        .filter(|a| a.graded_at.is_some() && a.pending_answers == 0 && a.score.is_some())
        .collect();
    graded.sort_by_key(|a| std::cmp::Reverse(a.graded_at));
    let mut recent_grades = Vec::new();
    for attempt in graded.into_iter().take(5) {
        let (Some(test), Some(score), Some(graded_at)) = (
            titles.get(&attempt.test_id),
            attempt.score,
            attempt.graded_at,
        ) else {
            continue;
        };
        recent_grades.push(RecentGrade {
            attempt_id: attempt.id,
            test_id: test.id,
            test_title: test.title.clone(),
            course: label(&names, test.course_id),
            percent: reports::score_percent(score, test.total_marks),
            passed: score >= test.passing_marks,
            graded_at,
        });
    }
    let range = Range::last(CHART_DAYS);
    let rows = series::rows(
        db,
        Scope::Student,
        Key::Subjects(&[me]),
        &[Metric::TimeSpent],
        range,
    )
    .await?;
    Ok(StudentDashboard {
        stats: StudentStats {
            enrolled_courses: enrollments.len() as i64,
            completed_courses: completed,
            total_xp: profile.total_xp,
            level: profile.level.max(1),
            current_streak: profile.current_streak,
            longest_streak: profile.longest_streak,
            badges: profile.badges,
        },
        recent_courses,
        upcoming_classes,
        pending_tests: pending,
        recent_grades,
        time_spent: series::daily(&rows, Metric::TimeSpent, range),
    })
}

/// The courses `user` is on the staff of (any staff role).
pub async fn staff_courses(db: &impl ConnectionTrait, user: Uuid) -> Result<Vec<Uuid>, ApiError> {
    Ok(course_staff::Entity::find()
        .select_only()
        .column(course_staff::Column::CourseId)
        .filter(course_staff::Column::UserId.eq(user))
        .into_tuple()
        .all(db)
        .await?)
}

/// `GET /dashboard/teacher`: over the courses the caller teaches.
pub async fn teacher(state: &AppState, auth: &AuthUser) -> Result<TeacherDashboard, ApiError> {
    auth.require_role(&[Role::Teacher, Role::Admin])?;
    let db = &state.db;
    let courses = staff_courses(db, auth.id()).await?;
    let course_rows = if courses.is_empty() {
        Vec::new()
    } else {
        course::Entity::find()
            .filter(course::Column::Id.is_in(courses.iter().copied()))
            .all(db)
            .await?
    };
    let names: HashMap<Uuid, CourseLabel> = course_rows
        .iter()
        .map(|c| {
            (
                c.id,
                CourseLabel {
                    id: c.id,
                    title: c.title.clone(),
                },
            )
        })
        .collect();
    let enrollments = if courses.is_empty() {
        Vec::new()
    } else {
        enrollment::Entity::find()
            .filter(enrollment::Column::CourseId.is_in(courses.iter().copied()))
            .filter(enrollment::Column::Status.is_in([
                EnrollmentStatus::Active.as_str(),
                EnrollmentStatus::Completed.as_str(),
            ]))
            .all(db)
            .await?
    };
    let students: HashSet<Uuid> = enrollments.iter().map(|e| e.student_id).collect();
    let (rated, weight) =
        course_rows
            .iter()
            .filter(|c| c.rating_count > 0)
            .fold((0.0, 0i64), |(sum, n), c| {
                (
                    sum + c.rating_avg * f64::from(c.rating_count),
                    n + i64::from(c.rating_count),
                )
            });
    let total_revenue = teacher_revenue(state, auth, &courses).await?;

    let mut recent = enrollments.clone();
    recent.sort_by_key(|e| std::cmp::Reverse(e.enrolled_at));
    recent.truncate(10);
    let people: HashMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(recent.iter().map(|e| e.student_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let recent_enrollments = recent
        .iter()
        .filter_map(|e| {
            Some(RecentEnrollment {
                student: person(people.get(&e.student_id)?),
                course: label(&names, e.course_id),
                enrolled_at: e.enrolled_at,
            })
        })
        .collect();

    let (pending_reviews, unanswered_doubts) = if courses.is_empty() {
        (0, 0)
    } else {
        let waiting: Vec<i32> = test_attempt::Entity::find()
            .select_only()
            .column(test_attempt::Column::PendingAnswers)
            .filter(test_attempt::Column::CourseId.is_in(courses.iter().copied()))
            .filter(test_attempt::Column::SubmittedAt.is_not_null())
            .filter(test_attempt::Column::PendingAnswers.gt(0))
            .into_tuple()
            .all(db)
            .await?;
        let doubts = doubt::Entity::find()
            .filter(doubt::Column::CourseId.is_in(courses.iter().copied()))
            .filter(doubt::Column::Answers.eq(0))
            .filter(doubt::Column::Status.ne(crate::api::DoubtStatus::Resolved.as_str()))
            .filter(doubt::Column::Hidden.eq(false))
            .count(db)
            .await?;
        (waiting.iter().map(|n| i64::from(*n)).sum(), doubts as i64)
    };

    let mut at_risk = Vec::new();
    for course in &course_rows {
        let course_enrollments: Vec<&enrollment::Model> = enrollments
            .iter()
            .filter(|e| e.course_id == course.id)
            .collect();
        at_risk.extend(
            reports::at_risk(state, &label(&names, course.id), &course_enrollments, None).await?,
        );
    }
    at_risk.sort_by(|a, b| {
        b.reasons
            .len()
            .cmp(&a.reasons.len())
            .then(a.progress_percent.cmp(&b.progress_percent))
    });
    at_risk.truncate(20);

    // Distinct students active per day (the rows come from the covering index).
    let range = Range::last(CHART_DAYS);
    let mut active: BTreeMap<chrono::NaiveDate, HashSet<Uuid>> = BTreeMap::new();
    for row in series::rows(
        db,
        Scope::Student,
        Key::Objects(&courses),
        &[Metric::Active],
        range,
    )
    .await?
    {
        active.entry(row.day).or_default().insert(row.subject);
    }
    let counts: BTreeMap<chrono::NaiveDate, i64> = active
        .into_iter()
        .map(|(day, who)| (day, who.len() as i64))
        .collect();
    Ok(TeacherDashboard {
        stats: TeacherStats {
            total_courses: course_rows.len() as i64,
            total_students: students.len() as i64,
            total_revenue,
            avg_rating: (weight > 0).then(|| super::round1(rated / weight as f64)),
        },
        recent_enrollments,
        upcoming_classes: upcoming_classes(db, &courses, None, 5).await?,
        pending_reviews,
        unanswered_doubts,
        students_at_risk: at_risk,
        active_students: series::fill(range, &counts),
    })
}

/// Net revenue per currency of `courses` (all payments, net of refunds).
async fn teacher_revenue(
    state: &AppState,
    auth: &AuthUser,
    courses: &[Uuid],
) -> Result<Vec<RevenueTotal>, ApiError> {
    if auth.is_admin() {
        // An admin's own courses, not the school's takings.
        return revenue_of(&state.db, courses).await;
    }
    Ok(history::revenue(state, auth, &RevenueQuery::default())
        .await?
        .totals)
}

/// Net revenue per currency over `courses`' payments.
pub async fn revenue_of(
    db: &impl ConnectionTrait,
    courses: &[Uuid],
) -> Result<Vec<RevenueTotal>, ApiError> {
    if courses.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, i64, String)> = payment::Entity::find()
        .select_only()
        .column(payment::Column::Amount)
        .column(payment::Column::Refunded)
        .column(payment::Column::Currency)
        .filter(payment::Column::CourseId.is_in(courses.iter().copied()))
        .filter(payment::Column::Amount.gt(0))
        .into_tuple()
        .all(db)
        .await?;
    Ok(totals(rows))
}

fn totals(rows: Vec<(i64, i64, String)>) -> Vec<RevenueTotal> {
    let mut by: BTreeMap<String, RevenueTotal> = BTreeMap::new();
    for (amount, refunded, currency) in rows {
        let total = by.entry(currency.clone()).or_insert_with(|| RevenueTotal {
            currency,
            payments: 0,
            gross: 0,
            refunded: 0,
            net: 0,
        });
        total.payments += 1;
        total.gross += amount;
        total.refunded += refunded;
        total.net += amount - refunded;
    }
    by.into_values().collect()
}

/// `GET /dashboard/admin`.
pub async fn admin(
    state: &AppState,
    auth: &AuthUser,
    query: &DateRange,
) -> Result<AdminDashboard, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let range = Range::parse(query, 30)?;
    let db = &state.db;
    let roles: Vec<(Role, i64)> = user::Entity::find()
        .select_only()
        .column(user::Column::Role)
        .column_as(sea_orm::ExprTrait::count(Expr::col(user::Column::Id)), "n")
        .filter(user::Column::IsActive.eq(true))
        .group_by(user::Column::Role)
        .into_tuple()
        .all(db)
        .await?;
    let users_by_role: Vec<RoleCount> = [Role::Admin, Role::Teacher, Role::Student, Role::Parent]
        .into_iter()
        .map(|role| RoleCount {
            role,
            count: roles
                .iter()
                .find(|(r, _)| *r == role)
                .map_or(0, |(_, n)| *n),
        })
        .collect();
    let total_courses = course::Entity::find().count(db).await? as i64;
    let payments: Vec<(i64, i64, String, chrono::DateTime<Utc>)> = payment::Entity::find()
        .select_only()
        .column(payment::Column::Amount)
        .column(payment::Column::Refunded)
        .column(payment::Column::Currency)
        .column(payment::Column::PaidAt)
        .filter(payment::Column::Amount.gt(0))
        .into_tuple()
        .all(db)
        .await?;
    let mut chart: BTreeMap<String, BTreeMap<chrono::NaiveDate, i64>> = BTreeMap::new();
    for (amount, refunded, currency, paid_at) in &payments {
        let day = paid_at.date_naive();
        if day >= range.since && day <= range.until {
            *chart
                .entry(currency.clone())
                .or_default()
                .entry(day)
                .or_default() += amount - refunded;
        }
    }
    let total_revenue = totals(payments.into_iter().map(|(a, r, c, _)| (a, r, c)).collect());
    let school = series::school(
        db,
        &[Metric::Signups, Metric::Dau, Metric::Wau, Metric::Mau],
        range,
    )
    .await?;
    let on_last = |metric: Metric| {
        school
            .iter()
            .find(|r| r.day == range.until && r.metric == metric.as_str())
            .map_or(0, |r| r.value)
    };
    let (dau, wau, mau) = (
        on_last(Metric::Dau),
        on_last(Metric::Wau),
        on_last(Metric::Mau),
    );

    let recent_users = user::Entity::find()
        .order_by_desc(user::Column::CreatedAt)
        .limit(10)
        .all(db)
        .await?
        .into_iter()
        .map(|u| RecentUser {
            id: u.id,
            first_name: u.first_name,
            last_name: u.last_name,
            role: u.role,
            created_at: u.created_at,
        })
        .collect();

    // Top courses: most enrollments in the range, then most students.
    let enrolled = series::rows(
        db,
        Scope::Course,
        Key::Objects(&[Uuid::nil()]),
        &[Metric::Enrollments],
        range,
    )
    .await?;
    let mut in_range: HashMap<Uuid, i64> = HashMap::new();
    for row in enrolled {
        *in_range.entry(row.subject).or_default() += row.value;
    }
    let mut ranked: Vec<(Uuid, i64)> = in_range.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(5);
    let mut candidates: Vec<course::Model> = course::Entity::find()
        .filter(course::Column::Id.is_in(ranked.iter().map(|r| r.0)))
        .all(db)
        .await?;
    if candidates.len() < 5 {
        let more = course::Entity::find()
            .order_by_desc(course::Column::TotalStudents)
            .order_by_asc(course::Column::Title)
            .limit(10)
            .all(db)
            .await?;
        for c in more {
            if candidates.len() < 5 && !candidates.iter().any(|k| k.id == c.id) {
                candidates.push(c);
            }
        }
    }
    let count_of = |id: Uuid| ranked.iter().find(|r| r.0 == id).map_or(0, |r| r.1);
    let mut top_courses: Vec<TopCourse> = candidates
        .into_iter()
        .map(|c| TopCourse {
            enrollments: count_of(c.id),
            total_students: i64::from(c.total_students),
            rating: c.rating_avg,
            course: CourseLabel {
                id: c.id,
                title: c.title,
            },
        })
        .collect();
    top_courses.sort_by(|a, b| {
        b.enrollments
            .cmp(&a.enrollments)
            .then(b.total_students.cmp(&a.total_students))
            .then(a.course.title.cmp(&b.course.title))
    });

    let import_runs = import_run::Entity::find()
        .order_by_desc(import_run::Column::CreatedAt)
        .limit(5)
        .all(db)
        .await?
        .into_iter()
        .map(|r| ImportRunLine {
            id: r.id,
            kind: r.kind.as_str().to_owned(),
            status: r.status.as_str().to_owned(),
            created: r.created,
            updated: r.updated,
            failed: r.failed,
            started_at: r.created_at,
        })
        .collect();

    Ok(AdminDashboard {
        stats: AdminStats {
            total_users: users_by_role.iter().map(|r| r.count).sum(),
            total_courses,
            total_revenue,
            active_users: mau,
            users_by_role,
            dau,
            wau,
            mau,
        },
        recent_users,
        top_courses,
        revenue_chart: chart
            .into_iter()
            .map(|(currency, by_day)| RevenueSeries {
                currency,
                points: series::fill(range, &by_day),
            })
            .collect(),
        signups: series::daily(&school, Metric::Signups, range),
        daily_active: series::daily(&school, Metric::Dau, range),
        import_runs,
        health: health(db).await?,
    })
}

/// The admin dashboard's series, for CSV.
pub fn admin_series(dashboard: &AdminDashboard) -> Vec<(String, Vec<SeriesPoint>)> {
    let mut out = vec![
        ("signups".to_owned(), dashboard.signups.clone()),
        ("daily_active".to_owned(), dashboard.daily_active.clone()),
    ];
    for revenue in &dashboard.revenue_chart {
        out.push((
            format!("revenue_{}", revenue.currency),
            revenue.points.clone(),
        ));
    }
    out
}

/// Queues and lags of the server's own work.
async fn health(db: &impl ConnectionTrait) -> Result<SystemHealth, ApiError> {
    let mail_queued = outbox_message::Entity::find()
        .filter(outbox_message::Column::Status.eq(MailStatus::Pending.as_str()))
        .count(db)
        .await? as i64;
    let webhooks_pending = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending.as_str()))
        .count(db)
        .await? as i64;
    let webhooks_failed = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Failed.as_str()))
        .count(db)
        .await? as i64;
    let newest: Option<i64> = domain_event::Entity::find()
        .select_only()
        .column_as(domain_event::Column::Seq.max(), "seq")
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    let cursors = notification_cursor::Entity::find().all(db).await?;
    let handled = cursors
        .iter()
        .find(|c| c.name == "notifications")
        .map_or(0, |c| c.event_seq);
    let rolled_up_at = cursors
        .iter()
        .find(|c| c.name == "rollup")
        .filter(|c| c.created_at != c.updated_at)
        .map(|c| c.updated_at);
    Ok(SystemHealth {
        mail_queued,
        webhooks_pending,
        webhooks_failed,
        events_behind: (newest.unwrap_or(0) - handled).max(0),
        rolled_up_at,
    })
}

/// Today minus `days`, for "inactive for N days".
pub fn days_ago(days: u32) -> chrono::NaiveDate {
    Utc::now().date_naive() - Duration::days(i64::from(days))
}
