//! Payments: a student buys a paid course.
//!
//! - **Orders** ([`create_order`]): the course's price less a coupon, in minor units of
//!   its currency, at the configured gateway. One open order per student and course
//!   (the unique `open_key`): a second call returns it. Orders expire after
//!   `EDUPRO_ORDER_TTL` ([`start_expiry_sweep`]) and give their coupon use back.
//! - **Settling** ([`verify`] from the checkout, [`gateway_webhook`] from the gateway):
//!   both may arrive, in any order and more than once. Each runs [`settle`]: one
//!   transaction that locks the order row, and — unless the order already has its
//!   payment — records the payment, marks the order PAID, enrolls the student and
//!   publishes `payment.success`. So exactly one payment and one enrollment result. A
//!   signature that does not verify is a 400, audited, and changes nothing.
//! - Refunds are [`refunds`], coupons [`coupons`], history and revenue [`history`].

pub mod coupons;
pub mod history;
pub mod refunds;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::api::{
    CourseStatus, GatewayWebhookResult, NewOrder, Order, OrderStatus, PaymentStatus, Role,
    TestCheckout, TestCheckoutResult, TestOutcome, VerifiedPayment, VerifyPayment,
};
use crate::domain::events::{DomainEvent, PaymentChange};
use crate::error::ApiError;
use crate::platform::gateway::{self, GatewayError, PaymentGateway};
use crate::platform::state::AppState;
use crate::service::audit::{self, Action};
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, course_not_found};
use crate::service::enrollments;
use crate::service::events::{self, StoredEvent};
use crate::store::constraints;
use crate::store::entity::{coupon, course, payment, payment_order};

/// The gateway, or 402 saying this server takes no payments.
fn gateway(state: &AppState) -> Result<&Arc<dyn PaymentGateway>, ApiError> {
    state.gateway.as_ref().ok_or_else(|| {
        ApiError::PaymentRequired(
            "This server takes no payments: its operator has not configured a payment gateway (EDUPRO_RAZORPAY_KEY_ID, …)".into(),
        )
    })
}

/// A gateway failure as the client sees it.
pub(crate) fn gateway_error(err: GatewayError) -> ApiError {
    match err {
        GatewayError::Refused(message) => {
            ApiError::Unprocessable(format!("The payment gateway refused: {message}"))
        }
        GatewayError::Unavailable(message) => {
            ApiError::Unavailable(anyhow::anyhow!("payment gateway unavailable: {message}"))
        }
    }
}

fn open_key(student: Uuid, course: Uuid) -> String {
    format!("{student}:{course}")
}

/// The wire form of an order.
fn order_view(
    row: &payment_order::Model,
    course_title: &str,
    coupon_code: Option<String>,
    key: &str,
) -> Order {
    Order {
        order_id: row.gateway_order_id.clone(),
        id: row.id,
        course_id: row.course_id,
        course_title: course_title.to_owned(),
        amount: row.amount,
        list_price: row.list_price,
        discount: row.discount,
        currency: row.currency.clone(),
        coupon_code,
        payment_gateway: row.gateway,
        key: key.to_owned(),
        status: row.status,
        expires_at: row.expires_at,
        created_at: row.created_at,
    }
}

/// What `create_order` did.
pub enum OrderOutcome {
    Created(Order),
    /// The student's open order for this course (and coupon), returned again.
    Existing(Order),
    /// A coupon left nothing to pay: the course is theirs already.
    Free(VerifiedPayment),
}

