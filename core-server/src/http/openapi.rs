//! The OpenAPI 3.1 document's frame; paths and schemas are collected from the handlers.

use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Content, OpenApi as Document, Ref, RefOr, Required, Response, ResponseBuilder,
};
use utoipa::{Modify, OpenApi};

use crate::api::{API_PREFIX, PageQuery};
use crate::http::idempotency::EXCLUDED_PREFIXES;

/// Title, version and shared schemas of the EduPro+ API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "EduPro+ API",
        description = "REST API of the EduPro+ learning platform. Successful answers are `{success: true, data}`; failures are `{success: false, message, code, errors?}`.",
    ),
    // Query parameters refer to these, but utoipa collects schemas from bodies only.
    components(schemas(
        crate::api::ErrorBody,
        crate::api::ErrorCode,
        crate::api::FieldError,
        crate::api::CourseSort,
        crate::api::SeriesScope,
    )),
    modifiers(&BearerScheme),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

/// The `bearer` scheme that operations name in `security`: the access token of
/// `POST /auth/login`, a JWT, sent as `Authorization: Bearer <token>`.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "The access token of `POST /auth/login` (or of `/auth/refresh-token`).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The answers every operation of a kind can give, whatever its handler does: they come
/// from the extractors and middleware the operations share, so they are added here, once,
/// to the document utoipa collected from the handlers (a status a handler lists keeps
/// its own description). Every error answer is an [`ErrorBody`](crate::api::ErrorBody).
///
/// - a token (`security` names `bearer`): 401 when it is missing, malformed, expired or
///   revoked; a write also 403 for a personal access token without the `write` scope;
/// - parameters or a body: 400 when they cannot be read (malformed JSON, a path or query
///   value of the wrong form) or fail validation;
/// - a body: 413 over the body limit, 415 when not of the listed content type;
/// - a write under the API (but not `/auth/` nor `/imports`): the optional
///   `Idempotency-Key` header, 409 while the key's first request still runs and 422 when
///   the key was used for a different request;
/// - everything: 500; under the API also 503 while the database is unreachable.
///
/// The bounds of `page` and `limit`, which the query extractor enforces on every list,
/// are written into each list's parameters here too.
pub fn complete(mut document: Document) -> Document {
    for (path, item) in document.paths.paths.iter_mut() {
        for (write, operation) in operations(item) {
            complete_operation(path, write, operation);
        }
    }
    document
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = (bool, &mut Operation)> {
    [
        (false, item.get.as_mut()),
        (false, item.head.as_mut()),
        (false, item.options.as_mut()),
        (true, item.post.as_mut()),
        (true, item.put.as_mut()),
        (true, item.patch.as_mut()),
        (true, item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(write, operation)| operation.map(|o| (write, o)))
}

fn complete_operation(path: &str, write: bool, operation: &mut Operation) {
    document_paging(operation);
    let api = path.starts_with(API_PREFIX);
    let bearer = operation.security.iter().flatten().any(|requirement| {
        serde_json::to_value(requirement)
            .is_ok_and(|v| v.as_object().is_some_and(|o| o.contains_key("bearer")))
    });
    let idempotent = api && write && !EXCLUDED_PREFIXES.iter().any(|p| path.starts_with(p));
    if idempotent {
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(RefOr::T(
                ParameterBuilder::new()
                    .name("Idempotency-Key")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "Makes a retry safe: a retry with the same key (1 to 255 characters) \
                         and the same request answers as the first did and changes nothing again.",
                    ))
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .min_length(Some(1))
                            .max_length(Some(255)),
                    ))
                    .build(),
            ));
    }
    let has_body = operation.request_body.is_some();
    let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(description).build()));
    };
    if has_params || has_body {
        add(
            "400",
            "The request could not be read (malformed JSON, a path or query value of the wrong form) or has invalid fields (see `errors`)",
        );
    }
    if bearer {
        add(
            "401",
            "No valid credentials: the token is missing, malformed, expired or revoked",
        );
        if write {
            add(
                "403",
                "Not allowed; for a personal access token, one without the `write` scope",
            );
        }
    }
    if idempotent {
        add(
            "409",
            "A request with this Idempotency-Key is still running; retry when it has finished",
        );
        add(
            "422",
            "This Idempotency-Key was already used for a different request",
        );
    }
    if has_body || idempotent {
        add("413", "The request body is larger than the server's limit");
    }
    if has_body {
        add(
            "415",
            "The request body is not of the content type the operation reads",
        );
    }
    add(
        "500",
        "An unexpected server error (the body names no internals)",
    );
    if api {
        add("503", "The database is unreachable; retry later");
    }
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            document_error_body(status, response);
        }
    }
}

/// `page` from 1 to `MAX_PAGE`, `limit` from 1 to `MAX_LIMIT`, as `http::extract::Query`
/// enforces them.
fn document_paging(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        if parameter.parameter_in != ParameterIn::Query {
            continue;
        }
        let max = match parameter.name.as_str() {
            "page" => PageQuery::MAX_PAGE,
            "limit" => PageQuery::MAX_LIMIT,
            _ => continue,
        };
        if let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() {
            schema.minimum = Some(1u64.into());
            schema.maximum = Some(max.into());
        }
    }
}

/// An error status whose handler named no body answers an `ErrorBody`, like every error.
fn document_error_body(status: &str, response: &mut Response) {
    let is_error = status.parse::<u16>().is_ok_and(|s| s >= 400);
    if is_error && response.content.is_empty() {
        response.content.insert(
            "application/json".to_owned(),
            RefOr::T(Content::new(Some(Ref::from_schema_name("ErrorBody")))),
        );
    }
}
