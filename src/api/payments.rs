//! `/payments/…` and `/coupons`: orders for paid courses (and the test gateway's
//! checkout), their verification, payment history, refunds, revenue and coupons.
//! Amounts are whole minor units (paise, cents).

use edupro_server::api::{
    Coupon, CouponFilter, CouponList, CouponUpdate, NewCoupon, NewOrder, NewRefund, Order,
    PageQuery, Payment, PaymentFilter, PaymentList, Refund, RevenueQuery, RevenueReport,
    TestCheckout, TestCheckoutResult, VerifiedPayment, VerifyPayment,
};
use serde_json::Value;
use uuid::Uuid;

use super::ApiClient;
use crate::error::{ClientError, Result};

/// What `POST /payments/create-order` answers: an order to pay (new or the open one),
/// or, when a coupon left nothing to pay, the enrollment it bought at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreatedOrder {
    Order(Box<Order>),
    Free(VerifiedPayment),
}

impl CreatedOrder {
    /// Tells an `Order` (`orderId`) from a `VerifiedPayment` (`paymentId`).
    fn from_data(data: Value) -> Result<Self> {
        let unexpected = |e: serde_json::Error| {
            ClientError::Other(anyhow::anyhow!(
                "unexpected answer to create-order ({e}); is it an EduPro+ server of the same version?"
            ))
        };
        if data.get("orderId").is_some() {
            Ok(Self::Order(Box::new(
                serde_json::from_value(data).map_err(unexpected)?,
            )))
        } else {
            Ok(Self::Free(
                serde_json::from_value(data).map_err(unexpected)?,
            ))
        }
    }
}

impl ApiClient {
    /// `POST /payments/create-order` (students): an order for a paid course, less the
    /// coupon.
    pub async fn create_order(&self, body: &NewOrder) -> Result<CreatedOrder> {
        let data: Value = self.post_json("/payments/create-order", body).await?;
        CreatedOrder::from_data(data)
    }

    /// `POST /payments/test-checkout`: the test gateway's checkout pays (or fails) the
    /// caller's order and hands back what `verify` takes. 404 on real gateways.
    pub async fn test_checkout(&self, body: &TestCheckout) -> Result<TestCheckoutResult> {
        self.post_json("/payments/test-checkout", body).await
    }

    /// `POST /payments/verify`: the checkout's proof; records the payment and enrolls.
    pub async fn verify_payment(&self, body: &VerifyPayment) -> Result<VerifiedPayment> {
        self.post_json("/payments/verify", body).await
    }

    /// `GET /payments/history`: page `at` of the payments `filter` matches (its own
    /// `page` and `limit` give way to `at`'s).
    pub async fn payments(&self, filter: &PaymentFilter, at: PageQuery) -> Result<PaymentList> {
        let query = PaymentFilter {
            page: at.page,
            limit: at.limit,
            ..filter.clone()
        };
        self.get("/payments/history", &query).await
    }

    /// `GET /payments/{id}`: one payment with its refunds.
    pub async fn payment(&self, id: Uuid) -> Result<Payment> {
        self.get(&format!("/payments/{id}"), &()).await
    }

    /// `POST /payments/{id}/refund` with `Idempotency-Key: key`: the same key never
    /// refunds twice, however often the request is retried.
    pub async fn refund_payment(&self, id: Uuid, body: &NewRefund, key: &str) -> Result<Refund> {
        self.post_json_with(
            &format!("/payments/{id}/refund"),
            body,
            &[("Idempotency-Key", key)],
        )
        .await
    }

    /// `GET /payments/revenue`: by course and month, net of refunds.
    pub async fn revenue(&self, query: &RevenueQuery) -> Result<RevenueReport> {
        self.get("/payments/revenue", query).await
    }

    /// `GET /payments/revenue` as the server's CSV (`Accept: text/csv`).
    pub async fn revenue_csv(&self, query: &RevenueQuery) -> Result<String> {
        self.get_text_with("/payments/revenue", query, &[("Accept", "text/csv")])
            .await
    }

    /// `POST /coupons`.
    pub async fn create_coupon(&self, body: &NewCoupon) -> Result<Coupon> {
        self.post_json("/coupons", body).await
    }

    /// `GET /coupons`: page `at` of the coupons `filter` matches.
    pub async fn coupons(&self, filter: &CouponFilter, at: PageQuery) -> Result<CouponList> {
        let query = CouponFilter {
            page: at.page,
            limit: at.limit,
            ..filter.clone()
        };
        self.get("/coupons", &query).await
    }

    /// `PATCH /coupons/{id}`: switch a coupon off, or on again.
    pub async fn set_coupon_active(&self, id: Uuid, active: bool) -> Result<Coupon> {
        self.patch(&format!("/coupons/{id}"), &(), &CouponUpdate { active })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_and_a_free_enrollment_are_told_apart() {
        let free = serde_json::json!({
            "paymentId": "0193a1b2-0000-7000-8000-000000000001",
            "gatewayPaymentId": "free_1",
            "status": "SUCCESS",
            "enrollmentId": "0193a1b2-0000-7000-8000-000000000002",
            "courseId": "0193a1b2-0000-7000-8000-000000000003",
            "amount": 0,
            "currency": "INR",
        });
        assert!(matches!(
            CreatedOrder::from_data(free).unwrap(),
            CreatedOrder::Free(_)
        ));
        let junk = serde_json::json!({ "orderId": 3 });
        assert!(CreatedOrder::from_data(junk).is_err());
    }
}
