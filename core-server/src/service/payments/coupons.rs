//! Coupons: a percentage or a fixed amount off, within a validity window, with a global
//! and a per-student limit, for one course or any. Teachers make them for their courses,
//! admins for any.
//!
//! A use is taken when an order is created — one conditional UPDATE
//! (`used < max_uses`), so 20 concurrent orders on a coupon with 5 uses left get
//! exactly 5 — and given back when the order expires or fails.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::api::{
    Coupon, CouponFilter, CouponKind, CouponList, CouponUpdate, NewCoupon, OrderStatus, PageQuery,
    Pagination, Role,
};
use crate::domain::{Currency, Fields};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue;
use crate::store::constraints;
use crate::store::entity::{coupon, course, payment_order};

/// A code as stored: trimmed, upper-case; letters, digits, `-` and `_`, 3–40 long.
pub fn normalize_code(raw: &str) -> Result<String, ApiError> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() < 3 || code.len() > 40 {
        return Err(ApiError::field("couponCode", "must be 3 to 40 characters"));
    }
    if !code
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::field(
            "couponCode",
            "may hold only letters, digits, '-' and '_'",
        ));
    }
    Ok(code)
}

/// The code of a coupon by id (an order's), if any.
pub async fn code_of(
    db: &impl ConnectionTrait,
    id: Option<Uuid>,
) -> Result<Option<String>, ApiError> {
    let Some(id) = id else { return Ok(None) };
    Ok(coupon::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|c| c.code))
}

/// A coupon that applies, and what it takes off.
pub struct Quote {
    pub coupon: coupon::Model,
    pub discount: i64,
}

fn coupon_error(message: impl Into<String>) -> ApiError {
    ApiError::field("couponCode", message)
}

/// What `code` takes off `course` for `student` now, or the error naming why it does
/// not apply: unknown, switched off, not yet or no longer valid, of another course or
/// currency, used up, or used up by this student.
pub async fn quote(
    db: &impl ConnectionTrait,
    code: &str,
    course: &course::Model,
    student: Uuid,
    now: DateTime<Utc>,
) -> Result<Quote, ApiError> {
    let coupon = coupon::Entity::find()
        .filter(coupon::Column::Code.eq(code))
        .one(db)
        .await?
        .ok_or_else(|| coupon_error(format!("no coupon {code}")))?;
    if !coupon.active {
        return Err(coupon_error(format!("{code} is no longer offered")));
    }
    if coupon.valid_from.is_some_and(|from| now < from) {
        return Err(coupon_error(format!("{code} is not valid yet")));
    }
    if coupon.valid_until.is_some_and(|until| now > until) {
        return Err(coupon_error(format!("{code} has expired")));
    }
    if coupon.course_id.is_some_and(|c| c != course.id) {
        return Err(coupon_error(format!("{code} is for another course")));
    }
    if coupon.max_uses.is_some_and(|max| coupon.used >= max) {
        return Err(coupon_error(format!("{code} has no uses left")));
    }
    let held = payment_order::Entity::find()
        .filter(payment_order::Column::CouponId.eq(coupon.id))
        .filter(payment_order::Column::StudentId.eq(student))
        .filter(payment_order::Column::Status.is_in([OrderStatus::Created, OrderStatus::Paid]))
        .count(db)
        .await?;
    if held >= u64::try_from(coupon.per_student_limit).unwrap_or(0) {
        return Err(coupon_error(format!(
            "you have used {code} as often as it allows ({})",
            coupon.per_student_limit
        )));
    }
    let discount = match coupon.kind {
        CouponKind::Percent => course.effective_price * coupon.value.clamp(0, 100) / 100,
        CouponKind::Fixed => {
            if coupon
                .currency
                .as_deref()
                .is_some_and(|c| !c.eq_ignore_ascii_case(&course.currency))
            {
                return Err(coupon_error(format!(
                    "{code} is in {}, this course in {}",
                    coupon.currency.as_deref().unwrap_or_default(),
                    course.currency
                )));
            }
            std::cmp::min(coupon.value, course.effective_price)
        }
    };
    Ok(Quote { coupon, discount })
}