/// A paid, published course a student may buy, or the error naming why not.
async fn purchasable(
    db: &impl ConnectionTrait,
    auth: &AuthUser,
    course_id: Uuid,
) -> Result<course::Model, ApiError> {
    let course = course::Entity::find_by_id(course_id)
        .one(db)
        .await?
        .filter(|c| c.status != CourseStatus::Draft)
        .ok_or_else(|| ApiError::field("courseId", "no such published course"))?;
    if course.status == CourseStatus::Archived {
        return Err(ApiError::field(
            "courseId",
            "this course is archived and takes no new enrollments",
        ));
    }
    if course.is_free || course.effective_price == 0 {
        return Err(ApiError::field(
            "courseId",
            "this course is free: no order is needed; enroll with POST /api/v1/enrollments (edupro enroll)",
        ));
    }
    if let Some(existing) = enrollments::find_enrollment(db, course.id, auth.id()).await?
        && existing.status.grants_access()
    {
        return Err(ApiError::Conflict {
            field: Some("courseId".into()),
            message: "You are already enrolled in this course".into(),
        });
    }
    Ok(course)
}

/// `POST /payments/create-order`: a student's order for a paid course.
pub async fn create_order(
    state: &AppState,
    auth: &AuthUser,
    body: &NewOrder,
) -> Result<OrderOutcome, ApiError> {
    auth.require_role(&[Role::Student])?;
    let gateway = gateway(state)?.clone();
    let course = purchasable(&state.db, auth, body.course_id).await?;
    let code = body
        .coupon_code
        .as_deref()
        .map(coupons::normalize_code)
        .transpose()?;
    // The open order, returned again when it asks for the same coupon.
    let now = Utc::now();
    if let Some(open) = open_order(&state.db, auth.id(), course.id).await? {
        let open_code = coupons::code_of(&state.db, open.coupon_id).await?;
        if open.expires_at > now && open_code == code {
            return Ok(OrderOutcome::Existing(order_view(
                &open,
                &course.title,
                open_code,
                gateway.key_id(),
            )));
        }
        // Expired, or another coupon: close it (its coupon use back) and start again.
        close_order(&state.db, open.id, OrderStatus::Expired).await?;
    }
    // Price it before the gateway call, for a clear error; the use is taken below.
    let quote = match &code {
        Some(code) => Some(coupons::quote(&state.db, code, &course, auth.id(), now).await?),
        None => None,
    };
    let discount = quote.as_ref().map_or(0, |q| q.discount);
    let amount = course.effective_price - discount;
    let id = Uuid::now_v7();
    let gateway_order_id = if amount == 0 {
        format!("order_free_{}", id.simple())
    } else {
        gateway
            .create_order(amount, &course.currency, &id.to_string())
            .await
            .map_err(gateway_error)?
            .id
    };
    let txn = crate::store::db::begin_write(&state.db).await?;
    if let Some(quote) = &quote {
        coupons::take_use(&txn, &quote.coupon, auth.id()).await?;
    }
    let row = payment_order::ActiveModel {
        id: Set(id),
        student_id: Set(auth.id()),
        course_id: Set(course.id),
        coupon_id: Set(quote.as_ref().map(|q| q.coupon.id)),
        gateway: Set(gateway.kind()),
        gateway_order_id: Set(gateway_order_id),
        list_price: Set(course.effective_price),
        discount: Set(discount),
        amount: Set(amount),
        currency: Set(course.currency.clone()),
        status: Set(OrderStatus::Created),
        open_key: Set(Some(open_key(auth.id(), course.id))),
        expires_at: Set(now
            + chrono::Duration::from_std(state.settings.payments.order_ttl)
                .unwrap_or_else(|_| chrono::Duration::minutes(30))),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await;
    let row = match row {
        Ok(row) => row,
        Err(err) if constraints::violates(&err, &constraints::PAYMENT_ORDERS_OPEN) => {
            // A concurrent call opened one first: that one is the answer.
            drop(txn);
            let open = open_order(&state.db, auth.id(), course.id)
                .await?
                .ok_or_else(|| ApiError::from(err))?;
            let open_code = coupons::code_of(&state.db, open.coupon_id).await?;
            return Ok(OrderOutcome::Existing(order_view(
                &open,
                &course.title,
                open_code,
                gateway.key_id(),
            )));
        }
        Err(err) => return Err(err.into()),
    };
    txn.commit().await?;
    if amount == 0 {
        // Nothing to pay: settle it here, as a payment of nothing.
        let payment_id = format!("pay_free_{}", row.id.simple());
        let settled = settle(state, &row.gateway_order_id, &payment_id, None, Some(auth)).await?;
        return Ok(OrderOutcome::Free(settled));
    }
    Ok(OrderOutcome::Created(order_view(
        &row,
        &course.title,
        code,
        gateway.key_id(),
    )))
}

/// The student's CREATED order for the course, if any.
async fn open_order(
    db: &impl ConnectionTrait,
    student: Uuid,
    course: Uuid,
) -> Result<Option<payment_order::Model>, ApiError> {
    Ok(payment_order::Entity::find()
        .filter(payment_order::Column::OpenKey.eq(open_key(student, course)))
        .one(db)
        .await?)
}

/// Moves a CREATED order to EXPIRED or FAILED and gives its coupon use back, in one
/// transaction; nothing if it is no longer CREATED (paid or closed meanwhile).
async fn close_order(
    db: &sea_orm::DatabaseConnection,
    order_id: Uuid,
    to: OrderStatus,
) -> Result<bool, ApiError> {
    let txn = crate::store::db::begin_write(db).await?;
    let closed = payment_order::Entity::update_many()
        .col_expr(payment_order::Column::Status, Expr::value(to))
        .col_expr(
            payment_order::Column::OpenKey,
            Expr::value(Option::<String>::None),
        )
        .col_expr(payment_order::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payment_order::Column::Id.eq(order_id))
        .filter(payment_order::Column::Status.eq(OrderStatus::Created))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if closed
        && let Some(order) = payment_order::Entity::find_by_id(order_id)
            .one(&txn)
            .await?
        && let Some(coupon_id) = order.coupon_id
    {
        coupons::give_use_back(&txn, coupon_id).await?;
    }
    txn.commit().await?;
    Ok(closed)
}

/// `POST /payments/verify`: the checkout's proof of payment.
pub async fn verify(
    state: &AppState,
    auth: &AuthUser,
    body: &VerifyPayment,
    ip: Option<&str>,
) -> Result<VerifiedPayment, ApiError> {
    let gateway = gateway(state)?;
    let order_id = body.order_id.trim();
    let payment_id = body.payment_id.trim();
    if !gateway.checkout_signature_valid(order_id, payment_id, body.signature.trim()) {
        audit::record(
            &state.db,
            Action::PaymentSignatureRejected,
            audit::Event {
                actor: Some(auth.id()),
                subject: None,
                ip,
                detail: Some(format!("order {order_id}, payment {payment_id}")),
            },
        )
        .await;
        return Err(ApiError::field(
            "signature",
            "does not match this order and payment: nothing was recorded",
        ));
    }
    let order = payment_order::Entity::find()
        .filter(payment_order::Column::GatewayOrderId.eq(order_id))
        .one(&state.db)
        .await?
        .filter(|o| o.student_id == auth.id() || auth.is_admin())
        .ok_or_else(|| ApiError::field("orderId", "no such order of yours"))?;
    if order.course_id != body.course_id {
        return Err(ApiError::field(
            "courseId",
            "is not the course of this order",
        ));
    }
    settle(state, order_id, payment_id, None, Some(auth)).await
}

/// Records the payment `payment_id` of the order `order_id` and enrolls its student,
/// once: a second call (the webhook after the checkout, a retry, a concurrent verify)
/// finds the payment and returns it. `amount`, when the gateway reports one, must be
/// the order's.
pub(crate) async fn settle(
    state: &AppState,
    order_id: &str,
    payment_id: &str,
    amount: Option<i64>,
    caller: Option<&AuthUser>,
) -> Result<VerifiedPayment, ApiError> {
    let now = Utc::now();
    let txn = crate::store::db::begin_write(&state.db).await?;
    // The order's row lock first: concurrent settles of one order queue here.
    let locked = payment_order::Entity::update_many()
        .col_expr(payment_order::Column::UpdatedAt, Expr::value(now))
        .filter(payment_order::Column::GatewayOrderId.eq(order_id))
        .exec(&txn)
        .await?
        .rows_affected;
    if locked == 0 {
        return Err(ApiError::field("orderId", "no such order"));
    }
    let order = payment_order::Entity::find()
        .filter(payment_order::Column::GatewayOrderId.eq(order_id))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::field("orderId", "no such order"))?;
    if let Some(amount) = amount
        && amount != order.amount
    {
        return Err(ApiError::field(
            "amount",
            format!(
                "{amount} does not match the order's {} {}",
                order.amount, order.currency
            ),
        ));
    }
    if let Some(existing) = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order.id))
        .one(&txn)
        .await?
    {
        if existing.gateway_payment_id != payment_id {
            tracing::warn!(
                order = %order.gateway_order_id,
                recorded = %existing.gateway_payment_id,
                second = %payment_id,
                "a second payment for a paid order; refund it at the gateway"
            );
            return Err(ApiError::Conflict {
                field: Some("paymentId".into()),
                message: "This order is already paid by another payment".into(),
            });
        }
        return Ok(verified(&existing));
    }
    catalogue::lock_course(&txn, order.course_id).await?;
    let course = course::Entity::find_by_id(order.course_id)
        .one(&txn)
        .await?
        .ok_or_else(course_not_found)?;
    if order.status != OrderStatus::Created
        && let Some(coupon_id) = order.coupon_id
    {
        // Paid after it expired or failed: the money was taken, so the sale stands and
        // takes its coupon use again.
        coupon::Entity::update_many()
            .col_expr(coupon::Column::Used, Expr::col(coupon::Column::Used).add(1))
            .filter(coupon::Column::Id.eq(coupon_id))
            .exec(&txn)
            .await?;
    }
    let (enrollment, enrolled) =
        enrollments::enroll_paid(&txn, order.course_id, order.student_id).await?;
    let row = payment::ActiveModel {
        id: Set(Uuid::now_v7()),
        order_id: Set(order.id),
        gateway_payment_id: Set(payment_id.to_owned()),
        gateway: Set(order.gateway),
        student_id: Set(order.student_id),
        course_id: Set(order.course_id),
        enrollment_id: Set(Some(enrollment.id)),
        amount: Set(order.amount),
        refunded: Set(0),
        currency: Set(order.currency.clone()),
        status: Set(PaymentStatus::Success),
        paid_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    payment_order::ActiveModel {
        id: Set(order.id),
        status: Set(OrderStatus::Paid),
        open_key: Set(None),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let paid = events::publish(
        &txn,
        DomainEvent::PaymentSucceeded(PaymentChange {
            payment_id: row.id,
            order_id: order.gateway_order_id.clone(),
            course_id: course.id,
            title: course.title.clone(),
            student_id: order.student_id,
            owner_id: course.created_by,
            amount: order.amount,
            currency: order.currency.clone(),
            refund_id: None,
            full: false,
        }),
    )
    .await?;
    txn.commit().await?;
    catalogue::catalogue_changed(state).await;
    state.events.announce(
        enrolled
            .into_iter()
            .chain([paid])
            .collect::<Vec<StoredEvent>>(),
    );
    tracing::info!(
        payment = %row.id,
        order = %order.gateway_order_id,
        by = ?caller.map(AuthUser::id),
        "payment recorded"
    );
    Ok(verified(&row))
}

fn verified(row: &payment::Model) -> VerifiedPayment {
    VerifiedPayment {
        payment_id: row.id,
        gateway_payment_id: row.gateway_payment_id.clone(),
        status: row.status,
        enrollment_id: row.enrollment_id.unwrap_or_default(),
        course_id: row.course_id,
        amount: row.amount,
        currency: row.currency.clone(),
    }
}

/// A gateway webhook, in Razorpay's shape: `{"event", "payload": {"payment": {"entity":
/// {…}}, "refund": {"entity": {…}}}}`.
#[derive(Debug, Deserialize)]
struct WebhookBody {
    event: String,
    #[serde(default)]
    payload: WebhookPayload,
}

#[derive(Debug, Default, Deserialize)]
struct WebhookPayload {
    payment: Option<Wrapped<PaymentEntity>>,
    refund: Option<Wrapped<RefundEntity>>,
}

#[derive(Debug, Deserialize)]
struct Wrapped<T> {
    entity: T,
}

#[derive(Debug, Deserialize)]
struct PaymentEntity {
    id: String,
    order_id: Option<String>,
    amount: i64,
}

#[derive(Debug, Deserialize)]
struct RefundEntity {
    id: String,
    #[serde(default)]
    receipt: Option<String>,
}

/// `POST /payments/webhook`: the gateway's report, signed over the raw body.
pub async fn gateway_webhook(
    state: &AppState,
    body: &[u8],
    signature: Option<&str>,
    ip: Option<&str>,
) -> Result<GatewayWebhookResult, ApiError> {
    let gateway = gateway(state)?;
    let valid = signature.is_some_and(|s| gateway.webhook_signature_valid(body, s));
    if !valid {
        audit::record(
            &state.db,
            Action::GatewayWebhookRejected,
            audit::Event {
                actor: None,
                subject: None,
                ip,
                detail: Some(format!(
                    "{} bytes, signature {}",
                    body.len(),
                    if signature.is_some() {
                        "wrong"
                    } else {
                        "missing"
                    }
                )),
            },
        )
        .await;
        return Err(ApiError::field(
            "X-Razorpay-Signature",
            "missing or not the signature of this body: ignored",
        ));
    }
    let hook: WebhookBody = serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!("The webhook body is not a gateway event: {e}"))
    })?;
    let outcome = match hook.event.as_str() {
        "payment.captured" | "order.paid" => {
            let payment = hook
                .payload
                .payment
                .ok_or_else(|| ApiError::field("payload.payment", "is missing"))?
                .entity;
            let order_id = payment
                .order_id
                .ok_or_else(|| ApiError::field("payload.payment.entity.order_id", "is missing"))?;
            let ours = payment_order::Entity::find()
                .filter(payment_order::Column::GatewayOrderId.eq(&order_id))
                .one(&state.db)
                .await?
                .is_some();
            let known = payment::Entity::find()
                .filter(payment::Column::GatewayPaymentId.eq(&payment.id))
                .one(&state.db)
                .await?
                .is_some();
            if !ours {
                // Another system's order on the same gateway account: not ours to
                // settle, and a 4xx would only make the gateway retry for days.
                "ignored (not an order of this server)"
            } else {
                settle(state, &order_id, &payment.id, Some(payment.amount), None).await?;
                if known { "already settled" } else { "settled" }
            }
        }
        "payment.failed" => {
            let payment = hook
                .payload
                .payment
                .ok_or_else(|| ApiError::field("payload.payment", "is missing"))?
                .entity;
            let order = match payment.order_id {
                Some(id) => {
                    payment_order::Entity::find()
                        .filter(payment_order::Column::GatewayOrderId.eq(id))
                        .one(&state.db)
                        .await?
                }
                None => None,
            };
            match order {
                Some(order) if close_order(&state.db, order.id, OrderStatus::Failed).await? => {
                    "order failed"
                }
                Some(_) => "already closed",
                None => "ignored",
            }
        }
        "refund.processed" | "refund.failed" => {
            let refund = hook
                .payload
                .refund
                .ok_or_else(|| ApiError::field("payload.refund", "is missing"))?
                .entity;
            let processed = hook.event == "refund.processed";
            refunds::settle_from_gateway(state, &refund.id, refund.receipt.as_deref(), processed)
                .await?
        }
        _ => "ignored",
    };
    Ok(GatewayWebhookResult {
        event: hook.event,
        outcome: outcome.to_owned(),
    })
}

