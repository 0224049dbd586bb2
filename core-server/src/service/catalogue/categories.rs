//! The category tree: reading it whole, and the admin's changes (create, rename, move
//! without cycles, delete a leaf).

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::api::Category;
use crate::domain::{Slug, Title};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::store::entity::category;

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

async fn find_category(db: &impl ConnectionTrait, id: Uuid) -> Result<category::Model, ApiError> {
    category::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Category not found".into()))
}

/// The whole tree, roots first, each level sorted by name.
pub async fn list_categories(state: &AppState) -> Result<Vec<Category>, ApiError> {
    let all = category::Entity::find().all(&state.db).await?;
    let mut by_parent: HashMap<Option<Uuid>, Vec<&category::Model>> = HashMap::new();
    for c in &all {
        by_parent.entry(c.parent_id).or_default().push(c);
    }
    Ok(subtree(&by_parent, None))
}

/// Creates a category at the root or under `parent_id` (400 if that parent is unknown).
pub async fn create_category(
    state: &AppState,
    name: Title,
    slug: Slug,
    parent_id: Option<Uuid>,
) -> Result<Category, ApiError> {
    if let Some(parent) = parent_id {
        find_category(&state.db, parent)
            .await
            .map_err(|_| ApiError::field("parentId", "no such category"))?;
    }
    let now = Utc::now();
    let row = category::ActiveModel {
        id: Set(Uuid::now_v7()),
        parent_id: Set(parent_id),
        name: Set(name.as_ref().to_owned()),
        slug: Set(slug.as_ref().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(leaf(&row))
}

/// Renames a category, changes its slug or moves it (`parent_id`: `Some(None)` to the
/// root); 422 if the move would put it under itself.
pub async fn update_category(
    state: &AppState,
    id: Uuid,
    name: Option<Title>,
    slug: Option<Slug>,
    parent_id: Option<Option<Uuid>>,
) -> Result<Category, ApiError> {
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
    if let Some(parent) = parent_id {
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
    let row = update.update(&state.db).await?;
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(leaf(&row))
}

/// Deletes a category without subcategories (422 otherwise); its courses become
/// uncategorised.
pub async fn delete_category(state: &AppState, id: Uuid) -> Result<(), ApiError> {
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
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(())
}
