//! Where `Idempotency-Key`s live: claiming a key for a request, finding the stored
//! answer a retry gets again, keeping an answer and freeing a key. The HTTP middleware
//! (`http/idempotency.rs`) decides what to keep; this holds the rows.

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::store::constraints;
use crate::store::entity::idempotency_key;

/// How long a key is remembered.
const TTL_HOURS: i64 = 24;
/// After this long, a claim whose request never finished is considered abandoned.
const ABANDONED_AFTER_MINUTES: i64 = 5;

/// What a key means for the request that sends it.
pub enum Claim {
    /// The key is new: this request runs, and its answer is stored under this row.
    Mine(Uuid),
    /// The key has an answer for this very request.
    Replay(StoredAnswer),
}

/// An answer kept under a key, as the first request got it.
pub struct StoredAnswer {
    /// The HTTP status (absent only while the first request still runs).
    pub status: Option<i32>,
    pub content_type: Option<String>,
    pub body: Option<String>,
}

/// Claims `key` in `scope` for the request with `fingerprint`: new (or expired, or
/// abandoned) keys are this request's; the same request finished gets its answer again;
/// a different request is 422, one still running 409.
pub async fn claim(
    state: &AppState,
    scope: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Claim, ApiError> {
    let now = Utc::now();
    // Forget this key's expired answer, or a claim abandoned mid-request, so the key
    // can be used afresh.
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Scope.eq(scope))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(
            idempotency_key::Column::CreatedAt
                .lt(now - Duration::hours(TTL_HOURS))
                .or(idempotency_key::Column::Status.is_null().and(
                    idempotency_key::Column::CreatedAt
                        .lt(now - Duration::minutes(ABANDONED_AFTER_MINUTES)),
                )),
        )
        .exec(&state.db)
        .await?;
    let id = Uuid::now_v7();
    let inserted = idempotency_key::ActiveModel {
        id: Set(id),
        scope: Set(scope.to_owned()),
        key: Set(key.to_owned()),
        request_hash: Set(fingerprint.to_owned()),
        status: Set(None),
        response_body: Set(None),
        content_type: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await;
    match inserted {
        Ok(_) => return Ok(Claim::Mine(id)),
        Err(err) if constraints::violates(&err, &constraints::IDEMPOTENCY_KEYS_SCOPE_KEY) => {}
        Err(err) => return Err(err.into()),
    }
    let existing = idempotency_key::Entity::find()
        .filter(idempotency_key::Column::Scope.eq(scope))
        .filter(idempotency_key::Column::Key.eq(key))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::Conflict {
            field: Some("Idempotency-Key".into()),
            message: "A request with this Idempotency-Key just finished with a server error; retry"
                .into(),
        })?;
    if existing.request_hash != fingerprint {
        return Err(ApiError::Unprocessable(
            "This Idempotency-Key was already used for a different request; use a new key for a new request".into(),
        ));
    }
    if existing.status.is_none() {
        return Err(ApiError::Conflict {
            field: Some("Idempotency-Key".into()),
            message:
                "A request with this Idempotency-Key is still running; retry when it has finished"
                    .into(),
        });
    }
    Ok(Claim::Replay(StoredAnswer {
        status: existing.status,
        content_type: existing.content_type,
        body: existing.response_body,
    }))
}

/// Keeps the answer to the request that claimed row `id`, for its retries.
pub async fn keep_answer(
    state: &AppState,
    id: Uuid,
    status: u16,
    body: &str,
    content_type: Option<String>,
) -> Result<(), ApiError> {
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::Status,
            Expr::value(i32::from(status)),
        )
        .col_expr(
            idempotency_key::Column::ResponseBody,
            Expr::value(body.to_owned()),
        )
        .col_expr(
            idempotency_key::Column::ContentType,
            Expr::value(content_type),
        )
        .col_expr(idempotency_key::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(idempotency_key::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Frees the key claimed as row `id`: its answer is not kept, and a retry runs afresh.
pub async fn free(state: &AppState, id: Uuid) -> Result<(), ApiError> {
    idempotency_key::Entity::delete_by_id(id)
        .exec(&state.db)
        .await?;
    Ok(())
}
