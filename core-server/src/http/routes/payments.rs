//! Payments: `/payments/…` (orders, verification, the gateway's webhook, history,
//! refunds, revenue) and `/coupons`. Handlers read the request and call
//! [`crate::service::payments`], which decides who may do what.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::{created, ok};
use crate::api::{
    ApiResponse, Coupon, CouponFilter, CouponList, CouponUpdate, GatewayWebhookResult, NewCoupon,
    NewOrder, NewRefund, Order, OrderAnswer, Payment, PaymentFilter, PaymentList, Refund,
    RevenueQuery, RevenueReport, TestCheckout, TestCheckoutResult, VerifiedPayment, VerifyPayment,
};
use crate::error::ApiError;
use crate::http::auth::client_ip;
use crate::http::extract::{Json, Query};
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::payments::{self, OrderOutcome, coupons, history, refunds};

/// Registers every route of this file (fixed paths before `/payments/{id}`).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_order)
        .service(verify)
        .service(webhook)
        .service(test_checkout)
        .service(history_list)
        .service(revenue)
        .service(show)
        .service(refund)
        .service(create_coupon)
        .service(list_coupons)
        .service(update_coupon);
}

/// A student's order for a paid course: its price less the coupon, at the gateway.
/// A second call for the same course (and coupon) returns the open order (200). A
/// coupon that leaves nothing to pay enrolls at once (200, a payment of nothing).
#[utoipa::path(
    tag = "payments",
    security(("bearer" = [])),
    request_body = NewOrder,
    responses(
        (status = 201, description = "Ordered", body = ApiResponse<Order>),
        (status = 200, description = "The open order for this course, or a free enrollment", body = ApiResponse<OrderAnswer>),
        (status = 400, description = "No such course, a free course, or a coupon that does not apply (named)", body = crate::api::ErrorBody),
        (status = 402, description = "This server takes no payments", body = crate::api::ErrorBody),
        (status = 403, description = "Not a student", body = crate::api::ErrorBody),
        (status = 409, description = "Enrolled already", body = crate::api::ErrorBody),
        (status = 503, description = "The gateway did not answer", body = crate::api::ErrorBody),
    )
)]
#[post("/payments/create-order")]
pub async fn create_order(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<NewOrder>,
) -> Result<HttpResponse, ApiError> {
    Ok(match payments::create_order(&state, &auth, &body).await? {
        OrderOutcome::Created(order) => created(order),
        OrderOutcome::Existing(order) => ok(order),
        OrderOutcome::Free(paid) => ok(paid),
    })
}

/// The checkout's proof: records the payment and enrolls the student, once (a retry,
/// or the gateway's webhook first, returns the same payment).
#[utoipa::path(
    tag = "payments",
    security(("bearer" = [])),
    request_body = VerifyPayment,
    responses(
        (status = 200, description = "Paid and enrolled", body = ApiResponse<VerifiedPayment>),
        (status = 400, description = "A signature that does not verify, or not your order (named)", body = crate::api::ErrorBody),
        (status = 402, description = "This server takes no payments", body = crate::api::ErrorBody),
        (status = 409, description = "The order was paid by another payment", body = crate::api::ErrorBody),
    )
)]
#[post("/payments/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    Json(body): Json<VerifyPayment>,
) -> Result<HttpResponse, ApiError> {
    let ip = client_ip(&req);
    Ok(ok(payments::verify(&state, &auth, &body, Some(&ip)).await?))
}

/// The gateway's webhook (Razorpay's shape), signed over the raw body in
/// `X-Razorpay-Signature`: `payment.captured` / `order.paid` settle the order,
/// `payment.failed` closes it, `refund.processed` / `refund.failed` settle a refund. A
/// replay changes nothing; a forged one is 400 and audited.
#[utoipa::path(
    tag = "payments",
    request_body(content = serde_json::Value, description = "The gateway's event"),
    params(("X-Razorpay-Signature" = String, Header, description = "Hex HMAC-SHA256 of the body with the webhook secret")),
    responses(
        (status = 200, description = "Handled (or ignored)", body = ApiResponse<GatewayWebhookResult>),
        (status = 400, description = "Missing or wrong signature, or not an event", body = crate::api::ErrorBody),
        (status = 402, description = "This server takes no payments", body = crate::api::ErrorBody),
    )
)]
#[post("/payments/webhook")]
pub async fn webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let signature = req
        .headers()
        .get("x-razorpay-signature")
        .and_then(|v| v.to_str().ok());
    let ip = client_ip(&req);
    Ok(ok(payments::gateway_webhook(
        &state,
        &body,
        signature,
        Some(&ip),
    )
    .await?))
}

/// The test gateway's checkout (development and the demo only): pays the caller's
/// order — or fails it — and hands back what `verify` takes; the gateway's webhook
/// follows on its own.
#[utoipa::path(
    tag = "payments",
    security(("bearer" = [])),
    request_body = TestCheckout,
    responses(
        (status = 200, description = "Paid (or failed)", body = ApiResponse<TestCheckoutResult>),
        (status = 400, description = "Not an open order of yours", body = crate::api::ErrorBody),
        (status = 404, description = "This server takes real payments", body = crate::api::ErrorBody),
    )
)]
#[post("/payments/test-checkout")]
pub async fn test_checkout(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<TestCheckout>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(payments::test_checkout(&state, &auth, &body).await?))
}

