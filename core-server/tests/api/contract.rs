//! The OpenAPI document as a contract: every exchange the suite makes through the
//! harness is checked against `/api/v1/openapi.json` as the server itself serves it.
//!
//! For `METHOD /path` answered with status `S`:
//! - the path must match one of the document's path templates (literal segments win over
//!   `{param}` ones) and that path must have a `METHOD` operation listing `S` (or
//!   `default`); a path no operation serves may only answer a 404 (or 405) `ErrorBody`;
//! - a body must have a content type the response lists, and a JSON body (one value, or
//!   one per line for NDJSON) must validate against that content's schema, `$ref`s
//!   resolved into the document's `components`, with no properties the schema does not
//!   list; other content types (iCalendar, CSV, TOML, Prometheus text) are checked by
//!   type alone; an empty body is fine only where the response lists no content;
//! - a JSON request body the server accepted (a 2xx answer) must validate against the
//!   operation's request schema, if it lists one (extra properties allowed: serde ignores
//!   them too), so
//!   an enum or field spelled differently in the document is caught from both sides.
//!
//! The document is fetched once per process, from the first server a test starts.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use jsonschema::Validator;
use serde_json::{Value, json};

/// Where the document is served; it and the viewer beside it are not API operations.
pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";
const VIEWER_PREFIX: &str = "/api/v1/docs";

static CONTRACT: tokio::sync::OnceCell<Arc<Contract>> = tokio::sync::OnceCell::const_new();

/// Exchanges checked in this process, and bodies validated against a schema.
pub static CHECKED: AtomicUsize = AtomicUsize::new(0);
pub static VALIDATED: AtomicUsize = AtomicUsize::new(0);

/// The document of the server at `address`, fetched the first time it is asked for.
pub async fn contract(client: &reqwest::Client, address: &str) -> Arc<Contract> {
    CONTRACT
        .get_or_init(|| async {
            let response = client
                .get(format!("{address}{DOCUMENT_PATH}"))
                .send()
                .await
                .expect("the OpenAPI document is served");
            assert_eq!(response.status(), 200, "GET {DOCUMENT_PATH}");
            let document: Value = response.json().await.expect("the document is JSON");
            Arc::new(Contract::new(document))
        })
        .await
        .clone()
}

/// One request and its answer, as the check sees them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Exchange<'a> {
    pub method: &'a str,
    /// The URL's path, without the query.
    pub path: &'a str,
    pub request_type: Option<&'a str>,
    pub request_body: Option<&'a [u8]>,
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// One operation's place in the document: its path template, split on `/`.
struct Template {
    path: String,
    segments: Vec<Option<String>>,
}

pub struct Contract {
    /// The document as served: requests are validated against it.
    document: Value,
    /// The same with every object schema closed to properties it does not list, for
    /// answers: a field the server sends must be in the document.
    closed: Value,
    templates: Vec<Template>,
    /// Compiled schemas by (closed?, JSON pointer into the document).
    validators: Mutex<HashMap<(bool, String), Arc<Validator>>>,
}

/// `text/csv; charset=utf-8` → `text/csv`.
fn essence(media: &str) -> &str {
    media.split(';').next().unwrap_or_default().trim()
}

/// Does `media` fall under `listed` (`text/csv`, `text/*`, `*/*`)?
fn media_matches(listed: &str, media: &str) -> bool {
    let (listed, media) = (essence(listed), essence(media));
    listed == "*/*"
        || listed.eq_ignore_ascii_case(media)
        || listed.strip_suffix("/*").is_some_and(|kind| {
            media
                .split_once('/')
                .is_some_and(|(k, _)| k.eq_ignore_ascii_case(kind))
        })
}

fn is_json(media: &str) -> bool {
    let media = essence(media);
    media == "application/json" || media.ends_with("+json")
}

fn is_ndjson(media: &str) -> bool {
    matches!(essence(media), "application/x-ndjson" | "application/jsonl")
}

/// A path template or media type as one JSON-pointer token.
fn pointer_token(text: &str) -> String {
    text.replace('~', "~0").replace('/', "~1")
}

/// Closes every object schema under `schema` to the properties it lists
/// (`unevaluatedProperties: false`). An `allOf` closes at its own level, which sees the
/// properties of all its members; the members themselves stay open.
fn close(schema: &mut Value, member_of_all_of: bool) {
    {
        if let Value::Object(map) = schema {
            let is_object = map.contains_key("properties") || map.contains_key("allOf");
            if is_object
                && !member_of_all_of
                && !map.contains_key("additionalProperties")
                && !map.contains_key("unevaluatedProperties")
            {
                map.insert("unevaluatedProperties".into(), Value::Bool(false));
            }
            for (key, value) in map.iter_mut() {
                match key.as_str() {
                    "allOf" => value
                        .as_array_mut()
                        .into_iter()
                        .flatten()
                        .for_each(|member| close(member, true)),
                    "properties" | "$defs" => value
                        .as_object_mut()
                        .into_iter()
                        .flat_map(|m| m.values_mut())
                        .for_each(|v| close(v, false)),
                    "items" | "additionalProperties" | "not" => close(value, false),
                    "oneOf" | "anyOf" | "prefixItems" => value
                        .as_array_mut()
                        .into_iter()
                        .flatten()
                        .for_each(|v| close(v, false)),
                    _ => {}
                }
            }
        }
    }
}

