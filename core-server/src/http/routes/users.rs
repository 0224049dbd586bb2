//! `/api/v1/users`: the admin's user directory, the caller's own profile, roles,
//! deactivation, and parent ↔ child links.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{
    ApiResponse, ChangeRole, CreatedUser, LinkChild, NewUser, UpdateMe, User, UserFilter, UserList,
};
use crate::error::ApiError;
use crate::http::auth::client_ip;
use crate::http::extract::{Json, Query};
use crate::platform::state::AppState;
use crate::service::accounts::users::{self, ProfileUpdate};
use crate::service::accounts::{NewAccount, to_wire};
use crate::service::auth::AuthUser;
use crate::service::auth::caller::forbidden;

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
    filter: Query<UserFilter>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    Ok(ok(users::list(&state, &filter).await?))
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
    let user = users::create_by_admin(&state, auth.id(), account, &client_ip(&req)).await?;
    Ok(created(user))
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
    let update = ProfileUpdate::parse(body, &auth.user)?;
    Ok(ok(users::update_profile(&state, auth.id(), update).await?))
}

/// One user, named by id, email or SIS id: to an admin, to themselves, to a parent
/// linked to them, or to a teacher on the staff of a course the user is enrolled in (a
/// teacher may also name any active student by email or SIS id, to enroll them).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id, email or SIS id (externalId)")),
    responses(
        (status = 200, description = "The user", body = ApiResponse<User>),
        (status = 403, description = "Not yours to see", body = crate::api::ErrorBody),
        (status = 404, description = "No such user (admins and, for students, teachers only learn this)", body = crate::api::ErrorBody),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(users::find_visible_by_key(&state, &auth, &key).await?))
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
    let user = users::change_role(
        &state,
        auth.id(),
        id.into_inner(),
        body.role,
        &client_ip(&req),
    )
    .await?;
    Ok(ok(user))
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
    auth.require_admin()?;
    let user =
        users::set_active(&state, auth.id(), id.into_inner(), false, &client_ip(&req)).await?;
    Ok(ok_with("User deactivated", user))
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
    auth.require_admin()?;
    let user =
        users::set_active(&state, auth.id(), id.into_inner(), true, &client_ip(&req)).await?;
    Ok(ok_with("User reactivated", user))
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
    let parent = id.into_inner();
    users::link_child(&state, parent, body.child_id).await?;
    Ok(created(
        json!({ "parentId": parent, "childId": body.child_id }),
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
    Ok(ok(users::children(&state, id).await?))
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
    users::unlink_child(&state, parent, child).await?;
    Ok(ok_with("Unlinked", json!({})))
}
