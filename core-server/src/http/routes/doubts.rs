//! Doubts: `/courses/{id}/doubts`, `/doubts/…` and `/doubt-answers/…`. Handlers parse the
//! fields and call [`crate::service::doubts`], which decides who may do what.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{
    AcceptAnswer, ApiResponse, Deleted, Doubt, DoubtAnswer, DoubtAnswerInput, DoubtFilter,
    DoubtList, DoubtThread, NewDoubt, PageQuery, UpdateDoubt,
};
use crate::domain::{Fields, Markdown, Title, WebUrl};
use crate::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::doubts::{self, DoubtChanges, DoubtInput, Target, VoteResult};

/// Registers every route of this file (the queue before `/doubts/{id}`).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(queue)
        .service(ask)
        .service(list)
        .service(thread)
        .service(edit)
        .service(remove)
        .service(answer)
        .service(edit_answer)
        .service(remove_answer)
        .service(accept)
        .service(reopen)
        .service(vote_doubt)
        .service(unvote_doubt)
        .service(vote_answer)
        .service(unvote_answer)
        .service(hide_doubt)
        .service(unhide_doubt)
        .service(hide_answer)
        .service(unhide_answer);
}

fn body(fields: &mut Fields, raw: &str) -> Option<Markdown> {
    fields.take("body", Markdown::parse(raw))
}

fn missing() -> ApiError {
    anyhow::anyhow!("fields parsed without values").into()
}

/// Asks a doubt on a course or one of its lessons (students enrolled in it); the
/// course's staff are notified.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    request_body = NewDoubt,
    responses(
        (status = 201, description = "Asked", body = ApiResponse<Doubt>),
        (status = 400, description = "A field is empty, too long or not a lesson of the course", body = crate::api::ErrorBody),
        (status = 403, description = "Not a student enrolled in the course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course, or not visible", body = crate::api::ErrorBody),
    )
)]
#[post("/courses/{id}/doubts")]
pub async fn ask(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    Json(input): Json<NewDoubt>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let title = fields.take("title", Title::parse(&input.title));
    let text = body(&mut fields, &input.body);
    let link = input
        .link
        .as_deref()
        .filter(|l| !l.trim().is_empty())
        .and_then(|l| fields.take("link", WebUrl::parse(l)));
    fields.finish()?;
    let (Some(title), Some(body)) = (title, text) else {
        return Err(missing());
    };
    let input = DoubtInput {
        title,
        body,
        link,
        lesson_id: input.lesson_id,
    };
    Ok(created(doubts::ask(&state, &auth, &id, input).await?))
}

/// A course's doubts (its enrolled students and staff): filtered, searched, newest or
/// most voted first.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)"), DoubtFilter),
    responses(
        (status = 200, description = "A page of doubts", body = ApiResponse<DoubtList>),
        (status = 403, description = "Neither enrolled in nor teaching the course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course, or not visible", body = crate::api::ErrorBody),
    )
)]
#[get("/courses/{id}/doubts")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    filter: Query<DoubtFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        doubts::list(&state, &auth, &id, filter.into_inner()).await?
    ))
}

/// A teacher's queue: doubts without an answer in the courses they teach (an admin's:
/// all), oldest first.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of unanswered doubts", body = ApiResponse<DoubtList>),
        (status = 403, description = "Not a teacher or an admin", body = crate::api::ErrorBody),
    )
)]
#[get("/doubts/queue")]
pub async fn queue(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(doubts::queue(&state, &auth, page.into_inner()).await?))
}

/// A doubt and its answers (the accepted one first, then by votes).
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doubt id")),
    responses(
        (status = 200, description = "The thread", body = ApiResponse<DoubtThread>),
        (status = 403, description = "Neither enrolled in nor teaching the course", body = crate::api::ErrorBody),
        (status = 404, description = "No such doubt, or hidden", body = crate::api::ErrorBody),
    )
)]
#[get("/doubts/{id}")]
pub async fn thread(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(doubts::thread(&state, &auth, *id).await?))
}

/// The asker edits a doubt within 30 minutes of asking; an empty `link` clears it.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doubt id")),
    request_body = UpdateDoubt,
    responses(
        (status = 200, description = "Edited", body = ApiResponse<Doubt>),
        (status = 400, description = "A field is empty or too long", body = crate::api::ErrorBody),
        (status = 403, description = "Not the asker", body = crate::api::ErrorBody),
        (status = 404, description = "No such doubt", body = crate::api::ErrorBody),
        (status = 422, description = "The edit window has passed", body = crate::api::ErrorBody),
    )
)]
#[patch("/doubts/{id}")]
pub async fn edit(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(input): Json<UpdateDoubt>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let changes = DoubtChanges {
        title: input
            .title
            .as_deref()
            .and_then(|t| fields.take("title", Title::parse(t))),
        body: input.body.as_deref().and_then(|b| body(&mut fields, b)),
        link: input.link.as_deref().map(|l| {
            let l = l.trim();
            if l.is_empty() {
                None
            } else {
                fields.take("link", WebUrl::parse(l))
            }
        }),
    };
    fields.finish()?;
    Ok(ok(doubts::edit(&state, &auth, *id, changes).await?))
}

