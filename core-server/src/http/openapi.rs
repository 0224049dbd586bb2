//! The OpenAPI 3.1 document's frame; paths and schemas are collected from the handlers.

use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
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
        crate::api::DoubtSort,
        crate::api::DoubtStatus,
        crate::api::LeaderboardPeriod,
        crate::api::SeriesScope,
        crate::api::ImportKind,
        crate::api::WebhookDeliveryStatus,
        crate::api::PaymentStatus,
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
///   revoked; 403 when the role or the caller's relation to the resource does not allow
///   the operation (and for a write with a personal access token without `write`);
/// - a path parameter or an `…Id` query parameter: 404 when it names nothing;
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

/// The methods of every documented path, for the 405 answers of
/// [`not_found`](crate::http::middleware::not_found), with what the document says of
/// each path parameter's values (an enum, a UUID).
pub fn route_table(document: &Document) -> crate::http::middleware::RouteTable {
    let json = serde_json::to_value(document).unwrap_or_default();
    let resolve = |schema: &serde_json::Value| -> serde_json::Value {
        match schema["$ref"].as_str() {
            Some(reference) => json
                .pointer(reference.trim_start_matches('#'))
                .cloned()
                .unwrap_or_default(),
            None => schema.clone(),
        }
    };
    let param = |path: &str, name: &str| {
        let item = &json["paths"][path];
        let schema = item
            .as_object()
            .into_iter()
            .flat_map(|methods| methods.values())
            .filter_map(|operation| operation["parameters"].as_array())
            .flatten()
            .find(|p| p["in"] == "path" && p["name"] == name)
            .map(|p| resolve(&p["schema"]))
            .unwrap_or_default();
        let values = schema["enum"].as_array().map(|values| {
            values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        });
        crate::http::middleware::Segment::Param {
            values,
            uuid: schema["format"] == "uuid",
        }
    };
    let routes = document.paths.paths.iter().map(|(path, item)| {
        let methods = [
            ("GET", item.get.is_some()),
            ("HEAD", item.head.is_some()),
            ("OPTIONS", item.options.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        let methods = methods
            .into_iter()
            .filter(|(_, present)| *present)
            .map(|(method, _)| method.to_owned())
            .collect();
        (path.as_str(), methods)
    });
    crate::http::middleware::RouteTable::new(routes, param)
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
    // A path parameter or an `…Id` query parameter names a resource that may not exist.
    let names_a_resource = path.contains('{')
        || operation.parameters.iter().flatten().any(|p| {
            matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query && p.name.ends_with("Id"))
        });
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
        add(
            "403",
            "Not allowed: the caller's role or relation to the resource does not permit it; \
             for a write with a personal access token, also a token without the `write` scope",
        );
    }
    if names_a_resource {
        add(
            "404",
            "The resource the request names does not exist (or is not visible to the caller)",
        );
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

/// `page` from 1 to `MAX_PAGE`, `limit` from 1 to `MAX_LIMIT`, and no control characters
/// in any other string value, as `http::extract::Query` enforces them.
fn document_paging(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        if parameter.parameter_in != ParameterIn::Query {
            continue;
        }
        let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() else {
            continue;
        };
        let max = match parameter.name.as_str() {
            "page" => PageQuery::MAX_PAGE,
            "limit" => PageQuery::MAX_LIMIT,
            _ => {
                // The query extractor refuses control characters in any value.
                let string = match &schema.schema_type {
                    SchemaType::Type(t) => *t == Type::String,
                    SchemaType::Array(types) => types.contains(&Type::String),
                    SchemaType::AnyValue => false,
                };
                if string
                    && schema.pattern.is_none()
                    && schema.format.is_none()
                    && schema.enum_values.is_none()
                {
                    schema.pattern = Some(NO_CONTROL_CHARACTERS.to_owned());
                }
                continue;
            }
        };
        schema.minimum = Some(1u64.into());
        schema.maximum = Some(max.into());
    }
}

/// A string without control characters (what `char::is_control` is: C0, DEL, C1).
const NO_CONTROL_CHARACTERS: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";

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
