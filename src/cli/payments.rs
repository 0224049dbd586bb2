//! `edupro payments list|show|refund` and `edupro revenue`: payments for paid courses
//! (a student's own, a teacher's courses', an admin's all), refunds, and revenue by
//! course and month. Amounts are typed as amounts of the currency (`12.50`) and shown
//! as `INR 499.00`; `--json` prints the wire's minor units (paise, cents) unchanged.

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use edupro_server::api::{
    NewRefund, Payment, PaymentFilter, PaymentList, PaymentStatus, PersonRef, Refund, RevenueQuery,
    RevenueReport, RevenueRow, RevenueTotal,
};
use uuid::Uuid;

use super::Context;
use super::confirm::{self, YesArg};
use super::courses::{money, parse_amount};
use super::keys;
use super::paging::all_pages;
use crate::error::Result;
use crate::output::Format;
use crate::when::Zone;

const LIST_EXAMPLES: &str = "\
Examples:
  # Your payments (students), your courses' (teachers), everyone's (admins)
  $ edupro payments list

  # One course's refunded payments in December
  $ edupro payments list --course intro-to-rust --status REFUNDED \\
      --since 2026-12-01 --until 2026-12-31

  # The ids of one student's payments
  $ edupro payments list --student sam@school.test --jq '.[].id'";

const REFUND_EXAMPLES: &str = "\
Examples:
  # All that is left of the payment (a full refund cancels the enrollment)
  $ edupro payments refund 0193a1b2-0000-7000-8000-000000000001 --reason \"Bought twice\"

  # Part of it: 12.50 of the currency (INR 12.50), without being asked
  $ edupro payments refund 0193a1b2-0000-7000-8000-000000000001 --amount 12.50 \\
      --reason \"Goodwill\" --yes";

pub const REVENUE_EXAMPLES: &str = "\
Examples:
  # Every course you may see, by month, with totals per currency
  $ edupro revenue

  # One course this year, as the server's CSV
  $ edupro revenue --course intro-to-rust --since 2026-01-01 --csv

  # The net of every month, as JSON
  $ edupro revenue --jq '.rows[] | [.month, .net]'";

/// `edupro payments …`.
#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// Payments, newest first: yours (students), your courses' (teachers), all
    /// (admins); all pages unless --limit.
    #[command(after_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// A payment and its refunds.
    Show {
        /// The payment's id (`edupro payments list`).
        id: Uuid,
    },
    /// Refund a payment, wholly or in part (admins; a course's owner within the refund
    /// window). Asks first (--yes to skip).
    #[command(after_help = REFUND_EXAMPLES)]
    Refund(RefundArgs),
}

/// Filters of `payments list` (those of `GET /payments/history`).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this course's: id, slug or SIS course_id.
    #[arg(long)]
    pub course: Option<String>,
    /// Only this student's: id, email or SIS user_id (teachers and admins).
    #[arg(long)]
    pub student: Option<String>,
    /// SUCCESS, PARTIALLY_REFUNDED or REFUNDED.
    #[arg(long)]
    pub status: Option<PaymentStatus>,
    /// Paid on or after this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    pub since: Option<NaiveDate>,
    /// Paid on or before this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    pub until: Option<NaiveDate>,
    /// At most this many payments.
    #[arg(long)]
    pub limit: Option<u64>,
}

/// Options of `payments refund`.
#[derive(Debug, Args)]
pub struct RefundArgs {
    /// The payment's id.
    pub id: Uuid,
    /// How much, as an amount of the payment's currency (`12.50` is INR 12.50, not
    /// paise) [default: all that is left].
    #[arg(long, value_parser = parse_amount, value_name = "AMOUNT")]
    pub amount: Option<i64>,
    /// Why (1-500 characters; kept with the refund).
    #[arg(long)]
    pub reason: String,
    /// The request's Idempotency-Key: run the command again with the same key and the
    /// server answers the first refund again instead of refunding twice [default: a
    /// fresh UUID].
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    #[command(flatten)]
    pub yes: YesArg,
}