/// `POST /payments/test-checkout`: the test gateway plays the checkout of the
/// student's order — a payment and its signature for `verify`, and (as a real gateway
/// would) its webhook, sent to this server on its own.
pub async fn test_checkout(
    state: &AppState,
    auth: &AuthUser,
    body: &TestCheckout,
) -> Result<TestCheckoutResult, ApiError> {
    let gateway = gateway(state)?.clone();
    let Some(signer) = gateway.test_signer() else {
        return Err(ApiError::NotFound(
            "This server takes real payments: there is no test checkout".into(),
        ));
    };
    let order = payment_order::Entity::find()
        .filter(payment_order::Column::GatewayOrderId.eq(body.order_id.trim()))
        .one(&state.db)
        .await?
        .filter(|o| o.student_id == auth.id())
        .ok_or_else(|| ApiError::field("orderId", "no such order of yours"))?;
    if order.status != OrderStatus::Created {
        return Err(ApiError::field(
            "orderId",
            format!("this order is {}, not open for payment", order.status),
        ));
    }
    let outcome = body.outcome.unwrap_or(TestOutcome::Success);
    let payment_id = gateway::test_payment_id();
    let (event, status) = match outcome {
        TestOutcome::Success => ("payment.captured", "captured"),
        TestOutcome::Failure => ("payment.failed", "failed"),
    };
    let hook = json!({
        "entity": "event",
        "event": event,
        "contains": ["payment"],
        "payload": { "payment": { "entity": {
            "id": payment_id,
            "entity": "payment",
            "amount": order.amount,
            "currency": order.currency,
            "status": status,
            "order_id": order.gateway_order_id,
        }}},
        "created_at": Utc::now().timestamp(),
    })
    .to_string();
    let signature = signer.sign_webhook(hook.as_bytes());
    let webhook_state = state.clone();
    tokio::spawn(async move {
        if let Err(error) =
            gateway_webhook(&webhook_state, hook.as_bytes(), Some(&signature), None).await
        {
            tracing::warn!(%error, "the test gateway's webhook was not taken");
        }
    });
    Ok(match outcome {
        TestOutcome::Success => TestCheckoutResult {
            signature: signer.sign_checkout(&order.gateway_order_id, &payment_id),
            order_id: order.gateway_order_id,
            payment_id,
            outcome,
        },
        TestOutcome::Failure => TestCheckoutResult {
            order_id: order.gateway_order_id,
            payment_id: String::new(),
            signature: String::new(),
            outcome,
        },
    })
}

