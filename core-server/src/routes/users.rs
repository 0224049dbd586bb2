//! `/api/v1/users`: the admin's user directory, the caller's own profile, roles,
//! deactivation, and parent ↔ child links.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::accounts::{self, NewAccount, role_of, to_wire};
use crate::api::{
    ApiResponse, ChangeRole, CreatedUser, LinkChild, NewUser, PageQuery, Pagination, Role,
    StudentProfile, UpdateMe, User, UserFilter, UserList,
};
use crate::audit::{self, Action};
use crate::auth::AuthUser;
use crate::auth::extract::{client_ip, forbidden};
use crate::domain::{Fields, PersonName, Phone};
use crate::entity::{parent_link, user};
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_users)
        .service(create_user)
        .service(get_me)
        .service(update_me)
        .service(get_user)
        .service(change_role)
        .service(deactivate_user)
        .service(reactivate_user)
        .service(link_child)
        .service(list_children)
        .service(unlink_child);
}

/// Users, filtered and paged (admins only).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(UserFilter),
    responses(
        (status = 200, description = "A page of users", body = ApiResponse<UserList>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
    )
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    auth: AuthUser,
    filter: web::Query<UserFilter>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query = user::Entity::find();
    if let Some(role) = filter.role {
        query = query.filter(user::Column::Role.eq(role.as_str()));
    }
    if let Some(active) = filter.is_active {
        query = query.filter(user::Column::IsActive.eq(active));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        // `_` and `%` are searched for as text (emails often hold a `_`), not as wildcards.
        let escaped = search
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let like = || LikeExpr::new(&pattern).escape('\\');
        let lower = |c: user::Column| Expr::expr(Func::lower(Expr::col(c)));
        query = query.filter(
            Condition::any()
                .add(lower(user::Column::Email).like(like()))
                .add(lower(user::Column::FirstName).like(like()))
                .add(lower(user::Column::LastName).like(like())),
        );
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_asc(user::Column::CreatedAt)
        .order_by_asc(user::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    Ok(ok(UserList {
        users: rows.iter().map(to_wire).collect(),
        pagination: Pagination::new(page, total),
    }))
}

/// Creates an account of any role (admins only). Without a password, the user is
/// mailed a code to set one. A new ADMIN comes with its 2FA secret, shown once.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = ApiResponse<CreatedUser>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 409, description = "Email taken", body = crate::api::ErrorBody),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    Json(body): Json<NewUser>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let account = NewAccount::parse(
        &body.email,
        body.password.as_deref(),
        &body.first_name,
        &body.last_name,
        body.phone.as_deref(),
        body.role,
    )?;
    let needs_password = account.password.is_none();
    let (user, totp_secret) = accounts::create(&state.db, account).await?;
    if needs_password {
        accounts::send_invites(&state, std::slice::from_ref(&user)).await?;
    }
    audit::record(
        &state.db,
        Action::UserCreated,
        audit::Event {
            actor: Some(auth.id()),
            subject: Some(user.id),
            ip: Some(&client_ip(&req)),
            detail: Some(format!("role {}", body.role)),
        },
    )
    .await;
    let two_factor = match totp_secret {
        Some(secret) => Some(super::auth::enrollment_with_recovery(&state, &user, secret).await?),
        None => None,
    };
    Ok(created(CreatedUser {
        user: to_wire(&user),
        two_factor,
    }))
}

/// The caller, with their role's profile (the same as `GET /auth/me`).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = ApiResponse<User>),
        (status = 401, description = "Not signed in", body = crate::api::ErrorBody),
    )
)]
#[get("/users/me")]
pub async fn get_me(auth: AuthUser) -> HttpResponse {
    ok(to_wire(&auth.user))
}

