//! Loading a batch's context: the courses, users, enrollments, staff rows and batches
//! its rows name, each kind in one query, so planning a thousand rows reads a few.

use std::collections::{BTreeSet, HashMap, HashSet};

use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::Parsed;
use crate::api::Role;
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::store::entity::{batch, course, course_staff, enrollment, user};

/// What a row needs of the user it names: a batch reads these three columns of a
/// thousand users, not their whole rows.
#[derive(Debug, FromQueryResult)]
pub(super) struct Person {
    pub(super) id: Uuid,
    pub(super) external_id: Option<String>,
    pub(super) role: Role,
}

impl Person {
    pub(super) fn role(&self) -> Role {
        self.role
    }
}

/// The database rows a batch's rows refer to.
pub(super) struct Known {
    pub(super) courses: HashMap<String, course::Model>,
    pub(super) users: HashMap<String, Person>,
    pub(super) enrollments: HashMap<(Uuid, Uuid), enrollment::Model>,
    pub(super) staff: HashMap<(Uuid, Uuid), course_staff::Model>,
    /// (course, batch name) → the batch.
    pub(super) batches: HashMap<(Uuid, String), batch::Model>,
    /// Seats taken per batch, as stored.
    pub(super) seated: HashMap<Uuid, i64>,
}

/// Reads what the batch's valid rows refer to, in a few queries.
pub(super) async fn load(state: &AppState, rows: &[&Parsed]) -> Result<Known, ApiError> {
    let course_keys: BTreeSet<&str> = rows.iter().map(|p| p.course_key.as_str()).collect();
    let user_keys: BTreeSet<&str> = rows.iter().map(|p| p.user_key.as_str()).collect();
    let courses: HashMap<String, course::Model> = course::Entity::find()
        .filter(course::Column::ExternalId.is_in(course_keys))
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|c| Some((c.external_id.clone()?, c)))
        .collect();
    let users: HashMap<String, Person> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::ExternalId)
        .column(user::Column::Role)
        .filter(user::Column::ExternalId.is_in(user_keys))
        .into_model::<Person>()
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|u| Some((u.external_id.clone()?, u)))
        .collect();
    let course_ids: Vec<Uuid> = courses.values().map(|c| c.id).collect();
    let user_ids: Vec<Uuid> = users.values().map(|u| u.id).collect();
    // By user only (their index), keeping the batch's courses here: with both lists
    // in the WHERE, SQLite walks every enrollment of every course of the batch — 44 ms
    // a batch of 1000 rows over 200 courses, against a few rows per user this way.
    let wanted: HashSet<Uuid> = course_ids.iter().copied().collect();
    let enrollments = enrollment::Entity::find()
        .filter(enrollment::Column::StudentId.is_in(user_ids.clone()))
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|e| wanted.contains(&e.course_id))
        .map(|e| ((e.course_id, e.student_id), e))
        .collect();
    let staff = course_staff::Entity::find()
        .filter(course_staff::Column::UserId.is_in(user_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|s| wanted.contains(&s.course_id))
        .map(|s| ((s.course_id, s.user_id), s))
        .collect();
    let names: BTreeSet<&str> = rows.iter().filter_map(|p| p.batch.as_deref()).collect();
    let batches: HashMap<(Uuid, String), batch::Model> = if names.is_empty() {
        HashMap::new()
    } else {
        batch::Entity::find()
            .filter(batch::Column::CourseId.is_in(course_ids))
            .filter(batch::Column::Name.is_in(names))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|b| ((b.course_id, b.name.clone()), b))
            .collect()
    };
    let mut seated = HashMap::new();
    if !batches.is_empty() {
        let ids: Vec<Uuid> = batches.values().map(|b| b.id).collect();
        let counts: Vec<(Option<Uuid>, i64)> = enrollment::Entity::find()
            .select_only()
            .column(enrollment::Column::BatchId)
            .column_as(enrollment::Column::Id.count(), "seats")
            .filter(enrollment::Column::BatchId.is_in(ids))
            .group_by(enrollment::Column::BatchId)
            .into_tuple()
            .all(&state.db)
            .await?;
        seated.extend(counts.into_iter().filter_map(|(b, n)| Some((b?, n))));
    }
    Ok(Known {
        courses,
        users,
        enrollments,
        staff,
        batches,
        seated,
    })
}