/// Expires CREATED orders past their time, each giving its coupon use back; how many.
pub async fn expire_orders(state: &AppState, now: DateTime<Utc>) -> Result<u64, ApiError> {
    let due: Vec<Uuid> = payment_order::Entity::find()
        .select_only()
        .column(payment_order::Column::Id)
        .filter(payment_order::Column::Status.eq(OrderStatus::Created))
        .filter(payment_order::Column::ExpiresAt.lte(now))
        .order_by_asc(payment_order::Column::ExpiresAt)
        .limit(500)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut expired = 0;
    for id in due {
        if close_order(&state.db, id, OrderStatus::Expired).await? {
            expired += 1;
        }
    }
    Ok(expired)
}

/// Sweeps expired orders at start and then every half order lifetime (1 s to 1 min).
pub fn start_expiry_sweep(state: &AppState) {
    let state = state.clone();
    let every = (state.settings.payments.order_ttl / 2).clamp(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(60),
    );
    state.background.clone().spawn(async move {
        loop {
            if state.leadership.runs("order_expiry") {
                match expire_orders(&state, Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(expired = n, "orders expired unpaid"),
                    Err(error) => tracing::warn!(%error, "could not expire unpaid orders"),
                }
            }
            tokio::time::sleep(every).await;
        }
    });
}