/// The asker deletes a doubt nobody else has answered.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doubt id")),
    responses(
        (status = 200, description = "Deleted", body = ApiResponse<Deleted>),
        (status = 403, description = "Not the asker", body = crate::api::ErrorBody),
        (status = 404, description = "No such doubt", body = crate::api::ErrorBody),
        (status = 409, description = "Others have answered it", body = crate::api::ErrorBody),
    )
)]
#[delete("/doubts/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    doubts::delete(&state, &auth, *id).await?;
    Ok(ok_with("Doubt deleted", Deleted { id: *id }))
}

/// Answers a doubt (the course's staff and enrolled students); the asker is notified.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doubt id")),
    request_body = DoubtAnswerInput,
    responses(
        (status = 201, description = "Answered", body = ApiResponse<DoubtAnswer>),
        (status = 400, description = "Empty or too long", body = crate::api::ErrorBody),
        (status = 403, description = "Neither enrolled in nor teaching the course", body = crate::api::ErrorBody),
        (status = 404, description = "No such doubt", body = crate::api::ErrorBody),
        (status = 409, description = "The doubt is hidden", body = crate::api::ErrorBody),
    )
)]
#[post("/doubts/{id}/answers")]
pub async fn answer(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(input): Json<DoubtAnswerInput>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let text = body(&mut fields, &input.body);
    fields.finish()?;
    let text = text.ok_or_else(missing)?;
    Ok(created(doubts::answer(&state, &auth, *id, text).await?))
}

/// The author edits an answer within 30 minutes of posting.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Answer id")),
    request_body = DoubtAnswerInput,
    responses(
        (status = 200, description = "Edited", body = ApiResponse<DoubtAnswer>),
        (status = 400, description = "Empty or too long", body = crate::api::ErrorBody),
        (status = 403, description = "Not the author", body = crate::api::ErrorBody),
        (status = 404, description = "No such answer", body = crate::api::ErrorBody),
        (status = 422, description = "The edit window has passed", body = crate::api::ErrorBody),
    )
)]
#[patch("/doubt-answers/{id}")]
pub async fn edit_answer(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(input): Json<DoubtAnswerInput>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let text = body(&mut fields, &input.body);
    fields.finish()?;
    let text = text.ok_or_else(missing)?;
    Ok(ok(doubts::edit_answer(&state, &auth, *id, text).await?))
}

/// The author deletes an answer that is not the accepted one.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Answer id")),
    responses(
        (status = 200, description = "Deleted", body = ApiResponse<Deleted>),
        (status = 403, description = "Not the author", body = crate::api::ErrorBody),
        (status = 404, description = "No such answer", body = crate::api::ErrorBody),
        (status = 409, description = "It is the accepted answer", body = crate::api::ErrorBody),
    )
)]
#[delete("/doubt-answers/{id}")]
pub async fn remove_answer(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    doubts::delete_answer(&state, &auth, *id).await?;
    Ok(ok_with("Answer deleted", Deleted { id: *id }))
}

/// The asker accepts an answer: the doubt is RESOLVED, the answer's author notified.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doubt id")),
    request_body = AcceptAnswer,
    responses(
        (status = 200, description = "Resolved", body = ApiResponse<Doubt>),
        (status = 400, description = "Not an answer to this doubt", body = crate::api::ErrorBody),
        (status = 403, description = "Not the asker", body = crate::api::ErrorBody),
        (status = 404, description = "No such doubt", body = crate::api::ErrorBody),
    )
)]
#[post("/doubts/{id}/accept")]
pub async fn accept(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(input): Json<AcceptAnswer>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        doubts::accept(&state, &auth, *id, input.answer_id).await?
    ))
}

/// The asker or staff reopen a doubt: no answer is accepted any more.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doubt id")),
    responses(
        (status = 200, description = "Reopened", body = ApiResponse<Doubt>),
        (status = 403, description = "Neither the asker nor staff", body = crate::api::ErrorBody),
        (status = 404, description = "No such doubt", body = crate::api::ErrorBody),
    )
)]
#[post("/doubts/{id}/reopen")]
pub async fn reopen(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(doubts::reopen(&state, &auth, *id).await?))
}

