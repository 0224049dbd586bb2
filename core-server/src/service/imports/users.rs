//! `users.csv`: `user_id, login_id | email, first_name, last_name, role, status,
//! password`. `user_id` is the external id; `role` is student, teacher or parent (any
//! case; imports never make admins); `status` active, or deleted/suspended (deactivated).
//! A `password` is set only on a user who has none yet, so re-runs stay unchanged; a
//! new user without one is mailed a code to set it, in the batch's transaction. An
//! active user still without a password and without a live code (it expired or was
//! spent, or an older version lost it) is mailed a new one: the row is an `update` of
//! `invitation`.

use std::collections::HashMap;

use chrono::Utc;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use super::{Columns, Format, Header, Planned, RawRecord, RevertOutcome, Row, Run};
use crate::api::{FieldError, ImportMode, ImportRow, Role, RowOutcome};
use crate::domain::{Email, Password, PersonName};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::accounts;
use crate::service::auth::password;
use crate::store::constraints;
use crate::store::entity::{access_token, enrollment, import_change, user};

/// The columns of `users.csv`.
pub const COLUMNS: Columns = Columns {
    known: &[
        "user_id",
        "login_id",
        "email",
        "first_name",
        "last_name",
        "role",
        "status",
        "password",
    ],
    required: &[
        &["user_id"],
        &["email", "login_id"],
        &["first_name"],
        &["last_name"],
    ],
};

/// A parsed row.
struct Parsed {
    key: String,
    email: Email,
    email_field: &'static str,
    first_name: PersonName,
    last_name: PersonName,
    role: Option<Role>,
    active: Option<bool>,
    password: Option<Password>,
}

fn parse(row: &Row) -> Result<Parsed, Vec<FieldError>> {
    let mut errors = Vec::new();
    let key = match row.get("user_id") {
        Some(k) if k.chars().count() <= 255 => Some(k.to_owned()),
        Some(_) => {
            errors.push(FieldError::new("user_id", "is longer than 255 characters"));
            None
        }
        None => {
            errors.push(FieldError::new("user_id", "is required"));
            None
        }
    };
    let (email_field, raw_email) = match (row.get("email"), row.get("login_id")) {
        (Some(e), _) => ("email", Some(e)),
        (None, Some(l)) => ("login_id", Some(l)),
        (None, None) => ("email", None),
    };
    let email = match raw_email.map(Email::parse) {
        Some(Ok(e)) => Some(e),
        Some(Err(m)) => {
            errors.push(FieldError::new(email_field, m));
            None
        }
        None => {
            errors.push(FieldError::new(email_field, "is required"));
            None
        }
    };
    let mut name = |field: &'static str| match PersonName::parse(row.get(field).unwrap_or("")) {
        Ok(n) => Some(n),
        Err(m) => {
            errors.push(FieldError::new(field, m));
            None
        }
    };
    let first_name = name("first_name");
    let last_name = name("last_name");
    let role = match row.get("role").map(|r| r.to_ascii_lowercase()) {
        None => None,
        Some(r) if r == "student" => Some(Role::Student),
        Some(r) if r == "teacher" => Some(Role::Teacher),
        Some(r) if r == "parent" => Some(Role::Parent),
        Some(r) if r == "admin" => {
            errors.push(FieldError::new(
                "role",
                "imports don't create admins; use `edupro users role` with 2FA",
            ));
            None
        }
        Some(_) => {
            errors.push(FieldError::new(
                "role",
                format!(
                    "`{}` is not a role; use student, teacher or parent",
                    row.get("role").unwrap_or("")
                ),
            ));
            None
        }
    };
    let active = match row.get("status").map(|s| s.to_ascii_lowercase()) {
        None => None,
        Some(s) if s == "active" => Some(true),
        Some(s) if s == "deleted" || s == "suspended" => Some(false),
        Some(_) => {
            errors.push(FieldError::new(
                "status",
                format!(
                    "`{}` is not a status; use active, suspended or deleted",
                    row.get("status").unwrap_or("")
                ),
            ));
            None
        }
    };
    let password = match row.get("password").map(Password::parse) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(m)) => {
            errors.push(FieldError::new("password", m));
            None
        }
    };
    match (key, email, first_name, last_name) {
        (Some(key), Some(email), Some(first_name), Some(last_name)) if errors.is_empty() => {
            Ok(Parsed {
                key,
                email,
                email_field,
                first_name,
                last_name,
                role,
                active,
                password,
            })
        }
        _ => Err(errors),
    }
}

