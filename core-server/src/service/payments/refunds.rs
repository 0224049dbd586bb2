//! Refunds: an admin (or the course's owner within `EDUPRO_REFUND_WINDOW`) refunds a
//! payment fully or in part, with a reason.
//!
//! The amount is reserved first — one conditional UPDATE (`refunded + amount <=
//! amount`) in the transaction that writes the PENDING refund — so a retried or
//! concurrent refund can never refund more than was paid. Then the gateway is asked:
//! processed at once, the refund settles here; pending, the gateway's `refund.processed`
//! webhook settles it; refused, it is FAILED and the amount refundable again. Settling
//! marks the payment REFUNDED or PARTIALLY_REFUNDED, cancels the enrollment on a full
//! refund and publishes `payment.refunded`.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use crate::api::{NewRefund, PaymentStatus, Refund, RefundStatus};
use crate::domain::events::{DomainEvent, PaymentChange};
use crate::error::ApiError;
use crate::platform::gateway::GatewayError;
use crate::platform::state::AppState;
use crate::service::audit::{self, Action};
use crate::service::auth::AuthUser;
use crate::service::{catalogue, enrollments, events};
use crate::store::entity::{course, payment, payment_order, refund, user};

use super::gateway;

/// The wire form of a refund.
pub(super) fn refund_view(row: &refund::Model, currency: &str, by: Option<&user::Model>) -> Refund {
    Refund {
        refund_id: row.id,
        payment_id: row.payment_id,
        amount: row.amount,
        currency: currency.to_owned(),
        status: row.status,
        reason: row.reason.clone(),
        gateway_refund_id: row.gateway_refund_id.clone(),
        refunded_by: by.map(catalogue::person),
        created_at: row.created_at,
    }
}

