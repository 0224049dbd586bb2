//! `edupro coupons create|list|disable|enable`: codes that take a percentage or an
//! amount off a course's price (teachers for the courses they teach, admins for any
//! course or all).

use chrono::{DateTime, NaiveDate, Utc};
use clap::{ArgGroup, Args, Subcommand};
use edupro_server::api::{Coupon, CouponFilter, CouponKind, CouponList, NewCoupon};
use uuid::Uuid;

use super::Context;
use super::courses::{money, parse_amount};
use super::keys;
use super::paging::all_pages;
use crate::error::{ClientError, Result};
use crate::when::Zone;

const CREATE_EXAMPLES: &str = "\
Examples:
  # 20 % off one course, for the first 100 buyers
  $ edupro coupons create --code WELCOME20 --percent 20 --course intro-to-rust --max-uses 100

  # INR 50.00 off any course (admins), during December
  $ edupro coupons create --code DEC50 --amount 50 --currency INR \\
      --from 2026-12-01 --until 2026-12-31";

/// `edupro coupons …`.
#[derive(Debug, Subcommand)]
pub enum CouponsCommand {
    /// Create a coupon: --percent or --amount off.
    #[command(after_help = CREATE_EXAMPLES)]
    Create(CreateArgs),
    /// Coupons, newest first (all pages unless --limit).
    List {
        /// Only this course's: id, slug or SIS course_id.
        #[arg(long)]
        course: Option<String>,
        /// At most this many coupons.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Switch a coupon off: it no longer applies to new orders (open ones keep their
    /// price).
    Disable {
        /// The coupon's id (`edupro coupons list`).
        id: Uuid,
    },
    /// Switch a disabled coupon on again.
    Enable {
        /// The coupon's id.
        id: Uuid,
    },
}

/// Options of `coupons create`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("off").required(true).args(["percent", "amount"])))]
pub struct CreateArgs {
    /// The code buyers type: 3-40 letters, digits, `-` and `_` (matched ignoring case).
    #[arg(long)]
    pub code: String,
    /// A percentage off, 1-100.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=100))]
    pub percent: Option<i64>,
    /// An amount off, in the currency (`50` or `49.50`, not paise).
    #[arg(long, value_parser = parse_amount, value_name = "AMOUNT")]
    pub amount: Option<i64>,
    /// The currency of --amount [default: the course's, else INR].
    #[arg(long, requires = "amount")]
    pub currency: Option<String>,
    /// Only this course: id, slug or SIS course_id (required for teachers).
    #[arg(long)]
    pub course: Option<String>,
    /// Valid from: `2026-12-01` (the day's start) or `2026-12-01 09:00`, in --tz.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Valid until: `2026-12-31` (the day's end) or `2026-12-31 18:00`, in --tz.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Uses in all [default: unlimited].
    #[arg(long, value_name = "N")]
    pub max_uses: Option<i64>,
    /// Uses per student [default: 1].
    #[arg(long, value_name = "N")]
    pub per_student: Option<i32>,
}

/// `text` as an instant in `zone`: a date and time, or a bare date (its start, or with
/// `end` its last second).
fn instant(zone: Zone, flag: &str, text: &str, end: bool) -> Result<DateTime<Utc>> {
    if let Ok(day) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Ok(if end {
            let next = day.succ_opt().unwrap_or(day);
            zone.start_of(next) - chrono::Duration::seconds(1)
        } else {
            zone.start_of(day)
        });
    }
    zone.parse(text)
        .map_err(|e| ClientError::Usage(format!("{flag}: {e}")))
}

/// `20%` or `INR 50.00`.
pub fn off_text(c: &Coupon) -> String {
    match c.kind {
        CouponKind::Percent => format!("{}%", c.value),
        CouponKind::Fixed => money(c.value, c.currency.as_deref().unwrap_or("INR")),
    }
}

const HEADERS: [&str; 8] = [
    "ID",
    "CODE",
    "OFF",
    "COURSE",
    "VALID",
    "USED",
    "PER STUDENT",
    "ACTIVE",
];

fn valid_text(c: &Coupon, zone: Zone) -> String {
    match (c.valid_from, c.valid_until) {
        (None, None) => "always".into(),
        (Some(from), None) => format!("from {}", zone.format(from)),
        (None, Some(until)) => format!("until {}", zone.format(until)),
        (Some(from), Some(until)) => format!("{} – {}", zone.format(from), zone.format(until)),
    }
}

fn used_text(c: &Coupon) -> String {
    match c.max_uses {
        Some(max) => format!("{}/{max}", c.used),
        None => c.used.to_string(),
    }
}

fn row(c: &Coupon, zone: Zone) -> Vec<String> {
    vec![
        c.id.to_string(),
        c.code.clone(),
        off_text(c),
        c.course_title.clone().unwrap_or_else(|| "any".into()),
        valid_text(c, zone),
        used_text(c),
        c.per_student_limit.to_string(),
        if c.active { "yes" } else { "no" }.into(),
    ]
}

fn fields(c: &Coupon, zone: Zone) -> Vec<(&'static str, String)> {
    const KEYS: [&str; 8] = [
        "id",
        "code",
        "off",
        "course",
        "valid",
        "used",
        "per student",
        "active",
    ];
    KEYS.into_iter().zip(row(c, zone)).collect()
}

/// Runs `edupro coupons …`.
pub async fn run(ctx: &Context, command: CouponsCommand) -> Result<()> {
    let client = ctx.client()?;
    match command {
        CouponsCommand::Create(args) => {
            let valid_from = match &args.from {
                Some(t) => Some(instant(ctx.zone, "--from", t, false)?),
                None => None,
            };
            let valid_until = match &args.until {
                Some(t) => Some(instant(ctx.zone, "--until", t, true)?),
                None => None,
            };
            let course_id = match &args.course {
                Some(course) => Some(keys::course(&client, course).await?),
                None => None,
            };
            let (kind, value) = match (args.percent, args.amount) {
                (Some(percent), _) => (CouponKind::Percent, percent),
                (None, Some(amount)) => (CouponKind::Fixed, amount),
                (None, None) => {
                    return Err(ClientError::Usage("give --percent N or --amount X".into()));
                }
            };
            let body = NewCoupon {
                code: args.code,
                kind,
                value,
                currency: args.currency,
                course_id,
                valid_from,
                valid_until,
                max_uses: args.max_uses,
                per_student_limit: args.per_student,
            };
            let coupon = client.create_coupon(&body).await?;
            crate::output::print(ctx.out.record(&coupon, &fields(&coupon, ctx.zone))?)?;
        }
        CouponsCommand::List { course, limit } => {
            let course_id = match &course {
                Some(course) => Some(keys::course(&client, course).await?),
                None => None,
            };
            let filter = CouponFilter {
                course_id,
                ..CouponFilter::default()
            };
            let coupons =
                all_pages::<CouponList, _, _>(limit, |at| client.coupons(&filter, at)).await?;
            crate::output::print(ctx.out.list(&coupons, &HEADERS, |c| row(c, ctx.zone))?)?;
        }
        CouponsCommand::Disable { id } => {
            let coupon = client.set_coupon_active(id, false).await?;
            crate::output::print(ctx.out.record(&coupon, &fields(&coupon, ctx.zone))?)?;
        }
        CouponsCommand::Enable { id } => {
            let coupon = client.set_coupon_active(id, true).await?;
            crate::output::print(ctx.out.record(&coupon, &fields(&coupon, ctx.zone))?)?;
        }
    }
    Ok(())
}
