//! The OpenAPI 3.1 document's frame; paths and schemas are collected from the handlers.

use utoipa::OpenApi;

/// Title, version and shared schemas of the EduPro+ API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "EduPro+ API",
        description = "REST API of the EduPro+ learning platform. Successful answers are `{success: true, data}`; failures are `{success: false, message, code, errors?}`.",
    ),
    components(schemas(crate::api::ErrorBody, crate::api::ErrorCode, crate::api::FieldError)),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;
