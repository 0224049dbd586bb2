//! The mail outbox: a durable queue in `outbox_messages`.
//!
//! - **Enqueue** ([`enqueue`]) writes messages on the caller's connection — its
//!   transaction — so a message commits with what it announces (an account, a code) or
//!   not at all. With SMTP a message is PENDING; without, it is KEPT for admins to read
//!   (`GET /api/v1/admin/outbox`, [`list`]) and nothing delivers it.
//! - **The drainer** ([`start_drainer`]) delivers PENDING messages whose time has come.
//!   It is woken after each commit that queued mail, and polls besides
//!   (`EDUPRO_MAIL_POLL_INTERVAL`), which picks up what a stopped server or another
//!   instance left. Each message is claimed on its own with a conditional UPDATE (still
//!   PENDING, due, and not leased by a live claim): of several instances on one
//!   database exactly one wins it, holds it for `EDUPRO_MAIL_LEASE` and counts the
//!   attempt. Then SENT (the body — it holds codes — is emptied), or on failure PENDING
//!   again after an exponential backoff (`EDUPRO_MAIL_RETRY_BASE`, doubling, at most an
//!   hour), or FAILED — logged as an error — when the SMTP server refused it for good or
//!   `EDUPRO_MAIL_MAX_ATTEMPTS` are spent. A claim whose instance died runs out and the
//!   message is tried again: delivery is at least once (a crash between the SMTP
//!   server's "queued" and our SENT sends it twice), never lost.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::api::{MailStatus, OutboxEntry, OutboxList, PageQuery, Pagination};
use crate::error::ApiError;
use crate::platform::mail::{DeliveryError, Mail, Mailer};
use crate::platform::state::AppState;
use crate::store::entity::outbox_message;

/// Mail written on a connection whose transaction has not committed yet.
#[must_use = "call `wake` once the transaction has committed, so the mail goes out at once"]
#[derive(Debug, Default)]
pub struct Queued {
    count: usize,
}

impl Queued {
    /// Wakes the drainer if anything was queued: call it after the commit.
    pub fn wake(self, mailer: &Mailer) {
        if self.count > 0 {
            mailer.wake();
        }
    }
}