/// What an applied row writes.
#[derive(Debug)]
pub enum Write {
    Create {
        line: u64,
        model: Box<user::ActiveModel>,
        password: Option<Password>,
    },
    Update {
        line: u64,
        before: Box<user::Model>,
        email: String,
        first_name: String,
        last_name: String,
        role: Role,
        active: bool,
        password: Option<Password>,
        /// Sessions must end (role change or deactivation).
        revoke: bool,
        /// Active, without a password and without a live invitation: mail one.
        invite: bool,
    },
    /// An existing user that is active, has no password and no live invitation (it
    /// expired, was spent, or a version before the mail queue lost it): a new one.
    Invite {
        id: Uuid,
        email: String,
        first_name: String,
    },
}

fn referral_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..12)
        .map(|_| char::from(ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()]))
        .collect()
}

/// Plans one batch and, in apply mode, writes it in one transaction.
pub async fn process(
    state: &AppState,
    run: &mut Run,
    header: Option<&Header>,
    format: Format,
    records: Vec<RawRecord>,
) -> Result<Vec<ImportRow>, ApiError> {
    let rows: Vec<(u64, Result<Parsed, super::RowErrors>)> = records
        .iter()
        .map(|r| {
            (
                r.line,
                super::read_record(
                    format,
                    &COLUMNS,
                    header,
                    r,
                    |row| row.get("user_id").map(str::to_owned),
                    parse,
                ),
            )
        })
        .collect();
    let keys: Vec<String> = rows
        .iter()
        .filter_map(|(_, p)| p.as_ref().ok().map(|p| p.key.clone()))
        .collect();
    let emails: Vec<String> = rows
        .iter()
        .filter_map(|(_, p)| p.as_ref().ok().map(|p| p.email.as_ref().to_owned()))
        .collect();
    let by_key: HashMap<String, user::Model> = user::Entity::find()
        .filter(user::Column::ExternalId.is_in(keys))
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|u| u.external_id.clone().map(|k| (k, u)))
        .collect();
    let by_email: HashMap<String, user::Model> = user::Entity::find()
        .filter(user::Column::Email.is_in(emails))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.email.clone(), u))
        .collect();
    // Which of the batch's password-less users hold a live set-password code.
    let invited = accounts::holding_live_codes(
        &state.db,
        by_key
            .values()
            .filter(|u| u.password_hash.is_none())
            .map(|u| u.id),
        accounts::CodePurpose::ResetPassword,
    )
    .await?;

    let now = Utc::now();
    let mut planned: Vec<Planned<Write>> = Vec::with_capacity(rows.len());
    for (line, parsed) in rows {
        let p = match parsed {
            Ok(p) => p,
            Err((key, errors)) => {
                planned.push(Planned::error(line, key, errors));
                continue;
            }
        };
        let key = Some(p.key.clone());
        let mut errors = Vec::new();
        if let Err(e) = run.file.claim_key("user_id", &p.key, line) {
            errors.push(e);
        }
        let email = p.email.as_ref().to_owned();
        if let Err(e) = run.file.claim_unique(p.email_field, &email, line) {
            errors.push(e);
        }
        let existing = by_key.get(&p.key);
        if let Some(owner) = by_email.get(&email)
            && existing.is_none_or(|u| u.id != owner.id)
            && !run.file.released.contains(&email)
        {
            let whose = match &owner.external_id {
                Some(k) => format!("the user with external id `{k}`"),
                None => "an account created outside imports".to_owned(),
            };
            errors.push(FieldError::new(
                p.email_field,
                format!("`{email}` is already used by {whose}"),
            ));
        }
        if existing.is_some_and(|u| u.role == Role::Admin) {
            errors.push(FieldError::new(
                "user_id",
                "belongs to an admin; imports don't change admins",
            ));
        }
        if !errors.is_empty() {
            planned.push(Planned::error(line, key, errors));
            continue;
        }
        let (outcome, changes, write) = match existing {
            None => {
                let role = p.role.unwrap_or(Role::Student);
                let model = user::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    email: Set(email.clone()),
                    phone: Set(None),
                    password_hash: Set(None),
                    first_name: Set(p.first_name.as_ref().to_owned()),
                    last_name: Set(p.last_name.as_ref().to_owned()),
                    role: Set(role),
                    avatar: Set(None),
                    bio: Set(None),
                    profile: Set(None),
                    is_email_verified: Set(false),
                    is_phone_verified: Set(false),
                    is_active: Set(p.active.unwrap_or(true)),
                    last_login: Set(None),
                    referral_code: Set(referral_code()),
                    token_version: Set(0),
                    totp_secret: Set(None),
                    totp_enabled: Set(false),
                    totp_last_step: Set(None),
                    external_id: Set(Some(p.key.clone())),
                    created_at: Set(now),
                    updated_at: Set(now),
                };
                (
                    RowOutcome::Create,
                    Vec::new(),
                    Some(Write::Create {
                        line,
                        model: Box::new(model),
                        password: p.password,
                    }),
                )
            }
            Some(u) => {
                let role = p.role.unwrap_or(u.role);
                let active = p.active.unwrap_or(u.is_active);
                let password = p.password.filter(|_| u.password_hash.is_none());
                let mut changes = Vec::new();
                if u.email != email {
                    changes.push(p.email_field.to_owned());
                }
                if u.first_name != p.first_name.as_ref() {
                    changes.push("first_name".to_owned());
                }
                if u.last_name != p.last_name.as_ref() {
                    changes.push("last_name".to_owned());
                }
                if u.role != role {
                    changes.push("role".to_owned());
                }
                if u.is_active != active {
                    changes.push("status".to_owned());
                }
                if password.is_some() {
                    changes.push("password".to_owned());
                }
                let invite = active
                    && u.password_hash.is_none()
                    && password.is_none()
                    && !invited.contains(&u.id);
                if changes.is_empty() && invite {
                    // Nothing of the user changes; they are mailed a new invitation.
                    let write = Write::Invite {
                        id: u.id,
                        email: u.email.clone(),
                        first_name: u.first_name.clone(),
                    };
                    (
                        RowOutcome::Update,
                        vec!["invitation".to_owned()],
                        Some(write),
                    )
                } else if changes.is_empty() {
                    (RowOutcome::Unchanged, changes, None)
                } else {
                    if invite {
                        changes.push("invitation".to_owned());
                    }
                    if u.email != email {
                        run.file.released.insert(u.email.clone());
                    }
                    let revoke = u.role != role || (u.is_active && !active);
                    let write = Write::Update {
                        line,
                        before: Box::new(u.clone()),
                        email: email.clone(),
                        first_name: p.first_name.as_ref().to_owned(),
                        last_name: p.last_name.as_ref().to_owned(),
                        role,
                        active,
                        password,
                        revoke,
                        invite,
                    };
                    (RowOutcome::Update, changes, Some(write))
                }
            }
        };
        planned.push(Planned {
            report: ImportRow {
                line,
                key,
                outcome,
                changes,
                errors: Vec::new(),
            },
            write,
        });
    }

    let write = super::enforce_max_errors(run, &mut planned);
    if write && run.mode == ImportMode::Apply {
        let writes: Vec<(String, Write)> = planned
            .iter_mut()
            .filter_map(|p| {
                let key = p.report.key.clone()?;
                p.write.take().map(|w| (key, w))
            })
            .collect();
        apply(state, run, writes).await?;
    }
    Ok(planned.into_iter().map(|p| p.report).collect())
}