fn voted(result: VoteResult) -> HttpResponse {
    match result {
        VoteResult::Doubt(d) => ok(d),
        VoteResult::Answer(a) => ok(a),
    }
}

/// Votes for a doubt (once; not one's own).
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doubt id")),
    responses(
        (status = 200, description = "Voted", body = ApiResponse<Doubt>),
        (status = 403, description = "One's own doubt, or no access", body = crate::api::ErrorBody),
        (status = 404, description = "No such doubt", body = crate::api::ErrorBody),
        (status = 409, description = "Already voted", body = crate::api::ErrorBody),
    )
)]
#[post("/doubts/{id}/vote")]
pub async fn vote_doubt(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(voted(
        doubts::vote(&state, &auth, Target::Doubt(*id), true).await?,
    ))
}

/// Takes back one's vote for a doubt (no vote: nothing changes).
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doubt id")),
    responses(
        (status = 200, description = "Vote taken back", body = ApiResponse<Doubt>),
        (status = 403, description = "One's own doubt, or no access", body = crate::api::ErrorBody),
        (status = 404, description = "No such doubt", body = crate::api::ErrorBody),
    )
)]
#[delete("/doubts/{id}/vote")]
pub async fn unvote_doubt(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(voted(
        doubts::vote(&state, &auth, Target::Doubt(*id), false).await?,
    ))
}

/// Votes for an answer (once; not one's own).
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Answer id")),
    responses(
        (status = 200, description = "Voted", body = ApiResponse<DoubtAnswer>),
        (status = 403, description = "One's own answer, or no access", body = crate::api::ErrorBody),
        (status = 404, description = "No such answer", body = crate::api::ErrorBody),
        (status = 409, description = "Already voted", body = crate::api::ErrorBody),
    )
)]
#[post("/doubt-answers/{id}/vote")]
pub async fn vote_answer(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(voted(
        doubts::vote(&state, &auth, Target::Answer(*id), true).await?,
    ))
}

/// Takes back one's vote for an answer.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Answer id")),
    responses(
        (status = 200, description = "Vote taken back", body = ApiResponse<DoubtAnswer>),
        (status = 403, description = "One's own answer, or no access", body = crate::api::ErrorBody),
        (status = 404, description = "No such answer", body = crate::api::ErrorBody),
    )
)]
#[delete("/doubt-answers/{id}/vote")]
pub async fn unvote_answer(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(voted(
        doubts::vote(&state, &auth, Target::Answer(*id), false).await?,
    ))
}

/// Staff hide a doubt: only staff see it, and it takes no answers.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doubt id")),
    responses(
        (status = 200, description = "Hidden", body = ApiResponse<Doubt>),
        (status = 403, description = "Not the course's staff", body = crate::api::ErrorBody),
        (status = 404, description = "No such doubt", body = crate::api::ErrorBody),
    )
)]
#[post("/doubts/{id}/hide")]
pub async fn hide_doubt(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(voted(
        doubts::set_hidden(&state, &auth, Target::Doubt(*id), true).await?,
    ))
}

/// Staff show a hidden doubt again.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doubt id")),
    responses(
        (status = 200, description = "Shown", body = ApiResponse<Doubt>),
        (status = 403, description = "Not the course's staff", body = crate::api::ErrorBody),
        (status = 404, description = "No such doubt", body = crate::api::ErrorBody),
    )
)]
#[post("/doubts/{id}/unhide")]
pub async fn unhide_doubt(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(voted(
        doubts::set_hidden(&state, &auth, Target::Doubt(*id), false).await?,
    ))
}

/// Staff hide an answer (an accepted one stops being accepted).
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Answer id")),
    responses(
        (status = 200, description = "Hidden", body = ApiResponse<DoubtAnswer>),
        (status = 403, description = "Not the course's staff", body = crate::api::ErrorBody),
        (status = 404, description = "No such answer", body = crate::api::ErrorBody),
    )
)]
#[post("/doubt-answers/{id}/hide")]
pub async fn hide_answer(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(voted(
        doubts::set_hidden(&state, &auth, Target::Answer(*id), true).await?,
    ))
}

/// Staff show a hidden answer again.
#[utoipa::path(
    tag = "doubts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Answer id")),
    responses(
        (status = 200, description = "Shown", body = ApiResponse<DoubtAnswer>),
        (status = 403, description = "Not the course's staff", body = crate::api::ErrorBody),
        (status = 404, description = "No such answer", body = crate::api::ErrorBody),
    )
)]
#[post("/doubt-answers/{id}/unhide")]
pub async fn unhide_answer(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(voted(
        doubts::set_hidden(&state, &auth, Target::Answer(*id), false).await?,
    ))
}