/// Writes `messages` to the outbox on `db` (one multi-row insert per 500): PENDING for
/// the drainer with SMTP, KEPT without. Call it inside the transaction that writes what
/// the mail is about, then [`Queued::wake`] after the commit. Bodies are never logged
/// (they hold codes).
pub async fn enqueue(
    db: &impl ConnectionTrait,
    mailer: &Mailer,
    messages: Vec<Mail>,
) -> Result<Queued, DbErr> {
    let count = messages.len();
    if count == 0 {
        return Ok(Queued::default());
    }
    let now = Utc::now();
    let (status, next_attempt_at) = if mailer.is_outbox() {
        (MailStatus::Kept, None)
    } else {
        (MailStatus::Pending, Some(now))
    };
    let first = messages.first().map(|m| (m.to.clone(), m.subject.clone()));
    let rows: Vec<outbox_message::ActiveModel> = messages
        .into_iter()
        .map(|m| outbox_message::ActiveModel {
            id: Set(Uuid::now_v7()),
            recipient: Set(m.to),
            subject: Set(m.subject),
            body: Set(m.body),
            status: Set(status),
            attempts: Set(0),
            next_attempt_at: Set(next_attempt_at),
            claimed_by: Set(None),
            lease_until: Set(None),
            last_error: Set(None),
            sent_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    for chunk in rows.chunks(500) {
        outbox_message::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    match (status, count, first) {
        (MailStatus::Kept, 1, Some((recipient, subject))) => tracing::info!(
            %recipient,
            %subject,
            "mail kept in the development outbox (GET /api/v1/admin/outbox)"
        ),
        (MailStatus::Kept, count, _) => tracing::info!(
            count,
            "mail kept in the development outbox (GET /api/v1/admin/outbox)"
        ),
        (_, count, _) => tracing::debug!(count, "mail queued for delivery"),
    }
    Ok(Queued { count })
}

/// One page of the outbox, newest first; only to `recipient` (case-insensitive) if given.
pub async fn list(
    db: &impl ConnectionTrait,
    page: PageQuery,
    recipient: Option<&str>,
) -> Result<OutboxList, ApiError> {
    let mut query = outbox_message::Entity::find();
    if let Some(recipient) = recipient {
        query = query.filter(outbox_message::Column::Recipient.eq(recipient.trim().to_lowercase()));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(outbox_message::Column::CreatedAt)
        .order_by_desc(outbox_message::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(db)
        .await?;
    Ok(OutboxList {
        messages: rows
            .into_iter()
            .map(|m| OutboxEntry {
                id: m.id,
                recipient: m.recipient,
                subject: m.subject,
                body: m.body,
                created_at: m.created_at,
                status: m.status,
                attempts: m.attempts,
                next_attempt_at: m.next_attempt_at,
                last_error: m.last_error,
                sent_at: m.sent_at,
            })
            .collect(),
        pagination: Pagination::new(page, total),
    })
}

/// Starts this instance's drainer (only with SMTP: without it nothing delivers mail,
/// and PENDING mail left by a server that had SMTP waits, with a warning).
pub async fn start_drainer(state: &AppState) -> Result<(), ApiError> {
    if state.mailer.is_outbox() {
        let waiting = outbox_message::Entity::find()
            .filter(outbox_message::Column::Status.eq(MailStatus::Pending))
            .count(&state.db)
            .await?;
        if waiting > 0 {
            tracing::warn!(
                waiting,
                "mail is waiting for delivery but EDUPRO_SMTP_URL is not set; it stays queued"
            );
        }
        return Ok(());
    }
    let state = state.clone();
    state.background.clone().spawn(async move {
        let poll = state.settings.mail.poll_interval;
        loop {
            if let Err(error) = drain(&state).await {
                tracing::warn!(%error, "the mail drainer could not read or update the outbox");
            }
            // A retry due before the next poll is tried on time.
            let wait = match next_retry(&state).await {
                Ok(Some(at)) => (at - Utc::now())
                    .to_std()
                    .unwrap_or_default()
                    .clamp(std::time::Duration::from_millis(10), poll),
                _ => poll,
            };
            tokio::select! {
                () = state.mailer.woken() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    });
    Ok(())
}

/// When the earliest PENDING message waiting for a retry is due (after now).
async fn next_retry(state: &AppState) -> Result<Option<chrono::DateTime<Utc>>, ApiError> {
    Ok(outbox_message::Entity::find()
        .select_only()
        .column(outbox_message::Column::NextAttemptAt)
        .filter(outbox_message::Column::Status.eq(MailStatus::Pending))
        .filter(outbox_message::Column::NextAttemptAt.gt(Utc::now()))
        .order_by_asc(outbox_message::Column::NextAttemptAt)
        .limit(1)
        .into_tuple::<Option<chrono::DateTime<Utc>>>()
        .one(&state.db)
        .await?
        .flatten())
}

/// What one [`drain`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Delivers every PENDING message that is due and not claimed by a live lease, one
/// claim at a time, until none is left.
pub async fn drain(state: &AppState) -> Result<Drained, ApiError> {
    let mut drained = Drained::default();
    loop {
        let now = Utc::now();
        let due: Vec<Uuid> = outbox_message::Entity::find()
            .select_only()
            .column(outbox_message::Column::Id)
            .filter(claimable(now))
            .order_by_asc(outbox_message::Column::NextAttemptAt)
            .order_by_asc(outbox_message::Column::Id)
            .limit(100)
            .into_tuple()
            .all(&state.db)
            .await?;
        if due.is_empty() {
            return Ok(drained);
        }
        for id in due {
            let Some(message) = claim(state, id).await? else {
                continue;
            };
            match deliver(state, message).await? {
                MailStatus::Sent => drained.sent += 1,
                MailStatus::Failed => drained.failed += 1,
                _ => drained.retrying += 1,
            }
        }
    }
}

/// PENDING, due at `now`, and not held by a lease that is still running.
fn claimable(now: chrono::DateTime<Utc>) -> Condition {
    Condition::all()
        .add(outbox_message::Column::Status.eq(MailStatus::Pending))
        .add(outbox_message::Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(outbox_message::Column::LeaseUntil.is_null())
                .add(outbox_message::Column::LeaseUntil.lt(now)),
        )
}

/// Takes message `id` for this instance if it is still claimable: one conditional
/// UPDATE, so of two instances racing for it exactly one changes the row (on
/// PostgreSQL the second waits for the first's row lock, then finds the lease taken).
async fn claim(state: &AppState, id: Uuid) -> Result<Option<outbox_message::Model>, ApiError> {
    let now = Utc::now();
    let lease = chrono::Duration::from_std(state.settings.mail.lease)
        .unwrap_or(chrono::Duration::minutes(2));
    let claimed = outbox_message::Entity::update_many()
        .col_expr(
            outbox_message::Column::ClaimedBy,
            Expr::value(state.realtime.instance),
        )
        .col_expr(outbox_message::Column::LeaseUntil, Expr::value(now + lease))
        .col_expr(
            outbox_message::Column::Attempts,
            Expr::col(outbox_message::Column::Attempts).add(1),
        )
        .col_expr(outbox_message::Column::UpdatedAt, Expr::value(now))
        .filter(outbox_message::Column::Id.eq(id))
        .filter(claimable(now))
        .exec(&state.db)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    Ok(outbox_message::Entity::find_by_id(id)
        .one(&state.db)
        .await?)
}

/// Hands a claimed message to SMTP and records the outcome; the status it ends in.
async fn deliver(state: &AppState, message: outbox_message::Model) -> Result<MailStatus, ApiError> {
    let mail = Mail {
        to: message.recipient.clone(),
        subject: message.subject.clone(),
        body: message.body.clone(),
    };
    let outcome = state.mailer.deliver(&mail).await;
    let now = Utc::now();
    let attempts = u32::try_from(message.attempts).unwrap_or(0);
    let settings = &state.settings.mail;
    let mut update = outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::ClaimedBy, Expr::value(None::<Uuid>))
        .col_expr(
            outbox_message::Column::LeaseUntil,
            Expr::value(None::<chrono::DateTime<Utc>>),
        )
        .col_expr(outbox_message::Column::UpdatedAt, Expr::value(now));
    let status = match &outcome {
        Ok(()) => {
            tracing::info!(
                id = %message.id,
                recipient = %message.recipient,
                subject = %message.subject,
                attempts,
                "mail sent"
            );
            update = update
                .col_expr(outbox_message::Column::SentAt, Expr::value(now))
                .col_expr(
                    outbox_message::Column::LastError,
                    Expr::value(None::<String>),
                );
            MailStatus::Sent
        }
        Err(err) => {
            let gives_up =
                matches!(err, DeliveryError::Permanent(_)) || attempts >= settings.max_attempts;
            update = update.col_expr(
                outbox_message::Column::LastError,
                Expr::value(err.to_string()),
            );
            if gives_up {
                tracing::error!(
                    id = %message.id,
                    recipient = %message.recipient,
                    subject = %message.subject,
                    attempts,
                    error = %err,
                    "mail delivery failed for good; the message is FAILED"
                );
                MailStatus::Failed
            } else {
                let wait = settings.backoff(attempts);
                let next =
                    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
                tracing::warn!(
                    id = %message.id,
                    recipient = %message.recipient,
                    attempts,
                    retry_in = ?wait,
                    error = %err,
                    "mail delivery failed; it will be tried again"
                );
                update = update.col_expr(outbox_message::Column::NextAttemptAt, Expr::value(next));
                MailStatus::Pending
            }
        }
    };
    if status != MailStatus::Pending {
        // Delivered or given up: the body (it holds codes) is not kept.
        update = update
            .col_expr(outbox_message::Column::Body, Expr::value(""))
            .col_expr(
                outbox_message::Column::NextAttemptAt,
                Expr::value(None::<chrono::DateTime<Utc>>),
            );
    }
    update
        .col_expr(outbox_message::Column::Status, Expr::value(status))
        .filter(outbox_message::Column::Id.eq(message.id))
        .filter(outbox_message::Column::Status.eq(MailStatus::Pending))
        .filter(outbox_message::Column::ClaimedBy.eq(state.realtime.instance))
        .exec(&state.db)
        .await?;
    Ok(status)
}

/// Gives back the messages this instance holds (at a graceful stop, whose abort may
/// have cut a delivery short), so another instance or the next start need not wait for
/// the lease to run out.
pub async fn release(state: &AppState) -> Result<u64, ApiError> {
    let released = outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::ClaimedBy, Expr::value(None::<Uuid>))
        .col_expr(
            outbox_message::Column::LeaseUntil,
            Expr::value(None::<chrono::DateTime<Utc>>),
        )
        .filter(outbox_message::Column::Status.eq(MailStatus::Pending))
        .filter(outbox_message::Column::ClaimedBy.eq(state.realtime.instance))
        .exec(&state.db)
        .await?;
    Ok(released.rows_affected)
}
