//! Writing the activity log: one insert helper every writer shares, client heartbeats
//! (`POST /activity`) and admins' history imports (`POST /activity/import`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

use crate::api::{
    ActivityImport, ActivityImportReceipt, ActivityKind, FieldError, HeartbeatBatch, HeartbeatKind,
    HeartbeatReceipt, Role,
};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::auth::rate_limit::Bucket;
use crate::service::catalogue;
use crate::store::entity::{activity, course, lesson, user};

/// Heartbeats per request.
pub const MAX_HEARTBEATS: usize = 100;
/// Rows per import request.
pub const MAX_IMPORT_ROWS: usize = 1000;
/// How far back a heartbeat may be (a client that was offline sends them later).
const HEARTBEAT_MAX_AGE_DAYS: i64 = 7;
/// Clock skew allowed for a heartbeat's `at`.
const SKEW_SECONDS: i64 = 30;
/// Heartbeat requests per user and minute.
const HEARTBEATS_PER_MINUTE: u32 = 30;
/// Rows per insert statement (10 parameters each).
const INSERT_CHUNK: usize = 500;
/// Namespace of derived activity keys (UUIDv5).
const KEY_NAMESPACE: Uuid = Uuid::from_u128(0x6e2b_1c0e_8b1f_4f6a_9d7e_2f0a_5c3b_7d11);

/// One row to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActivity {
    pub user_id: Uuid,
    /// Unique per user: a retry with the same key is not counted again.
    pub key: Uuid,
    pub kind: ActivityKind,
    pub course_id: Option<Uuid>,
    pub lesson_id: Option<Uuid>,
    pub seconds: i32,
    pub score: Option<i32>,
    pub at: DateTime<Utc>,
}

impl NewActivity {
    /// A row with no course, time or score.
    pub fn new(user_id: Uuid, key: Uuid, kind: ActivityKind, at: DateTime<Utc>) -> Self {
        Self {
            user_id,
            key,
            kind,
            course_id: None,
            lesson_id: None,
            seconds: 0,
            score: None,
            at,
        }
    }
}

/// A key derived from what a row is about, for rows that must exist once (a lesson
/// opened once a day).
pub fn derived_key(text: &str) -> Uuid {
    Uuid::new_v5(&KEY_NAMESPACE, text.as_bytes())
}

