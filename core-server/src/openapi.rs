//! The OpenAPI 3.1 document's frame; paths and schemas are collected from the handlers.

use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
