//! XP, levels, streaks and leaderboards (`docs/ARCHITECTURE.md` "Gamification").
//!
//! XP is a ledger: each award is a row with a cause unique per student
//! (`lesson:<id>`, `test-pass:<id>`, …), written with `ON CONFLICT DO NOTHING` in the
//! transaction of what earned it, so retries, concurrent requests, regrades and
//! re-imports never award twice; a regrade that turns a pass into a fail deletes the
//! award and takes its points back. The student's profile keeps the totals (XP, level,
//! current and longest streak, the last active day) under the user row's lock, and
//! leaderboards are one grouped query over the ledger.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::api::{
    AttemptStatus, Badge, Leaderboard, LeaderboardEntry, LeaderboardPeriod, LeaderboardQuery, Role,
    StudentProfile,
};
use crate::domain::events::{AchievementUnlocked, DomainEvent, LevelReached};
use crate::domain::xp::{BADGES, Record, level_for, next_streak};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, course_not_found, find_course, person};
use crate::service::events::{self, StoredEvent};
use crate::store::entity::{
    batch, enrollment, leaderboard_opt_out, notification_preference, test, test_attempt, user,
    xp_award,
};

/// What earns XP, and how much (the rules table; `docs/ARCHITECTURE.md` lists it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    LessonCompleted,
    CourseCompleted,
    TestPassed,
    PerfectScore,
    AnswerAccepted,
    ClassAttended,
    /// The first learning activity of a day in the student's time zone.
    DailyActivity,
}

impl Rule {
    pub const fn points(self) -> i32 {
        match self {
            Self::LessonCompleted => 10,
            Self::CourseCompleted => 100,
            Self::TestPassed => 50,
            Self::PerfectScore => 25,
            Self::AnswerAccepted => 15,
            Self::ClassAttended => 20,
            Self::DailyActivity => 5,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LessonCompleted => "LESSON_COMPLETED",
            Self::CourseCompleted => "COURSE_COMPLETED",
            Self::TestPassed => "TEST_PASSED",
            Self::PerfectScore => "PERFECT_SCORE",
            Self::AnswerAccepted => "ANSWER_ACCEPTED",
            Self::ClassAttended => "CLASS_ATTENDED",
            Self::DailyActivity => "DAILY_ACTIVITY",
        }
    }
}

/// One award to make: the rule, its cause (unique per student) and the course it
/// counts for.
#[derive(Debug, Clone)]
pub struct Award {
    pub rule: Rule,
    pub cause: String,
    pub course_id: Option<Uuid>,
}

impl Award {
    pub fn new(rule: Rule, cause: impl Into<String>, course_id: Option<Uuid>) -> Self {
        Self {
            rule,
            cause: cause.into(),
            course_id,
        }
    }
}