/// Takes one use of `coupon` in the order's transaction: 400 when none is left (a
/// concurrent order took the last).
pub async fn take_use(
    txn: &impl ConnectionTrait,
    coupon: &coupon::Model,
    _student: Uuid,
) -> Result<(), ApiError> {
    let taken = coupon::Entity::update_many()
        .col_expr(coupon::Column::Used, Expr::col(coupon::Column::Used).add(1))
        .col_expr(coupon::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(coupon::Column::Id.eq(coupon.id))
        .filter(coupon::Column::Active.eq(true))
        .filter(
            Condition::any()
                .add(coupon::Column::MaxUses.is_null())
                .add(Expr::col(coupon::Column::Used).lt(Expr::col(coupon::Column::MaxUses))),
        )
        .exec(txn)
        .await?
        .rows_affected;
    if taken == 0 {
        return Err(coupon_error(format!("{} has no uses left", coupon.code)));
    }
    Ok(())
}

/// Gives a use back (an order expired or failed).
pub async fn give_use_back(txn: &impl ConnectionTrait, coupon_id: Uuid) -> Result<(), ApiError> {
    coupon::Entity::update_many()
        .col_expr(coupon::Column::Used, Expr::col(coupon::Column::Used).sub(1))
        .col_expr(coupon::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(coupon::Column::Id.eq(coupon_id))
        .filter(coupon::Column::Used.gt(0))
        .exec(txn)
        .await?;
    Ok(())
}

async fn view(db: &impl ConnectionTrait, row: coupon::Model) -> Result<Coupon, ApiError> {
    let titles = catalogue::course_titles(db, row.course_id).await?;
    Ok(to_wire(row, &titles))
}

fn to_wire(row: coupon::Model, titles: &std::collections::HashMap<Uuid, String>) -> Coupon {
    Coupon {
        id: row.id,
        course_title: row.course_id.and_then(|c| titles.get(&c).cloned()),
        code: row.code,
        kind: row.kind,
        value: row.value,
        currency: row.currency,
        course_id: row.course_id,
        valid_from: row.valid_from,
        valid_until: row.valid_until,
        max_uses: row.max_uses,
        per_student_limit: row.per_student_limit,
        used: row.used,
        active: row.active,
        created_at: row.created_at,
    }
}

/// `POST /coupons`: a teacher for a course they teach (owner or co-teacher), an admin
/// for any course or all.
pub async fn create(
    state: &AppState,
    auth: &AuthUser,
    body: &NewCoupon,
) -> Result<Coupon, ApiError> {
    auth.require_role(&[Role::Admin, Role::Teacher])?;
    let mut fields = Fields::default();
    let code = fields.take(
        "code",
        normalize_code(&body.code)
            .map_err(|_| "must be 3 to 40 letters, digits, '-' or '_'".to_owned()),
    );
    match body.kind {
        CouponKind::Percent if !(1..=100).contains(&body.value) => {
            fields.push("value", "a PERCENT coupon takes 1 to 100 off");
        }
        CouponKind::Fixed if !(1..=crate::domain::Money::MAX).contains(&body.value) => {
            fields.push("value", "must be a positive amount in minor units");
        }
        _ => {}
    }
    let currency = match (&body.kind, &body.currency) {
        (CouponKind::Fixed, Some(raw)) => fields
            .take("currency", Currency::parse(raw))
            .map(|c| c.as_ref().to_owned()),
        (CouponKind::Percent, Some(_)) => {
            fields.push("currency", "only FIXED coupons have a currency");
            None
        }
        _ => None,
    };
    if let (Some(from), Some(until)) = (body.valid_from, body.valid_until)
        && until <= from
    {
        fields.push("validUntil", "must be after validFrom");
    }
    if body
        .max_uses
        .is_some_and(|n| !(1..=1_000_000_000).contains(&n))
    {
        fields.push("maxUses", "must be 1 to 1000000000");
    }
    let per_student = body.per_student_limit.unwrap_or(1);
    if !(1..=1000).contains(&per_student) {
        fields.push("perStudentLimit", "must be 1 to 1000");
    }
    let course = match body.course_id {
        Some(id) => {
            let course = course::Entity::find_by_id(id).one(&state.db).await?;
            match course {
                Some(course) => Some(course),
                None => {
                    fields.push("courseId", "no such course");
                    None
                }
            }
        }
        None if !auth.is_admin() => {
            fields.push("courseId", "teachers make coupons for one of their courses");
            None
        }
        None => None,
    };
    fields.finish()?;
    let code = code.ok_or_else(|| anyhow::anyhow!("code parsed without a value"))?;
    if let Some(course) = &course {
        let access = catalogue::access(&state.db, Some(auth), course.id).await?;
        if !(access.admin
            || matches!(
                access.staff,
                Some(crate::api::StaffRole::Owner | crate::api::StaffRole::CoTeacher)
            ))
        {
            return Err(ApiError::Forbidden(
                "Only this course's teachers or an admin make coupons for it".into(),
            ));
        }
        if body.kind == CouponKind::Fixed
            && currency
                .as_deref()
                .is_some_and(|c| !c.eq_ignore_ascii_case(&course.currency))
        {
            return Err(ApiError::field(
                "currency",
                format!("the course sells in {}", course.currency),
            ));
        }
    }
    let currency = match (body.kind, currency, &course) {
        (CouponKind::Fixed, None, Some(course)) => Some(course.currency.clone()),
        (CouponKind::Fixed, None, None) => Some("INR".to_owned()),
        (_, currency, _) => currency,
    };
    let now = Utc::now();
    let row = coupon::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        kind: Set(body.kind),
        value: Set(body.value),
        currency: Set(currency),
        course_id: Set(course.as_ref().map(|c| c.id)),
        created_by: Set(auth.id()),
        valid_from: Set(body.valid_from),
        valid_until: Set(body.valid_until),
        max_uses: Set(body.max_uses),
        per_student_limit: Set(per_student),
        used: Set(0),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await
    .map_err(|err| {
        if constraints::violates(&err, &constraints::COUPONS_CODE) {
            ApiError::Conflict {
                field: Some("code".into()),
                message: "Another coupon already has this code".into(),
            }
        } else {
            err.into()
        }
    })?;
    view(&state.db, row).await
}

/// The course ids a teacher may see coupons of (owner or co-teacher); `None` for admins.
async fn teaching(
    db: &impl ConnectionTrait,
    auth: &AuthUser,
) -> Result<Option<Vec<Uuid>>, ApiError> {
    if auth.is_admin() {
        return Ok(None);
    }
    use crate::store::entity::course_staff;
    Ok(Some(
        course_staff::Entity::find()
            .select_only()
            .column(course_staff::Column::CourseId)
            .filter(course_staff::Column::UserId.eq(auth.id()))
            .filter(course_staff::Column::Role.ne(crate::api::StaffRole::Ta))
            .into_tuple()
            .all(db)
            .await?,
    ))
}

/// `GET /coupons`: an admin's all, a teacher's those of their courses.
pub async fn list(
    state: &AppState,
    auth: &AuthUser,
    filter: &CouponFilter,
) -> Result<CouponList, ApiError> {
    auth.require_role(&[Role::Admin, Role::Teacher])?;
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query = coupon::Entity::find();
    if let Some(courses) = teaching(&state.db, auth).await? {
        query = query.filter(coupon::Column::CourseId.is_in(courses));
    }
    if let Some(course) = filter.course_id {
        query = query.filter(coupon::Column::CourseId.eq(course));
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(coupon::Column::CreatedAt)
        .order_by_desc(coupon::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    let titles =
        catalogue::course_titles(&state.db, rows.iter().filter_map(|c| c.course_id)).await?;
    Ok(CouponList {
        coupons: rows.into_iter().map(|r| to_wire(r, &titles)).collect(),
        pagination: Pagination::new(page, total),
    })
}

/// `PATCH /coupons/{id}`: switch off (orders already made keep their price) or on.
pub async fn update(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: &CouponUpdate,
) -> Result<Coupon, ApiError> {
    auth.require_role(&[Role::Admin, Role::Teacher])?;
    let row = coupon::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Coupon not found".into()))?;
    if let Some(courses) = teaching(&state.db, auth).await?
        && !row.course_id.is_some_and(|c| courses.contains(&c))
    {
        return Err(ApiError::NotFound("Coupon not found".into()));
    }
    let row = coupon::ActiveModel {
        id: Set(row.id),
        active: Set(body.active),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&state.db)
    .await?;
    view(&state.db, row).await
}
