//! `/api/v1/categories`: the category tree. Everyone reads it; admins change it.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{ApiResponse, Category, CategoryTree, NewCategory, UpdateCategory};
use crate::domain::{Fields, Slug, Title};
use crate::error::ApiError;
use crate::http::extract::Json;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::categories;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_categories)
        .service(create_category)
        .service(update_category)
        .service(delete_category);
}

const NAME_MAX: usize = 100;

fn parse_name(fields: &mut Fields, raw: &str) -> Option<Title> {
    let name = fields.take("name", Title::parse(raw))?;
    if name.as_ref().chars().count() > NAME_MAX {
        fields.push("name", format!("must be at most {NAME_MAX} characters"));
        return None;
    }
    Some(name)
}

/// The whole category tree (public).
#[utoipa::path(
    tag = "courses",
    responses((status = 200, description = "The tree", body = ApiResponse<CategoryTree>))
)]
#[get("/categories")]
pub async fn list_categories(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(ok(CategoryTree {
        categories: categories::list_categories(&state).await?,
    }))
}

/// Creates a category, at the root or under `parentId` (admins only).
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = NewCategory,
    responses(
        (status = 201, description = "Created", body = ApiResponse<Category>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 409, description = "Slug taken", body = crate::api::ErrorBody),
    )
)]
#[post("/categories")]
pub async fn create_category(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<NewCategory>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let mut fields = Fields::default();
    let name = parse_name(&mut fields, &body.name);
    let slug = match body.slug.as_deref() {
        Some(s) => fields.take("slug", Slug::parse(s)),
        None => name
            .as_ref()
            .map(|n| Slug::from_text(n.as_ref(), "category")),
    };
    fields.finish()?;
    let (Some(name), Some(slug)) = (name, slug) else {
        return Err(anyhow::anyhow!("fields parsed without values").into());
    };
    let category = categories::create_category(&state, name, slug, body.parent_id).await?;
    Ok(created(category))
}

/// Renames a category, changes its slug or moves it (admins only). It can't move under
/// itself or one of its subcategories.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Category id")),
    request_body = UpdateCategory,
    responses(
        (status = 200, description = "Updated", body = ApiResponse<Category>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 409, description = "Slug taken", body = crate::api::ErrorBody),
        (status = 422, description = "The move would make a cycle", body = crate::api::ErrorBody),
    )
)]
#[patch("/categories/{id}")]
pub async fn update_category(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateCategory>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let mut fields = Fields::default();
    let name = body
        .name
        .as_deref()
        .and_then(|n| parse_name(&mut fields, n));
    let slug = body
        .slug
        .as_deref()
        .and_then(|s| fields.take("slug", Slug::parse(s)));
    fields.finish()?;
    let category =
        categories::update_category(&state, id.into_inner(), name, slug, body.parent_id).await?;
    Ok(ok(category))
}

/// Deletes a category without subcategories (admins only); its courses become
/// uncategorised.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Category id")),
    responses(
        (status = 200, description = "Deleted", body = ApiResponse<crate::api::Deleted>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 404, description = "No such category", body = crate::api::ErrorBody),
        (status = 422, description = "It has subcategories", body = crate::api::ErrorBody),
    )
)]
#[delete("/categories/{id}")]
pub async fn delete_category(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let id = id.into_inner();
    categories::delete_category(&state, id).await?;
    Ok(ok_with("Category deleted", json!({ "id": id })))
}
