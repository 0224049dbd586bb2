//! Payments: orders for paid courses, their verification, refunds, coupons and revenue.
//! Amounts are whole minor units (paise, cents) of the course's currency.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Pagination, PersonRef};

wire_enum!(
    /// Who takes the money: Razorpay, or the built-in test gateway (development and the
    /// demo only; refused in production).
    GatewayKind { Razorpay = "RAZORPAY", Test = "TEST" }
);

wire_enum!(
    /// CREATED (waiting for the payment) → PAID, or EXPIRED / FAILED (its coupon use is
    /// given back).
    OrderStatus { Created = "CREATED", Paid = "PAID", Expired = "EXPIRED", Failed = "FAILED" }
);

wire_enum!(
    /// A captured payment, and how much of it was refunded.
    PaymentStatus {
        Success = "SUCCESS",
        PartiallyRefunded = "PARTIALLY_REFUNDED",
        Refunded = "REFUNDED"
    }
);

wire_enum!(
    /// PENDING (asked of the gateway) → PROCESSED, or FAILED (the amount is refundable
    /// again).
    RefundStatus { Pending = "PENDING", Processed = "PROCESSED", Failed = "FAILED" }
);

wire_enum!(
    /// A coupon takes a percentage or a fixed amount off.
    CouponKind { Percent = "PERCENT", Fixed = "FIXED" }
);

wire_enum!(
    /// The outcome the test gateway's checkout plays out.
    TestOutcome { Success = "success", Failure = "failure" }
);

/// `POST /payments/create-order`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewOrder {
    pub course_id: Uuid,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 40))]
    pub coupon_code: Option<String>,
}

/// An order: what the student pays, and what the checkout needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// The gateway's order id (`order_…`): what the checkout and `verify` name.
    pub order_id: String,
    pub id: Uuid,
    pub course_id: Uuid,
    pub course_title: String,
    /// To pay, after the coupon.
    pub amount: i64,
    /// The course's price before the coupon.
    pub list_price: i64,
    pub discount: i64,
    pub currency: String,
    pub coupon_code: Option<String>,
    pub payment_gateway: GatewayKind,
    /// The gateway's public key for the checkout.
    pub key: String,
    pub status: OrderStatus,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The 200 answer of `create-order`: the open order returned again, or — when a coupon
/// left nothing to pay — the payment of nothing that enrolled the student.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum OrderAnswer {
    Order(Order),
    Paid(VerifiedPayment),
}

/// `POST /payments/verify`: what the checkout handed back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyPayment {
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 100))]
    pub order_id: String,
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 100))]
    pub payment_id: String,
    /// Hex HMAC-SHA256 of `orderId|paymentId` with the gateway's key secret.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 200))]
    pub signature: String,
    pub course_id: Uuid,
}

/// A verified payment and the enrollment it bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerifiedPayment {
    pub payment_id: Uuid,
    pub gateway_payment_id: String,
    pub status: PaymentStatus,
    pub enrollment_id: Uuid,
    pub course_id: Uuid,
    pub amount: i64,
    pub currency: String,
}

/// `POST /payments/test-checkout`: the test gateway's stand-in for the checkout page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestCheckout {
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 100))]
    pub order_id: String,
    /// `success` (default) or `failure`.
    #[serde(default)]
    pub outcome: Option<TestOutcome>,
}

/// What the test checkout hands back: the fields `verify` takes. The gateway's
/// webhook follows on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TestCheckoutResult {
    pub order_id: String,
    /// Empty when the outcome was a failure.
    pub payment_id: String,
    pub signature: String,
    pub outcome: TestOutcome,
}

/// A refund of (part of) a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    pub refund_id: Uuid,
    pub payment_id: Uuid,
    pub amount: i64,
    pub currency: String,
    pub status: RefundStatus,
    pub reason: String,
    pub gateway_refund_id: Option<String>,
    pub refunded_by: Option<PersonRef>,
    pub created_at: DateTime<Utc>,
}

/// A payment as lists and `show` give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: Uuid,
    pub order_id: String,
    pub gateway_payment_id: String,
    pub gateway: GatewayKind,
    pub course_id: Uuid,
    pub course_title: String,
    pub student: PersonRef,
    pub amount: i64,
    pub refunded: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub coupon_code: Option<String>,
    pub enrollment_id: Option<Uuid>,
    pub paid_at: DateTime<Utc>,
    /// Only in `GET /payments/{id}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<Refund>,
}

