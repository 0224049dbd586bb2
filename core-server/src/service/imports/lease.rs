//! Who runs an import, and what happens to a run whose server died.
//!
//! A run records the instance that runs it (`owner_instance`). While any of its runs are
//! RUNNING an instance refreshes their `updated_at` every third of the lease
//! (`EDUPRO_IMPORT_LEASE`, 30 s by default), and each batch refreshes it too, with the
//! counts so far. Every instance — at start and then every half lease — marks runs whose
//! heartbeat is older than the lease as INTERRUPTED, with the counts of the rows they
//! wrote, and tells their admin (`import.finished`). A killed server's runs are thus
//! interrupted by the restarted server (or a second instance) within about 1.5 leases;
//! their written batches keep their before-images, so they can be reverted.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::Run;
use crate::api::{ImportCounts, ImportStatus};
use crate::domain::events::{DomainEvent, ImportFinished};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::store::entity::{import_change, import_run};

/// What an interrupted run's `fileError` says.
pub const INTERRUPTED: &str =
    "The server stopped before this import finished; the batches written before it were kept";

/// Records a batch's counts and refreshes the run's heartbeat (outside the batch's
/// transaction: a count lost to a crash is recomputed when the run is interrupted).
pub async fn progress(state: &AppState, run: &Run) -> Result<(), ApiError> {
    let c = run.counts;
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    import_run::Entity::update_many()
        .col_expr(import_run::Column::TotalRows, Expr::value(n(c.total)))
        .col_expr(import_run::Column::Created, Expr::value(n(c.create)))
        .col_expr(import_run::Column::Updated, Expr::value(n(c.update)))
        .col_expr(import_run::Column::Unchanged, Expr::value(n(c.unchanged)))
        .col_expr(import_run::Column::Failed, Expr::value(n(c.error)))
        .col_expr(import_run::Column::Skipped, Expr::value(n(c.skipped)))
        .col_expr(import_run::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(import_run::Column::Id.eq(run.id))
        .filter(import_run::Column::Status.eq(ImportStatus::Running.as_str()))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Refreshes the heartbeat of every run this instance is running.
pub async fn heartbeat(state: &AppState) -> Result<u64, ApiError> {
    let touched = import_run::Entity::update_many()
        .col_expr(import_run::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(import_run::Column::Status.eq(ImportStatus::Running.as_str()))
        .filter(import_run::Column::OwnerInstance.eq(state.realtime.instance))
        .exec(&state.db)
        .await?;
    Ok(touched.rows_affected)
}

/// Marks the runs whose owner has not been heard of for a lease as INTERRUPTED, each in
/// its own transaction with its `import.finished`. Returns the runs it marked.
pub async fn interrupt_orphans(state: &AppState) -> Result<Vec<Uuid>, ApiError> {
    let lease = chrono::Duration::from_std(state.settings.import_lease)
        .unwrap_or(chrono::Duration::seconds(30));
    let stale_before = Utc::now() - lease;
    let orphans = import_run::Entity::find()
        .filter(import_run::Column::Status.eq(ImportStatus::Running.as_str()))
        .filter(import_run::Column::UpdatedAt.lt(stale_before))
        .all(&state.db)
        .await?;
    let mut marked = Vec::new();
    for run in orphans {
        let txn = crate::store::db::begin_write(&state.db).await?;
        // What the run wrote is what its before-images say; the rest of its counts
        // are those of its last recorded batch.
        let written = |action: &'static str| {
            import_change::Entity::find()
                .filter(import_change::Column::RunId.eq(run.id))
                .filter(import_change::Column::Action.eq(action))
                .count(&txn)
        };
        let created = written("CREATE").await?;
        let updated = written("UPDATE").await?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        let counts = ImportCounts {
            create: created.max(n(run.created)),
            update: updated.max(n(run.updated)),
            unchanged: n(run.unchanged),
            error: n(run.failed),
            skipped: n(run.skipped),
            total: 0,
        };
        let counts = ImportCounts {
            total: n(run.total_rows).max(
                counts.create + counts.update + counts.unchanged + counts.error + counts.skipped,
            ),
            ..counts
        };
        let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let now = Utc::now();
        // Claimed only if still RUNNING and still stale: its owner may have come back,
        // or another instance may have got there first.
        let claimed = import_run::Entity::update_many()
            .col_expr(
                import_run::Column::Status,
                Expr::value(ImportStatus::Interrupted.as_str()),
            )
            .col_expr(import_run::Column::TotalRows, Expr::value(i(counts.total)))
            .col_expr(import_run::Column::Created, Expr::value(i(counts.create)))
            .col_expr(import_run::Column::Updated, Expr::value(i(counts.update)))
            .col_expr(import_run::Column::FileError, Expr::value(INTERRUPTED))
            .col_expr(import_run::Column::UpdatedAt, Expr::value(now))
            .filter(import_run::Column::Id.eq(run.id))
            .filter(import_run::Column::Status.eq(ImportStatus::Running.as_str()))
            .filter(import_run::Column::UpdatedAt.lt(stale_before))
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            txn.rollback().await?;
            continue;
        }
        let event = match run.actor_id {
            Some(actor_id) => Some(
                crate::service::events::publish(
                    &txn,
                    DomainEvent::ImportFinished(ImportFinished {
                        import_id: run.id,
                        kind: run.kind,
                        mode: run.mode,
                        status: Some(ImportStatus::Interrupted),
                        actor_id,
                        counts: counts.into(),
                        stopped: run.stopped,
                        file_error: Some(INTERRUPTED.to_owned()),
                    }),
                )
                .await?,
            ),
            None => None,
        };
        txn.commit().await?;
        state.events.announce(event);
        tracing::warn!(
            import = %run.id,
            owner = ?run.owner_instance,
            created = counts.create,
            updated = counts.update,
            "an import's server stopped before it finished; marked INTERRUPTED"
        );
        marked.push(run.id);
    }
    Ok(marked)
}

/// Interrupts orphaned runs now, then keeps this instance's runs alive and looks for
/// orphans for as long as the server runs.
pub async fn start(state: &AppState) -> Result<(), ApiError> {
    interrupt_orphans(state).await?;
    let lease = state.settings.import_lease;
    let beat = (lease / 3).max(Duration::from_millis(200));
    let sweep = (lease / 2).max(Duration::from_millis(500));
    let heartbeat_state = state.clone();
    state.background.spawn(async move {
        let mut tick = tokio::time::interval(beat);
        loop {
            tick.tick().await;
            if let Err(error) = heartbeat(&heartbeat_state).await {
                tracing::warn!(%error, "import heartbeat failed");
            }
        }
    });
    let sweep_state = state.clone();
    state.background.spawn(async move {
        let mut tick = tokio::time::interval(sweep);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(error) = interrupt_orphans(&sweep_state).await {
                tracing::warn!(%error, "looking for interrupted imports failed");
            }
        }
    });
    Ok(())
}
