//! `courses.csv`: `course_id, short_name, long_name, status`. `course_id` is the
//! external id, `long_name` the title and `short_name` the slug (slugified: `BIO 101` →
//! `bio-101`). Status, as Canvas means it: `active` creates a DRAFT course (the teacher
//! publishes it), leaves a DRAFT or PUBLISHED one as it is, and brings an ARCHIVED one
//! back (PUBLISHED if it was ever published, else DRAFT); `completed` and `deleted`
//! archive it (an import never deletes a course). New courses are owned by the admin
//! who imports them.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{Columns, Format, Header, Planned, RawRecord, RevertOutcome, Row, Run};
use crate::api::{
    CourseLevel, CourseStatus, FieldError, ImportMode, ImportRow, RowOutcome, StaffRole,
};
use crate::domain::{CourseTitle, Slug};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::store::constraints;
use crate::store::entity::{course, course_staff, enrollment, import_change};

/// The columns of `courses.csv`.
pub const COLUMNS: Columns = Columns {
    known: &["course_id", "short_name", "long_name", "status"],
    required: &[&["course_id"], &["short_name"], &["long_name"]],
};

/// Canvas's course statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SisStatus {
    Active,
    Closed,
}

struct Parsed {
    key: String,
    slug: Slug,
    title: CourseTitle,
    status: SisStatus,
}

fn parse(row: &Row) -> Result<Parsed, Vec<FieldError>> {
    let mut errors = Vec::new();
    let key = match row.get("course_id") {
        Some(k) if k.chars().count() <= 255 => Some(k.to_owned()),
        Some(_) => {
            errors.push(FieldError::new(
                "course_id",
                "is longer than 255 characters",
            ));
            None
        }
        None => {
            errors.push(FieldError::new("course_id", "is required"));
            None
        }
    };
    let slug = match row.get("short_name") {
        Some(s) => {
            let slug = Slug::from_text(s, "");
            if slug.as_ref().is_empty() {
                errors.push(FieldError::new(
                    "short_name",
                    "has no letters or digits to make a slug from",
                ));
                None
            } else {
                Some(slug)
            }
        }
        None => {
            errors.push(FieldError::new("short_name", "is required"));
            None
        }
    };
    let title = match CourseTitle::parse(row.get("long_name").unwrap_or("")) {
        Ok(t) => Some(t),
        Err(m) => {
            errors.push(FieldError::new("long_name", m));
            None
        }
    };
    let status = match row.get("status").map(|s| s.to_ascii_lowercase()) {
        None => Some(SisStatus::Active),
        Some(s) if s == "active" => Some(SisStatus::Active),
        Some(s) if s == "completed" || s == "deleted" => Some(SisStatus::Closed),
        Some(_) => {
            errors.push(FieldError::new(
                "status",
                format!(
                    "`{}` is not a status; use active, completed or deleted",
                    row.get("status").unwrap_or("")
                ),
            ));
            None
        }
    };
    match (key, slug, title, status) {
        (Some(key), Some(slug), Some(title), Some(status)) if errors.is_empty() => Ok(Parsed {
            key,
            slug,
            title,
            status,
        }),
        _ => Err(errors),
    }
}

/// The status a row gives a course that has `current` (None: a new course).
fn target_status(current: Option<&course::Model>, status: SisStatus) -> (CourseStatus, bool) {
    match (current, status) {
        (_, SisStatus::Closed) => (CourseStatus::Archived, false),
        (None, SisStatus::Active) => (CourseStatus::Draft, false),
        (Some(c), SisStatus::Active) if c.status == CourseStatus::Archived => {
            if c.published_at.is_some() {
                (CourseStatus::Published, false)
            } else {
                (CourseStatus::Draft, false)
            }
        }
        (Some(c), SisStatus::Active) => (c.status, false),
    }
}

/// What an applied row writes.
#[derive(Debug)]
pub enum Write {
    Create(Box<course::ActiveModel>, u64),
    Update {
        line: u64,
        before: Box<course::Model>,
        slug: String,
        title: String,
        status: CourseStatus,
    },
}

