//! The demo's sales: "Rust for Beginners" costs INR 499.00, a WELCOME20 coupon takes
//! 20 % off it, and a demo student buys it with the coupon through the server's test
//! gateway (create-order → test-checkout → verify), so payments and revenue show a sale.
//! Each step once: a priced course, an existing coupon and a course with payments are
//! left as they are. On a server with a real gateway (or none) the sale is skipped.

use edupro_server::api::{
    CouponFilter, CouponKind, CourseFilter, GatewayKind, NewCoupon, NewOrder, PaymentFilter,
    TestCheckout, TestOutcome, UpdateCourse, VerifyPayment,
};

use super::{DEMO_DOMAIN, SeedReport};
use crate::api::{self, ApiClient, CreatedOrder};
use crate::error::{ClientError, Result};

/// The course that is sold.
const PAID_COURSE: &str = "Rust for Beginners";
/// INR 499.00.
pub const PRICE: i64 = 49_900;
/// The demo's coupon: 20 % off [`PAID_COURSE`].
pub const COUPON: &str = "WELCOME20";

/// The student who buys: the first one not enrolled by the teacher.
pub fn buyer() -> String {
    format!("student7@{DEMO_DOMAIN}")
}

/// Prices [`PAID_COURSE`], adds [`COUPON`] and sells the course once (see the module doc).
pub(super) async fn seed_demo_sales(teacher: &ApiClient) -> Result<SeedReport> {
    let mut report = SeedReport::default();
    let me = teacher.me().await?;
    let filter = CourseFilter {
        creator: Some(me.id),
        search: Some(PAID_COURSE.into()),
        ..CourseFilter::default()
    };
    let Some(course) = teacher
        .courses(&filter, api::DEFAULT_PAGE)
        .await?
        .courses
        .into_iter()
        .find(|c| c.title == PAID_COURSE)
    else {
        return Ok(report);
    };
    let key = course.id.to_string();

    if course.is_free {
        let body = UpdateCourse {
            price: Some(PRICE),
            currency: Some("INR".into()),
            is_free: Some(false),
            ..UpdateCourse::default()
        };
        teacher.update_course(&key, &body).await?;
        report.created += 1;
    } else {
        report.unchanged += 1;
    }

    let coupons = teacher
        .coupons(
            &CouponFilter {
                course_id: Some(course.id),
                ..CouponFilter::default()
            },
            api::first(100),
        )
        .await?;
    if coupons
        .coupons
        .iter()
        .any(|c| c.code.eq_ignore_ascii_case(COUPON))
    {
        report.unchanged += 1;
    } else {
        let body = NewCoupon {
            code: COUPON.into(),
            kind: CouponKind::Percent,
            value: 20,
            currency: None,
            course_id: Some(course.id),
            valid_from: None,
            valid_until: None,
            max_uses: None,
            per_student_limit: None,
        };
        match teacher.create_coupon(&body).await {
            Ok(_) => report.created += 1,
            // The code is taken (by another course's coupon): the demo makes do.
            Err(ClientError::Api { status: 409, .. }) => report.unchanged += 1,
            Err(err) => return Err(err),
        }
    }

    let sold = teacher
        .payments(
            &PaymentFilter {
                course_id: Some(course.id),
                ..PaymentFilter::default()
            },
            api::first(1),
        )
        .await?;
    if sold.pagination.total > 0 {
        report.unchanged += 1;
        return Ok(report);
    }
    let Some(session) = super::demo_session(&teacher.server, &buyer()).await? else {
        return Ok(report);
    };
    let student = ApiClient::with_token(&teacher.server, &session.access_token)?;
    let order = NewOrder {
        course_id: course.id,
        coupon_code: Some(COUPON.into()),
    };
    let order = match student.create_order(&order).await {
        Ok(CreatedOrder::Order(order)) => order,
        Ok(CreatedOrder::Free(_)) => {
            report.created += 1;
            return Ok(report);
        }
        // No payments on this server, the coupon is someone else's, or the student is
        // enrolled already: no sale to make.
        Err(ClientError::Api {
            status: 400 | 402 | 409,
            ..
        }) => return Ok(report),
        Err(err) => return Err(err),
    };
    if order.payment_gateway != GatewayKind::Test {
        return Ok(report);
    }
    let checkout = student
        .test_checkout(&TestCheckout {
            order_id: order.order_id.clone(),
            outcome: Some(TestOutcome::Success),
        })
        .await?;
    student
        .verify_payment(&VerifyPayment {
            order_id: checkout.order_id,
            payment_id: checkout.payment_id,
            signature: checkout.signature,
            course_id: course.id,
        })
        .await?;
    report.created += 1;
    Ok(report)
}
