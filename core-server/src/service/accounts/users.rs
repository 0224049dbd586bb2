//! The user directory: new accounts (a sign-up, or an admin's), the admin's list, one's
//! own profile, who may see whom, roles, deactivation, and parent ↔ child links.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::api::{
    self, AuthSession, CreatedUser, PageQuery, Pagination, Role, StudentProfile, UpdateMe,
    UserFilter, UserList,
};
use crate::domain::{Email, Fields, PersonName, Phone};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::accounts::sessions::{SignIn, start_session};
use crate::service::accounts::{
    Addressee, CodePurpose, NewAccount, OTP_TTL_MINUTES, bump_token_version, create, find_by_email,
    find_user, hash_password, insert_account, invite, issue_codes, revoke_access_tokens,
    revoke_sessions, to_wire, two_factor,
};
use crate::service::audit::{self, Action};
use crate::service::auth::AuthUser;
use crate::service::auth::caller::forbidden;
use crate::store::entity::{parent_link, user};

/// What a sign-up answers: the new account signed in, or — an ADMIN, which only an
/// admin can register — the account and its 2FA enrolment, with nobody signed in.
pub enum Registered {
    SignedIn(Box<AuthSession>),
    Admin(Box<CreatedUser>),
}

/// Creates an account, mails it a verification code and signs it in; a new ADMIN is
/// not signed in: `admin` (who made it) gets its 2FA secret to pass on.
pub async fn register(
    state: &AppState,
    account: NewAccount,
    admin: Option<Uuid>,
    user_agent: Option<String>,
    ip: &str,
) -> Result<Registered, ApiError> {
    // The account and its verification code and mail commit together; the password
    // is hashed first, so the transaction never waits on argon2.
    let mut account = account;
    let password_hash = hash_password(account.password.take()).await?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    let (user, totp_secret) = insert_account(&txn, account, password_hash).await?;
    let queued = issue_codes(
        &txn,
        state,
        &[Addressee::from(&user)],
        CodePurpose::VerifyEmail,
        chrono::Duration::minutes(OTP_TTL_MINUTES),
    )
    .await?;
    txn.commit().await?;
    queued.wake(&state.mailer);
    if let Some(secret) = totp_secret {
        // A new admin signs in with 2FA from the start; the admin who made them passes
        // the secret on. Nobody is signed in here.
        audit::record(
            &state.db,
            Action::UserCreated,
            audit::Event {
                actor: admin,
                subject: Some(user.id),
                ip: Some(ip),
                detail: Some("role ADMIN".into()),
            },
        )
        .await;
        let two_factor = two_factor::enrollment_with_recovery(state, &user, secret).await?;
        return Ok(Registered::Admin(Box::new(CreatedUser {
            user: to_wire(&user),
            two_factor: Some(two_factor),
        })));
    }
    let session = start_session(state, &user, user_agent, ip, SignIn::Registered).await?;
    Ok(Registered::SignedIn(Box::new(session)))
}

/// Users matching `filter`, oldest first, one page.
pub async fn list(state: &AppState, filter: &UserFilter) -> Result<UserList, ApiError> {
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
    Ok(UserList {
        users: rows.iter().map(to_wire).collect(),
        pagination: Pagination::new(page, total),
    })
}

/// An account made by `admin` (audited). Without a password it is mailed a code to set
/// one; a new ADMIN comes with its 2FA enrolment, shown once.
pub async fn create_by_admin(
    state: &AppState,
    admin: Uuid,
    account: NewAccount,
    ip: &str,
) -> Result<CreatedUser, ApiError> {
    let role = account.role;
    let needs_password = account.password.is_none();
    let (user, totp_secret) = if needs_password {
        // The account and its invitation (code and mail) commit together.
        let txn = crate::store::db::begin_write(&state.db).await?;
        let made = create(&txn, account).await?;
        let queued = invite(&txn, state, &[Addressee::from(&made.0)]).await?;
        txn.commit().await?;
        queued.wake(&state.mailer);
        made
    } else {
        create(&state.db, account).await?
    };
    audit::record(
        &state.db,
        Action::UserCreated,
        audit::Event {
            actor: Some(admin),
            subject: Some(user.id),
            ip: Some(ip),
            detail: Some(format!("role {role}")),
        },
    )
    .await;
    let two_factor = match totp_secret {
        Some(secret) => Some(two_factor::enrollment_with_recovery(state, &user, secret).await?),
        None => None,
    };
    Ok(CreatedUser {
        user: to_wire(&user),
        two_factor,
    })
}

