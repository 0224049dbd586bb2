//! The bookkeeping of import runs: a run's record (started, finished with its counts
//! and `import.finished`), the before-image of every row an applied run changed, the
//! runs as the API lists them, and [`revert`], which undoes a run from those images.

use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::Value;
use uuid::Uuid;

use super::{FileState, Run, courses, enrollments, users};
use crate::api::{
    ImportCounts, ImportKind, ImportMode, ImportRun, ImportRunList, ImportStatus, PageQuery,
    Pagination, RevertedImport,
};
use crate::domain::events::{DomainEvent, ImportFinished};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::catalogue;
use crate::service::enrollments::recount_students;
use crate::store::entity::{import_change, import_run};

/// Starts a run's record (status RUNNING).
pub async fn start_run(
    state: &AppState,
    kind: ImportKind,
    mode: ImportMode,
    actor: Uuid,
    file_name: Option<String>,
    max_errors: Option<u64>,
) -> Result<Run, ApiError> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    import_run::ActiveModel {
        id: Set(id),
        kind: Set(kind),
        mode: Set(mode),
        status: Set(ImportStatus::Running),
        file_name: Set(file_name),
        actor_id: Set(Some(actor)),
        total_rows: Set(0),
        created: Set(0),
        updated: Set(0),
        unchanged: Set(0),
        failed: Set(0),
        skipped: Set(0),
        stopped: Set(false),
        file_error: Set(None),
        reverted_at: Set(None),
        reverted_by: Set(None),
        owner_instance: Set(Some(state.realtime.instance)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(Run {
        id,
        kind,
        mode,
        actor,
        max_errors,
        counts: ImportCounts::default(),
        stopped: false,
        file: FileState::default(),
    })
}

/// Closes a run's record with its counts and publishes `import.finished` in the same
/// transaction, so the admin hears of every run that ended, and only of those.
pub async fn finish_run(
    state: &AppState,
    run: &Run,
    file_error: Option<&str>,
) -> Result<(), ApiError> {
    let status = match (run.mode, file_error) {
        (_, Some(_)) => ImportStatus::Failed,
        (ImportMode::Plan, None) => ImportStatus::Planned,
        (ImportMode::Apply, None) => ImportStatus::Applied,
    };
    let c = run.counts;
    let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let txn = crate::store::db::begin_write(&state.db).await?;
    import_run::ActiveModel {
        id: Set(run.id),
        status: Set(status),
        total_rows: Set(as_i64(c.total)),
        created: Set(as_i64(c.create)),
        updated: Set(as_i64(c.update)),
        unchanged: Set(as_i64(c.unchanged)),
        failed: Set(as_i64(c.error)),
        skipped: Set(as_i64(c.skipped)),
        stopped: Set(run.stopped),
        file_error: Set(file_error.map(str::to_owned)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let event = crate::service::events::publish(
        &txn,
        DomainEvent::ImportFinished(ImportFinished {
            import_id: run.id,
            kind: run.kind,
            mode: run.mode,
            status: Some(status),
            actor_id: run.actor,
            counts: c.into(),
            stopped: run.stopped,
            file_error: file_error.map(str::to_owned),
        }),
    )
    .await?;
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    state.events.announce([event]);
    Ok(())
}

/// Records what an applied row changed, in the batch's transaction.
pub async fn record_changes(
    txn: &DatabaseTransaction,
    changes: Vec<import_change::ActiveModel>,
) -> Result<(), ApiError> {
    for chunk in changes.chunks(1000) {
        import_change::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// A change row for `entity_id`.
pub fn change(
    run: &Run,
    line: u64,
    key: &str,
    entity_id: Uuid,
    before: Option<Value>,
) -> import_change::ActiveModel {
    let now = Utc::now();
    import_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        run_id: Set(run.id),
        line: Set(i64::try_from(line).unwrap_or(i64::MAX)),
        key: Set(key.to_owned()),
        entity_id: Set(entity_id),
        action: Set(if before.is_some() { "UPDATE" } else { "CREATE" }.to_owned()),
        before: Set(before),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// A run as the API shows it.
pub fn run_to_wire(m: &import_run::Model) -> ImportRun {
    let as_u64 = |n: i64| u64::try_from(n).unwrap_or(0);
    ImportRun {
        id: m.id,
        kind: m.kind,
        mode: m.mode,
        status: m.status,
        file_name: m.file_name.clone(),
        actor_id: m.actor_id,
        counts: ImportCounts {
            total: as_u64(m.total_rows),
            create: as_u64(m.created),
            update: as_u64(m.updated),
            unchanged: as_u64(m.unchanged),
            error: as_u64(m.failed),
            skipped: as_u64(m.skipped),
        },
        stopped: m.stopped,
        file_error: m.file_error.clone(),
        created_at: m.created_at,
        reverted_at: m.reverted_at,
    }
}

/// Finds a run, or 404.
pub async fn find_run(db: &impl ConnectionTrait, id: Uuid) -> Result<import_run::Model, ApiError> {
    import_run::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Import not found".into()))
}

/// Undoes an applied run in one transaction: created rows are deleted (or deactivated
/// when something else now refers to them), updated rows get their before-image back.
pub async fn revert(state: &AppState, id: Uuid, actor: Uuid) -> Result<RevertedImport, ApiError> {
    let txn = crate::store::db::begin_write(&state.db).await?;
    let run = find_run(&txn, id).await?;
    if run.mode != ImportMode::Apply {
        return Err(ApiError::Unprocessable(
            "This import was a plan; it wrote nothing to revert".into(),
        ));
    }
    // Claim the run first: of two concurrent reverts exactly one gets past this.
    let now = Utc::now();
    let claimed = import_run::Entity::update_many()
        .col_expr(
            import_run::Column::Status,
            sea_orm::sea_query::Expr::value(ImportStatus::Reverted.as_str()),
        )
        .col_expr(
            import_run::Column::RevertedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            import_run::Column::RevertedBy,
            sea_orm::sea_query::Expr::value(actor),
        )
        .col_expr(
            import_run::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(import_run::Column::Id.eq(id))
        .filter(import_run::Column::RevertedAt.is_null())
        .filter(import_run::Column::Status.ne(ImportStatus::Running.as_str()))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(ApiError::Conflict {
            field: Some("status".into()),
            message: if run.reverted_at.is_some() {
                "This import was already reverted".into()
            } else {
                "This import is still running".into()
            },
        });
    }
    let changes = import_change::Entity::find()
        .filter(import_change::Column::RunId.eq(id))
        .order_by_desc(import_change::Column::Line)
        .all(&txn)
        .await?;
    let mut outcome = RevertOutcome::default();
    let kind: ImportKind = run.kind;
    for change in &changes {
        match kind {
            ImportKind::Users => users::revert_change(&txn, change, &mut outcome).await?,
            ImportKind::Courses => courses::revert_change(&txn, change, &mut outcome).await?,
            ImportKind::Enrollments => {
                enrollments::revert_change(&txn, change, &mut outcome).await?
            }
        }
    }
    if !outcome.recount.is_empty() {
        catalogue::lock_courses(&txn, &outcome.recount).await?;
        for course_id in &outcome.recount {
            recount_students(&txn, *course_id).await?;
        }
    }
    txn.commit().await?;
    crate::service::auth::users_changed(state).await;
    crate::service::catalogue::catalogue_changed(state).await;
    let run = find_run(&state.db, id).await?;
    Ok(RevertedImport {
        run: run_to_wire(&run),
        deleted: outcome.deleted,
        deactivated: outcome.deactivated,
        restored: outcome.restored,
    })
}

/// Tally of a revert.
#[derive(Debug, Default)]
pub struct RevertOutcome {
    pub deleted: u64,
    pub deactivated: u64,
    pub restored: u64,
    /// Courses whose enrollments went with a deleted user: recounted, under their
    /// locks taken together in id order, once every change is undone.
    pub recount: BTreeSet<Uuid>,
}

/// A page of recorded runs, newest first.
pub async fn list_runs(
    db: &impl ConnectionTrait,
    page: PageQuery,
) -> Result<ImportRunList, ApiError> {
    let query = import_run::Entity::find()
        .order_by_desc(import_run::Column::CreatedAt)
        .order_by_desc(import_run::Column::Id);
    let total = query.clone().count(db).await?;
    let rows = query
        .offset(page.offset())
        .limit(page.limit())
        .all(db)
        .await?;
    Ok(ImportRunList {
        imports: rows.iter().map(run_to_wire).collect(),
        pagination: Pagination::new(page, total),
    })
}

/// One recorded run as the API shows it, or 404.
pub async fn get_run(db: &impl ConnectionTrait, id: Uuid) -> Result<ImportRun, ApiError> {
    Ok(run_to_wire(&find_run(db, id).await?))
}