/// Appends `rows`, skipping any whose key the user already has; how many were new.
pub async fn record(db: &impl ConnectionTrait, rows: &[NewActivity]) -> Result<u64, DbErr> {
    let now = Utc::now();
    let mut inserted = 0;
    for chunk in rows.chunks(INSERT_CHUNK) {
        let models = chunk.iter().map(|r| activity::ActiveModel {
            id: sea_orm::ActiveValue::NotSet,
            user_id: Set(r.user_id),
            key: Set(r.key),
            kind: Set(r.kind),
            course_id: Set(r.course_id),
            lesson_id: Set(r.lesson_id),
            seconds: Set(r.seconds),
            score: Set(r.score),
            occurred_at: Set(r.at),
            created_at: Set(now),
        });
        inserted += activity::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([activity::Column::UserId, activity::Column::Key])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(inserted)
}

/// The keys among `keys` that `user_id` already has.
async fn existing_keys(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    keys: &[Uuid],
) -> Result<HashSet<Uuid>, DbErr> {
    let mut found = HashSet::new();
    for chunk in keys.chunks(500) {
        let rows: Vec<Uuid> = activity::Entity::find()
            .select_only()
            .column(activity::Column::Key)
            .filter(activity::Column::UserId.eq(user_id))
            .filter(activity::Column::Key.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// `POST /activity`: a student's heartbeats, all stored or none. Refused: more than
/// [`MAX_HEARTBEATS`], a time in the future or over a week old, seconds outside 1–300,
/// a lesson that is not a published lesson of a course the student is enrolled in, and
/// time already counted (two heartbeats of one kind may not overlap, nor start before
/// the last one stored ended). A heartbeat sent again is a duplicate, not an error.
pub async fn heartbeats(
    state: &AppState,
    auth: &AuthUser,
    batch: HeartbeatBatch,
) -> Result<HeartbeatReceipt, ApiError> {
    if auth.role() != Role::Student {
        return Err(ApiError::Forbidden(
            "Only students report learning activity".into(),
        ));
    }
    state
        .limiter
        .check_with(
            Bucket::Activity,
            &auth.id().to_string(),
            HEARTBEATS_PER_MINUTE,
            std::time::Duration::from_secs(60),
        )
        .map_err(|(_, err)| err)?;
    let beats = batch.heartbeats;
    if beats.is_empty() || beats.len() > MAX_HEARTBEATS {
        return Err(ApiError::field(
            "heartbeats",
            format!("send 1 to {MAX_HEARTBEATS} heartbeats, not {}", beats.len()),
        ));
    }
    let now = Utc::now();
    let mut errors = Vec::new();
    for (i, beat) in beats.iter().enumerate() {
        if beat.at > now + Duration::seconds(SKEW_SECONDS) {
            errors.push(FieldError::new(
                format!("heartbeats[{i}].at"),
                format!("{} is in the future", beat.at.to_rfc3339()),
            ));
        } else if beat.at < now - Duration::days(HEARTBEAT_MAX_AGE_DAYS) {
            errors.push(FieldError::new(
                format!("heartbeats[{i}].at"),
                format!("is more than {HEARTBEAT_MAX_AGE_DAYS} days ago"),
            ));
        }
        if !(1..=300).contains(&beat.seconds) {
            errors.push(FieldError::new(
                format!("heartbeats[{i}].seconds"),
                "must be between 1 and 300",
            ));
        }
        if beat.position.is_some_and(|p| p > 86_400) {
            errors.push(FieldError::new(
                format!("heartbeats[{i}].position"),
                "must be between 0 and 86400",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    // Lessons: published, of a course the student is enrolled in.
    let lesson_ids: HashSet<Uuid> = beats.iter().map(|b| b.lesson_id).collect();
    let lessons: HashMap<Uuid, lesson::Model> = lesson::Entity::find()
        .filter(lesson::Column::Id.is_in(lesson_ids.iter().copied()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let mut enrolled: HashMap<Uuid, bool> = HashMap::new();
    for lesson in lessons.values() {
        if let std::collections::hash_map::Entry::Vacant(slot) = enrolled.entry(lesson.course_id) {
            slot.insert(catalogue::is_enrolled(&state.db, lesson.course_id, auth.id()).await?);
        }
    }
    for (i, beat) in beats.iter().enumerate() {
        let usable = lessons
            .get(&beat.lesson_id)
            .is_some_and(|l| l.is_published && enrolled.get(&l.course_id) == Some(&true));
        if !usable {
            errors.push(FieldError::new(
                format!("heartbeats[{i}].lessonId"),
                "is not a published lesson of a course you are enrolled in",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    let txn = crate::store::db::begin_write(&state.db).await?;
    // The student's row, locked: one student's batches queue, so the overlap check
    // below sees the batch before this one.
    user::Entity::update_many()
        .col_expr(
            user::Column::UpdatedAt,
            sea_orm::sea_query::Expr::col(user::Column::UpdatedAt),
        )
        .filter(user::Column::Id.eq(auth.id()))
        .exec(&txn)
        .await?;
    let ids: Vec<Uuid> = beats.iter().map(|b| b.id).collect();
    let known = existing_keys(&txn, auth.id(), &ids).await?;
    let mut seen = HashSet::new();
    let mut fresh: Vec<(usize, &crate::api::Heartbeat)> = Vec::new();
    let mut duplicates = 0u32;
    for (i, beat) in beats.iter().enumerate() {
        if known.contains(&beat.id) || !seen.insert(beat.id) {
            duplicates += 1;
        } else {
            fresh.push((i, beat));
        }
    }
    // No time counted twice: per kind, the new intervals in order may not overlap each
    // other or the last stored one.
    for kind in [HeartbeatKind::Lesson, HeartbeatKind::Video] {
        let stored_kind = activity_kind(kind);
        let last: Option<DateTime<Utc>> = activity::Entity::find()
            .select_only()
            .column_as(activity::Column::OccurredAt.max(), "last")
            .filter(activity::Column::UserId.eq(auth.id()))
            .filter(activity::Column::Kind.eq(stored_kind.as_str()))
            .filter(activity::Column::Seconds.gt(0))
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(&txn)
            .await?
            .flatten();
        let mut of_kind: Vec<&(usize, &crate::api::Heartbeat)> =
            fresh.iter().filter(|(_, b)| b.kind == kind).collect();
        of_kind.sort_by_key(|(_, b)| b.at);
        let mut end = last;
        for (i, beat) in of_kind {
            let start = beat.at - Duration::seconds(i64::from(beat.seconds));
            if let Some(end) = end
                && start + Duration::seconds(1) < end
            {
                errors.push(FieldError::new(
                    format!("heartbeats[{i}].at"),
                    format!(
                        "claims time already counted: its {} s start before {} (heartbeats of one kind may not overlap)",
                        beat.seconds,
                        end.to_rfc3339()
                    ),
                ));
            }
            end = Some(end.map_or(beat.at, |e| e.max(beat.at)));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut rows = Vec::with_capacity(fresh.len() * 2);
    for (_, beat) in &fresh {
        let Some(lesson) = lessons.get(&beat.lesson_id) else {
            continue;
        };
        rows.push(NewActivity {
            course_id: Some(lesson.course_id),
            lesson_id: Some(lesson.id),
            seconds: beat.seconds as i32,
            ..NewActivity::new(auth.id(), beat.id, activity_kind(beat.kind), beat.at)
        });
        // The first heartbeat of a lesson on a day opens it (once).
        rows.push(NewActivity {
            course_id: Some(lesson.course_id),
            lesson_id: Some(lesson.id),
            ..NewActivity::new(
                auth.id(),
                derived_key(&format!("opened:{}:{}", lesson.id, beat.at.date_naive())),
                ActivityKind::LessonOpened,
                beat.at,
            )
        });
    }
    record(&txn, &rows).await?;
    txn.commit().await?;
    Ok(HeartbeatReceipt {
        accepted: fresh.len() as u32,
        duplicates,
    })
}

/// The activity a heartbeat of `kind` is stored as.
fn activity_kind(kind: HeartbeatKind) -> ActivityKind {
    match kind {
        HeartbeatKind::Lesson => ActivityKind::LessonTime,
        HeartbeatKind::Video => ActivityKind::VideoWatched,
    }
}

/// `POST /activity/import` (admins): history from another system (or a demo), all
/// stored or none. Each row names an existing user, course and lesson (the lesson's
/// course when no course is given), happened in the past and within the activity
/// retention.
pub async fn import(
    state: &AppState,
    auth: &AuthUser,
    body: ActivityImport,
) -> Result<ActivityImportReceipt, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let rows = body.rows;
    if rows.is_empty() || rows.len() > MAX_IMPORT_ROWS {
        return Err(ApiError::field(
            "rows",
            format!("send 1 to {MAX_IMPORT_ROWS} rows, not {}", rows.len()),
        ));
    }
    let now = Utc::now();
    let oldest = now - Duration::days(i64::from(state.settings.analytics.retention_days));
    let user_ids: HashSet<Uuid> = rows.iter().map(|r| r.user_id).collect();
    let users: HashSet<Uuid> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Id.is_in(user_ids.iter().copied()))
        .into_tuple()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let lesson_ids: HashSet<Uuid> = rows.iter().filter_map(|r| r.lesson_id).collect();
    let lesson_courses: HashMap<Uuid, Uuid> = lesson::Entity::find()
        .select_only()
        .column(lesson::Column::Id)
        .column(lesson::Column::CourseId)
        .filter(lesson::Column::Id.is_in(lesson_ids.iter().copied()))
        .into_tuple()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let course_ids: HashSet<Uuid> = rows.iter().filter_map(|r| r.course_id).collect();
    let courses: HashSet<Uuid> = course::Entity::find()
        .select_only()
        .column(course::Column::Id)
        .filter(course::Column::Id.is_in(course_ids.iter().copied()))
        .into_tuple()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let field = |name: &str| format!("rows[{i}].{name}");
        if !users.contains(&row.user_id) {
            errors.push(FieldError::new(field("userId"), "no such user"));
        }
        if row.at > now {
            errors.push(FieldError::new(field("at"), "is in the future"));
        } else if row.at < oldest {
            errors.push(FieldError::new(
                field("at"),
                format!(
                    "is older than the activity retention ({} days)",
                    state.settings.analytics.retention_days
                ),
            ));
        }
        if row.seconds > 86_400 {
            errors.push(FieldError::new(
                field("seconds"),
                "must be between 0 and 86400",
            ));
        }
        if row.score.is_some_and(|s| s > 100) {
            errors.push(FieldError::new(field("score"), "must be between 0 and 100"));
        }
        let mut course_id = row.course_id;
        if let Some(id) = row.course_id
            && !courses.contains(&id)
        {
            errors.push(FieldError::new(field("courseId"), "no such course"));
        }
        if let Some(lesson_id) = row.lesson_id {
            match lesson_courses.get(&lesson_id) {
                None => errors.push(FieldError::new(field("lessonId"), "no such lesson")),
                Some(of) if course_id.is_some_and(|c| c != *of) => errors.push(FieldError::new(
                    field("lessonId"),
                    "is not a lesson of `courseId`",
                )),
                Some(of) => course_id = Some(*of),
            }
        }
        out.push(NewActivity {
            course_id,
            lesson_id: row.lesson_id,
            seconds: row.seconds.min(86_400) as i32,
            score: row.score.map(|s| s.min(100) as i32),
            ..NewActivity::new(row.user_id, row.id, row.kind, row.at)
        });
        if errors.len() >= 100 {
            break;
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    let imported = record(&txn, &out).await?;
    txn.commit().await?;
    Ok(ActivityImportReceipt {
        imported: imported as u32,
        duplicates: (out.len() as u64 - imported) as u32,
    })
}