/// Updates the caller's name, phone, bio, avatar and their role's profile.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = UpdateMe,
    responses(
        (status = 200, description = "Updated", body = ApiResponse<User>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
    )
)]
#[patch("/users/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<UpdateMe>,
) -> Result<HttpResponse, ApiError> {
    let role = auth.role();
    let mut fields = Fields::default();
    let first_name = body
        .first_name
        .as_deref()
        .and_then(|n| fields.take("firstName", PersonName::parse(n)));
    let last_name = body
        .last_name
        .as_deref()
        .and_then(|n| fields.take("lastName", PersonName::parse(n)));
    let phone = body
        .phone
        .as_deref()
        .and_then(|p| fields.take("phone", Phone::parse(p)));
    if body.bio.as_ref().is_some_and(|b| b.chars().count() > 2000) {
        fields.push("bio", "must be at most 2000 characters");
    }
    if let Some(avatar) = &body.avatar
        && !(avatar.starts_with("https://") || avatar.starts_with("http://"))
    {
        fields.push("avatar", "must be an http(s) URL");
    }
    let profile = match (
        role,
        &body.student_profile,
        &body.teacher_profile,
        &body.parent_profile,
    ) {
        (_, None, None, None) => None,
        (Role::Student, Some(p), None, None) => {
            // XP, level and streak are earned, not sent: keep the stored ones.
            let stored: StudentProfile = auth
                .user
                .profile
                .clone()
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            serde_json::to_value(StudentProfile {
                total_xp: stored.total_xp,
                level: stored.level,
                current_streak: stored.current_streak,
                ..p.clone()
            })
            .ok()
        }
        (Role::Teacher, None, Some(p), None) => serde_json::to_value(p).ok(),
        (Role::Parent, None, None, Some(p)) => serde_json::to_value(p).ok(),
        _ => {
            fields.push(
                "profile",
                format!("send only the profile of your role ({role})"),
            );
            None
        }
    };
    fields.finish()?;
    let mut update = user::ActiveModel {
        id: Set(auth.id()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Some(n) = first_name {
        update.first_name = Set(n.as_ref().to_owned());
    }
    if let Some(n) = last_name {
        update.last_name = Set(n.as_ref().to_owned());
    }
    if let Some(p) = phone {
        update.phone = Set(Some(p.as_ref().to_owned()));
        update.is_phone_verified = Set(false);
    }
    if let Some(bio) = body.bio {
        update.bio = Set(Some(bio));
    }
    if let Some(avatar) = body.avatar {
        update.avatar = Set(Some(avatar));
    }
    if let Some(profile) = profile {
        update.profile = Set(Some(profile));
    }
    let user = update.update(&state.db).await?;
    Ok(ok(to_wire(&user)))
}

/// Whether `parent` is linked to `child`.
async fn is_linked(state: &AppState, parent: Uuid, child: Uuid) -> Result<bool, ApiError> {
    Ok(parent_link::Entity::find()
        .filter(parent_link::Column::ParentId.eq(parent))
        .filter(parent_link::Column::ChildId.eq(child))
        .one(&state.db)
        .await?
        .is_some())
}

/// One user: to an admin, to themselves, to a parent linked to them, or to a teacher on
/// the staff of a course the user is enrolled in.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = ApiResponse<User>),
        (status = 403, description = "Not yours to see", body = crate::api::ErrorBody),
        (status = 404, description = "No such user (admins only learn this)", body = crate::api::ErrorBody),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let allowed = auth.is_admin()
        || id == auth.id()
        || (auth.role() == Role::Parent && is_linked(&state, auth.id(), id).await?)
        || (auth.role() == Role::Teacher
            && crate::catalogue::teaches_student(&state.db, auth.id(), id).await?);
    if !allowed {
        return Err(forbidden());
    }
    Ok(ok(to_wire(&accounts::find_user(&state.db, id).await?)))
}

/// Changes a user's role (admins only). Their sessions and parent ↔ child links end.
/// Becoming ADMIN needs 2FA on.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = ChangeRole,
    responses(
        (status = 200, description = "Role changed", body = ApiResponse<User>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 404, description = "No such user", body = crate::api::ErrorBody),
        (status = 422, description = "Own role, or ADMIN without 2FA", body = crate::api::ErrorBody),
    )
)]
#[patch("/users/{id}/role")]
pub async fn change_role(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<ChangeRole>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let id = id.into_inner();
    if id == auth.id() {
        return Err(ApiError::Unprocessable(
            "Admins can't change their own role; ask another admin".into(),
        ));
    }
    let target = accounts::find_user(&state.db, id).await?;
    let old = role_of(&target);
    if old == body.role {
        return Ok(ok(to_wire(&target)));
    }
    if body.role == Role::Admin && !target.totp_enabled {
        return Err(ApiError::Unprocessable(
            "The user must turn on two-factor authentication before becoming an admin".into(),
        ));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    user::ActiveModel {
        id: Set(id),
        role: Set(body.role.as_str().to_owned()),
        profile: Set(None),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    accounts::bump_token_version(&txn, id).await?;
    accounts::revoke_sessions(&txn, id, None, "ROLE_CHANGED").await?;
    // Links join a PARENT to a STUDENT; with the old role, the user's links no longer fit.
    parent_link::Entity::delete_many()
        .filter(
            Condition::any()
                .add(parent_link::Column::ParentId.eq(id))
                .add(parent_link::Column::ChildId.eq(id)),
        )
        .exec(&txn)
        .await?;
    txn.commit().await?;
    state.realtime.credentials_changed(&state.db, id).await;
    audit::record(
        &state.db,
        Action::RoleChanged,
        audit::Event {
            actor: Some(auth.id()),
            subject: Some(id),
            ip: Some(&client_ip(&req)),
            detail: Some(format!("{old} -> {}", body.role)),
        },
    )
    .await;
    Ok(ok(to_wire(&accounts::find_user(&state.db, id).await?)))
}

async fn set_active(
    state: &AppState,
    req: &HttpRequest,
    auth: &AuthUser,
    id: Uuid,
    active: bool,
) -> Result<user::Model, ApiError> {
    auth.require_admin()?;
    if id == auth.id() {
        return Err(ApiError::Unprocessable(
            "Admins can't deactivate or reactivate themselves".into(),
        ));
    }
    let target = accounts::find_user(&state.db, id).await?;
    if target.is_active == active {
        return Ok(target);
    }
    let txn = crate::db::begin_write(&state.db).await?;
    user::ActiveModel {
        id: Set(id),
        is_active: Set(active),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    if !active {
        accounts::bump_token_version(&txn, id).await?;
        accounts::revoke_sessions(&txn, id, None, "DEACTIVATED").await?;
        // Personal access tokens end too, so that reactivation doesn't revive them.
        accounts::revoke_access_tokens(&txn, id).await?;
    }
    txn.commit().await?;
    if !active {
        state.realtime.credentials_changed(&state.db, id).await;
    }
    let action = if active {
        Action::UserReactivated
    } else {
        Action::UserDeactivated
    };
    audit::record(
        &state.db,
        action,
        audit::Event {
            actor: Some(auth.id()),
            subject: Some(id),
            ip: Some(&client_ip(req)),
            ..Default::default()
        },
    )
    .await;
    accounts::find_user(&state.db, id).await
}

/// Deactivates a user (admins only): they can't sign in and their tokens stop working.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "Deactivated", body = ApiResponse<User>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 404, description = "No such user", body = crate::api::ErrorBody),
        (status = 422, description = "Deactivating yourself", body = crate::api::ErrorBody),
    )
)]
#[post("/users/{id}/deactivate")]
pub async fn deactivate_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = set_active(&state, &req, &auth, id.into_inner(), false).await?;
    Ok(ok_with("User deactivated", to_wire(&user)))
}

