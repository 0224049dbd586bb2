//! `edupro enroll COURSE` and `edupro buy COURSE`: a student joins a course. A free
//! course enrolls at once; a paid one (the server's 402) is bought: an order (less the
//! coupon) is made, its price shown and confirmed, then paid. On a server with the
//! built-in test gateway the CLI plays the checkout and verifies the payment; with
//! Razorpay it prints the order for Razorpay's checkout page, and the gateway's webhook
//! enrolls the student once paid.

use clap::Args;
use edupro_server::api::{
    GatewayKind, NewEnrollment, NewOrder, Order, TestCheckout, TestOutcome, VerifiedPayment,
    VerifyPayment,
};

use super::Context;
use super::confirm::{self, YesArg};
use super::courses::money;
use super::keys;
use crate::api::{ApiClient, CreatedOrder};
use crate::error::{ClientError, Result};
use crate::output::Format;

pub const ENROLL_EXAMPLES: &str = "\
Examples:
  # A free course enrolls at once; a paid one shows its price and asks to buy it
  $ edupro enroll intro-to-rust

  # A paid course with a coupon, without being asked
  $ edupro enroll data-science --coupon WELCOME20 --yes";

pub const BUY_EXAMPLES: &str = "\
Examples:
  $ edupro buy data-science
  $ edupro buy data-science --coupon WELCOME20 --yes

  # The payment as JSON (minor units: 39920 is INR 399.20)
  $ edupro buy data-science --yes --json";

/// `edupro enroll` and `edupro buy`.
#[derive(Debug, Args)]
pub struct BuyArgs {
    /// The course: id, slug or SIS course_id.
    pub course: String,
    /// A coupon code for a paid course.
    #[arg(long, value_name = "CODE")]
    pub coupon: Option<String>,
    /// Buy without being asked (needed when standard input is not a terminal).
    #[command(flatten)]
    pub yes: YesArg,
}

/// Runs `edupro enroll`: free courses enroll at once, paid ones are bought.
pub async fn enroll(ctx: &Context, args: BuyArgs) -> Result<()> {
    let client = ctx.client()?;
    let course_id = keys::course(&client, &args.course).await?;
    let body = NewEnrollment {
        course_id,
        payment_id: None,
    };
    match client.enroll(&body).await {
        Ok(e) => {
            if args.coupon.is_some() {
                ctx.out.note("The course is free; the coupon was not used.");
            }
            let fields = [
                ("enrollment", e.enrollment_id.to_string()),
                ("course", e.course_id.to_string()),
                ("status", e.status.to_string()),
                ("enrolled", ctx.zone.format_with_zone(e.enrolled_at)),
            ];
            crate::output::print(ctx.out.record(&e, &fields)?)?;
            Ok(())
        }
        Err(ClientError::Api {
            status: 402,
            message,
            ..
        }) => {
            // Only the first sentence: the rest names the API for other clients.
            let first = message.split(';').next().unwrap_or(&message);
            ctx.out.note(&format!("{first}."));
            purchase(ctx, &client, course_id, args).await
        }
        Err(err) => Err(err),
    }
}

/// Runs `edupro buy`.
pub async fn buy(ctx: &Context, args: BuyArgs) -> Result<()> {
    let client = ctx.client()?;
    let course_id = keys::course(&client, &args.course).await?;
    purchase(ctx, &client, course_id, args).await
}

/// Orders `course_id`, shows the price, asks, and pays (see the module doc).
async fn purchase(
    ctx: &Context,
    client: &ApiClient,
    course_id: uuid::Uuid,
    args: BuyArgs,
) -> Result<()> {
    let ask = confirm::must_ask(args.yes, "buy the course")?;
    let body = NewOrder {
        course_id,
        coupon_code: args.coupon.clone(),
    };
    let order = match client.create_order(&body).await? {
        // The coupon covered the whole price: enrolled already, nothing to pay.
        CreatedOrder::Free(paid) => return print_paid(ctx, &paid, &args.course),
        CreatedOrder::Order(order) => order,
    };
    ctx.out.note(&summary(&order));
    if ask {
        confirm::ask(&format!(
            "Pay {} for \"{}\"?",
            money(order.amount, &order.currency),
            order.course_title
        ))?;
    }
    match order.payment_gateway {
        GatewayKind::Test => {
            let checkout = client
                .test_checkout(&TestCheckout {
                    order_id: order.order_id.clone(),
                    outcome: Some(TestOutcome::Success),
                })
                .await?;
            if checkout.outcome != TestOutcome::Success || checkout.payment_id.is_empty() {
                return Err(ClientError::Other(anyhow::anyhow!(
                    "the test gateway's checkout failed for order {}; nothing was charged",
                    order.order_id
                )));
            }
            let paid = client
                .verify_payment(&VerifyPayment {
                    order_id: checkout.order_id,
                    payment_id: checkout.payment_id,
                    signature: checkout.signature,
                    course_id,
                })
                .await?;
            print_paid(ctx, &paid, &order.course_title)
        }
        GatewayKind::Razorpay => {
            if matches!(ctx.out.format, Format::Json) {
                crate::output::print(ctx.out.json(order.as_ref())?)?;
            } else {
                let fields = [
                    ("order", order.order_id.clone()),
                    ("key", order.key.clone()),
                    ("amount", money(order.amount, &order.currency)),
                    ("course", order.course_title.clone()),
                    ("expires", ctx.zone.format_with_zone(order.expires_at)),
                ];
                crate::output::print(ctx.out.record(order.as_ref(), &fields)?)?;
            }
            ctx.out.note(
                "Complete the payment in Razorpay's checkout page with this order id and key; \
                 you are enrolled as soon as Razorpay reports it paid.",
            );
            Ok(())
        }
    }
}

/// The order's lines before the question: the course, its price, the discount, the total.
fn summary(order: &Order) -> String {
    let mut lines = vec![
        format!("Course:   {}", order.course_title),
        format!("Price:    {}", money(order.list_price, &order.currency)),
    ];
    if order.discount > 0 {
        let coupon = order
            .coupon_code
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        lines.push(format!(
            "Discount: -{}{coupon}",
            money(order.discount, &order.currency)
        ));
    }
    lines.push(format!(
        "Total:    {}",
        money(order.amount, &order.currency)
    ));
    lines.join("\n")
}

/// The payment: JSON/CSV as a record, else `Paid INR 399.00 for …; you are enrolled.`
fn print_paid(ctx: &Context, paid: &VerifiedPayment, course: &str) -> Result<()> {
    match ctx.out.format {
        Format::Json | Format::Csv => {
            let fields = [
                ("payment", paid.payment_id.to_string()),
                ("status", paid.status.to_string()),
                ("amount", money(paid.amount, &paid.currency)),
                ("enrollment", paid.enrollment_id.to_string()),
                ("course", paid.course_id.to_string()),
            ];
            crate::output::print(ctx.out.record(paid, &fields)?)?;
        }
        Format::Table | Format::Plain => {
            crate::output::print(format!(
                "Paid {} for {course}; you are enrolled.\n",
                money(paid.amount, &paid.currency)
            ))?;
            ctx.out.note(&format!(
                "Payment {} (edupro payments show).",
                paid.payment_id
            ));
        }
    }
    Ok(())
}
