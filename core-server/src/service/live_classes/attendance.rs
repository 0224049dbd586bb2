//! Who is in a class: joining (attendance recorded within the class's capacity),
//! leaving (the stay's minutes kept), and the attendance report for its staff.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::{JOIN_EARLY_MINUTES, forbidden_unless, lock_class, platform_of, status_of, visible};
use crate::api::{
    ActivityKind, AttendanceEntry, AttendanceReport, JoinDetails, LiveClassStatus, LivePlatform,
};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::enrollments::{student_ref, users_by_id};
use crate::service::gamification::{self, Award, Rule};
use crate::store::entity::{enrollment, live_class, live_class_attendance};

/// A student's leaving: the minutes present so far.
#[derive(Debug, Clone, Copy)]
pub struct Left {
    /// The class left.
    pub live_class_id: Uuid,
    /// Whole minutes present, over all the student's stays.
    pub minutes: i64,
}

/// Ends a student's current stay at `at`: its seconds added, `left_at` set.
pub(super) async fn close_stay(
    txn: &impl ConnectionTrait,
    a: &live_class_attendance::Model,
    at: DateTime<Utc>,
) -> Result<live_class_attendance::Model, ApiError> {
    let Some(since) = a.in_since else {
        return Ok(a.clone());
    };
    let seconds = (at - since).num_seconds().max(0);
    Ok(live_class_attendance::ActiveModel {
        id: Set(a.id),
        in_since: Set(None),
        left_at: Set(Some(at)),
        seconds_present: Set(a.seconds_present + seconds),
        updated_at: Set(at),
        ..Default::default()
    }
    .update(txn)
    .await?)
}

fn join_details(class: &live_class::Model, recorded: bool) -> JoinDetails {
    let platform = platform_of(class);
    JoinDetails {
        live_class_id: class.id,
        platform,
        meeting_link: class.meeting_url.clone(),
        meeting_id: class.meeting_id.clone(),
        password: class.meeting_password.clone(),
        room: (platform == LivePlatform::Builtin)
            .then(|| crate::realtime::rooms::live_class_room(class.id)),
        start_time: class.scheduled_at,
        end_time: class.ends_at,
        status: status_of(class),
        attendance_recorded: recorded,
    }
}

