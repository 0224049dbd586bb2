//! `/api/v1/categories`: the category tree. Everyone reads it; admins change it.

use std::collections::HashMap;

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{ApiResponse, Category, CategoryTree, NewCategory, UpdateCategory};
use crate::auth::AuthUser;
use crate::catalogue;
use crate::domain::{Fields, Slug, Title};
use crate::entity::category;
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_categories)
        .service(create_category)
        .service(update_category)
        .service(delete_category);
}

const NAME_MAX: usize = 100;

/// The tree under `parent`, each level sorted by name.
fn subtree(
    by_parent: &HashMap<Option<Uuid>, Vec<&category::Model>>,
    parent: Option<Uuid>,
) -> Vec<Category> {
    let mut nodes: Vec<Category> = by_parent
        .get(&parent)
        .map(|children| {
            children
                .iter()
                .map(|c| Category {
                    id: c.id,
                    parent_id: c.parent_id,
                    name: c.name.clone(),
                    slug: c.slug.clone(),
                    children: subtree(by_parent, Some(c.id)),
                })
                .collect()
        })
        .unwrap_or_default();
    nodes.sort_by_key(|c| c.name.to_lowercase());
    nodes
}

fn leaf(c: &category::Model) -> Category {
    Category {
        id: c.id,
        parent_id: c.parent_id,
        name: c.name.clone(),
        slug: c.slug.clone(),
        children: Vec::new(),
    }
}

fn parse_name(fields: &mut Fields, raw: &str) -> Option<Title> {
    let name = fields.take("name", Title::parse(raw))?;
    if name.as_ref().chars().count() > NAME_MAX {
        fields.push("name", format!("must be at most {NAME_MAX} characters"));
        return None;
    }
    Some(name)
}

fn slug_conflict(err: sea_orm::DbErr) -> ApiError {
    catalogue::conflict(err, "slug", "Another category already uses this slug")
}

async fn find_category(db: &impl ConnectionTrait, id: Uuid) -> Result<category::Model, ApiError> {
    category::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Category not found".into()))
}

/// The whole category tree (public).
#[utoipa::path(
    tag = "courses",
    responses((status = 200, description = "The tree", body = ApiResponse<CategoryTree>))
)]
#[get("/categories")]
pub async fn list_categories(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let all = category::Entity::find().all(&state.db).await?;
    let mut by_parent: HashMap<Option<Uuid>, Vec<&category::Model>> = HashMap::new();
    for c in &all {
        by_parent.entry(c.parent_id).or_default().push(c);
    }
    Ok(ok(CategoryTree {
        categories: subtree(&by_parent, None),
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
    if let Some(parent) = body.parent_id {
        find_category(&state.db, parent)
            .await
            .map_err(|_| ApiError::field("parentId", "no such category"))?;
    }
    let now = Utc::now();
    let row = category::ActiveModel {
        id: Set(Uuid::now_v7()),
        parent_id: Set(body.parent_id),
        name: Set(name.as_ref().to_owned()),
        slug: Set(slug.as_ref().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await
    .map_err(slug_conflict)?;
    Ok(created(leaf(&row)))
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
    let id = id.into_inner();
    find_category(&state.db, id).await?;
    let mut update = category::ActiveModel {
        id: Set(id),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Some(name) = name {
        update.name = Set(name.as_ref().to_owned());
    }
    if let Some(slug) = slug {
        update.slug = Set(slug.as_ref().to_owned());
    }
    if let Some(parent) = body.parent_id {
        if let Some(parent) = parent {
            // Walk up from the new parent: meeting `id` means a cycle.
            let all: HashMap<Uuid, Option<Uuid>> = category::Entity::find()
                .all(&state.db)
                .await?
                .into_iter()
                .map(|c| (c.id, c.parent_id))
                .collect();
            if !all.contains_key(&parent) {
                return Err(ApiError::field("parentId", "no such category"));
            }
            let mut cursor = Some(parent);
            while let Some(node) = cursor {
                if node == id {
                    return Err(ApiError::Unprocessable(
                        "A category can't move under itself or one of its own subcategories".into(),
                    ));
                }
                cursor = all.get(&node).copied().flatten();
            }
        }
        update.parent_id = Set(parent);
    }
    let row = update.update(&state.db).await.map_err(slug_conflict)?;
    Ok(ok(leaf(&row)))
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
    find_category(&state.db, id).await?;
    let children = category::Entity::find()
        .filter(category::Column::ParentId.eq(id))
        .count(&state.db)
        .await?;
    if children > 0 {
        return Err(ApiError::Unprocessable(format!(
            "This category has {children} subcategories: delete or move them first"
        )));
    }
    // Courses in it keep existing, uncategorised (the foreign key sets NULL).
    category::Entity::delete_by_id(id).exec(&state.db).await?;
    Ok(ok_with("Category deleted", json!({ "id": id })))
}
