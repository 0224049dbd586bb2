//! Payment history and revenue. A student sees their own payments; a teacher those of
//! the courses they teach (owner or co-teacher); an admin all. Revenue is by course and
//! month (UTC) and currency, net of processed and pending refunds, for the courses'
//! teachers and admins, as JSON or CSV.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveTime, TimeZone, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use uuid::Uuid;

use crate::api::{
    PageQuery, Pagination, Payment, PaymentFilter, PaymentList, RevenueQuery, RevenueReport,
    RevenueRow, RevenueTotal, Role, StaffRole,
};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue;
use crate::store::entity::{coupon, course_staff, payment, payment_order, user};

/// Which payments the caller may see: `None` for all (admins).
enum Scope {
    All,
    Student(Uuid),
    Courses(Vec<Uuid>),
}

async fn scope(db: &impl ConnectionTrait, auth: &AuthUser) -> Result<Scope, ApiError> {
    Ok(match auth.role() {
        Role::Admin => Scope::All,
        Role::Student => Scope::Student(auth.id()),
        Role::Teacher => Scope::Courses(
            course_staff::Entity::find()
                .select_only()
                .column(course_staff::Column::CourseId)
                .filter(course_staff::Column::UserId.eq(auth.id()))
                .filter(course_staff::Column::Role.ne(StaffRole::Ta))
                .into_tuple()
                .all(db)
                .await?,
        ),
        _ => {
            return Err(ApiError::Forbidden(
                "Payments are shown to students, their courses' teachers and admins".into(),
            ));
        }
    })
}

fn scoped(query: Select<payment::Entity>, scope: &Scope) -> Select<payment::Entity> {
    match scope {
        Scope::All => query,
        Scope::Student(id) => query.filter(payment::Column::StudentId.eq(*id)),
        Scope::Courses(ids) => query.filter(payment::Column::CourseId.is_in(ids.clone())),
    }
}

fn day_start(day: chrono::NaiveDate) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN))
}

fn dated(
    mut query: Select<payment::Entity>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> Result<Select<payment::Entity>, ApiError> {
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(ApiError::field("to", "must not be before from"));
    }
    if let Some(from) = from {
        query = query.filter(payment::Column::PaidAt.gte(day_start(from)));
    }
    if let Some(to) = to.and_then(|d| d.succ_opt()) {
        query = query.filter(payment::Column::PaidAt.lt(day_start(to)));
    }
    Ok(query)
}