/// Joins a class: its students within the joining window and capacity get attendance
/// recorded; staff and admins get the details without attendance.
pub async fn join(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<JoinDetails, ApiError> {
    let (class, audience) = visible(state, auth, id).await?;
    if !audience.attends(&class) {
        return Ok(join_details(&class, false));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    let class = lock_class(&txn, class.id).await?;
    let now = Utc::now();
    match status_of(&class) {
        LiveClassStatus::Live => {}
        LiveClassStatus::Scheduled => {
            let opens = class.scheduled_at - Duration::minutes(JOIN_EARLY_MINUTES);
            if now < opens {
                return Err(ApiError::Unprocessable(format!(
                    "This class opens for joining at {}",
                    opens.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )));
            }
            if now >= class.ends_at {
                return Err(ApiError::Unprocessable("This class is over".into()));
            }
        }
        LiveClassStatus::Completed => {
            return Err(ApiError::Unprocessable("This class has ended".into()));
        }
        LiveClassStatus::Cancelled => {
            return Err(ApiError::Unprocessable("This class is cancelled".into()));
        }
    }
    let existing = live_class_attendance::Entity::find()
        .filter(live_class_attendance::Column::LiveClassId.eq(class.id))
        .filter(live_class_attendance::Column::UserId.eq(auth.id()))
        .one(&txn)
        .await?;
    match existing {
        Some(a) if a.in_since.is_some() => {}
        Some(a) => {
            live_class_attendance::ActiveModel {
                id: Set(a.id),
                in_since: Set(Some(now)),
                left_at: Set(None),
                joins: Set(a.joins + 1),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(&txn)
            .await?;
        }
        None => {
            if let Some(capacity) = class.capacity {
                let admitted = live_class_attendance::Entity::find()
                    .filter(live_class_attendance::Column::LiveClassId.eq(class.id))
                    .count(&txn)
                    .await?;
                if admitted >= capacity as u64 {
                    return Err(ApiError::Conflict {
                        field: Some("capacity".into()),
                        message: format!("This class is full (capacity {capacity})"),
                    });
                }
            }
            live_class_attendance::ActiveModel {
                id: Set(Uuid::now_v7()),
                live_class_id: Set(class.id),
                user_id: Set(auth.id()),
                first_joined_at: Set(now),
                in_since: Set(Some(now)),
                left_at: Set(None),
                seconds_present: Set(0),
                joins: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
        }
    }
    // Attending earns XP once per class (students only; see gamification).
    let cause = format!("class:{}", class.id);
    let reward = Award::new(Rule::ClassAttended, cause, Some(class.course_id));
    let earned = gamification::award(&txn, auth.id(), &[reward]).await?;
    if auth.role() == crate::api::Role::Student {
        record_stay(&txn, auth.id(), &class, ActivityKind::ClassJoined, 0, now).await?;
    }
    txn.commit().await?;
    earned.announce(state).await;
    Ok(join_details(&class, true))
}

/// Leaves a class the student joined: the stay's minutes are recorded.
pub async fn leave(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<Left, ApiError> {
    let (class, _) = visible(state, auth, id).await?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    lock_class(&txn, class.id).await?;
    let Some(a) = live_class_attendance::Entity::find()
        .filter(live_class_attendance::Column::LiveClassId.eq(class.id))
        .filter(live_class_attendance::Column::UserId.eq(auth.id()))
        .one(&txn)
        .await?
    else {
        return Err(ApiError::Unprocessable(
            "You have not joined this class".into(),
        ));
    };
    let now = Utc::now();
    let before = a.seconds_present;
    let a = close_stay(&txn, &a, now).await?;
    if auth.role() == crate::api::Role::Student && a.seconds_present > before {
        let seconds = a.seconds_present - before;
        record_stay(
            &txn,
            auth.id(),
            &class,
            ActivityKind::ClassLeft,
            seconds,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Left {
        live_class_id: class.id,
        minutes: a.seconds_present / 60,
    })
}

/// Who attended (with minutes) and who was expected but never joined (its staff and
/// admins only).
pub async fn report(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<AttendanceReport, ApiError> {
    let (class, audience) = visible(state, auth, id).await?;
    forbidden_unless(
        audience.manages(&class),
        "Only this course's staff or an admin can see attendance",
    )?;
    let mut expected_query = crate::service::notifications::enrolled_students(class.course_id);
    if let Some(batch_id) = class.batch_id {
        expected_query = expected_query.filter(enrollment::Column::BatchId.eq(batch_id));
    }
    let expected: Vec<Uuid> = expected_query.into_tuple().all(&state.db).await?;
    let rows = live_class_attendance::Entity::find()
        .filter(live_class_attendance::Column::LiveClassId.eq(class.id))
        .all(&state.db)
        .await?;
    let joined: HashSet<Uuid> = rows.iter().map(|a| a.user_id).collect();
    let people = users_by_id(
        &state.db,
        expected.iter().copied().chain(joined.iter().copied()),
    )
    .await?;
    let until = class.ended_at.unwrap_or_else(Utc::now).min(Utc::now());
    let mut present: Vec<AttendanceEntry> = rows
        .iter()
        .filter_map(|a| {
            let open = a
                .in_since
                .map(|s| (until - s).num_seconds().max(0))
                .unwrap_or(0);
            Some(AttendanceEntry {
                student: student_ref(people.get(&a.user_id)?),
                first_joined_at: a.first_joined_at,
                left_at: a.left_at,
                minutes: (a.seconds_present + open) / 60,
                joins: a.joins,
                present_now: a.in_since.is_some(),
            })
        })
        .collect();
    present.sort_by(|a, b| {
        (&a.student.last_name, &a.student.first_name, a.student.id).cmp(&(
            &b.student.last_name,
            &b.student.first_name,
            b.student.id,
        ))
    });
    let mut absent: Vec<_> = expected
        .iter()
        .filter(|id| !joined.contains(id))
        .filter_map(|id| people.get(id).map(student_ref))
        .collect();
    absent.sort_by(|a, b| {
        (&a.last_name, &a.first_name, a.id).cmp(&(&b.last_name, &b.first_name, b.id))
    });
    Ok(AttendanceReport {
        live_class_id: class.id,
        expected: expected.len() as i64,
        present,
        absent,
    })
}

/// A student's join or leave in the activity log (a leave with the stay's seconds).
async fn record_stay(
    txn: &impl ConnectionTrait,
    student: Uuid,
    class: &live_class::Model,
    kind: ActivityKind,
    seconds: i64,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    use crate::service::analytics::activity::{NewActivity, record};
    record(
        txn,
        &[NewActivity {
            course_id: Some(class.course_id),
            seconds: seconds.clamp(0, 86_400) as i32,
            ..NewActivity::new(student, Uuid::now_v7(), kind, at)
        }],
    )
    .await?;
    Ok(())
}