/// `POST /payments/{id}/refund`.
pub async fn refund(
    state: &AppState,
    auth: &AuthUser,
    payment_id: Uuid,
    body: &NewRefund,
) -> Result<Refund, ApiError> {
    let gateway = gateway(state)?.clone();
    let paid = payment::Entity::find_by_id(payment_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Payment not found".into()))?;
    if !auth.is_admin() {
        let owner = course::Entity::find_by_id(paid.course_id)
            .one(&state.db)
            .await?
            .is_some_and(|c| c.created_by == auth.id());
        if !owner {
            return Err(ApiError::Forbidden(
                "Only an admin or the course's owner refunds a payment".into(),
            ));
        }
        let window = state.settings.payments.refund_window;
        let age = (Utc::now() - paid.paid_at).to_std().unwrap_or_default();
        if age > window {
            return Err(ApiError::Forbidden(format!(
                "This payment is older than the owner's refund window ({} h); ask an admin",
                window.as_secs() / 3600
            )));
        }
    }
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::field("reason", "must be 1 to 500 characters"));
    }
    let left = paid.amount - paid.refunded;
    let amount = body.amount.unwrap_or(left);
    if left <= 0 {
        return Err(ApiError::Conflict {
            field: Some("amount".into()),
            message: "This payment is already wholly refunded".into(),
        });
    }
    if amount < 1 || amount > left {
        return Err(ApiError::field(
            "amount",
            format!(
                "must be 1 to {left} (minor units of {}): what is left to refund",
                paid.currency
            ),
        ));
    }
    let now = Utc::now();
    let txn = crate::store::db::begin_write(&state.db).await?;
    let reserved = payment::Entity::update_many()
        .col_expr(
            payment::Column::Refunded,
            Expr::col(payment::Column::Refunded).add(amount),
        )
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(paid.id))
        .filter(
            Expr::col(payment::Column::Refunded)
                .add(amount)
                .lte(Expr::col(payment::Column::Amount)),
        )
        .exec(&txn)
        .await?
        .rows_affected;
    if reserved == 0 {
        return Err(ApiError::Conflict {
            field: Some("amount".into()),
            message: "A refund of this payment was made at the same moment; see what is left with GET /payments/{id}".into(),
        });
    }
    let row = refund::ActiveModel {
        id: Set(Uuid::now_v7()),
        payment_id: Set(paid.id),
        amount: Set(amount),
        reason: Set(reason.to_owned()),
        status: Set(RefundStatus::Pending),
        gateway_refund_id: Set(None),
        actor_id: Set(Some(auth.id())),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    audit::record(
        &state.db,
        Action::RefundIssued,
        audit::Event {
            actor: Some(auth.id()),
            subject: Some(paid.student_id),
            ip: None,
            detail: Some(format!(
                "payment {}: {amount} {} ({reason})",
                paid.id, paid.currency
            )),
        },
    )
    .await;
    let asked = gateway
        .refund(&paid.gateway_payment_id, amount, &row.id.to_string())
        .await;
    let row = match asked {
        Ok(done) => {
            refund::Entity::update_many()
                .col_expr(
                    refund::Column::GatewayRefundId,
                    Expr::value(done.id.clone()),
                )
                .col_expr(refund::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(refund::Column::Id.eq(row.id))
                .exec(&state.db)
                .await?;
            match done.status {
                RefundStatus::Processed => {
                    settle(state, row.id, true, Some(auth.id())).await?;
                }
                RefundStatus::Failed => {
                    settle(state, row.id, false, Some(auth.id())).await?;
                }
                RefundStatus::Pending => {}
            }
            refund::Entity::find_by_id(row.id)
                .one(&state.db)
                .await?
                .ok_or_else(|| ApiError::NotFound("Refund not found".into()))?
        }
        Err(GatewayError::Refused(message)) => {
            settle(state, row.id, false, Some(auth.id())).await?;
            return Err(ApiError::Unprocessable(format!(
                "The payment gateway refused the refund: {message}"
            )));
        }
        Err(GatewayError::Unavailable(message)) => {
            // It may have happened there: keep it PENDING for the gateway's webhook
            // rather than risk refunding twice.
            return Err(ApiError::Unavailable(anyhow::anyhow!(
                "the payment gateway did not answer ({message}); refund {} stays PENDING until the gateway reports it",
                row.id
            )));
        }
    };
    Ok(refund_view(&row, &paid.currency, Some(&auth.user)))
}

/// The gateway's `refund.processed` / `refund.failed`: the refund it names (by its id,
/// or by our id sent as the receipt) settles; a replay changes nothing.
pub(super) async fn settle_from_gateway(
    state: &AppState,
    gateway_refund_id: &str,
    receipt: Option<&str>,
    processed: bool,
) -> Result<&'static str, ApiError> {
    let mut row = refund::Entity::find()
        .filter(refund::Column::GatewayRefundId.eq(gateway_refund_id))
        .one(&state.db)
        .await?;
    if row.is_none()
        && let Some(id) = receipt.and_then(|r| r.parse::<Uuid>().ok())
    {
        row = refund::Entity::find_by_id(id).one(&state.db).await?;
        if let Some(found) = &row
            && found.gateway_refund_id.is_none()
        {
            refund::Entity::update_many()
                .col_expr(
                    refund::Column::GatewayRefundId,
                    Expr::value(gateway_refund_id.to_owned()),
                )
                .filter(refund::Column::Id.eq(found.id))
                .exec(&state.db)
                .await?;
        }
    }
    let Some(row) = row else {
        return Ok("ignored");
    };
    Ok(if settle(state, row.id, processed, None).await? {
        "refund settled"
    } else {
        "refund already settled"
    })
}