async fn time_zone(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Tz, ApiError> {
    let zone: Option<String> = notification_preference::Entity::find()
        .select_only()
        .column(notification_preference::Column::TimeZone)
        .filter(notification_preference::Column::UserId.eq(user_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(zone.and_then(|z| z.parse().ok()).unwrap_or(Tz::UTC))
}

/// The student's row, locked for the rest of `db`'s transaction (written first), and
/// their profile; `None` for anyone who is not a student (only students earn XP).
async fn lock_student(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Option<StudentProfile>, ApiError> {
    user::Entity::update_many()
        .col_expr(user::Column::UpdatedAt, Expr::col(user::Column::UpdatedAt))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    let Some(row) = user::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(None);
    };
    if row.role != Role::Student {
        return Ok(None);
    }
    Ok(Some(
        row.profile
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
    ))
}

async fn save_profile(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    profile: &StudentProfile,
) -> Result<(), ApiError> {
    let value = serde_json::to_value(profile).map_err(anyhow::Error::from)?;
    user::Entity::update_many()
        .col_expr(user::Column::Profile, Expr::value(value))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Inserts the award unless its cause was awarded before; whether it was new.
async fn insert_award(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    award: &Award,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let row = xp_award::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        cause: Set(award.cause.clone()),
        kind: Set(award.rule.as_str().to_owned()),
        points: Set(award.rule.points()),
        course_id: Set(award.course_id),
        awarded_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let inserted = xp_award::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([xp_award::Column::UserId, xp_award::Column::Cause])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// What an award (or a settlement) did: the XP it added or took, the students whose
/// totals changed, and the events to announce after the commit (badges, levels).
#[derive(Debug, Default)]
pub struct Earned {
    pub xp: i64,
    pub students: Vec<Uuid>,
    pub events: Vec<StoredEvent>,
}

impl Earned {
    fn add(&mut self, other: Earned) {
        self.xp += other.xp;
        for s in other.students {
            if !self.students.contains(&s) {
                self.students.push(s);
            }
        }
        self.events.extend(other.events);
    }

    /// After the commit: announce the events and drop the students' cached sessions
    /// (which `/auth/me` reads) here and on every other instance.
    pub async fn announce(self, state: &AppState) {
        state.events.announce(self.events);
        for user in self.students {
            crate::service::auth::user_changed(state, user).await;
        }
    }
}

/// Unlocks the badges the student's record now earns (each once: the profile holds
/// them, under the user row's lock) and announces a new level; the events.
async fn milestones(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    profile: &mut StudentProfile,
    level_before: i32,
    now: DateTime<Utc>,
) -> Result<Vec<StoredEvent>, ApiError> {
    let mut published = Vec::new();
    if profile.level > level_before && level_before > 0 {
        published.push(
            events::publish(
                db,
                DomainEvent::LevelReached(LevelReached {
                    user_id,
                    level: profile.level,
                    total_xp: profile.total_xp,
                }),
            )
            .await?,
        );
    }
    let counts = awards_by_rule(db, user_id).await?;
    let count = |rule: Rule| counts.get(rule.as_str()).map_or(0, |(n, _)| *n);
    let record = Record {
        lessons_completed: count(Rule::LessonCompleted),
        courses_completed: count(Rule::CourseCompleted),
        perfect_scores: count(Rule::PerfectScore),
        answers_accepted: count(Rule::AnswerAccepted),
        classes_attended: count(Rule::ClassAttended),
        current_streak: profile.current_streak,
        level: profile.level,
    };
    for badge in BADGES {
        if !(badge.earned)(&record) || profile.badges.iter().any(|b| b.code == badge.code) {
            continue;
        }
        profile.badges.push(Badge {
            code: badge.code.to_owned(),
            title: badge.title.to_owned(),
            unlocked_at: now,
        });
        published.push(
            events::publish(
                db,
                DomainEvent::AchievementUnlocked(AchievementUnlocked {
                    user_id,
                    code: badge.code.to_owned(),
                    title: badge.title.to_owned(),
                    description: badge.description.to_owned(),
                }),
            )
            .await?,
        );
    }
    Ok(published)
}

/// Awards `awards` to the student in `db`'s transaction, each at most once ever, and
/// counts the day as active (extending the streak; the day's first activity earns
/// [`Rule::DailyActivity`]); unlocks badges and announces levels. Anyone not a student
/// gets nothing. Call [`Earned::announce`] after the commit.
pub async fn award(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    awards: &[Award],
) -> Result<Earned, ApiError> {
    let Some(mut profile) = lock_student(db, user_id).await? else {
        return Ok(Earned::default());
    };
    let level_before = level_for(profile.total_xp);
    let now = Utc::now();
    let mut added = 0i64;
    for a in awards {
        if insert_award(db, user_id, a, now).await? {
            added += i64::from(a.rule.points());
        }
    }
    let today = now
        .with_timezone(&time_zone(db, user_id).await?)
        .date_naive();
    let new_day = profile.last_active_on != Some(today);
    if new_day {
        profile.current_streak = next_streak(profile.last_active_on, profile.current_streak, today);
        profile.longest_streak = profile.longest_streak.max(profile.current_streak);
        profile.last_active_on = Some(today);
        let day = Award::new(Rule::DailyActivity, format!("day:{today}"), None);
        if insert_award(db, user_id, &day, now).await? {
            added += i64::from(Rule::DailyActivity.points());
        }
    }
    profile.total_xp += added;
    profile.level = level_for(profile.total_xp);
    let events = if added > 0 || new_day {
        milestones(db, user_id, &mut profile, level_before, now).await?
    } else {
        Vec::new()
    };
    save_profile(db, user_id, &profile).await?;
    Ok(Earned {
        xp: added,
        students: if added > 0 { vec![user_id] } else { Vec::new() },
        events,
    })
}

/// Takes back the award of `cause`, if there is one; the XP taken.
pub async fn revoke(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    cause: &str,
) -> Result<i64, ApiError> {
    let Some(mut profile) = lock_student(db, user_id).await? else {
        return Ok(0);
    };
    let Some(row) = xp_award::Entity::find()
        .filter(xp_award::Column::UserId.eq(user_id))
        .filter(xp_award::Column::Cause.eq(cause))
        .one(db)
        .await?
    else {
        return Ok(0);
    };
    xp_award::Entity::delete_by_id(row.id).exec(db).await?;
    profile.total_xp = (profile.total_xp - i64::from(row.points)).max(0);
    profile.level = level_for(profile.total_xp);
    save_profile(db, user_id, &profile).await?;
    Ok(i64::from(row.points))
}

/// Makes the students' test awards agree with their graded attempts: TEST_PASSED while
/// one fully graded attempt reaches the passing marks, PERFECT_SCORE while one has every
/// mark; given where they are missing, taken back where they no longer hold (a regrade).
/// What changed; call [`Earned::announce`] after the commit.
pub async fn settle_test(
    db: &impl ConnectionTrait,
    t: &test::Model,
    students: &[Uuid],
) -> Result<Earned, ApiError> {
    let mut changed = Earned::default();
    if t.total_marks <= 0 {
        return Ok(changed);
    }
    for student in students {
        let best: Option<i64> = test_attempt::Entity::find()
            .select_only()
            .column_as(test_attempt::Column::Score.max(), "best")
            .filter(test_attempt::Column::TestId.eq(t.id))
            .filter(test_attempt::Column::StudentId.eq(*student))
            .filter(test_attempt::Column::Status.eq(AttemptStatus::Submitted.as_str()))
            .filter(test_attempt::Column::PendingAnswers.eq(0))
            .into_tuple::<Option<i64>>()
            .one(db)
            .await?
            .flatten();
        let passed = best.is_some_and(|b| b >= t.passing_marks);
        let perfect = best.is_some_and(|b| b >= t.total_marks);
        let mut give = Vec::new();
        for (holds, rule, cause) in [
            (passed, Rule::TestPassed, format!("test-pass:{}", t.id)),
            (
                perfect,
                Rule::PerfectScore,
                format!("test-perfect:{}", t.id),
            ),
        ] {
            if holds {
                give.push(Award::new(rule, cause, Some(t.course_id)));
            } else if revoke(db, *student, &cause).await? > 0 {
                changed.add(Earned {
                    students: vec![*student],
                    ..Earned::default()
                });
            }
        }
        if !give.is_empty() {
            changed.add(award(db, *student, &give).await?);
        }
    }
    Ok(changed)
}

/// The Monday 00:00 that starts the week of `now` in `tz`, in UTC.
pub fn week_start(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let local = now.with_timezone(&tz).date_naive();
    let monday = local - Duration::days(i64::from(local.weekday().num_days_from_monday()));
    monday
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| tz.from_local_datetime(&midnight).earliest())
        .map_or(now - Duration::days(7), |start| start.with_timezone(&Utc))
}

/// Ranks sorted totals: equal XP shares a rank, and the next rank skips as many
/// (1, 2, 2, 4).
pub fn ranks(totals: &[i64]) -> Vec<u32> {
    let mut ranks = Vec::with_capacity(totals.len());
    for (i, xp) in totals.iter().enumerate() {
        let rank = match (i, ranks.last()) {
            (0, _) | (_, None) => 1,
            (_, Some(&previous)) if totals[i - 1] == *xp => previous,
            _ => u32::try_from(i + 1).unwrap_or(u32::MAX),
        };
        ranks.push(rank);
    }
    ranks
}

/// Where the leaderboard counts XP: one course (optionally one batch), or the school.
enum Scope {
    School,
    Course {
        course_id: Uuid,
        batch_id: Option<Uuid>,
    },
}

/// A leaderboard of a course (`course_key`) or of the whole school (`None`), this week
/// or all time, without the students who hide from leaderboards. A course's is for its
/// enrolled students and staff; the school's for any signed-in user.
pub async fn leaderboard(
    state: &AppState,
    auth: &AuthUser,
    course_key: Option<&str>,
    query: LeaderboardQuery,
) -> Result<Leaderboard, ApiError> {
    let (scope, title) = match course_key {
        None => (Scope::School, "School".to_owned()),
        Some(key) => {
            let course = find_course(&state.db, key).await?;
            let access = catalogue::access(&state.db, Some(auth), course.id).await?;
            if !access.can_edit()
                && !catalogue::is_enrolled(&state.db, course.id, auth.id()).await?
            {
                if !catalogue::can_view(&state.db, &course, access, Some(auth)).await? {
                    return Err(course_not_found());
                }
                return Err(ApiError::Forbidden(
                    "Only students enrolled in this course and its staff see its leaderboard"
                        .into(),
                ));
            }
            if let Some(batch_id) = query.batch {
                let found = batch::Entity::find_by_id(batch_id)
                    .filter(batch::Column::CourseId.eq(course.id))
                    .one(&state.db)
                    .await?;
                if found.is_none() {
                    return Err(ApiError::field("batch", "is not a batch of this course"));
                }
            }
            (
                Scope::Course {
                    course_id: course.id,
                    batch_id: query.batch,
                },
                course.title,
            )
        }
    };
    let period = query.period.unwrap_or(LeaderboardPeriod::All);
    let since = match period {
        LeaderboardPeriod::All => None,
        LeaderboardPeriod::Week => Some(week_start(
            Utc::now(),
            time_zone(&state.db, auth.id()).await?,
        )),
    };
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    let total = xp_award::Column::Points.sum();
    let mut select = xp_award::Entity::find()
        .select_only()
        .column(xp_award::Column::UserId)
        .column_as(total.clone(), "xp")
        .filter(
            xp_award::Column::UserId.not_in_subquery(
                Query::select()
                    .column(leaderboard_opt_out::Column::UserId)
                    .from(leaderboard_opt_out::Entity)
                    .to_owned(),
            ),
        )
        .group_by(xp_award::Column::UserId);
    if let Scope::Course {
        course_id,
        batch_id,
    } = scope
    {
        select = select.filter(xp_award::Column::CourseId.eq(course_id));
        if let Some(batch_id) = batch_id {
            select = select.filter(
                xp_award::Column::UserId.in_subquery(
                    Query::select()
                        .column(enrollment::Column::StudentId)
                        .from(enrollment::Entity)
                        .and_where(enrollment::Column::CourseId.eq(course_id))
                        .and_where(enrollment::Column::BatchId.eq(batch_id))
                        .to_owned(),
                ),
            );
        }
    }
    if let Some(since) = since {
        select = select.filter(xp_award::Column::AwardedAt.gte(since));
    }
    // Everyone's total, highest first (ties by id, stable): ranks need the ones above
    // the caller, and the caller's place may be below the page.
    let rows: Vec<(Uuid, i64)> = select
        .order_by_desc(total)
        .order_by_asc(xp_award::Column::UserId)
        .into_tuple::<(Uuid, Option<i64>)>()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|(id, xp)| (id, xp.unwrap_or(0)))
        .collect();
    let totals: Vec<i64> = rows.iter().map(|(_, xp)| *xp).collect();
    let ranked = ranks(&totals);
    let mine = rows.iter().position(|(id, _)| *id == auth.id());
    let shown: Vec<usize> = (0..rows.len().min(limit as usize)).collect();
    let people: HashMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(shown.iter().chain(mine.iter()).map(|i| rows[*i].0)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let entry = |i: usize| -> Option<LeaderboardEntry> {
        let (id, xp) = rows[i];
        Some(LeaderboardEntry {
            rank: ranked[i],
            student: person(people.get(&id)?),
            xp,
            me: id == auth.id(),
        })
    };
    Ok(Leaderboard {
        scope: title,
        period,
        since,
        entries: shown.into_iter().filter_map(entry).collect(),
        me: mine.and_then(entry),
        hidden: leaderboard_opt_out::Entity::find()
            .filter(leaderboard_opt_out::Column::UserId.eq(auth.id()))
            .one(&state.db)
            .await?
            .is_some(),
    })
}

/// Hides the caller from every leaderboard, or shows them again.
pub async fn set_hidden(state: &AppState, auth: &AuthUser, hidden: bool) -> Result<(), ApiError> {
    let existing = leaderboard_opt_out::Entity::find()
        .filter(leaderboard_opt_out::Column::UserId.eq(auth.id()))
        .one(&state.db)
        .await?;
    match (hidden, existing) {
        (true, None) => {
            let now = Utc::now();
            let row = leaderboard_opt_out::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(auth.id()),
                created_at: Set(now),
                updated_at: Set(now),
            };
            leaderboard_opt_out::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(leaderboard_opt_out::Column::UserId)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&state.db)
                .await?;
        }
        (false, Some(row)) => {
            leaderboard_opt_out::Entity::delete_by_id(row.id)
                .exec(&state.db)
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// A student's awards per rule, for tests and the profile: rule → (count, XP).
pub async fn awards_by_rule(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<HashMap<String, (i64, i64)>, ApiError> {
    let rows: Vec<(String, i64, Option<i64>)> = xp_award::Entity::find()
        .select_only()
        .column(xp_award::Column::Kind)
        .column_as(xp_award::Column::Id.count(), "n")
        .column_as(xp_award::Column::Points.sum(), "xp")
        .filter(xp_award::Column::UserId.eq(user_id))
        .group_by(xp_award::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, n, xp)| (kind, (n, xp.unwrap_or(0))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_a_rank_and_the_next_rank_skips() {
        assert_eq!(ranks(&[90, 50, 50, 10, 10, 5]), [1, 2, 2, 4, 4, 6]);
        assert!(ranks(&[]).is_empty());
    }

    #[test]
    fn a_week_starts_on_monday_midnight_in_the_zone() {
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        // Sunday 20:00 UTC is already Monday 01:30 in Kolkata.
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 20, 0, 0).unwrap();
        assert_eq!(
            week_start(now, Tz::UTC),
            Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap()
        );
        assert_eq!(
            week_start(now, kolkata),
            Utc.with_ymd_and_hms(2026, 12, 6, 18, 30, 0).unwrap()
        );
    }
}
