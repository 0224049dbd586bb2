//! Request extractors whose failures speak the API's error envelope: a JSON body that
//! names the bad field, line and column, and query/path errors as 400s.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::api::FieldError;
use crate::error::ApiError;

/// The configured request body limit, in bytes (app data).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body. Unlike `actix_web::web::Json`, a wrong type or missing field is
/// reported as a validation error naming the field's path (`questions[2].marks`).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json_content_type(req);
        let limit = req
            .app_data::<BodyLimit>()
            .map_or(crate::platform::config::DEFAULT_BODY_LIMIT, |l| l.0);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType(
                    "Content-Type must be application/json".into(),
                ));
            }
            let too_large =
                || ApiError::PayloadTooLarge(format!("Request body is larger than {limit} bytes"));
            if declared.is_some_and(|n| n > limit) {
                return Err(too_large());
            }
            let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(body_error)?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(Json)
        })
    }
}

/// A body that could not be read: 408 when it missed its deadline, else 400.
pub fn body_error(err: actix_web::error::PayloadError) -> ApiError {
    if crate::http::body_deadline::is_timeout(&err) {
        ApiError::RequestTimeout(format!(
            "The request body did not arrive in time; send it whole within the server's body timeout ({err})"
        ))
    } else {
        ApiError::BadRequest(format!("Could not read the request body: {err}"))
    }
}

/// Parses a JSON document, turning serde's errors into the API's 400 answers.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "Request body is empty; send a JSON object".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_data() {
            ApiError::Validation(vec![field_error(&path, &inner)])
        } else {
            ApiError::BadRequest(format!("Malformed JSON: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("Malformed JSON: {e}")))?;
    Ok(value)
}

/// `missing field `email`` at the root becomes `{field: "email", message: "is required"}`.
fn field_error(path: &str, err: &serde_json::Error) -> FieldError {
    let full = err.to_string();
    let message = full
        .rfind(" at line ")
        .map_or(full.as_str(), |i| &full[..i]);
    let prefix = if path == "." { "" } else { path };
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        let field = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        };
        return FieldError::new(field, "is required");
    }
    let field = if prefix.is_empty() { "body" } else { prefix };
    FieldError::new(field, message)
}

fn is_json_content_type(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Query strings that don't parse answer 400 naming the problem.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        ApiError::BadRequest(format!("Invalid query string: {err}")).into()
    })
}

/// Path segments that don't parse (an id that is not a UUID) answer 400.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|err, _req| ApiError::BadRequest(format!("Invalid path: {err}")).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;
    use actix_web::http::StatusCode;

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct NewThing {
        first_name: String,
        marks: Vec<u32>,
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let err = parse_json::<NewThing>(b"{\n  \"firstName\": \"Ada\",\n  oops\n}").unwrap_err();
        assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
        let msg = err.to_string();
        assert!(msg.contains("line 3") && msg.contains("column"), "{msg}");
    }

    #[test]
    fn a_missing_field_is_named_in_camel_case() {
        let err = parse_json::<NewThing>(br#"{"marks": []}"#).unwrap_err();
        let body = err.body();
        assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body.errors.unwrap()[0],
            FieldError::new("firstName", "is required")
        );
    }

    #[test]
    fn a_wrong_type_deep_inside_names_its_path() {
        let err =
            parse_json::<NewThing>(br#"{"firstName": "Ada", "marks": [1, "two"]}"#).unwrap_err();
        let errors = err.body().errors.unwrap();
        assert_eq!(errors[0].field, "marks[1]");
        assert!(errors[0].message.contains("invalid type"), "{errors:?}");
    }

    #[test]
    fn trailing_garbage_and_empty_bodies_are_rejected() {
        assert!(parse_json::<NewThing>(br#"{"firstName":"A","marks":[]} x"#).is_err());
        let err = parse_json::<NewThing>(b"  ").unwrap_err();
        assert!(err.to_string().contains("empty"));
    }
}