/// Payments, newest first: a student's own, a teacher's courses', an admin's all.
#[utoipa::path(
    tag = "payments",
    security(("bearer" = [])),
    params(PaymentFilter),
    responses(
        (status = 200, description = "A page of payments", body = ApiResponse<PaymentList>),
        (status = 403, description = "A parent", body = crate::api::ErrorBody),
    )
)]
#[get("/payments/history")]
pub async fn history_list(
    state: web::Data<AppState>,
    auth: AuthUser,
    filter: Query<PaymentFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(history::history(&state, &auth, &filter).await?))
}

/// Revenue by course and month, net of refunds: a teacher's courses, an admin's all.
/// `Accept: text/csv` answers CSV (cells escaped against formula injection).
#[utoipa::path(
    tag = "payments",
    security(("bearer" = [])),
    params(RevenueQuery),
    responses(
        (status = 200, description = "The report, as JSON or (`Accept: text/csv`) CSV", content(
            (ApiResponse<RevenueReport> = "application/json"),
            (String = "text/csv"),
        )),
        (status = 403, description = "Not a teacher or admin", body = crate::api::ErrorBody),
    )
)]
#[get("/payments/revenue")]
pub async fn revenue(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    query: Query<RevenueQuery>,
) -> Result<HttpResponse, ApiError> {
    let report = history::revenue(&state, &auth, &query).await?;
    if super::wants_csv(&req) {
        return super::csv_answer("revenue.csv", history::revenue_csv(&report)?);
    }
    Ok(ok(report))
}

/// One payment with its refunds.
#[utoipa::path(
    tag = "payments",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment id")),
    responses(
        (status = 200, description = "The payment", body = ApiResponse<Payment>),
        (status = 404, description = "No such payment of yours", body = crate::api::ErrorBody),
    )
)]
#[get("/payments/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(history::show(&state, &auth, id.into_inner()).await?))
}

/// Refunds a payment, wholly (no `amount`) or in part, with a reason: admins, and the
/// course's owner within the refund window. Never more than was paid, however often it
/// is retried; a full refund cancels the enrollment.
#[utoipa::path(
    tag = "payments",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment id")),
    request_body = NewRefund,
    responses(
        (status = 201, description = "Refunded (or PENDING the gateway's word)", body = ApiResponse<Refund>),
        (status = 400, description = "An amount above what is left, or no reason", body = crate::api::ErrorBody),
        (status = 403, description = "Not an admin or the owner within the window", body = crate::api::ErrorBody),
        (status = 404, description = "No such payment", body = crate::api::ErrorBody),
        (status = 409, description = "Wholly refunded already", body = crate::api::ErrorBody),
        (status = 422, description = "The gateway refused", body = crate::api::ErrorBody),
    )
)]
#[post("/payments/{id}/refund")]
pub async fn refund(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<NewRefund>,
) -> Result<HttpResponse, ApiError> {
    Ok(created(
        refunds::refund(&state, &auth, id.into_inner(), &body).await?,
    ))
}

/// A coupon: teachers for a course they teach, admins for any course or all.
#[utoipa::path(
    tag = "payments",
    security(("bearer" = [])),
    request_body = NewCoupon,
    responses(
        (status = 201, description = "Created", body = ApiResponse<Coupon>),
        (status = 400, description = "A field is invalid (named)", body = crate::api::ErrorBody),
        (status = 403, description = "Not a teacher of the course or an admin", body = crate::api::ErrorBody),
        (status = 409, description = "The code is taken", body = crate::api::ErrorBody),
    )
)]
#[post("/coupons")]
pub async fn create_coupon(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<NewCoupon>,
) -> Result<HttpResponse, ApiError> {
    Ok(created(coupons::create(&state, &auth, &body).await?))
}

/// Coupons, newest first: an admin's all, a teacher's those of their courses.
#[utoipa::path(
    tag = "payments",
    security(("bearer" = [])),
    params(CouponFilter),
    responses(
        (status = 200, description = "A page of coupons", body = ApiResponse<CouponList>),
        (status = 403, description = "Not a teacher or admin", body = crate::api::ErrorBody),
    )
)]
#[get("/coupons")]
pub async fn list_coupons(
    state: web::Data<AppState>,
    auth: AuthUser,
    filter: Query<CouponFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(coupons::list(&state, &auth, &filter).await?))
}

/// Switches a coupon off (orders already made keep their price) or on again.
#[utoipa::path(
    tag = "payments",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Coupon id")),
    request_body = CouponUpdate,
    responses(
        (status = 200, description = "Updated", body = ApiResponse<Coupon>),
        (status = 404, description = "No such coupon of yours", body = crate::api::ErrorBody),
    )
)]
#[patch("/coupons/{id}")]
pub async fn update_coupon(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<CouponUpdate>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        coupons::update(&state, &auth, id.into_inner(), &body).await?
    ))
}
