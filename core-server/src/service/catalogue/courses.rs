//! Courses: listing and search, one course with its outline, creating and editing
//! (the fields are parsed here: the pricing rules are shared by both, and an update
//! checks them against the stored price), their status (publish, archive) and deletion.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Access, course_not_found, find_course, person, status_of};
use crate::api::{
    self, Course, CourseFilter, CourseLevel, CourseList, CourseSort, CourseStatus, CreatedCourse,
    NewCourse, PageQuery, Pagination, Role, StaffRole, UpdateCourse,
};
use crate::domain::events::{CourseChange, DomainEvent};
use crate::domain::{CourseTitle, Currency, Fields, Money, Slug, Tags, WebUrl};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::accounts::find_user;
use crate::service::auth::AuthUser;
use crate::service::events::{self, StoredEvent};
use crate::store::constraints;
use crate::store::entity::{category, course, course_staff, enrollment, user};
use crate::store::search as text_search;

const DESCRIPTION_MAX: usize = 20_000;

/// The courses `caller` may see, filtered, searched, sorted and paged. Anonymous callers
/// and students see published courses; teachers also the courses they staff; admins all.
pub async fn list_courses(
    state: &AppState,
    caller: Option<&AuthUser>,
    filter: CourseFilter,
) -> Result<Arc<CourseList>, ApiError> {
    let mut fields = Fields::default();
    for (name, bound) in [
        ("minPrice", filter.min_price),
        ("maxPrice", filter.max_price),
    ] {
        if let Some(minor_units) = bound {
            fields.take(name, Money::parse(minor_units));
        }
    }
    fields.finish()?;
    // What anonymous callers and students see is the same for all of them: kept.
    let public = caller.is_none_or(|c| !c.is_admin() && c.role() != Role::Teacher);
    let key = public.then(|| format!("{filter:?}"));
    if let Some(list) = key.as_deref().and_then(|k| state.catalogue.get(k)) {
        return Ok(list);
    }
    let generation = state.catalogue.generation();
    let list = Arc::new(read_courses(state, caller, filter).await?);
    if let Some(key) = key {
        state.catalogue.put(generation, key, Arc::clone(&list));
    }
    Ok(list)
}