/// `edupro revenue`.
#[derive(Debug, Args)]
pub struct RevenueArgs {
    /// Only this course: id, slug or SIS course_id.
    #[arg(long)]
    pub course: Option<String>,
    /// Paid on or after this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    pub since: Option<NaiveDate>,
    /// Paid on or before this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    pub until: Option<NaiveDate>,
}

fn name(p: &PersonRef) -> String {
    format!("{} {}", p.first_name, p.last_name)
}

const HEADERS: [&str; 8] = [
    "ID", "PAID", "STUDENT", "COURSE", "AMOUNT", "REFUNDED", "STATUS", "COUPON",
];

fn row(p: &Payment, zone: Zone) -> Vec<String> {
    vec![
        p.id.to_string(),
        zone.format(p.paid_at),
        name(&p.student),
        p.course_title.clone(),
        money(p.amount, &p.currency),
        money(p.refunded, &p.currency),
        p.status.to_string(),
        p.coupon_code.clone().unwrap_or_default(),
    ]
}

fn payment_fields(p: &Payment, zone: Zone) -> Vec<(&'static str, String)> {
    vec![
        ("id", p.id.to_string()),
        ("status", p.status.to_string()),
        ("amount", money(p.amount, &p.currency)),
        ("refunded", money(p.refunded, &p.currency)),
        ("course", format!("{} ({})", p.course_title, p.course_id)),
        (
            "student",
            format!("{} ({})", name(&p.student), p.student.id),
        ),
        ("coupon", p.coupon_code.clone().unwrap_or_default()),
        ("paid", zone.format_with_zone(p.paid_at)),
        ("gateway", p.gateway.to_string()),
        ("order", p.order_id.clone()),
        ("gateway payment", p.gateway_payment_id.clone()),
        (
            "enrollment",
            p.enrollment_id.map(|e| e.to_string()).unwrap_or_default(),
        ),
    ]
}

const REFUND_HEADERS: [&str; 6] = ["REFUND", "WHEN", "AMOUNT", "STATUS", "BY", "REASON"];

fn refund_row(r: &Refund, zone: Zone) -> Vec<String> {
    vec![
        r.refund_id.to_string(),
        zone.format(r.created_at),
        money(r.amount, &r.currency),
        r.status.to_string(),
        r.refunded_by.as_ref().map(name).unwrap_or_default(),
        r.reason.clone(),
    ]
}

fn refund_fields(r: &Refund, zone: Zone) -> Vec<(&'static str, String)> {
    vec![
        ("refund", r.refund_id.to_string()),
        ("payment", r.payment_id.to_string()),
        ("amount", money(r.amount, &r.currency)),
        ("status", r.status.to_string()),
        ("reason", r.reason.clone()),
        (
            "gateway refund",
            r.gateway_refund_id.clone().unwrap_or_default(),
        ),
        ("when", zone.format_with_zone(r.created_at)),
    ]
}

/// Runs `edupro payments …`.
pub async fn run(ctx: &Context, command: PaymentsCommand) -> Result<()> {
    match command {
        PaymentsCommand::List(args) => list(ctx, args).await,
        PaymentsCommand::Show { id } => {
            let client = ctx.client()?;
            let payment = client.payment(id).await?;
            crate::output::print(
                ctx.out
                    .record(&payment, &payment_fields(&payment, ctx.zone))?,
            )?;
            if matches!(ctx.out.format, Format::Table | Format::Plain) {
                if payment.refunds.is_empty() {
                    ctx.out.note("No refunds.");
                } else {
                    crate::output::print("\n")?;
                    crate::output::print(ctx.out.list(
                        &payment.refunds,
                        &REFUND_HEADERS,
                        |r| refund_row(r, ctx.zone),
                    )?)?;
                }
            }
            Ok(())
        }
        PaymentsCommand::Refund(args) => refund(ctx, args).await,
    }
}

