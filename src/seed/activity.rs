//! Five weeks of learning history for the demo students, so dashboards and `edupro
//! stats` have something to show: sign-ins on weekdays, study sessions on the real
//! lessons of "Rust for Beginners" (opened, time on the page, video, completions in
//! step with each student's real progress), a weekly quiz with its score, a weekly live
//! class, now and then a doubt. The students who are behind drift off: less each week,
//! nothing in the last 10 days, so the course's at-risk list names them. Students not
//! in the course only sign in.
//!
//! Sent through `POST /activity/import` (1000 rows a request) as admin, then the
//! roll-ups run once. Every row's id is derived from the seed, the student and the
//! row's place in their history, so a re-run (even days later) imports nothing new.
//! The history covers the 35 days ending yesterday, five whole weeks: the same number
//! of rows whatever the day.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use edupro_server::api::{
    ActivityImport, ActivityKind, ActivityRecord, CourseFilter, EnrollmentFilter, Role, UserFilter,
};
use uuid::Uuid;

use super::{DEMO_DOMAIN, SeedReport};
use crate::api::{self, ApiClient};
use crate::error::{ClientError, Result};

/// The course the history is about.
const COURSE: &str = "Rust for Beginners";
/// Weeks of history.
const WEEKS: u32 = 5;
/// Rows per import request (the server's limit).
const CHUNK: usize = 1000;

/// A demo student in the course, as the history sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learner {
    pub id: Uuid,
    /// The N of `studentN@…`: what their row ids are derived from.
    pub number: u64,
    /// Lessons they have completed for real (their history completes the same ones).
    pub completed: usize,
    /// Fell behind and stopped coming: nothing in the last 10 days.
    pub drifts: bool,
}

/// A demo student outside the course: they only sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visitor {
    pub id: Uuid,
    pub number: u64,
}

/// Imports the history (see the module doc) as `admin`, then rolls it up. `teacher`
/// finds the course, its lessons and its roster. Skipped on a server without the
/// activity log (404).
pub(super) async fn seed_demo_activity(
    admin: &ApiClient,
    teacher: &ApiClient,
    seed: u64,
) -> Result<SeedReport> {
    let mut report = SeedReport::default();
    let me = teacher.me().await?;
    let filter = CourseFilter {
        creator: Some(me.id),
        search: Some(COURSE.into()),
        ..CourseFilter::default()
    };
    let Some(found) = teacher
        .courses(&filter, api::DEFAULT_PAGE)
        .await?
        .courses
        .into_iter()
        .find(|c| c.title == COURSE)
    else {
        return Ok(report);
    };
    let course = teacher.course(&found.id.to_string()).await?;
    let mut sections = course.sections.unwrap_or_default();
    sections.sort_by_key(|s| s.order);
    let lessons: Vec<Uuid> = sections
        .iter()
        .flat_map(|s| {
            let mut lessons: Vec<_> = s.lessons.iter().filter(|l| l.is_published).collect();
            lessons.sort_by_key(|l| l.order);
            lessons.into_iter().map(|l| l.id).collect::<Vec<_>>()
        })
        .collect();
    if lessons.is_empty() {
        return Ok(report);
    }
    let roster = teacher
        .enrollments(
            &course.id.to_string(),
            &EnrollmentFilter::default(),
            api::first(100),
        )
        .await?
        .enrollments;
    let filter = UserFilter {
        role: Some(Role::Student),
        search: Some(DEMO_DOMAIN.into()),
        ..UserFilter::default()
    };
    let students = admin.users(&filter, api::first(100)).await?.users;

    let mut learners: Vec<Learner> = roster
        .iter()
        .filter_map(|e| {
            let completed = (f64::from(e.progress.clamp(0, 100)) * lessons.len() as f64 / 100.0)
                .round() as usize;
            Some(Learner {
                id: e.student.id,
                number: demo_number(&e.student.email)?,
                completed,
                drifts: false,
            })
        })
        .collect();
    learners.sort_by_key(|l| l.number);
    mark_drifters(&mut learners, lessons.len());
    let visitors: Vec<Visitor> = students
        .iter()
        .filter(|s| !learners.iter().any(|l| l.id == s.id))
        .filter_map(|s| {
            Some(Visitor {
                id: s.id,
                number: demo_number(&s.email)?,
            })
        })
        .collect();

    let today = Utc::now().date_naive();
    let rows = history(seed, today, course.id, &lessons, &learners, &visitors);
    for chunk in rows.chunks(CHUNK) {
        let body = ActivityImport {
            rows: chunk.to_vec(),
        };
        match admin.import_activity(&body).await {
            Ok(receipt) => {
                report.created += receipt.imported as usize;
                report.unchanged += receipt.duplicates as usize;
            }
            // A server without the activity log: no history to give it.
            Err(ClientError::Api { status: 404, .. }) => return Ok(report),
            Err(err) => return Err(err),
        }
    }
    admin.rollup().await?;
    Ok(report)
}

