//! The daily roll-ups: `daily_stats` recomputed whole, one UTC day per transaction,
//! from that day's activity, so re-running a day gives the same rows.
//!
//! The `rollup` row of `notification_cursor` holds the last activity id the roll-ups
//! have covered (and, in `updated_at`, when they last ran). A run reads the span of days
//! the newer rows fall in, recomputes those days plus yesterday and today, then the
//! 7- and 30-day active-user counts of the days after them that those windows reach,
//! and only then advances the cursor: a run stopped half-way is done again from the
//! start by the next one, which gives the same numbers. Each day's transaction first
//! writes the cursor row, so a second instance's run waits for the first's day instead
//! of interleaving with it. Raw rows older than the retention are pruned after.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sea_orm::sea_query::Expr;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Metric, Range, Scope};
use crate::api::{ActivityKind, RollupReport};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::store::entity::{activity, daily_stat, notification_cursor, user};

/// The cursor row's name.
const CURSOR: &str = "rollup";
/// Rows per insert statement (6 parameters each).
const INSERT_CHUNK: usize = 1000;

/// The roll-up task: brings the roll-ups up to date at start and every
/// `EDUPRO_ROLLUP_INTERVAL`.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(state.settings.analytics.rollup_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !state.leadership.runs("rollup") {
            continue;
        }
        match catch_up(&state).await {
            Ok(report) if report.rows > 0 || report.pruned > 0 => {
                tracing::info!(
                    days = report.days,
                    rows = report.rows,
                    pruned = report.pruned,
                    "activity rolled up"
                );
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "rolling up activity failed; retrying later"),
        }
    }
}

/// Takes `txn`'s lock on the cursor row (written first) and returns it.
async fn lock_cursor(txn: &DatabaseTransaction) -> Result<notification_cursor::Model, DbErr> {
    notification_cursor::Entity::update_many()
        .col_expr(
            notification_cursor::Column::UpdatedAt,
            Expr::value(Utc::now()),
        )
        .filter(notification_cursor::Column::Name.eq(CURSOR))
        .exec(txn)
        .await?;
    notification_cursor::Entity::find_by_id(CURSOR.to_owned())
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("notification_cursor row `rollup`".into()))
}

