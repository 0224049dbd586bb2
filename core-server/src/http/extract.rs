//! Request extractors whose failures speak the API's error envelope: a JSON body that
//! names the bad field, line and column, a query string that names the bad parameter,
//! and path errors as 400s.

use std::future::{Future, Ready, ready};
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::api::{FieldError, PageQuery};
use crate::domain::Fields;
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
    let value = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => value,
        Err(err) if err.inner().is_data() => {
            // JSON has one number type: `2.0` is the integer 2 to JSON Schema, so a
            // client may spell an integer field that way. Retried with whole numbers
            // spelled as integers; the first error stands if that fails too.
            if let Some(value) = with_whole_numbers_as_integers(body)
                .and_then(|v| serde_path_to_error::deserialize::<_, T>(v).ok())
            {
                return Ok(value);
            }
            let path = err.path().to_string();
            return Err(ApiError::Validation(vec![field_error(
                &path,
                &err.into_inner(),
            )]));
        }
        Err(err) => {
            return Err(ApiError::BadRequest(format!(
                "Malformed JSON: {}",
                err.into_inner()
            )));
        }
    };
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("Malformed JSON: {e}")))?;
    Ok(value)
}

/// `body` parsed, with every float that is a whole number (within ±2^53, where floats
/// are exact) turned into an integer; `None` when there is none, or it is not JSON.
fn with_whole_numbers_as_integers(body: &[u8]) -> Option<serde_json::Value> {
    fn walk(value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => {
                    let whole = f as i64;
                    *value = serde_json::Value::from(whole);
                    true
                }
                _ => false,
            },
            serde_json::Value::Array(items) => items.iter_mut().map(walk).fold(false, |a, b| a | b),
            serde_json::Value::Object(fields) => {
                fields.values_mut().map(walk).fold(false, |a, b| a | b)
            }
            _ => false,
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    walk(&mut value).then_some(value)
}

/// `missing field `email`` at the root becomes `{field: "email", message: "is required"}`.
fn field_error(path: &str, err: &serde_json::Error) -> FieldError {
    let full = err.to_string();
    let message = full
        .rfind(" at line ")
        .map_or(full.as_str(), |i| &full[..i]);
    named_error(path, message, "body")
}

/// A deserializer's `message` at `path` (`.` for the root) as a field error; a missing
/// field is named itself, any other error at the root is put on `root`.
fn named_error(path: &str, message: &str, root: &str) -> FieldError {
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
    let field = if prefix.is_empty() { root } else { prefix };
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

/// A query string. Unlike `actix_web::web::Query`, every failure is a 400 naming the
/// parameter: a control character in a name or value (a NUL in a search would otherwise
/// reach the database's `LIKE`), a `page` or `limit` outside its bounds, or a value of
/// the wrong form (`level=GURU`). Every route reads its query through this one type.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Query))
    }
}

/// Parses a raw query string (without the `?`) into `T`; see [`Query`].
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let mut fields = Fields::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if name.chars().chain(value.chars()).any(char::is_control) {
            fields.push(
                &name.escape_debug().to_string(),
                "must not contain control characters",
            );
        } else if let Some(message) = paging_error(&name, &value) {
            fields.push(&name, message);
        }
    }
    fields.finish()?;
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        ApiError::Validation(vec![named_error(&path, &message, "query")])
    })
}

/// `page` and `limit` mean the same on every list, so they are bounded here, once, for
/// all of them: a page deep enough to overflow an offset never reaches a query.
fn paging_error(name: &str, value: &str) -> Option<String> {
    let max = match name {
        "page" => PageQuery::MAX_PAGE,
        "limit" => PageQuery::MAX_LIMIT,
        _ => return None,
    };
    match value.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => None,
        _ => Some(format!("must be a whole number from 1 to {max}")),
    }
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

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Filter {
        search: Option<String>,
        page: Option<u64>,
        limit: Option<u64>,
        unread_only: Option<bool>,
    }

    fn query_errors(query: &str) -> Vec<FieldError> {
        let err = parse_query::<Filter>(query).unwrap_err();
        assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
        err.body().errors.unwrap()
    }

    #[test]
    fn a_query_parses_into_its_type() {
        let filter = parse_query::<Filter>("search=a+b&page=2&limit=100").unwrap();
        assert_eq!(filter.search.as_deref(), Some("a b"));
        assert_eq!((filter.page, filter.limit), (Some(2), Some(100)));
    }

    #[test]
    fn page_and_limit_out_of_bounds_are_named() {
        for page in [
            "0",
            "100001",
            "9223372036854775808",
            "18446744073709551616",
            "-1",
            "x",
        ] {
            let errors = query_errors(&format!("page={page}"));
            assert_eq!(errors[0].field, "page", "{page}: {errors:?}");
            assert!(errors[0].message.contains("1 to 100000"), "{errors:?}");
        }
        let errors = query_errors("limit=101");
        assert_eq!(errors[0].field, "limit");
        assert!(errors[0].message.contains("1 to 100"), "{errors:?}");
    }

    #[test]
    fn control_characters_are_refused_naming_the_parameter() {
        for query in ["search=%00", "search=a%0Ab", "search=%7F", "search=%C2%85"] {
            let errors = query_errors(query);
            assert_eq!(errors[0].field, "search", "{query}: {errors:?}");
            assert!(errors[0].message.contains("control"), "{errors:?}");
        }
        assert_eq!(query_errors("se%00arch=x")[0].field, "se\\0arch");
    }

    #[test]
    fn a_value_of_the_wrong_form_is_named() {
        let errors = query_errors("unreadOnly=maybe");
        assert_eq!(errors[0].field, "unreadOnly", "{errors:?}");
    }

    #[test]
    fn an_integer_spelled_as_a_whole_float_is_read() {
        #[derive(Debug, serde::Deserialize)]
        struct Counted {
            count: i32,
            ratio: f64,
        }
        let read: Counted = parse_json(br#"{"count": 39.0, "ratio": 2.0}"#).unwrap();
        assert_eq!((read.count, read.ratio), (39, 2.0));
        assert!(parse_json::<Counted>(br#"{"count": 39.5, "ratio": 1}"#).is_err());
    }

    #[test]
    fn trailing_garbage_and_empty_bodies_are_rejected() {
        assert!(parse_json::<NewThing>(br#"{"firstName":"A","marks":[]} x"#).is_err());
        let err = parse_json::<NewThing>(b"  ").unwrap_err();
        assert!(err.to_string().contains("empty"));
    }
}