/// The N of `studentN@<demo domain>`.
fn demo_number(email: &str) -> Option<u64> {
    email
        .strip_suffix(&format!("@{DEMO_DOMAIN}"))?
        .strip_prefix("student")?
        .parse()
        .ok()
}

/// Those well behind the others (a quarter of the course or more behind the median)
/// are the ones who drift off.
fn mark_drifters(learners: &mut [Learner], lessons: usize) {
    let mut done: Vec<usize> = learners.iter().map(|l| l.completed).collect();
    done.sort_unstable();
    let Some(&median) = done.get(done.len() / 2) else {
        return;
    };
    let behind = lessons.div_ceil(4).max(1);
    for learner in learners {
        learner.drifts = learner.completed + behind <= median;
    }
}

/// A well-mixed 64-bit number from `parts` (splitmix64 steps): every choice of the
/// history, and every row id, is one of these.
fn roll(parts: &[u64]) -> u64 {
    fn mix(x: u64) -> u64 {
        let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    parts
        .iter()
        .fold(0x0ED0_u64, |acc, part| mix(acc ^ mix(*part)))
}

/// A number in `low..=high` from `parts`.
fn pick(parts: &[u64], low: u64, high: u64) -> u64 {
    low + roll(parts) % (high - low + 1)
}

/// The id of a student's `index`-th row: a UUIDv8 of the seed, the student and the
/// index.
fn row_id(seed: u64, student: u64, index: u64) -> Uuid {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&roll(&[seed, student, index, 1]).to_be_bytes());
    bytes[8..].copy_from_slice(&roll(&[seed, student, index, 2]).to_be_bytes());
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The days (as days before today) of a student's sessions in week `week` (0 = the 7
/// days ending yesterday), oldest first: `n` of them, on weekdays, none less than
/// `not_before` days ago.
fn session_days(
    seed: u64,
    student: u64,
    week: u32,
    n: usize,
    today: NaiveDate,
    not_before: u32,
) -> Vec<u32> {
    let weekend = |ago: u32| {
        matches!(
            (today - Duration::days(i64::from(ago))).weekday(),
            Weekday::Sat | Weekday::Sun
        )
    };
    let mut days: Vec<u32> = (week * 7 + 1..=week * 7 + 7)
        .filter(|ago| *ago >= not_before)
        .collect();
    days.sort_by_key(|ago| {
        let weekday = (today - Duration::days(i64::from(*ago)))
            .weekday()
            .num_days_from_monday();
        (
            weekend(*ago),
            roll(&[seed, student, u64::from(week), u64::from(weekday)]),
        )
    });
    days.truncate(n);
    days.sort_unstable_by_key(|ago| std::cmp::Reverse(*ago));
    days
}

/// One student's rows, numbered as they are added.
struct Rows<'a> {
    seed: u64,
    student: u64,
    user_id: Uuid,
    course: Option<Uuid>,
    out: &'a mut Vec<ActivityRecord>,
    index: u64,
}

impl Rows<'_> {
    fn push(
        &mut self,
        kind: ActivityKind,
        at: chrono::DateTime<Utc>,
        lesson: Option<Uuid>,
        seconds: u32,
        score: Option<u32>,
    ) {
        let course = if kind == ActivityKind::SignIn {
            None
        } else {
            self.course
        };
        self.out.push(ActivityRecord {
            id: row_id(self.seed, self.student, self.index),
            user_id: self.user_id,
            kind,
            course_id: course,
            lesson_id: lesson,
            seconds,
            score,
            at,
        });
        self.index += 1;
    }
}