async fn hash(p: Option<Password>) -> Result<Option<String>, ApiError> {
    match p {
        Some(p) => Ok(Some(
            password::hash(SecretString::from(p.expose().to_owned())).await?,
        )),
        None => Ok(None),
    }
}

async fn apply(state: &AppState, run: &Run, writes: Vec<(String, Write)>) -> Result<(), ApiError> {
    if writes.is_empty() {
        return Ok(());
    }
    // Hash the batch's passwords (if any) before the transaction, in parallel.
    let mut hashed = Vec::with_capacity(writes.len());
    let hashes = futures_util::future::join_all(writes.iter().map(|(_, w)| match w {
        Write::Create { password, .. } | Write::Update { password, .. } => hash(password.clone()),
        Write::Invite { .. } => hash(None),
    }))
    .await;
    for h in hashes {
        hashed.push(h?);
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    let mut inserts = Vec::new();
    let mut changes = Vec::new();
    let mut to_mail = Vec::new();
    for ((key, write), hash) in writes.into_iter().zip(hashed) {
        match write {
            Write::Create {
                line, mut model, ..
            } => {
                let id = *model.id.as_ref();
                if hash.is_none() && *model.is_active.as_ref() {
                    to_mail.push((
                        id,
                        model.email.as_ref().clone(),
                        model.first_name.as_ref().clone(),
                    ));
                }
                model.password_hash = Set(hash);
                changes.push(super::change(run, line, &key, id, None));
                inserts.push(*model);
            }
            Write::Update {
                line,
                before,
                email,
                first_name,
                last_name,
                role,
                active,
                revoke,
                invite,
                ..
            } => {
                let id = before.id;
                if invite {
                    to_mail.push((id, email.clone(), first_name.clone()));
                }
                let mut model = user::ActiveModel {
                    id: Set(id),
                    email: Set(email),
                    first_name: Set(first_name),
                    last_name: Set(last_name),
                    role: Set(role),
                    is_active: Set(active),
                    updated_at: Set(Utc::now()),
                    ..Default::default()
                };
                if hash.is_some() {
                    model.password_hash = Set(hash);
                }
                model.update(&txn).await.map_err(email_clash)?;
                if revoke {
                    end_sessions(&txn, id).await?;
                }
                changes.push(super::change(
                    run,
                    line,
                    &key,
                    id,
                    Some(before_image(&before)),
                ));
            }
            Write::Invite {
                id,
                email,
                first_name,
            } => {
                // No change of the user to record (nor to revert): only the mail.
                to_mail.push((id, email, first_name));
            }
        }
    }
    for chunk in inserts.chunks(500) {
        user::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .map_err(email_clash)?;
    }
    super::record_changes(&txn, changes).await?;
    // Set-password codes and their mail, in the batch's transaction: a committed user
    // always has its invitation, and a crash loses both or neither.
    let invitees: Vec<accounts::Addressee<'_>> = to_mail
        .iter()
        .map(|(id, email, first_name)| accounts::Addressee {
            id: *id,
            email,
            first_name,
        })
        .collect();
    let queued = accounts::invite(&txn, state, &invitees).await?;
    txn.commit().await?;
    crate::service::auth::users_changed(state).await;
    crate::service::catalogue::catalogue_changed(state).await;
    queued.wake(&state.mailer);
    Ok(())
}

/// An email of the batch taken by a write that raced it: the run can simply be re-run.
fn email_clash(err: sea_orm::DbErr) -> ApiError {
    if constraints::violates(&err, &constraints::USERS_EMAIL) {
        ApiError::Conflict {
            field: Some("email".into()),
            message:
                "An email of this batch was taken while it was being written; run the import again"
                    .into(),
        }
    } else {
        err.into()
    }
}

async fn end_sessions(txn: &DatabaseTransaction, id: Uuid) -> Result<(), ApiError> {
    accounts::bump_token_version(txn, id).await?;
    accounts::revoke_sessions(txn, id, None, "IMPORT").await?;
    let now = Utc::now();
    access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(now))
        .col_expr(access_token::Column::UpdatedAt, Expr::value(now))
        .filter(access_token::Column::UserId.eq(id))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

fn before_image(u: &user::Model) -> serde_json::Value {
    json!({
        "email": u.email,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "role": u.role,
        "isActive": u.is_active,
        "passwordHash": u.password_hash,
    })
}

/// Undoes one change of a users run.
pub async fn revert_change(
    txn: &DatabaseTransaction,
    change: &import_change::Model,
    outcome: &mut RevertOutcome,
) -> Result<(), ApiError> {
    let Some(current) = user::Entity::find_by_id(change.entity_id).one(txn).await? else {
        return Ok(());
    };
    match &change.before {
        None => {
            // Never signed in: nothing of theirs to keep, so the row goes. Otherwise
            // they are deactivated, keeping what they did.
            if current.last_login.is_none() {
                // Their enrollments go with them, deleted here so that the courses
                // they were in are exactly known: the revert recounts those at its end.
                let gone = enrollment::Entity::delete_many()
                    .filter(enrollment::Column::StudentId.eq(current.id))
                    .exec_with_returning(txn)
                    .await?;
                outcome
                    .recount
                    .extend(gone.into_iter().map(|e| e.course_id));
                user::Entity::delete_by_id(current.id).exec(txn).await?;
                outcome.deleted += 1;
            } else {
                user::ActiveModel {
                    id: Set(current.id),
                    is_active: Set(false),
                    updated_at: Set(Utc::now()),
                    ..Default::default()
                }
                .update(txn)
                .await?;
                end_sessions(txn, current.id).await?;
                outcome.deactivated += 1;
            }
        }
        Some(before) => {
            let text = |k: &str| before[k].as_str().map(str::to_owned);
            let role = before["role"].as_str().and_then(|r| r.parse::<Role>().ok());
            let (Some(email), Some(first_name), Some(last_name), Some(role)) =
                (text("email"), text("firstName"), text("lastName"), role)
            else {
                return Err(
                    anyhow::anyhow!("import change {} has a bad before-image", change.id).into(),
                );
            };
            let active = before["isActive"].as_bool().unwrap_or(current.is_active);
            let revoke = current.role != role || (current.is_active && !active);
            user::ActiveModel {
                id: Set(current.id),
                email: Set(email),
                first_name: Set(first_name),
                last_name: Set(last_name),
                role: Set(role),
                is_active: Set(active),
                password_hash: Set(text("passwordHash")),
                updated_at: Set(Utc::now()),
                ..Default::default()
            }
            .update(txn)
            .await
            .map_err(|e| {
                if constraints::violates(&e, &constraints::USERS_EMAIL) {
                    ApiError::Conflict {
                        field: Some("email".into()),
                        message: format!(
                            "Can't restore user `{}`: its earlier email is now used by another account",
                            change.key
                        ),
                    }
                } else {
                    e.into()
                }
            })?;
            if revoke {
                end_sessions(txn, current.id).await?;
            }
            outcome.restored += 1;
        }
    }
    Ok(())
}