async fn read_courses(
    state: &AppState,
    caller: Option<&AuthUser>,
    filter: CourseFilter,
) -> Result<CourseList, ApiError> {
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query = course::Entity::find();
    query = match caller {
        Some(caller) if caller.is_admin() => query,
        Some(caller) if caller.role() == Role::Teacher => query.filter(
            Condition::any()
                .add(course::Column::Status.eq(CourseStatus::Published.as_str()))
                .add(
                    course::Column::Id.in_subquery(
                        Query::select()
                            .column(course_staff::Column::CourseId)
                            .from(course_staff::Entity)
                            .and_where(course_staff::Column::UserId.eq(caller.id()))
                            .to_owned(),
                    ),
                ),
        ),
        _ => query.filter(course::Column::Status.eq(CourseStatus::Published.as_str())),
    };
    if let Some(key) = filter.category.as_deref().filter(|k| !k.trim().is_empty()) {
        let ids = category_and_descendants(&state.db, key.trim()).await?;
        query = query.filter(course::Column::CategoryId.is_in(ids));
    }
    if let Some(level) = filter.level {
        query = query.filter(course::Column::Level.eq(level.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(course::Column::Status.eq(status.as_str()));
    }
    if let Some(creator) = filter.creator {
        query = query.filter(course::Column::CreatedBy.eq(creator));
    }
    if let Some(min) = filter.min_price {
        query = query.filter(course::Column::EffectivePrice.gte(min));
    }
    if let Some(max) = filter.max_price {
        query = query.filter(course::Column::EffectivePrice.lte(max));
    }
    if let Some(free) = filter.free {
        query = query.filter(course::Column::IsFree.eq(free));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let like = || text_search::contains(search);
        let lower = |c: course::Column| text_search::lower(Expr::col(c));
        // Tags are a JSON array; as text, `["rust","web"]` contains each tag.
        let tags = text_search::lower(Func::cast_as(
            Expr::col(course::Column::Tags),
            Alias::new("TEXT"),
        ));
        query = query.filter(
            Condition::any()
                .add(lower(course::Column::Title).like(like()))
                .add(lower(course::Column::Description).like(like()))
                .add(tags.like(like())),
        );
    }
    let total = query.clone().count(&state.db).await?;
    query = match filter.sort.unwrap_or(CourseSort::Newest) {
        CourseSort::Newest => query.order_by_desc(course::Column::CreatedAt),
        CourseSort::Popular => query
            .order_by_desc(course::Column::TotalStudents)
            .order_by_desc(course::Column::RatingAvg),
        CourseSort::Rating => query
            .order_by_desc(course::Column::RatingAvg)
            .order_by_desc(course::Column::RatingCount),
        CourseSort::Price => query.order_by_asc(course::Column::EffectivePrice),
        CourseSort::PriceDesc => query.order_by_desc(course::Column::EffectivePrice),
    };
    let rows = query
        .order_by_desc(course::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    Ok(CourseList {
        courses: courses_to_wire(&state.db, &rows).await?,
        pagination: Pagination::new(page, total),
    })
}

/// The ids of the category `key` (id or slug) and all its subcategories; 400 if unknown.
async fn category_and_descendants(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Vec<Uuid>, ApiError> {
    let all = category::Entity::find().all(db).await?;
    let root = all
        .iter()
        .find(|c| c.slug == key || c.id.to_string() == key)
        .ok_or_else(|| ApiError::field("category", format!("no category `{key}`")))?;
    let mut ids = vec![root.id];
    let mut next = 0;
    while next < ids.len() {
        let parent = ids[next];
        ids.extend(
            all.iter()
                .filter(|c| c.parent_id == Some(parent))
                .map(|c| c.id),
        );
        next += 1;
    }
    Ok(ids)
}

/// One course by id or slug, with its sections and the lessons `caller` may see
/// (unpublished lessons only to staff and admins). Drafts are 404 to everyone else.
pub async fn get_course(
    state: &AppState,
    caller: Option<&AuthUser>,
    key: &str,
) -> Result<Course, ApiError> {
    let course = find_course(&state.db, key).await?;
    let access = super::access(&state.db, caller, course.id).await?;
    if !super::can_view(&state.db, &course, access, caller).await? {
        return Err(course_not_found());
    }
    course_detail(&state.db, &course, access).await
}

/// The course with its outline as `access` may see it.
async fn course_detail(
    db: &impl ConnectionTrait,
    course: &course::Model,
    access: Access,
) -> Result<Course, ApiError> {
    let owner = find_user(db, course.created_by).await?;
    let category = match course.category_id {
        Some(id) => category::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let sections = super::outline(db, course.id, access.can_edit()).await?;
    Ok(course_to_wire(
        course,
        person(&owner),
        category.as_ref(),
        Some(sections),
    ))
}

/// Prices after the rules: free ⇔ price 0, a discount below the price.
struct Pricing {
    price: i64,
    discounted: Option<i64>,
    is_free: bool,
    effective: i64,
}

fn pricing(
    fields: &mut Fields,
    price: i64,
    discounted: Option<i64>,
    is_free: Option<bool>,
) -> Pricing {
    match is_free {
        Some(true) if price > 0 => fields.push("price", "must be 0 for a free course"),
        Some(false) if price == 0 => {
            fields.push("price", "a paid course needs a price above 0");
        }
        _ => {}
    }
    if let Some(d) = discounted
        && d >= price
    {
        fields.push("discountedPrice", "must be less than price");
    }
    let is_free = price == 0;
    Pricing {
        price,
        discounted: if is_free { None } else { discounted },
        is_free,
        effective: if is_free {
            0
        } else {
            discounted.unwrap_or(price)
        },
    }
}

fn parse_language(fields: &mut Fields, raw: &str) -> Option<String> {
    let lang = raw.trim();
    let valid = (2..=16).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Some(lang.to_owned())
    } else {
        fields.push("language", "must be a language tag such as `en` or `hi-IN`");
        None
    }
}

fn parse_description(fields: &mut Fields, raw: &str) -> Option<String> {
    if raw.chars().count() > DESCRIPTION_MAX {
        fields.push(
            "description",
            format!("must be at most {DESCRIPTION_MAX} characters"),
        );
        None
    } else {
        Some(raw.trim().to_owned())
    }
}

/// 400 naming `category` unless the category exists.
async fn check_category(db: &impl ConnectionTrait, id: Uuid) -> Result<(), ApiError> {
    if category::Entity::find_by_id(id).one(db).await?.is_none() {
        return Err(ApiError::field("category", "no such category"));
    }
    Ok(())
}

/// The first free slug among `base`, `base-2`, `base-3`…
async fn free_slug(db: &impl ConnectionTrait, base: &Slug) -> Result<Slug, ApiError> {
    let prefix = format!("{}-", base.as_ref());
    let taken: Vec<String> = course::Entity::find()
        .select_only()
        .column(course::Column::Slug)
        .filter(
            Condition::any()
                .add(course::Column::Slug.eq(base.as_ref()))
                .add(course::Column::Slug.starts_with(&prefix)),
        )
        .into_tuple()
        .all(db)
        .await?;
    if !taken.iter().any(|s| s == base.as_ref()) {
        return Ok(base.clone());
    }
    let highest = taken
        .iter()
        .filter_map(|s| s.strip_prefix(&prefix)?.parse::<u32>().ok())
        .max()
        .unwrap_or(1);
    Ok(base.with_suffix(Ord::max(highest, 1) + 1))
}

/// Creates a DRAFT course from `body` (parsed here, with the pricing rules it shares
/// with [`update_course`]); `auth` becomes its OWNER. The slug comes from the title,
/// numbered when taken (`intro-to-rust-2`), unless one is given (409 if taken).
pub async fn create_course(
    state: &AppState,
    auth: &AuthUser,
    body: NewCourse,
) -> Result<CreatedCourse, ApiError> {
    let mut fields = Fields::default();
    let title = fields.take("title", CourseTitle::parse(&body.title));
    let slug = match body.slug.as_deref() {
        Some(s) => fields.take("slug", Slug::parse(s)),
        None => None,
    };
    let description = parse_description(&mut fields, body.description.as_deref().unwrap_or(""));
    let language = parse_language(&mut fields, body.language.as_deref().unwrap_or("en"));
    let price = match body.price {
        Some(p) => fields
            .take("price", Money::parse(p))
            .map(Money::minor_units),
        None => Some(0),
    };
    let discounted = match body.discounted_price {
        Some(p) => fields
            .take("discountedPrice", Money::parse(p))
            .map(|m| Some(m.minor_units())),
        None => Some(None),
    };
    let currency = fields.take(
        "currency",
        Currency::parse(body.currency.as_deref().unwrap_or("INR")),
    );
    let tags = fields.take("tags", Tags::parse(body.tags.as_deref().unwrap_or(&[])));
    let thumbnail = match body.thumbnail.as_deref() {
        Some(t) => fields.take("thumbnail", WebUrl::parse(t)).map(Some),
        None => Some(None),
    };
    let pricing = match (price, discounted) {
        (Some(p), Some(d)) => Some(pricing(&mut fields, p, d, body.is_free)),
        _ => None,
    };
    fields.finish()?;
    let (
        Some(title),
        Some(description),
        Some(language),
        Some(currency),
        Some(tags),
        Some(thumbnail),
        Some(pricing),
    ) = (
        title,
        description,
        language,
        currency,
        tags,
        thumbnail,
        pricing,
    )
    else {
        return Err(anyhow::anyhow!("fields parsed without values").into());
    };
    if let Some(category) = body.category {
        check_category(&state.db, category).await?;
    }
    let base = Slug::from_text(title.as_ref(), "course");
    let now = Utc::now();
    let id = Uuid::now_v7();
    // Two creators may pick the same free slug at once: the loser retries with the next.
    let mut attempt = 0;
    let slug = loop {
        attempt += 1;
        let candidate = match &slug {
            Some(given) => given.clone(),
            None => free_slug(&state.db, &base).await?,
        };
        let txn = crate::store::db::begin_write(&state.db).await?;
        let inserted = course::ActiveModel {
            id: Set(id),
            title: Set(title.as_ref().to_owned()),
            slug: Set(candidate.as_ref().to_owned()),
            description: Set(description.clone()),
            category_id: Set(body.category),
            level: Set(body.level.unwrap_or(CourseLevel::Beginner)),
            language: Set(language.clone()),
            price: Set(pricing.price),
            discounted_price: Set(pricing.discounted),
            effective_price: Set(pricing.effective),
            currency: Set(currency.as_ref().to_owned()),
            is_free: Set(pricing.is_free),
            tags: Set(tags.clone().into_inner().into()),
            thumbnail_url: Set(thumbnail.as_ref().map(|t| t.as_ref().to_owned())),
            status: Set(CourseStatus::Draft),
            published_at: Set(None),
            created_by: Set(auth.id()),
            external_id: Set(None),
            rating_avg: Set(0.0),
            rating_count: Set(0),
            total_students: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await;
        match inserted {
            Ok(_) => {}
            Err(err) if constraints::violates(&err, &constraints::COURSES_SLUG) => {
                txn.rollback().await?;
                if slug.is_some() || attempt >= 5 {
                    return Err(slug_taken());
                }
                continue;
            }
            Err(err) => return Err(err.into()),
        }
        course_staff::ActiveModel {
            id: Set(Uuid::now_v7()),
            course_id: Set(id),
            user_id: Set(auth.id()),
            role: Set(StaffRole::Owner),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        crate::service::catalogue::catalogue_changed(state).await;
        break candidate;
    };
    Ok(CreatedCourse {
        id,
        title: title.as_ref().to_owned(),
        slug: slug.as_ref().to_owned(),
        status: CourseStatus::Draft,
    })
}

fn slug_taken() -> ApiError {
    ApiError::Conflict {
        field: Some("slug".into()),
        message: "Another course already uses this slug".into(),
    }
}

/// Checks that a course may go from `from` to `to`: DRAFT → PUBLISHED → ARCHIVED, and
/// ARCHIVED → PUBLISHED. Staying put is allowed (a retried request changes nothing).
fn check_transition(from: CourseStatus, to: CourseStatus) -> Result<(), ApiError> {
    use CourseStatus::{Archived, Draft, Published};
    match (from, to) {
        _ if from == to => Ok(()),
        (Draft, Published) | (Published, Archived) | (Archived, Published) => Ok(()),
        _ => Err(ApiError::Unprocessable(format!(
            "A {from} course can't become {to}: courses go DRAFT → PUBLISHED → ARCHIVED, and an archived course can be published again"
        ))),
    }
}

/// Moves `course` to `to` inside `txn` (which holds the course lock): checks the
/// transition and, for publishing, that students will see at least one lesson. A real
/// change writes its domain event, returned for announcing after the commit.
async fn set_status(
    txn: &impl ConnectionTrait,
    course: &course::Model,
    to: CourseStatus,
    update: &mut course::ActiveModel,
    actor: Uuid,
) -> Result<Option<StoredEvent>, ApiError> {
    let from = status_of(course);
    check_transition(from, to)?;
    if from == to {
        return Ok(None);
    }
    if to == CourseStatus::Published {
        if !super::has_published_lesson(txn, course.id).await? {
            return Err(ApiError::Unprocessable(
                "This course has no published lesson yet: add a lesson and publish it before publishing the course".into(),
            ));
        }
        if course.published_at.is_none() {
            update.published_at = Set(Some(Utc::now()));
        }
    }
    update.status = Set(to);
    let change = CourseChange {
        course_id: course.id,
        title: course.title.clone(),
        actor_id: actor,
    };
    let event = match to {
        CourseStatus::Archived => DomainEvent::CourseArchived(change),
        _ => DomainEvent::CoursePublished(change),
    };
    let event = events::publish(txn, event).await?;
    Ok(Some(event))
}

/// Changes any field of the course `key` (its staff and admins), `status` included. The
/// fields are parsed after the 404 and 403 checks: the pricing rules read the stored
/// price.
pub async fn update_course(
    state: &AppState,
    auth: &AuthUser,
    key: &str,
    body: UpdateCourse,
) -> Result<Course, ApiError> {
    let course = find_course(&state.db, key).await?;
    let access = super::access(&state.db, Some(auth), course.id).await?;
    access.require_edit()?;
    let mut fields = Fields::default();
    let mut update = course::ActiveModel {
        id: Set(course.id),
        ..Default::default()
    };
    if let Some(t) = &body.title
        && let Some(t) = fields.take("title", CourseTitle::parse(t))
    {
        update.title = Set(t.as_ref().to_owned());
    }
    if let Some(s) = &body.slug
        && let Some(s) = fields.take("slug", Slug::parse(s))
    {
        update.slug = Set(s.as_ref().to_owned());
    }
    if let Some(d) = &body.description
        && let Some(d) = parse_description(&mut fields, d)
    {
        update.description = Set(d);
    }
    if let Some(l) = &body.language
        && let Some(l) = parse_language(&mut fields, l)
    {
        update.language = Set(l);
    }
    if let Some(level) = body.level {
        update.level = Set(level);
    }
    if let Some(c) = &body.currency
        && let Some(c) = fields.take("currency", Currency::parse(c))
    {
        update.currency = Set(c.as_ref().to_owned());
    }
    if let Some(tags) = &body.tags
        && let Some(tags) = fields.take("tags", Tags::parse(tags))
    {
        update.tags = Set(tags.into_inner().into());
    }
    if let Some(thumbnail) = &body.thumbnail {
        match thumbnail {
            None => update.thumbnail_url = Set(None),
            Some(t) => {
                if let Some(t) = fields.take("thumbnail", WebUrl::parse(t)) {
                    update.thumbnail_url = Set(Some(t.as_ref().to_owned()));
                }
            }
        }
    }
    if let Some(category) = body.category {
        update.category_id = Set(category);
    }
    // Prices are checked together, on the values the course will have.
    let price = match body.price {
        Some(p) => fields
            .take("price", Money::parse(p))
            .map(Money::minor_units),
        None if body.is_free == Some(true) => Some(0),
        None => Some(course.price),
    };
    let discounted = match body.discounted_price {
        Some(Some(p)) => fields
            .take("discountedPrice", Money::parse(p))
            .map(|m| Some(m.minor_units())),
        Some(None) => Some(None),
        None if price == Some(0) => Some(None),
        None => Some(course.discounted_price),
    };
    if let (Some(price), Some(discounted)) = (price, discounted) {
        let p = pricing(&mut fields, price, discounted, body.is_free);
        update.price = Set(p.price);
        update.discounted_price = Set(p.discounted);
        update.is_free = Set(p.is_free);
        update.effective_price = Set(p.effective);
    }
    fields.finish()?;
    if let Some(Some(category)) = body.category {
        check_category(&state.db, category).await?;
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    super::lock_course(&txn, course.id).await?;
    let mut event = None;
    if let Some(to) = body.status {
        // Re-read under the lock: another request may have moved it meanwhile.
        let current = course::Entity::find_by_id(course.id)
            .one(&txn)
            .await?
            .ok_or_else(course_not_found)?;
        event = set_status(&txn, &current, to, &mut update, auth.id()).await?;
    }
    update.updated_at = Set(Utc::now());
    let updated = update.update(&txn).await?;
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    state.events.announce(event);
    course_detail(&state.db, &updated, access).await
}

/// Moves the course `key` to `to` (its staff and admins), as publishing and archiving
/// do; the event is announced after the commit.
pub async fn change_status(
    state: &AppState,
    auth: &AuthUser,
    key: &str,
    to: CourseStatus,
) -> Result<Course, ApiError> {
    let course = find_course(&state.db, key).await?;
    let access = super::access(&state.db, Some(auth), course.id).await?;
    access.require_edit()?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    super::lock_course(&txn, course.id).await?;
    // Re-read under the lock: another request may have moved it meanwhile.
    let course = course::Entity::find_by_id(course.id)
        .one(&txn)
        .await?
        .ok_or_else(course_not_found)?;
    let mut update = course::ActiveModel {
        id: Set(course.id),
        ..Default::default()
    };
    let event = set_status(&txn, &course, to, &mut update, auth.id()).await?;
    update.updated_at = Set(Utc::now());
    let updated = update.update(&txn).await?;
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    state.events.announce(event);
    course_detail(&state.db, &updated, access).await
}

/// Deletes the course `key` with its sections, lessons, staff and reviews (its owner and
/// admins); 409 if it has enrollments of any status. Answers its id.
pub async fn delete_course(state: &AppState, auth: &AuthUser, key: &str) -> Result<Uuid, ApiError> {
    let course = find_course(&state.db, key).await?;
    super::access(&state.db, Some(auth), course.id)
        .await?
        .require_manage()?;
    // Under the course lock, so no enrollment slips in between the count and the delete.
    let txn = crate::store::db::begin_write(&state.db).await?;
    super::lock_course(&txn, course.id).await?;
    let enrolled = enrollment::Entity::find()
        .filter(enrollment::Column::CourseId.eq(course.id))
        .count(&txn)
        .await?;
    if enrolled > 0 {
        return Err(ApiError::Conflict {
            field: Some("enrollments".into()),
            message: format!(
                "This course has {enrolled} enrollment(s) and can't be deleted; archive it instead"
            ),
        });
    }
    // Sections, lessons, staff and reviews go with it (foreign keys cascade).
    course::Entity::delete_by_id(course.id).exec(&txn).await?;
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(course.id)
}

/// Courses as lists show them, with their teachers and categories loaded in two queries.
pub async fn courses_to_wire(
    db: &impl ConnectionTrait,
    courses: &[course::Model],
) -> Result<Vec<api::Course>, ApiError> {
    let owner_ids: BTreeSet<Uuid> = courses.iter().map(|c| c.created_by).collect();
    // Only what a course shows of its owner, not their whole row.
    let owners: HashMap<Uuid, api::PersonRef> = user::Entity::find()
        .select_only()
        .columns([
            user::Column::Id,
            user::Column::FirstName,
            user::Column::LastName,
        ])
        .filter(user::Column::Id.is_in(owner_ids))
        .into_tuple::<(Uuid, String, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, first_name, last_name)| {
            (
                id,
                api::PersonRef {
                    id,
                    first_name,
                    last_name,
                },
            )
        })
        .collect();
    let category_ids: Vec<Uuid> = courses.iter().filter_map(|c| c.category_id).collect();
    let categories: HashMap<Uuid, category::Model> = if category_ids.is_empty() {
        HashMap::new()
    } else {
        category::Entity::find()
            .filter(category::Column::Id.is_in(category_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect()
    };
    courses
        .iter()
        .map(|c| {
            let owner = owners
                .get(&c.created_by)
                .ok_or_else(|| anyhow::anyhow!("course {} has no owner row", c.id))?;
            let category = c.category_id.and_then(|id| categories.get(&id));
            Ok(course_to_wire(c, owner.clone(), category, None))
        })
        .collect()
}

/// One course in its wire form.
pub fn course_to_wire(
    c: &course::Model,
    owner: api::PersonRef,
    category: Option<&category::Model>,
    sections: Option<Vec<api::Section>>,
) -> api::Course {
    api::Course {
        id: c.id,
        title: c.title.clone(),
        slug: c.slug.clone(),
        description: c.description.clone(),
        category: category.map(|k| api::CategoryRef {
            id: k.id,
            name: k.name.clone(),
            slug: k.slug.clone(),
        }),
        level: c.level,
        language: c.language.clone(),
        price: c.price,
        discounted_price: c.discounted_price,
        currency: c.currency.clone(),
        is_free: c.is_free,
        tags: c.tags.0.clone(),
        thumbnail: c.thumbnail_url.clone(),
        status: status_of(c),
        published_at: c.published_at,
        teacher: owner,
        total_students: i64::from(c.total_students),
        rating: c.rating_avg,
        total_reviews: i64::from(c.rating_count),
        external_id: c.external_id.clone(),
        created_at: c.created_at,
        updated_at: c.updated_at,
        sections,
    }
}