/// Settles a PENDING refund once: PROCESSED (the payment's status follows; a full
/// refund cancels the enrollment; `payment.refunded` is published) or FAILED (the
/// amount is refundable again). Whether this call settled it.
async fn settle(
    state: &AppState,
    refund_id: Uuid,
    processed: bool,
    actor: Option<Uuid>,
) -> Result<bool, ApiError> {
    let now = Utc::now();
    let txn = crate::store::db::begin_write(&state.db).await?;
    let to = if processed {
        RefundStatus::Processed
    } else {
        RefundStatus::Failed
    };
    let moved = refund::Entity::update_many()
        .col_expr(refund::Column::Status, Expr::value(to))
        .col_expr(refund::Column::UpdatedAt, Expr::value(now))
        .filter(refund::Column::Id.eq(refund_id))
        .filter(refund::Column::Status.eq(RefundStatus::Pending))
        .exec(&txn)
        .await?
        .rows_affected;
    if moved == 0 {
        return Ok(false);
    }
    let row = refund::Entity::find_by_id(refund_id)
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::NotFound("Refund not found".into()))?;
    if !processed {
        payment::Entity::update_many()
            .col_expr(
                payment::Column::Refunded,
                Expr::col(payment::Column::Refunded).sub(row.amount),
            )
            .col_expr(payment::Column::UpdatedAt, Expr::value(now))
            .filter(payment::Column::Id.eq(row.payment_id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        return Ok(true);
    }
    let paid = payment::Entity::find_by_id(row.payment_id)
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::NotFound("Payment not found".into()))?;
    // Summed here: SUM(bigint) is NUMERIC on PostgreSQL and INTEGER on SQLite.
    let settled: i64 = refund::Entity::find()
        .select_only()
        .column(refund::Column::Amount)
        .filter(refund::Column::PaymentId.eq(paid.id))
        .filter(refund::Column::Status.eq(RefundStatus::Processed))
        .into_tuple::<i64>()
        .all(&txn)
        .await?
        .into_iter()
        .sum();
    let full = settled >= paid.amount;
    payment::ActiveModel {
        id: Set(paid.id),
        status: Set(if full {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        }),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let course = course::Entity::find_by_id(paid.course_id).one(&txn).await?;
    let actor = actor.or(row.actor_id).unwrap_or(paid.student_id);
    let mut announced = Vec::new();
    if full && course.is_some() {
        catalogue::lock_course(&txn, paid.course_id).await?;
        announced
            .extend(enrollments::cancel_paid(&txn, paid.course_id, paid.student_id, actor).await?);
    }
    let order_id = payment_order::Entity::find_by_id(paid.order_id)
        .one(&txn)
        .await?
        .map(|o| o.gateway_order_id)
        .unwrap_or_default();
    announced.push(
        events::publish(
            &txn,
            DomainEvent::PaymentRefunded(PaymentChange {
                payment_id: paid.id,
                order_id,
                course_id: paid.course_id,
                title: course.as_ref().map(|c| c.title.clone()).unwrap_or_default(),
                student_id: paid.student_id,
                owner_id: course.as_ref().map_or(actor, |c| c.created_by),
                amount: row.amount,
                currency: paid.currency.clone(),
                refund_id: Some(row.id),
                full,
            }),
        )
        .await?,
    );
    txn.commit().await?;
    if full {
        catalogue::catalogue_changed(state).await;
    }
    state.events.announce(announced);
    Ok(true)
}

/// The refunds of a payment, oldest first, with who made them.
pub(super) async fn of_payment(
    db: &impl ConnectionTrait,
    paid: &payment::Model,
) -> Result<Vec<Refund>, ApiError> {
    use sea_orm::QueryOrder;
    let rows = refund::Entity::find()
        .filter(refund::Column::PaymentId.eq(paid.id))
        .order_by_asc(refund::Column::CreatedAt)
        .all(db)
        .await?;
    let actors: Vec<Uuid> = rows.iter().filter_map(|r| r.actor_id).collect();
    let people = user::Entity::find()
        .filter(user::Column::Id.is_in(actors))
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let by = r.actor_id.and_then(|a| people.iter().find(|p| p.id == a));
            refund_view(r, &paid.currency, by)
        })
        .collect())
}