/// The whole history for `seed`, seen from `today` (the 35 days before it), oldest
/// first per student. Pure: the same arguments give the same rows.
pub fn history(
    seed: u64,
    today: NaiveDate,
    course: Uuid,
    lessons: &[Uuid],
    learners: &[Learner],
    visitors: &[Visitor],
) -> Vec<ActivityRecord> {
    let mut out = Vec::new();
    let at = |ago: u32, minutes: u64| {
        (today - Duration::days(i64::from(ago)))
            .and_time(NaiveTime::MIN)
            .and_utc()
            + Duration::minutes(minutes as i64)
    };
    for learner in learners {
        let s = learner.number;
        let mut rows = Rows {
            seed,
            student: s,
            user_id: learner.id,
            course: Some(course),
            out: &mut out,
            index: 0,
        };
        // Sessions per week, oldest week first.
        let per_week = pick(&[seed, s, 10], 3, 5) as usize;
        let weeks: Vec<(u32, Vec<u32>)> = (0..WEEKS)
            .rev()
            .map(|week| {
                let days = match (learner.drifts, week) {
                    (false, _) => session_days(seed, s, week, per_week, today, 1),
                    // Less each week, the last session 11 to 14 days ago.
                    (true, 0) => Vec::new(),
                    (true, 1) => session_days(seed, s, week, 1, today, 11),
                    (true, w) => session_days(seed, s, w, w as usize, today, 1),
                };
                (week, days)
            })
            .collect();
        let total: usize = weeks.iter().map(|(_, d)| d.len()).sum();
        let done = learner.completed.min(lessons.len());
        // The session each completion falls in, spread over the five weeks.
        let completions: Vec<usize> = (0..done).map(|i| (i + 1) * total / (done + 1)).collect();
        let ability = pick(&[seed, s, 11], 58, 92) as i64;
        let mut session = 0usize;
        for (week, days) in &weeks {
            for (nth, ago) in days.iter().enumerate() {
                let n = session as u64;
                let start = pick(&[seed, s, 20, n], 16 * 60, 19 * 60 + 59);
                rows.push(ActivityKind::SignIn, at(*ago, start), None, 0, None);
                if nth == 1 && pick(&[seed, s, 21, u64::from(*week)], 0, 9) < 7 {
                    // The week's live class, 15:00 to about 16:00.
                    let stayed = pick(&[seed, s, 22, u64::from(*week)], 40, 60) as u32 * 60;
                    rows.push(ActivityKind::ClassJoined, at(*ago, 15 * 60), None, 0, None);
                    let left = at(*ago, 15 * 60) + Duration::seconds(i64::from(stayed));
                    rows.push(ActivityKind::ClassLeft, left, None, stayed, None);
                }
                let finished = completions.iter().filter(|c| **c < session).count();
                let lesson = if finished < lessons.len() {
                    lessons[finished]
                } else {
                    lessons[pick(&[seed, s, 23, n], 0, lessons.len() as u64 - 1) as usize]
                };
                let opened = at(*ago, start + 2);
                rows.push(ActivityKind::LessonOpened, opened, Some(lesson), 0, None);
                let reading = pick(&[seed, s, 24, n], 10, 40) as u32 * 60;
                let mut end = opened + Duration::seconds(i64::from(reading));
                rows.push(ActivityKind::LessonTime, end, Some(lesson), reading, None);
                if pick(&[seed, s, 25, n], 0, 1) == 0 {
                    let video = pick(&[seed, s, 26, n], 5, 15) as u32 * 60;
                    end += Duration::seconds(i64::from(video));
                    rows.push(ActivityKind::VideoWatched, end, Some(lesson), video, None);
                }
                if completions.contains(&session) {
                    end += Duration::minutes(1);
                    rows.push(ActivityKind::LessonCompleted, end, Some(lesson), 0, None);
                }
                if pick(&[seed, s, 27, n], 0, 99) < 12 {
                    rows.push(
                        ActivityKind::DoubtAsked,
                        end - Duration::minutes(3),
                        Some(lesson),
                        0,
                        None,
                    );
                }
                if nth + 1 == days.len() {
                    // The week's quiz, marked two hours later.
                    let level = if learner.drifts {
                        55 - 8 * (WEEKS - 1 - week) as i64
                    } else {
                        ability
                    };
                    let noise = pick(&[seed, s, 28, u64::from(*week)], 0, 20) as i64 - 10;
                    let score = (level + noise).clamp(0, 100) as u32;
                    end += Duration::minutes(15);
                    rows.push(ActivityKind::TestSubmitted, end, None, 0, Some(score));
                    let marked = end + Duration::hours(2);
                    rows.push(ActivityKind::TestGraded, marked, None, 0, Some(score));
                }
                session += 1;
            }
        }
    }
    for visitor in visitors {
        let s = visitor.number;
        let mut rows = Rows {
            seed,
            student: s,
            user_id: visitor.id,
            course: None,
            out: &mut out,
            index: 0,
        };
        for week in (0..WEEKS).rev() {
            let n = pick(&[seed, s, 30, u64::from(week)], 1, 3) as usize;
            for ago in session_days(seed, s, week, n, today, 1) {
                let minute = pick(&[seed, s, 31, u64::from(ago)], 17 * 60, 21 * 60);
                rows.push(ActivityKind::SignIn, at(ago, minute), None, 0, None);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learners() -> Vec<Learner> {
        let mut learners: Vec<Learner> = (1..=7)
            .map(|n| Learner {
                id: Uuid::from_u128(n.into()),
                number: n,
                completed: if n == 7 { 0 } else { n as usize - 1 },
                drifts: false,
            })
            .collect();
        mark_drifters(&mut learners, 6);
        learners
    }

    fn lessons() -> Vec<Uuid> {
        (100..106).map(Uuid::from_u128).collect()
    }

    fn visitors() -> Vec<Visitor> {
        (8..=12)
            .map(|n| Visitor {
                id: Uuid::from_u128(n.into()),
                number: n,
            })
            .collect()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_students_well_behind_the_median_are_the_ones_who_drift_off() {
        let drifting: Vec<u64> = learners()
            .iter()
            .filter(|l| l.drifts)
            .map(|l| l.number)
            .collect();
        assert_eq!(drifting, [1, 7]);
    }

    #[test]
    fn the_history_is_the_same_each_run_and_as_long_whatever_the_day() {
        let course = Uuid::from_u128(1);
        let a = history(
            3,
            day("2026-03-04"),
            course,
            &lessons(),
            &learners(),
            &visitors(),
        );
        let b = history(
            3,
            day("2026-03-04"),
            course,
            &lessons(),
            &learners(),
            &visitors(),
        );
        assert_eq!(a, b);
        for later in ["2026-03-05", "2026-03-07", "2026-03-08", "2026-03-10"] {
            let c = history(3, day(later), course, &lessons(), &learners(), &visitors());
            assert_eq!(c.len(), a.len(), "{later}");
            let ids =
                |rows: &[ActivityRecord]| -> Vec<Uuid> { rows.iter().map(|r| r.id).collect() };
            assert_eq!(ids(&c), ids(&a), "a re-run on {later} sends the same ids");
        }
        let other = history(
            4,
            day("2026-03-04"),
            course,
            &lessons(),
            &learners(),
            &visitors(),
        );
        assert!(other.iter().all(|r| !a.iter().any(|o| o.id == r.id)));
        assert!(a.len() < CHUNK * 2, "{} rows", a.len());
    }

    #[test]
    fn everything_happens_on_weekdays_before_today_and_drifters_stop_ten_days_before() {
        let today = day("2026-03-04");
        let learners = learners();
        let rows = history(
            1,
            today,
            Uuid::from_u128(1),
            &lessons(),
            &learners,
            &visitors(),
        );
        let start = today.and_time(NaiveTime::MIN).and_utc();
        let oldest = start - Duration::days(35);
        let mut ids = std::collections::HashSet::new();
        for row in &rows {
            assert!(row.at < start && row.at >= oldest, "{row:?}");
            assert!(
                !matches!(row.at.weekday(), Weekday::Sat | Weekday::Sun),
                "{row:?}"
            );
            assert!(ids.insert(row.id), "ids are unique");
            assert!(row.score.is_none_or(|s| s <= 100));
        }
        for learner in learners.iter().filter(|l| l.drifts) {
            let last = rows
                .iter()
                .filter(|r| r.user_id == learner.id)
                .map(|r| r.at)
                .max()
                .unwrap();
            assert!(last < start - Duration::days(10), "{last}");
        }
        let active_lately = learners.iter().filter(|l| !l.drifts).all(|l| {
            rows.iter()
                .any(|r| r.user_id == l.id && r.at >= start - Duration::days(7))
        });
        assert!(active_lately);
    }

    #[test]
    fn completions_follow_each_students_real_progress_in_lesson_order() {
        let learners = learners();
        let lessons = lessons();
        let rows = history(
            1,
            day("2026-03-04"),
            Uuid::from_u128(1),
            &lessons,
            &learners,
            &[],
        );
        for learner in &learners {
            let completed: Vec<Uuid> = rows
                .iter()
                .filter(|r| r.user_id == learner.id && r.kind == ActivityKind::LessonCompleted)
                .filter_map(|r| r.lesson_id)
                .collect();
            assert_eq!(completed, lessons[..learner.completed], "{learner:?}");
        }
        assert!(rows.iter().any(|r| r.kind == ActivityKind::TestGraded));
        assert!(rows.iter().any(|r| r.kind == ActivityKind::ClassJoined));
        assert!(rows.iter().any(|r| r.kind == ActivityKind::DoubtAsked));
        assert!(rows.iter().any(|r| r.kind == ActivityKind::VideoWatched));
    }

    #[test]
    fn demo_students_are_known_by_their_number() {
        assert_eq!(demo_number(&format!("student12@{DEMO_DOMAIN}")), Some(12));
        assert_eq!(demo_number(&format!("teacher1@{DEMO_DOMAIN}")), None);
        assert_eq!(demo_number("student1@elsewhere.test"), None);
    }
}