/// Brings the roll-ups up to date (also `POST /analytics/rollup`).
pub async fn catch_up(state: &AppState) -> Result<RollupReport, ApiError> {
    let db = &state.db;
    let cursor = notification_cursor::Entity::find_by_id(CURSOR.to_owned())
        .one(db)
        .await?
        .map_or(0, |c| c.event_seq);
    let (max_id, first, last): (Option<i64>, Option<DateTime<Utc>>, Option<DateTime<Utc>>) =
        activity::Entity::find()
            .select_only()
            .column_as(activity::Column::Id.max(), "max_id")
            .column_as(activity::Column::OccurredAt.min(), "first")
            .column_as(activity::Column::OccurredAt.max(), "last")
            .filter(activity::Column::Id.gt(cursor))
            .into_tuple()
            .one(db)
            .await?
            .unwrap_or((None, None, None));
    let today = Utc::now().date_naive();
    let oldest = today - Duration::days(i64::from(state.settings.analytics.retention_days));
    let mut days: BTreeSet<NaiveDate> = [today - Duration::days(1), today].into();
    if let (Some(first), Some(last)) = (first, last) {
        let from = first.date_naive().max(oldest);
        let to = last.date_naive().min(today);
        days.extend(from.iter_days().take_while(|d| *d <= to));
    }
    let mut rows = 0u64;
    for day in &days {
        rows += recompute_day(state, *day).await?;
    }
    // The 7- and 30-day windows of every day from the first recomputed one up to 29
    // days after the last (or today).
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        let until = (*last + Duration::days(29)).min(today);
        for day in first.iter_days().take_while(|d| *d <= until) {
            active_windows(state, day).await?;
        }
    }
    if let Some(max_id) = max_id {
        let txn = crate::store::db::begin_write(db).await?;
        lock_cursor(&txn).await?;
        notification_cursor::Entity::update_many()
            .col_expr(notification_cursor::Column::EventSeq, Expr::value(max_id))
            .filter(notification_cursor::Column::Name.eq(CURSOR))
            .filter(notification_cursor::Column::EventSeq.lt(max_id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
    }
    let (oldest_at, _) = Range {
        since: oldest,
        until: oldest,
    }
    .bounds();
    let pruned = activity::Entity::delete_many()
        .filter(activity::Column::OccurredAt.lt(oldest_at))
        .filter(activity::Column::Id.lte(max_id.unwrap_or(cursor)))
        .exec(db)
        .await?
        .rows_affected;
    Ok(RollupReport {
        days: days.len() as u32,
        rows,
        pruned,
    })
}

/// A metric and what a row adds to it, if anything.
type Counted = Option<(Metric, i64)>;

/// What a day's activity adds up to.
#[derive(Default)]
struct Day {
    values: HashMap<(Scope, Uuid, Uuid, Metric), i64>,
    /// Distinct users per (scope, subject, object, metric) counted as such.
    distinct: HashMap<(Scope, Uuid, Uuid, Metric), HashSet<Uuid>>,
}

impl Day {
    fn add(&mut self, scope: Scope, subject: Uuid, object: Uuid, metric: Metric, n: i64) {
        *self
            .values
            .entry((scope, subject, object, metric))
            .or_default() += n;
    }

    fn count(&mut self, scope: Scope, subject: Uuid, object: Uuid, metric: Metric, user: Uuid) {
        self.distinct
            .entry((scope, subject, object, metric))
            .or_default()
            .insert(user);
    }

    fn take(
        &mut self,
        row: (
            Uuid,
            ActivityKind,
            Option<Uuid>,
            Option<Uuid>,
            i32,
            Option<i32>,
        ),
    ) {
        let (user, kind, course, lesson, seconds, score) = row;
        let nil = Uuid::nil();
        let seconds = i64::from(seconds.max(0));
        self.add(Scope::User, user, nil, Metric::Active, 0);
        let learning = !matches!(
            kind,
            ActivityKind::SignIn | ActivityKind::DoubtAnswered | ActivityKind::Enrolled
        );
        let school = |metric| (Scope::School, nil, nil, metric);
        match kind {
            ActivityKind::SignIn => *self.values.entry(school(Metric::SignIns)).or_default() += 1,
            ActivityKind::Enrolled => {
                *self.values.entry(school(Metric::Enrollments)).or_default() += 1;
            }
            ActivityKind::CourseCompleted => {
                *self.values.entry(school(Metric::Completions)).or_default() += 1;
            }
            ActivityKind::LessonTime => {
                *self.values.entry(school(Metric::TimeSpent)).or_default() += seconds;
            }
            ActivityKind::VideoWatched => {
                *self.values.entry(school(Metric::WatchTime)).or_default() += seconds;
            }
            ActivityKind::TestSubmitted => {
                *self
                    .values
                    .entry(school(Metric::TestsSubmitted))
                    .or_default() += 1;
            }
            _ => {}
        }
        let Some(course) = course else {
            if learning {
                self.add(Scope::Student, user, nil, Metric::Active, 0);
            }
            return;
        };
        let (course_metric, student_metric): (Counted, Counted) = match kind {
            ActivityKind::Enrolled => (Some((Metric::Enrollments, 1)), None),
            ActivityKind::CourseCompleted => (Some((Metric::Completions, 1)), None),
            ActivityKind::LessonTime => (
                Some((Metric::TimeSpent, seconds)),
                Some((Metric::TimeSpent, seconds)),
            ),
            ActivityKind::VideoWatched => (
                Some((Metric::WatchTime, seconds)),
                Some((Metric::WatchTime, seconds)),
            ),
            ActivityKind::LessonCompleted => (
                Some((Metric::LessonsCompleted, 1)),
                Some((Metric::LessonsCompleted, 1)),
            ),
            ActivityKind::TestSubmitted => (
                Some((Metric::TestsSubmitted, 1)),
                Some((Metric::TestsSubmitted, 1)),
            ),
            ActivityKind::ClassJoined => {
                (Some((Metric::ClassJoins, 1)), Some((Metric::ClassJoins, 1)))
            }
            ActivityKind::DoubtAsked => (Some((Metric::DoubtsAsked, 1)), None),
            _ => (None, None),
        };
        if let Some((metric, n)) = course_metric {
            self.add(Scope::Course, course, nil, metric, n);
        }
        if kind == ActivityKind::TestGraded
            && let Some(score) = score
        {
            self.add(
                Scope::Course,
                course,
                nil,
                Metric::ScoreSum,
                i64::from(score),
            );
            self.add(Scope::Course, course, nil, Metric::ScoreCount, 1);
            self.add(
                Scope::Student,
                user,
                course,
                Metric::ScoreSum,
                i64::from(score),
            );
            self.add(Scope::Student, user, course, Metric::ScoreCount, 1);
        }
        if learning {
            self.count(Scope::Course, course, nil, Metric::ActiveStudents, user);
            self.add(Scope::Student, user, course, Metric::Active, 0);
            if let Some((metric, n)) = student_metric {
                self.add(Scope::Student, user, course, metric, n);
            }
        }
        if let Some(lesson) = lesson {
            match kind {
                ActivityKind::LessonTime => {
                    self.add(Scope::Lesson, lesson, course, Metric::TimeSpent, seconds);
                }
                ActivityKind::VideoWatched => {
                    self.add(Scope::Lesson, lesson, course, Metric::WatchTime, seconds);
                }
                ActivityKind::LessonCompleted => {
                    self.add(Scope::Lesson, lesson, course, Metric::LessonsCompleted, 1);
                }
                _ => {}
            }
            if matches!(
                kind,
                ActivityKind::LessonOpened
                    | ActivityKind::LessonTime
                    | ActivityKind::VideoWatched
                    | ActivityKind::LessonCompleted
            ) {
                self.count(Scope::Lesson, lesson, course, Metric::Opened, user);
            }
        }
    }

    /// The rows to store: every total, every distinct count; an ACTIVE marker is 1.
    fn rows(mut self, day: NaiveDate) -> Vec<daily_stat::ActiveModel> {
        let nil = Uuid::nil();
        let dau = self
            .values
            .keys()
            .filter(|(scope, _, _, metric)| *scope == Scope::User && *metric == Metric::Active)
            .count() as i64;
        if dau > 0 {
            self.values
                .insert((Scope::School, nil, nil, Metric::Dau), dau);
        }
        let distinct = std::mem::take(&mut self.distinct);
        for (key, users) in distinct {
            self.values.insert(key, users.len() as i64);
        }
        self.values
            .into_iter()
            .map(
                |((scope, subject, object, metric), value)| daily_stat::ActiveModel {
                    day: Set(day),
                    scope: Set(scope.as_str().to_owned()),
                    subject: Set(subject),
                    object: Set(object),
                    metric: Set(metric.as_str().to_owned()),
                    value: Set(if metric == Metric::Active { 1 } else { value }),
                },
            )
            .filter(|row| {
                // Zero totals are not stored; readers fill in the zeros.
                !matches!(&row.value, sea_orm::ActiveValue::Set(0))
            })
            .collect()
    }
}

/// Recomputes `day` in one transaction: its rows deleted, the day's activity (and sign-
/// ups) added up again. How many activity rows it read.
pub async fn recompute_day(state: &AppState, day: NaiveDate) -> Result<u64, ApiError> {
    let (start, end) = Range {
        since: day,
        until: day,
    }
    .bounds();
    let txn = crate::store::db::begin_write(&state.db).await?;
    lock_cursor(&txn).await?;
    daily_stat::Entity::delete_many()
        .filter(daily_stat::Column::Day.eq(day))
        .exec(&txn)
        .await?;
    let mut totals = Day::default();
    let mut read = 0u64;
    {
        let mut stream = activity::Entity::find()
            .select_only()
            .column(activity::Column::UserId)
            .column(activity::Column::Kind)
            .column(activity::Column::CourseId)
            .column(activity::Column::LessonId)
            .column(activity::Column::Seconds)
            .column(activity::Column::Score)
            .filter(activity::Column::OccurredAt.gte(start))
            .filter(activity::Column::OccurredAt.lt(end))
            .into_tuple::<(
                Uuid,
                ActivityKind,
                Option<Uuid>,
                Option<Uuid>,
                i32,
                Option<i32>,
            )>()
            .stream(&txn)
            .await?;
        while let Some(row) = stream.try_next().await? {
            totals.take(row);
            read += 1;
        }
    }
    let signups = user::Entity::find()
        .filter(user::Column::CreatedAt.gte(start))
        .filter(user::Column::CreatedAt.lt(end))
        .count(&txn)
        .await?;
    totals.add(
        Scope::School,
        Uuid::nil(),
        Uuid::nil(),
        Metric::Signups,
        signups as i64,
    );
    let rows = totals.rows(day);
    for chunk in rows.chunks(INSERT_CHUNK) {
        daily_stat::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(read)
}

/// Stores `day`'s WAU and MAU: distinct users active in the 7 and 30 days ending then.
async fn active_windows(state: &AppState, day: NaiveDate) -> Result<(), ApiError> {
    // Counted before the write transaction: SQLite's one writer is not held by reads.
    let mut counts = Vec::new();
    for (metric, days) in [(Metric::Wau, 7), (Metric::Mau, 30)] {
        counts.push((
            metric,
            distinct_active(&state.db, day - Duration::days(days - 1), day).await?,
        ));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    lock_cursor(&txn).await?;
    let nil = Uuid::nil();
    daily_stat::Entity::delete_many()
        .filter(daily_stat::Column::Day.eq(day))
        .filter(daily_stat::Column::Scope.eq(Scope::School.as_str()))
        .filter(daily_stat::Column::Metric.is_in([Metric::Wau.as_str(), Metric::Mau.as_str()]))
        .exec(&txn)
        .await?;
    let rows: Vec<daily_stat::ActiveModel> = counts
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(metric, count)| daily_stat::ActiveModel {
            day: Set(day),
            scope: Set(Scope::School.as_str().to_owned()),
            subject: Set(nil),
            object: Set(nil),
            metric: Set(metric.as_str().to_owned()),
            value: Set(count),
        })
        .collect();
    if !rows.is_empty() {
        daily_stat::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Distinct users with an ACTIVE marker between `since` and `until` (both included).
async fn distinct_active(
    db: &impl ConnectionTrait,
    since: NaiveDate,
    until: NaiveDate,
) -> Result<i64, DbErr> {
    let count: Option<i64> = daily_stat::Entity::find()
        .select_only()
        .column_as(
            sea_orm::ExprTrait::count_distinct(Expr::col(daily_stat::Column::Subject)),
            "n",
        )
        .filter(daily_stat::Column::Scope.eq(Scope::User.as_str()))
        .filter(daily_stat::Column::Object.eq(Uuid::nil()))
        .filter(daily_stat::Column::Day.gte(since))
        .filter(daily_stat::Column::Day.lte(until))
        .filter(daily_stat::Column::Metric.eq(Metric::Active.as_str()))
        .into_tuple()
        .one(db)
        .await?;
    Ok(count.unwrap_or(0))
}