/// Plans one batch and, in apply mode, writes it in one transaction.
pub async fn process(
    state: &AppState,
    run: &mut Run,
    header: Option<&Header>,
    format: Format,
    records: Vec<RawRecord>,
) -> Result<Vec<ImportRow>, ApiError> {
    let rows: Vec<(u64, Result<Parsed, super::RowErrors>)> = records
        .iter()
        .map(|r| {
            (
                r.line,
                super::read_record(
                    format,
                    &COLUMNS,
                    header,
                    r,
                    |row| row.get("course_id").map(str::to_owned),
                    parse,
                ),
            )
        })
        .collect();
    let keys: Vec<String> = rows
        .iter()
        .filter_map(|(_, p)| p.as_ref().ok().map(|p| p.key.clone()))
        .collect();
    let slugs: Vec<String> = rows
        .iter()
        .filter_map(|(_, p)| p.as_ref().ok().map(|p| p.slug.as_ref().to_owned()))
        .collect();
    let by_key: HashMap<String, course::Model> = course::Entity::find()
        .filter(course::Column::ExternalId.is_in(keys))
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|c| c.external_id.clone().map(|k| (k, c)))
        .collect();
    let by_slug: HashMap<String, course::Model> = course::Entity::find()
        .filter(course::Column::Slug.is_in(slugs))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.slug.clone(), c))
        .collect();

    let now = Utc::now();
    let mut planned = Vec::with_capacity(rows.len());
    for (line, parsed) in rows {
        let p = match parsed {
            Ok(p) => p,
            Err((key, errors)) => {
                planned.push(Planned::error(line, key, errors));
                continue;
            }
        };
        let key = Some(p.key.clone());
        let slug = p.slug.as_ref().to_owned();
        let mut errors = Vec::new();
        if let Err(e) = run.file.claim_key("course_id", &p.key, line) {
            errors.push(e);
        }
        if let Err(e) = run.file.claim_unique("short_name", &slug, line) {
            errors.push(e);
        }
        let existing = by_key.get(&p.key);
        if let Some(owner) = by_slug.get(&slug)
            && existing.is_none_or(|c| c.id != owner.id)
            && !run.file.released.contains(&slug)
        {
            errors.push(FieldError::new(
                "short_name",
                format!("gives the slug `{slug}`, which another course already uses"),
            ));
        }
        if !errors.is_empty() {
            planned.push(Planned::error(line, key, errors));
            continue;
        }
        let (status, _) = target_status(existing, p.status);
        let (outcome, changes, write) = match existing {
            None => {
                let model = course::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    title: Set(p.title.as_ref().to_owned()),
                    slug: Set(slug.clone()),
                    description: Set(String::new()),
                    category_id: Set(None),
                    level: Set(CourseLevel::Beginner),
                    language: Set("en".to_owned()),
                    price: Set(0),
                    discounted_price: Set(None),
                    effective_price: Set(0),
                    currency: Set("INR".to_owned()),
                    is_free: Set(true),
                    tags: Set(Default::default()),
                    thumbnail_url: Set(None),
                    status: Set(status),
                    published_at: Set(None),
                    created_by: Set(run.actor),
                    external_id: Set(Some(p.key.clone())),
                    rating_avg: Set(0.0),
                    rating_count: Set(0),
                    total_students: Set(0),
                    created_at: Set(now),
                    updated_at: Set(now),
                };
                (
                    RowOutcome::Create,
                    Vec::new(),
                    Some(Write::Create(Box::new(model), line)),
                )
            }
            Some(c) => {
                let mut changes = Vec::new();
                if c.slug != slug {
                    changes.push("short_name".to_owned());
                }
                if c.title != p.title.as_ref() {
                    changes.push("long_name".to_owned());
                }
                if c.status != status {
                    changes.push("status".to_owned());
                }
                if changes.is_empty() {
                    (RowOutcome::Unchanged, changes, None)
                } else {
                    if c.slug != slug {
                        run.file.released.insert(c.slug.clone());
                    }
                    let write = Write::Update {
                        line,
                        before: Box::new(c.clone()),
                        slug,
                        title: p.title.as_ref().to_owned(),
                        status,
                    };
                    (RowOutcome::Update, changes, Some(write))
                }
            }
        };
        planned.push(Planned {
            report: ImportRow {
                line,
                key,
                outcome,
                changes,
                errors: Vec::new(),
            },
            write,
        });
    }

    let write = super::enforce_max_errors(run, &mut planned);
    if write && run.mode == ImportMode::Apply {
        let writes: Vec<(String, Write)> = planned
            .iter_mut()
            .filter_map(|p| {
                let key = p.report.key.clone()?;
                p.write.take().map(|w| (key, w))
            })
            .collect();
        apply(state, run, writes).await?;
    }
    Ok(planned.into_iter().map(|p| p.report).collect())
}