/// Reactivates a user (admins only).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "Reactivated", body = ApiResponse<User>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 404, description = "No such user", body = crate::api::ErrorBody),
    )
)]
#[post("/users/{id}/reactivate")]
pub async fn reactivate_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = set_active(&state, &req, &auth, id.into_inner(), true).await?;
    Ok(ok_with("User reactivated", to_wire(&user)))
}

/// Links a student to a parent (admins only).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The parent's id")),
    request_body = LinkChild,
    responses(
        (status = 201, description = "Linked", body = ApiResponse<crate::api::ChildLinked>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 404, description = "No such user", body = crate::api::ErrorBody),
        (status = 409, description = "Already linked", body = crate::api::ErrorBody),
        (status = 422, description = "Not a parent and a student", body = crate::api::ErrorBody),
    )
)]
#[post("/users/{id}/children")]
pub async fn link_child(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<LinkChild>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let parent = accounts::find_user(&state.db, id.into_inner()).await?;
    let child = accounts::find_user(&state.db, body.child_id).await?;
    if role_of(&parent) != Role::Parent || role_of(&child) != Role::Student {
        return Err(ApiError::Unprocessable(
            "Only a PARENT can be linked to a STUDENT".into(),
        ));
    }
    if is_linked(&state, parent.id, child.id).await? {
        return Err(ApiError::Conflict {
            field: Some("childId".into()),
            message: "This student is already linked to this parent".into(),
        });
    }
    let now = Utc::now();
    parent_link::ActiveModel {
        id: Set(Uuid::now_v7()),
        parent_id: Set(parent.id),
        child_id: Set(child.id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(created(
        json!({ "parentId": parent.id, "childId": child.id }),
    ))
}

/// A parent's linked children: to admins and to that parent.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The parent's id")),
    responses(
        (status = 200, description = "Children", body = ApiResponse<Vec<User>>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
    )
)]
#[get("/users/{id}/children")]
pub async fn list_children(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    if !(auth.is_admin() || id == auth.id()) {
        return Err(forbidden());
    }
    let child_ids: Vec<Uuid> = parent_link::Entity::find()
        .filter(parent_link::Column::ParentId.eq(id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|l| l.child_id)
        .collect();
    let children = user::Entity::find()
        .filter(user::Column::Id.is_in(child_ids))
        .order_by_asc(user::Column::FirstName)
        .all(&state.db)
        .await?;
    Ok(ok(children.iter().map(to_wire).collect::<Vec<_>>()))
}

/// Removes a parent ↔ child link (admins only).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The parent's id"), ("child_id" = Uuid, Path, description = "The child's id")),
    responses((status = 200, description = "Unlinked", body = ApiResponse<crate::api::Empty>), (status = 403, description = "Not an admin", body = crate::api::ErrorBody), (status = 404, description = "No such link"))
)]
#[delete("/users/{id}/children/{child_id}")]
pub async fn unlink_child(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let (parent, child) = path.into_inner();
    let removed = parent_link::Entity::delete_many()
        .filter(parent_link::Column::ParentId.eq(parent))
        .filter(parent_link::Column::ChildId.eq(child))
        .exec(&state.db)
        .await?;
    if removed.rows_affected == 0 {
        return Err(ApiError::NotFound("Link not found".into()));
    }
    Ok(ok_with("Unlinked", json!({})))
}