async fn list(ctx: &Context, args: ListArgs) -> Result<()> {
    let client = ctx.client()?;
    let course_id = match &args.course {
        Some(course) => Some(keys::course(&client, course).await?),
        None => None,
    };
    let student_id = match &args.student {
        Some(student) => Some(keys::user(&client, student).await?),
        None => None,
    };
    let filter = PaymentFilter {
        course_id,
        student_id,
        status: args.status,
        from: args.since,
        to: args.until,
        ..PaymentFilter::default()
    };
    let payments =
        all_pages::<PaymentList, _, _>(args.limit, |at| client.payments(&filter, at)).await?;
    crate::output::print(ctx.out.list(&payments, &HEADERS, |p| row(p, ctx.zone))?)?;
    Ok(())
}

async fn refund(ctx: &Context, args: RefundArgs) -> Result<()> {
    let ask = confirm::must_ask(args.yes, "refund the payment")?;
    let client = ctx.client()?;
    if ask {
        let p = client.payment(args.id).await?;
        let left = p.amount - p.refunded;
        let amount = args.amount.unwrap_or(left);
        let whole = amount >= left;
        confirm::ask(&format!(
            "Refund {} of {}'s payment of {} for \"{}\"{}?",
            money(amount, &p.currency),
            name(&p.student),
            money(p.amount, &p.currency),
            p.course_title,
            if whole {
                "; their enrollment is cancelled"
            } else {
                ""
            },
        ))?;
    }
    let key = args
        .idempotency_key
        .clone()
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    let body = NewRefund {
        amount: args.amount,
        reason: args.reason,
    };
    let refund = client.refund_payment(args.id, &body, &key).await?;
    crate::output::print(ctx.out.record(&refund, &refund_fields(&refund, ctx.zone))?)?;
    Ok(())
}

const REVENUE_HEADERS: [&str; 6] = ["MONTH", "COURSE", "PAYMENTS", "GROSS", "REFUNDED", "NET"];

fn revenue_row(r: &RevenueRow) -> Vec<String> {
    vec![
        r.month.clone(),
        r.course_title.clone(),
        r.payments.to_string(),
        money(r.gross, &r.currency),
        money(r.refunded, &r.currency),
        money(r.net, &r.currency),
    ]
}

const TOTAL_HEADERS: [&str; 5] = ["TOTAL", "PAYMENTS", "GROSS", "REFUNDED", "NET"];

fn total_row(t: &RevenueTotal) -> Vec<String> {
    vec![
        t.currency.clone(),
        t.payments.to_string(),
        money(t.gross, &t.currency),
        money(t.refunded, &t.currency),
        money(t.net, &t.currency),
    ]
}

/// Runs `edupro revenue`.
pub async fn revenue(ctx: &Context, args: RevenueArgs) -> Result<()> {
    let client = ctx.client()?;
    let course_id = match &args.course {
        Some(course) => Some(keys::course(&client, course).await?),
        None => None,
    };
    let query = RevenueQuery {
        course_id,
        from: args.since,
        to: args.until,
    };
    match ctx.out.format {
        // The server's CSV: the same columns it exports everywhere.
        Format::Csv => crate::output::print(client.revenue_csv(&query).await?)?,
        Format::Json => {
            let report: RevenueReport = client.revenue(&query).await?;
            crate::output::print(ctx.out.json(&report)?)?;
        }
        Format::Plain => {
            let report = client.revenue(&query).await?;
            crate::output::print(ctx.out.list(&report.rows, &REVENUE_HEADERS, revenue_row)?)?;
        }
        Format::Table => {
            let report = client.revenue(&query).await?;
            if report.rows.is_empty() {
                ctx.out.note("No payments yet.");
                return Ok(());
            }
            crate::output::print(ctx.out.list(&report.rows, &REVENUE_HEADERS, revenue_row)?)?;
            crate::output::print(ctx.out.list(&report.totals, &TOTAL_HEADERS, total_row)?)?;
        }
    }
    Ok(())
}