/// A page of payments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PaymentList {
    pub payments: Vec<Payment>,
    pub pagination: Pagination,
}

/// `GET /payments/history`: a student sees theirs, a teacher their courses', an admin
/// all; the filters narrow that.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentFilter {
    pub page: Option<u64>,
    pub limit: Option<u64>,
    pub course_id: Option<Uuid>,
    pub student_id: Option<Uuid>,
    pub status: Option<PaymentStatus>,
    /// Paid on or after this day (UTC).
    pub from: Option<NaiveDate>,
    /// Paid on or before this day (UTC).
    pub to: Option<NaiveDate>,
}

/// `POST /payments/{id}/refund`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRefund {
    /// Minor units; the whole remaining amount when absent.
    #[serde(default)]
    #[cfg_attr(
        feature = "server",
        schema(minimum = 1, maximum = 1_000_000_000_000_i64)
    )]
    pub amount: Option<i64>,
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 500))]
    pub reason: String,
}

/// `POST /coupons`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewCoupon {
    /// Letters, digits, `-` and `_`; matched ignoring case.
    #[cfg_attr(feature = "server", schema(min_length = 3, max_length = 40))]
    pub code: String,
    pub kind: CouponKind,
    /// PERCENT: 1–100; FIXED: minor units of `currency`.
    #[cfg_attr(
        feature = "server",
        schema(minimum = 1, maximum = 1_000_000_000_000_i64)
    )]
    pub value: i64,
    /// FIXED coupons only: the currency of `value` (the course's, INR by default).
    #[serde(default)]
    pub currency: Option<String>,
    /// Only this course (required for teachers).
    #[serde(default)]
    pub course_id: Option<Uuid>,
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub valid_until: Option<DateTime<Utc>>,
    /// Uses in all; unlimited when absent.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 1_000_000_000_i64))]
    pub max_uses: Option<i64>,
    /// Uses per student [default: 1].
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 1000))]
    pub per_student_limit: Option<i32>,
}

/// A coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Coupon {
    pub id: Uuid,
    pub code: String,
    pub kind: CouponKind,
    pub value: i64,
    pub currency: Option<String>,
    pub course_id: Option<Uuid>,
    pub course_title: Option<String>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub max_uses: Option<i64>,
    pub per_student_limit: i32,
    /// Uses held by open orders and payments.
    pub used: i64,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// A page of coupons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CouponList {
    pub coupons: Vec<Coupon>,
    pub pagination: Pagination,
}

/// `GET /coupons`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CouponFilter {
    pub page: Option<u64>,
    pub limit: Option<u64>,
    pub course_id: Option<Uuid>,
}

/// `GET /payments/revenue`: by course and month, for the course's staff and admins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevenueQuery {
    pub course_id: Option<Uuid>,
    /// Paid on or after this day (UTC).
    pub from: Option<NaiveDate>,
    /// Paid on or before this day (UTC).
    pub to: Option<NaiveDate>,
}

/// One course's takings in one month (UTC) and currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RevenueRow {
    /// `2026-12`.
    pub month: String,
    pub course_id: Uuid,
    pub course_title: String,
    pub currency: String,
    pub payments: i64,
    pub gross: i64,
    pub refunded: i64,
    pub net: i64,
}

/// Totals of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RevenueTotal {
    pub currency: String,
    pub payments: i64,
    pub gross: i64,
    pub refunded: i64,
    pub net: i64,
}

/// Revenue by course and month, newest month first, net of refunds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RevenueReport {
    pub rows: Vec<RevenueRow>,
    pub totals: Vec<RevenueTotal>,
}

/// `PATCH /coupons/{id}`: switch a coupon off (or on again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CouponUpdate {
    pub active: bool,
}

/// What the server did with a gateway's webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GatewayWebhookResult {
    /// The gateway's event name (`payment.captured`).
    pub event: String,
    /// `settled`, `already settled`, `failed`, `refund settled`, `ignored`, …
    pub outcome: String,
}