/// A parsed change to one's own profile: only the fields sent, the profile of one's role.
pub struct ProfileUpdate {
    first_name: Option<PersonName>,
    last_name: Option<PersonName>,
    phone: Option<Phone>,
    bio: Option<String>,
    avatar: Option<String>,
    profile: Option<serde_json::Value>,
}

impl ProfileUpdate {
    /// Checks every field of `body` for `user`, reporting every bad one at once. A
    /// student's XP, level and streak are earned, not sent: the stored ones are kept.
    pub fn parse(body: UpdateMe, user: &user::Model) -> Result<Self, ApiError> {
        let role = user.role;
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
                let stored: StudentProfile = user
                    .profile
                    .clone()
                    .and_then(|v| serde_json::from_value(v).ok())
                    .unwrap_or_default();
                serde_json::to_value(StudentProfile {
                    total_xp: stored.total_xp,
                    level: stored.level,
                    current_streak: stored.current_streak,
                    longest_streak: stored.longest_streak,
                    last_active_on: stored.last_active_on,
                    badges: stored.badges,
                    ..p.clone()
                })
                .ok()
            }
            (Role::Teacher, None, Some(p), None) => {
                check_specialization(&mut fields, &p.specialization);
                serde_json::to_value(p).ok()
            }
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
        Ok(Self {
            first_name,
            last_name,
            phone,
            bio: body.bio,
            avatar: body.avatar,
            profile,
        })
    }
}

/// The most subjects a teacher's profile lists, and the longest one.
const MAX_SPECIALIZATIONS: usize = 20;
const MAX_SPECIALIZATION_LEN: usize = 100;

/// A teacher's subjects: counted before they are read, each of bounded length.
fn check_specialization(fields: &mut Fields, subjects: &[String]) {
    let field = "teacherProfile.specialization";
    if subjects.len() > MAX_SPECIALIZATIONS {
        fields.push(field, format!("at most {MAX_SPECIALIZATIONS} subjects"));
    } else if subjects
        .iter()
        .any(|s| s.chars().count() > MAX_SPECIALIZATION_LEN)
    {
        fields.push(
            field,
            format!("each subject must be at most {MAX_SPECIALIZATION_LEN} characters"),
        );
    }
}