/// The wire form of payments, with their course titles, students and coupon codes
/// (a query per kind).
async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<payment::Model>,
) -> Result<Vec<Payment>, ApiError> {
    let titles = catalogue::course_titles(db, rows.iter().map(|p| p.course_id)).await?;
    let students: HashMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(rows.iter().map(|p| p.student_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let orders: HashMap<Uuid, payment_order::Model> = payment_order::Entity::find()
        .filter(
            payment_order::Column::Id.is_in(rows.iter().map(|p| p.order_id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let codes: HashMap<Uuid, String> = coupon::Entity::find()
        .filter(
            coupon::Column::Id.is_in(
                orders
                    .values()
                    .filter_map(|o| o.coupon_id)
                    .collect::<Vec<_>>(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.code))
        .collect();
    Ok(rows
        .into_iter()
        .map(|p| {
            let order = orders.get(&p.order_id);
            Payment {
                id: p.id,
                order_id: order
                    .map(|o| o.gateway_order_id.clone())
                    .unwrap_or_default(),
                gateway_payment_id: p.gateway_payment_id,
                gateway: p.gateway,
                course_title: titles.get(&p.course_id).cloned().unwrap_or_default(),
                course_id: p.course_id,
                student: students.get(&p.student_id).map_or(
                    crate::api::PersonRef {
                        id: p.student_id,
                        first_name: String::new(),
                        last_name: String::new(),
                    },
                    catalogue::person,
                ),
                amount: p.amount,
                refunded: p.refunded,
                currency: p.currency,
                status: p.status,
                coupon_code: order
                    .and_then(|o| o.coupon_id)
                    .and_then(|c| codes.get(&c).cloned()),
                enrollment_id: p.enrollment_id,
                paid_at: p.paid_at,
                refunds: Vec::new(),
            }
        })
        .collect())
}

/// `GET /payments/history`.
pub async fn history(
    state: &AppState,
    auth: &AuthUser,
    filter: &PaymentFilter,
) -> Result<PaymentList, ApiError> {
    let scope = scope(&state.db, auth).await?;
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query = dated(
        scoped(payment::Entity::find(), &scope),
        filter.from,
        filter.to,
    )?;
    if let Some(course) = filter.course_id {
        query = query.filter(payment::Column::CourseId.eq(course));
    }
    if let Some(student) = filter.student_id {
        query = query.filter(payment::Column::StudentId.eq(student));
    }
    if let Some(status) = filter.status {
        query = query.filter(payment::Column::Status.eq(status));
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(payment::Column::PaidAt)
        .order_by_desc(payment::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    Ok(PaymentList {
        payments: views(&state.db, rows).await?,
        pagination: Pagination::new(page, total),
    })
}

/// `GET /payments/{id}`: one payment with its refunds.
pub async fn show(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<Payment, ApiError> {
    let scope = scope(&state.db, auth).await?;
    let row = scoped(payment::Entity::find_by_id(id), &scope)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Payment not found".into()))?;
    let refunds = super::refunds::of_payment(&state.db, &row).await?;
    let mut view = views(&state.db, vec![row])
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound("Payment not found".into()))?;
    view.refunds = refunds;
    Ok(view)
}

/// `GET /payments/revenue`: newest month first, then course title.
pub async fn revenue(
    state: &AppState,
    auth: &AuthUser,
    query: &RevenueQuery,
) -> Result<RevenueReport, ApiError> {
    auth.require_role(&[Role::Admin, Role::Teacher])?;
    let scope = scope(&state.db, auth).await?;
    let mut select = dated(
        scoped(payment::Entity::find(), &scope),
        query.from,
        query.to,
    )?;
    if let Some(course) = query.course_id {
        select = select.filter(payment::Column::CourseId.eq(course));
    }
    // Payments of nothing (a 100 % coupon) are not takings.
    select = select.filter(Condition::all().add(payment::Column::Amount.gt(0)));
    let rows: Vec<(Uuid, i64, i64, String, chrono::DateTime<Utc>)> = select
        .select_only()
        .column(payment::Column::CourseId)
        .column(payment::Column::Amount)
        .column(payment::Column::Refunded)
        .column(payment::Column::Currency)
        .column(payment::Column::PaidAt)
        .into_tuple()
        .all(&state.db)
        .await?;
    let titles = catalogue::course_titles(&state.db, rows.iter().map(|r| r.0)).await?;
    let mut by_key: BTreeMap<(String, String, Uuid, String), RevenueRow> = BTreeMap::new();
    let mut totals: BTreeMap<String, RevenueTotal> = BTreeMap::new();
    for (course_id, amount, refunded, currency, paid_at) in rows {
        let month = format!("{:04}-{:02}", paid_at.year(), paid_at.month());
        let title = titles.get(&course_id).cloned().unwrap_or_default();
        // Newest month first: key on the month's complement.
        let key = (
            format!(
                "{:06}",
                999_999 - paid_at.year() * 100 - paid_at.month() as i32
            ),
            title.clone(),
            course_id,
            currency.clone(),
        );
        let row = by_key.entry(key).or_insert_with(|| RevenueRow {
            month,
            course_id,
            course_title: title,
            currency: currency.clone(),
            payments: 0,
            gross: 0,
            refunded: 0,
            net: 0,
        });
        row.payments += 1;
        row.gross += amount;
        row.refunded += refunded;
        row.net += amount - refunded;
        let total = totals
            .entry(currency.clone())
            .or_insert_with(|| RevenueTotal {
                currency,
                payments: 0,
                gross: 0,
                refunded: 0,
                net: 0,
            });
        total.payments += 1;
        total.gross += amount;
        total.refunded += refunded;
        total.net += amount - refunded;
    }
    Ok(RevenueReport {
        rows: by_key.into_values().collect(),
        totals: totals.into_values().collect(),
    })
}

/// A CSV cell safe to open in a spreadsheet: one starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return is prefixed with `'` (OWASP's advice against formula injection).
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The report as CSV: a header, one line per row; amounts in minor units.
pub fn revenue_csv(report: &RevenueReport) -> Result<String, ApiError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| ApiError::Internal(e.into());
    out.write_record([
        "month",
        "course_id",
        "course_title",
        "currency",
        "payments",
        "gross",
        "refunded",
        "net",
    ])
    .map_err(io)?;
    for row in &report.rows {
        out.write_record([
            row.month.clone(),
            row.course_id.to_string(),
            cell(&row.course_title),
            row.currency.clone(),
            row.payments.to_string(),
            row.gross.to_string(),
            row.refunded.to_string(),
            row.net.to_string(),
        ])
        .map_err(io)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Internal(e.into()))
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_quoted() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("Rust 101"), "Rust 101");
    }
}