/// The document with its schemas closed: components (but not those some `allOf` takes
/// as a member, which that `allOf` closes) and the schemas of every response.
fn closed(document: &Value) -> Value {
    let mut closed = document.clone();
    let text = document.to_string();
    let members: HashSet<String> = text
        .split("\"allOf\":[")
        .skip(1)
        .flat_map(|rest| {
            let end = rest.find(']').unwrap_or(rest.len());
            rest[..end]
                .split("\"$ref\":\"#/components/schemas/")
                .skip(1)
                .filter_map(|r| r.split('"').next())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    if let Some(schemas) = closed["components"]["schemas"].as_object_mut() {
        for (name, schema) in schemas.iter_mut() {
            close(schema, members.contains(name));
        }
    }
    if let Some(paths) = closed["paths"].as_object_mut() {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in operation.values_mut() {
                for response in op["responses"].as_object_mut().into_iter().flatten() {
                    let contents = response.1["content"].as_object_mut();
                    for content in contents.into_iter().flatten() {
                        if let Some(schema) = content.1.get_mut("schema") {
                            close(schema, false);
                        }
                    }
                }
            }
        }
    }
    closed
}

impl Contract {
    pub fn new(document: Value) -> Self {
        let templates = document["paths"]
            .as_object()
            .expect("the document has paths")
            .keys()
            .map(|path| Template {
                path: path.clone(),
                segments: path
                    .split('/')
                    .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
                    .collect(),
            })
            .collect();
        Self {
            closed: closed(&document),
            document,
            templates,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The operation serving `method path`: its pointer and its path template. A literal
    /// segment wins over a `{param}`.
    fn operation(&self, method: &str, path: &str) -> Result<(String, &str), Vec<&str>> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut found: Vec<(usize, &Template)> = self
            .templates
            .iter()
            .filter(|t| {
                t.segments.len() == segments.len()
                    && t.segments.iter().zip(&segments).all(|(t, s)| match t {
                        Some(literal) => literal == s,
                        None => !s.is_empty(),
                    })
            })
            .map(|t| (t.segments.iter().flatten().count(), t))
            .collect();
        found.sort_by_key(|(literals, _)| std::cmp::Reverse(*literals));
        found
            .iter()
            .find(|(_, t)| self.document["paths"][&t.path][method].is_object())
            .map(|(_, t)| {
                (
                    format!("/paths/{}/{method}", pointer_token(&t.path)),
                    t.path.as_str(),
                )
            })
            .ok_or_else(|| found.iter().map(|(_, t)| t.path.as_str()).collect())
    }

    /// The compiled schema at `pointer`, in the closed document or the one as served.
    fn validator(&self, closed: bool, pointer: &str) -> Result<Arc<Validator>, String> {
        let key = (closed, pointer.to_owned());
        if let Some(v) = self.validators.lock().expect("lock").get(&key) {
            return Ok(v.clone());
        }
        let document = if closed { &self.closed } else { &self.document };
        let schema = document
            .pointer(pointer)
            .ok_or_else(|| format!("no schema at {pointer}"))?;
        // The schema in a root that holds the components, so `#/components/...` resolves.
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": document["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("the schema at {pointer} does not compile: {e}"))?;
        let validator = Arc::new(validator);
        self.validators
            .lock()
            .expect("lock")
            .insert(key, validator.clone());
        Ok(validator)
    }

    fn validate(&self, closed: bool, pointer: &str, instance: &Value) -> Result<(), String> {
        let validator = self.validator(closed, pointer)?;
        VALIDATED.fetch_add(1, Ordering::Relaxed);
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .take(5)
            .map(|e| format!("at `{}`: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{} does not match {}: {}\nbody: {instance}",
            if closed {
                "the body"
            } else {
                "the request body"
            },
            self.document
                .pointer(pointer)
                .map(Value::to_string)
                .unwrap_or_default(),
            errors.join("; ")
        ))
    }

    /// Validates a JSON (or NDJSON) `body` against the schema at `pointer`.
    fn validate_body(
        &self,
        closed: bool,
        pointer: &str,
        media: &str,
        body: &[u8],
    ) -> Result<(), String> {
        if is_ndjson(media) {
            let text = std::str::from_utf8(body).map_err(|e| format!("NDJSON not UTF-8: {e}"))?;
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let value: Value = serde_json::from_str(line)
                    .map_err(|e| format!("an NDJSON line is not JSON ({e}): {line}"))?;
                self.validate(closed, pointer, &value)?;
            }
            Ok(())
        } else if is_json(media) {
            let value: Value =
                serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
            self.validate(closed, pointer, &value)
        } else {
            Ok(())
        }
    }

    /// Checks one exchange; `Err` says what the document does not allow.
    pub fn check(&self, exchange: &Exchange<'_>) -> Result<(), String> {
        CHECKED.fetch_add(1, Ordering::Relaxed);
        let Exchange { path, status, .. } = *exchange;
        if path == DOCUMENT_PATH || path.starts_with(VIEWER_PREFIX) {
            return Ok(());
        }
        let method = exchange.method.to_ascii_lowercase();
        let (operation, template) = match self.operation(&method, path) {
            Ok(found) => found,
            // No operation: only the server's JSON 404/405 for what it does not serve.
            Err(_) if [404, 405].contains(&status) => {
                let media = exchange.content_type.unwrap_or("no content type");
                if !is_json(media) {
                    return Err(format!("a {status} of {media}, not an ErrorBody"));
                }
                return self.validate_body(
                    true,
                    "/components/schemas/ErrorBody",
                    media,
                    exchange.body,
                );
            }
            Err(templates) => {
                return Err(format!(
                    "no operation in the document serves it (templates of this path: {templates:?})"
                ));
            }
        };
        if (200..300).contains(&status) {
            self.check_request(&operation, exchange)?;
        }
        let responses = &self.document.pointer(&operation).expect("operation")["responses"];
        let key = [status.to_string(), "default".to_owned()]
            .into_iter()
            .find(|key| responses.get(key).is_some())
            .ok_or_else(|| {
                let listed: Vec<&String> = responses
                    .as_object()
                    .map(|r| r.keys().collect())
                    .unwrap_or_default();
                format!(
                    "status {status} is not listed for {} {template} (listed: {listed:?})",
                    method.to_uppercase()
                )
            })?;
        let mut response = format!("{operation}/responses/{key}");
        if let Some(reference) = self
            .document
            .pointer(&response)
            .and_then(|r| r["$ref"].as_str())
        {
            response = reference.trim_start_matches('#').to_owned();
        }
        let content = self
            .document
            .pointer(&format!("{response}/content"))
            .and_then(Value::as_object)
            .filter(|c| !c.is_empty());
        let body = exchange.body;
        let Some(content) = content else {
            if body.is_empty() {
                return Ok(());
            }
            return Err(format!(
                "the document lists no body, but one came ({}): {}",
                exchange.content_type.unwrap_or("no content type"),
                String::from_utf8_lossy(body)
            ));
        };
        if body.is_empty() {
            return Err(format!(
                "the body is empty, but the document lists {:?}",
                content.keys().collect::<Vec<_>>()
            ));
        }
        let media = exchange
            .content_type
            .ok_or("a body without a content type")?;
        let Some(listed) = content.keys().find(|listed| media_matches(listed, media)) else {
            return Err(format!(
                "content type {media} is not listed (listed: {:?})",
                content.keys().collect::<Vec<_>>()
            ));
        };
        let schema = format!("{response}/content/{}/schema", pointer_token(listed));
        if self.document.pointer(&schema).is_none() {
            return Ok(());
        }
        self.validate_body(true, &schema, media, body)
    }

    /// A request the server accepted must be one the document describes.
    fn check_request(&self, operation: &str, exchange: &Exchange<'_>) -> Result<(), String> {
        let (Some(media), Some(body)) = (exchange.request_type, exchange.request_body) else {
            return Ok(());
        };
        if body.is_empty() || !is_json(media) {
            return Ok(());
        }
        // An operation that lists no body ignores one (the harness sends `{}` to some).
        let Some(content) = self
            .document
            .pointer(&format!("{operation}/requestBody/content"))
            .and_then(Value::as_object)
        else {
            return Ok(());
        };
        let Some(listed) = content.keys().find(|listed| media_matches(listed, media)) else {
            return Err(format!(
                "the server accepted a {media} body; the document lists {:?}",
                content.keys().collect::<Vec<_>>()
            ));
        };
        let schema = format!(
            "{operation}/requestBody/content/{}/schema",
            pointer_token(listed)
        );
        if self.document.pointer(&schema).is_none() {
            return Ok(());
        }
        self.validate_body(false, &schema, media, body)
    }

    /// Like [`Contract::check`], panicking with the exchange and the reason.
    pub fn assert(&self, exchange: &Exchange<'_>) {
        if let Err(reason) = self.check(exchange) {
            let Exchange {
                method,
                path,
                status,
                ..
            } = exchange;
            panic!(
                "OpenAPI contract violated by {method} {path} → {status}: {reason}\n\
                 (the document at {DOCUMENT_PATH} must describe what the server accepts and answers)"
            );
        }
    }
}

/// Appends this process's counts to the file named by `EDUPRO_CONTRACT_STATS`, if set
/// (the last line holds the totals).
pub fn report_stats() {
    if let Some(path) = std::env::var_os("EDUPRO_CONTRACT_STATS") {
        use std::io::Write;
        let line = format!(
            "{} exchanges checked, {} bodies validated\n",
            CHECKED.load(Ordering::Relaxed),
            VALIDATED.load(Ordering::Relaxed)
        );
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
    }
}