/// A slug of the batch taken by a write that raced it: the run can simply be re-run.
fn slug_clash(err: sea_orm::DbErr) -> ApiError {
    if constraints::violates(&err, &constraints::COURSES_SLUG) {
        ApiError::Conflict {
            field: Some("short_name".into()),
            message:
                "A slug of this batch was taken while it was being written; run the import again"
                    .into(),
        }
    } else {
        err.into()
    }
}

async fn apply(state: &AppState, run: &Run, writes: Vec<(String, Write)>) -> Result<(), ApiError> {
    if writes.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let txn = crate::store::db::begin_write(&state.db).await?;
    let mut inserts = Vec::new();
    let mut staff = Vec::new();
    let mut changes = Vec::new();
    for (key, write) in writes {
        match write {
            Write::Create(model, line) => {
                let id = *model.id.as_ref();
                changes.push(super::change(run, line, &key, id, None));
                staff.push(course_staff::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    course_id: Set(id),
                    user_id: Set(run.actor),
                    role: Set(StaffRole::Owner),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
                inserts.push(*model);
            }
            Write::Update {
                line,
                before,
                slug,
                title,
                status,
            } => {
                course::ActiveModel {
                    id: Set(before.id),
                    slug: Set(slug),
                    title: Set(title),
                    status: Set(status),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .update(&txn)
                .await
                .map_err(slug_clash)?;
                let image = json!({
                    "slug": before.slug,
                    "title": before.title,
                    "status": before.status,
                });
                changes.push(super::change(run, line, &key, before.id, Some(image)));
            }
        }
    }
    for chunk in inserts.chunks(500) {
        course::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .map_err(slug_clash)?;
    }
    for chunk in staff.chunks(1000) {
        course_staff::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    super::record_changes(&txn, changes).await?;
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(())
}

/// Undoes one change of a courses run.
pub async fn revert_change(
    txn: &DatabaseTransaction,
    change: &import_change::Model,
    outcome: &mut RevertOutcome,
) -> Result<(), ApiError> {
    let Some(current) = course::Entity::find_by_id(change.entity_id)
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    match &change.before {
        None => {
            let enrolled = enrollment::Entity::find()
                .filter(enrollment::Column::CourseId.eq(current.id))
                .count(txn)
                .await?;
            if enrolled == 0 {
                course::Entity::delete_by_id(current.id).exec(txn).await?;
                outcome.deleted += 1;
            } else {
                course::ActiveModel {
                    id: Set(current.id),
                    status: Set(CourseStatus::Archived),
                    updated_at: Set(Utc::now()),
                    ..Default::default()
                }
                .update(txn)
                .await?;
                outcome.deactivated += 1;
            }
        }
        Some(before) => {
            let text = |k: &str| before[k].as_str().map(str::to_owned);
            let status = before["status"]
                .as_str()
                .and_then(|s| s.parse::<CourseStatus>().ok());
            let (Some(slug), Some(title), Some(status)) = (text("slug"), text("title"), status)
            else {
                return Err(
                    anyhow::anyhow!("import change {} has a bad before-image", change.id).into(),
                );
            };
            course::ActiveModel {
                id: Set(current.id),
                slug: Set(slug),
                title: Set(title),
                status: Set(status),
                updated_at: Set(Utc::now()),
                ..Default::default()
            }
            .update(txn)
            .await
            .map_err(|e| {
                if constraints::violates(&e, &constraints::COURSES_SLUG) {
                    ApiError::Conflict {
                        field: Some("short_name".into()),
                        message: format!(
                            "Can't restore course `{}`: its earlier slug is now used by another course",
                            change.key
                        ),
                    }
                } else {
                    e.into()
                }
            })?;
            outcome.restored += 1;
        }
    }
    Ok(())
}