/// Applies `update` to the user's own profile; a new phone is unverified.
pub async fn update_profile(
    state: &AppState,
    user_id: Uuid,
    update: ProfileUpdate,
) -> Result<api::User, ApiError> {
    let ProfileUpdate {
        first_name,
        last_name,
        phone,
        bio,
        avatar,
        profile,
    } = update;
    let mut update = user::ActiveModel {
        id: Set(user_id),
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
    if let Some(bio) = bio {
        update.bio = Set(Some(bio));
    }
    if let Some(avatar) = avatar {
        update.avatar = Set(Some(avatar));
    }
    if let Some(profile) = profile {
        update.profile = Set(Some(profile));
    }
    let user = update.update(&state.db).await?;
    crate::service::auth::user_changed(state, user_id).await;
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(to_wire(&user))
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

/// User `key` as `caller` may see them, where `key` is their id, email or SIS id
/// (`externalId`). Besides [`find_visible`]'s rule, a teacher may name an active
/// student by exact email or SIS id (to enroll or seat them): schools let their staff
/// find students, as Moodle's enrol dialog does. Who may not see a user learns nothing
/// about whether the key exists.
pub async fn find_visible_by_key(
    state: &AppState,
    caller: &AuthUser,
    key: &str,
) -> Result<api::User, ApiError> {
    let key = key.trim();
    if let Ok(id) = Uuid::parse_str(key) {
        return find_visible(state, caller, id).await;
    }
    let found = if key.contains('@') {
        match Email::parse(key) {
            Ok(email) => find_by_email(&state.db, &email).await?,
            Err(_) => None,
        }
    } else {
        user::Entity::find()
            .filter(user::Column::ExternalId.eq(key))
            .one(&state.db)
            .await?
    };
    match found {
        Some(user) if caller.role() == Role::Teacher => {
            if (user.role == Role::Student && user.is_active) || user.id == caller.id() {
                Ok(to_wire(&user))
            } else {
                find_visible(state, caller, user.id)
                    .await
                    .map_err(|_| no_student_with_key())
            }
        }
        Some(user) => find_visible(state, caller, user.id).await,
        None if caller.is_admin() => Err(ApiError::NotFound(
            "No user has this email or SIS id".into(),
        )),
        None if caller.role() == Role::Teacher => Err(no_student_with_key()),
        None => Err(forbidden()),
    }
}

fn no_student_with_key() -> ApiError {
    ApiError::NotFound("No student has this email or SIS id".into())
}

/// User `id` as `caller` may see them: an admin anyone, anyone themselves, a parent
/// their linked children, a teacher the students of their courses; else 403.
pub async fn find_visible(
    state: &AppState,
    caller: &AuthUser,
    id: Uuid,
) -> Result<api::User, ApiError> {
    let allowed = caller.is_admin()
        || id == caller.id()
        || (caller.role() == Role::Parent && is_linked(state, caller.id(), id).await?)
        || (caller.role() == Role::Teacher
            && crate::service::catalogue::teaches_student(&state.db, caller.id(), id).await?);
    if !allowed {
        return Err(forbidden());
    }
    Ok(to_wire(&find_user(&state.db, id).await?))
}

/// Gives user `id` a new role (by `admin`, audited): their sessions and parent ↔ child
/// links end. Not one's own role; becoming ADMIN needs 2FA on.
pub async fn change_role(
    state: &AppState,
    admin: Uuid,
    id: Uuid,
    role: Role,
    ip: &str,
) -> Result<api::User, ApiError> {
    if id == admin {
        return Err(ApiError::Unprocessable(
            "Admins can't change their own role; ask another admin".into(),
        ));
    }
    let target = find_user(&state.db, id).await?;
    let old = target.role;
    if old == role {
        return Ok(to_wire(&target));
    }
    if role == Role::Admin && !target.totp_enabled {
        return Err(ApiError::Unprocessable(
            "The user must turn on two-factor authentication before becoming an admin".into(),
        ));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    user::ActiveModel {
        id: Set(id),
        role: Set(role),
        profile: Set(None),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    bump_token_version(&txn, id).await?;
    revoke_sessions(&txn, id, None, "ROLE_CHANGED").await?;
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
    crate::service::auth::credentials_changed(state, id).await;
    audit::record(
        &state.db,
        Action::RoleChanged,
        audit::Event {
            actor: Some(admin),
            subject: Some(id),
            ip: Some(ip),
            detail: Some(format!("{old} -> {role}")),
        },
    )
    .await;
    Ok(to_wire(&find_user(&state.db, id).await?))
}

/// Deactivates or reactivates user `id` (by `admin`, audited, not themselves).
/// Deactivation ends every session and access token, so reactivation revives none.
pub async fn set_active(
    state: &AppState,
    admin: Uuid,
    id: Uuid,
    active: bool,
    ip: &str,
) -> Result<api::User, ApiError> {
    if id == admin {
        return Err(ApiError::Unprocessable(
            "Admins can't deactivate or reactivate themselves".into(),
        ));
    }
    let target = find_user(&state.db, id).await?;
    if target.is_active == active {
        return Ok(to_wire(&target));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    user::ActiveModel {
        id: Set(id),
        is_active: Set(active),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    if !active {
        bump_token_version(&txn, id).await?;
        revoke_sessions(&txn, id, None, "DEACTIVATED").await?;
        // Personal access tokens end too, so that reactivation doesn't revive them.
        revoke_access_tokens(&txn, id).await?;
    }
    txn.commit().await?;
    if !active {
        crate::service::auth::credentials_changed(state, id).await;
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
            actor: Some(admin),
            subject: Some(id),
            ip: Some(ip),
            ..Default::default()
        },
    )
    .await;
    Ok(to_wire(&find_user(&state.db, id).await?))
}

/// Links student `child_id` to parent `parent_id`: 422 unless a PARENT and a STUDENT,
/// 409 when linked already.
pub async fn link_child(state: &AppState, parent_id: Uuid, child_id: Uuid) -> Result<(), ApiError> {
    let parent = find_user(&state.db, parent_id).await?;
    let child = find_user(&state.db, child_id).await?;
    if parent.role != Role::Parent || child.role != Role::Student {
        return Err(ApiError::Unprocessable(
            "Only a PARENT can be linked to a STUDENT".into(),
        ));
    }
    if is_linked(state, parent.id, child.id).await? {
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
    Ok(())
}

/// A parent's linked children, by first name.
pub async fn children(state: &AppState, parent_id: Uuid) -> Result<Vec<api::User>, ApiError> {
    let child_ids: Vec<Uuid> = parent_link::Entity::find()
        .filter(parent_link::Column::ParentId.eq(parent_id))
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
    Ok(children.iter().map(to_wire).collect())
}

/// Removes a parent ↔ child link; 404 when there is none.
pub async fn unlink_child(state: &AppState, parent: Uuid, child: Uuid) -> Result<(), ApiError> {
    let removed = parent_link::Entity::delete_many()
        .filter(parent_link::Column::ParentId.eq(parent))
        .filter(parent_link::Column::ChildId.eq(child))
        .exec(&state.db)
        .await?;
    if removed.rows_affected == 0 {
        return Err(ApiError::NotFound("Link not found".into()));
    }
    Ok(())
}
