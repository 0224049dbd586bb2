//! Typed HTTP client for the EduPro+ API: unwraps the envelope, maps errors to
//! [`ClientError`], and refreshes an expired access token once, silently.
//!
//! The endpoint layer: one method on [`ApiClient`] per endpoint, taking and returning
//! the wire types of [`edupro_server::api`], grouped by resource in the submodules. Each
//! URL path is written once, there; the CLI, the seed and the TUI call these methods.
//! The generic request helpers below are private to this module tree, so a path can't
//! be written anywhere else.

mod analytics;
mod assessments;
mod auth;
mod batches;
mod courses;
mod doubts;
mod enrollments;
mod grading;
pub mod health;
mod imports;
mod leaderboards;
mod lessons;
mod live_classes;
mod notifications;
mod payments;
pub mod room;
mod sections;
mod users;
mod webhooks;
pub mod ws;

use std::sync::Mutex;

use edupro_server::api::{ApiResponse, FieldError, PageQuery};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::Target;
use crate::credentials::{CredentialStore, StoredCredentials};
use crate::error::{ClientError, Result};

pub use assessments::DocumentFormat;
pub use imports::{ImportOptions, file_body};
pub use payments::CreatedOrder;

/// The server's default page: no `?page=&limit=`.
pub const DEFAULT_PAGE: PageQuery = PageQuery {
    page: None,
    limit: None,
};

/// Page `page` (from 1) of `limit` items.
pub fn page(page: u64, limit: u64) -> PageQuery {
    PageQuery {
        page: Some(page),
        limit: Some(limit),
    }
}

/// The first page, of at most `limit` items.
pub fn first(limit: u64) -> PageQuery {
    PageQuery {
        page: None,
        limit: Some(limit),
    }
}

/// A value for one path segment (a slug typed by hand may hold anything).
pub fn segment(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A body typed by hand (a TUI form's fields) read as its wire type. A field of the
/// wrong type or a missing one fails as the server would fail it: 400, naming the field.
pub fn read_body<T: DeserializeOwned>(body: Value) -> Result<T> {
    serde_path_to_error::deserialize(body).map_err(|err| {
        let path = err.path().to_string();
        let message = err.inner().to_string();
        let prefix = if path == "." { "" } else { path.as_str() };
        let error = match message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            Some(name) if prefix.is_empty() => FieldError::new(name, "is required"),
            Some(name) => FieldError::new(format!("{prefix}.{name}"), "is required"),
            None if prefix.is_empty() => FieldError::new("body", message),
            None => FieldError::new(prefix, message),
        };
        ClientError::Api {
            status: 400,
            message: "Validation failed".into(),
            errors: vec![error],
        }
    })
}

/// How requests are authenticated.
enum Auth {
    Anonymous,
    /// `EDUPRO_TOKEN`: used as is, never refreshed or stored.
    Env(String),
    /// From `edupro login`, refreshed and re-stored as needed.
    Stored {
        store: CredentialStore,
        credentials: Mutex<StoredCredentials>,
    },
}

/// A client for one server.
pub struct ApiClient {
    pub server: String,
    http: reqwest::Client,
    auth: Auth,
}

fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("edupro-cli/", env!("CARGO_PKG_VERSION")))
        .timeout(std::time::Duration::from_secs(120))
        // Below the server's 5 s keep-alive: a request on a connection the server is
        // closing would fail as an incomplete message (the TUI idles between keys).
        .pool_idle_timeout(std::time::Duration::from_secs(3))
        .build()
        .map_err(|e| ClientError::Other(e.into()))
}

impl ApiClient {
    /// A client with no credentials (login, health).
    pub fn anonymous(server: &str) -> Result<Self> {
        Ok(Self {
            server: server.to_owned(),
            http: http_client()?,
            auth: Auth::Anonymous,
        })
    }

    /// A client using `token` as is (never refreshed or stored).
    pub fn with_token(server: &str, token: &str) -> Result<Self> {
        Ok(Self {
            server: server.to_owned(),
            http: http_client()?,
            auth: Auth::Env(token.to_owned()),
        })
    }

    /// A client signed in with `EDUPRO_TOKEN`, or the profile's stored credentials.
    pub fn authenticated(target: &Target) -> Result<Self> {
        let auth = match std::env::var("EDUPRO_TOKEN") {
            Ok(token) if !token.trim().is_empty() => Auth::Env(token.trim().to_owned()),
            _ => {
                let store = CredentialStore::new(&target.profile);
                match store.load()? {
                    Some(credentials) if credentials.server == target.server => Auth::Stored {
                        store,
                        credentials: Mutex::new(credentials),
                    },
                    _ => {
                        return Err(ClientError::NotLoggedIn {
                            server: target.server.clone(),
                        });
                    }
                }
            }
        };
        Ok(Self {
            server: target.server.clone(),
            http: http_client()?,
            auth,
        })
    }

    fn access_token(&self) -> Option<String> {
        match &self.auth {
            Auth::Anonymous => None,
            Auth::Env(token) => Some(token.clone()),
            Auth::Stored { credentials, .. } => {
                credentials.lock().map(|c| c.access_token.clone()).ok()
            }
        }
    }

    /// `GET path?query`, returning `data`.
    async fn get<T: DeserializeOwned>(&self, path: &str, query: &impl Serialize) -> Result<T> {
        self.call(Method::GET, path, query, None).await
    }

    /// `POST path` with a JSON body, returning `data`.
    async fn post_json<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T> {
        self.call(Method::POST, path, &(), Some(&to_json(body)?))
            .await
    }

    /// `POST path` without a body: an action on the resource the path names.
    async fn post_action<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(Method::POST, path, &(), None).await
    }

    /// `PATCH path?query` with a JSON body, returning `data`.
    async fn patch<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &impl Serialize,
        body: &impl Serialize,
    ) -> Result<T> {
        self.call(Method::PATCH, path, query, Some(&to_json(body)?))
            .await
    }

    /// `PUT path` with a JSON body, returning `data`.
    async fn put<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T> {
        self.call(Method::PUT, path, &(), Some(&to_json(body)?))
            .await
    }

    /// `DELETE path?query`, returning `data`.
    async fn delete<T: DeserializeOwned>(&self, path: &str, query: &impl Serialize) -> Result<T> {
        self.call(Method::DELETE, path, query, None).await
    }

    /// Any request, returning `data`; once more after a refresh when the token expired.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &impl Serialize,
        body: Option<&[u8]>,
    ) -> Result<T> {
        let (status, bytes) = self.send(method.clone(), path, query, body).await?;
        if status == 401 && self.refresh().await? {
            let (status, bytes) = self.send(method, path, query, body).await?;
            return Ok(decode::<T>(status, &bytes)?.data);
        }
        Ok(decode::<T>(status, &bytes)?.data)
    }

    /// One request with a JSON body (already serialized), as is: its status and body.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &impl Serialize,
        body: Option<&[u8]>,
    ) -> Result<(u16, Vec<u8>)> {
        self.send_with(method, path, query, body, &[]).await
    }

    /// [`ApiClient::send`] with extra request headers (`Idempotency-Key`, `Accept`).
    async fn send_with(
        &self,
        method: Method,
        path: &str,
        query: &impl Serialize,
        body: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>)> {
        let url = format!("{}/api/v1{path}", self.server);
        let mut request = self.http.request(method, &url).query(query);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(token) = self.access_token() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(e))?;
        Ok((status, bytes.to_vec()))
    }

    /// `POST path` with a JSON body and extra headers (an `Idempotency-Key`, the same
    /// on the retry after a refresh), returning `data`.
    async fn post_json_with<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        headers: &[(&str, &str)],
    ) -> Result<T> {
        let body = to_json(body)?;
        let (status, bytes) = self
            .send_with(Method::POST, path, &(), Some(&body), headers)
            .await?;
        if status == 401 && self.refresh().await? {
            let (status, bytes) = self
                .send_with(Method::POST, path, &(), Some(&body), headers)
                .await?;
            return Ok(decode::<T>(status, &bytes)?.data);
        }
        Ok(decode::<T>(status, &bytes)?.data)
    }

    /// `GET path?query`, returning the body as text (exports and CSV answers, which have
    /// no envelope).
    async fn get_text(&self, path: &str, query: &impl Serialize) -> Result<String> {
        self.get_text_with(path, query, &[]).await
    }

    /// [`ApiClient::get_text`] with extra headers (`Accept: text/csv`).
    async fn get_text_with(
        &self,
        path: &str,
        query: &impl Serialize,
        headers: &[(&str, &str)],
    ) -> Result<String> {
        let (mut status, mut bytes) = self
            .send_with(Method::GET, path, query, None, headers)
            .await?;
        if status == 401 && self.refresh().await? {
            (status, bytes) = self
                .send_with(Method::GET, path, query, None, headers)
                .await?;
        }
        if !(200..300).contains(&status) {
            return Err(ClientError::from_answer(status, &bytes));
        }
        String::from_utf8(bytes)
            .map_err(|_| ClientError::Other(anyhow::anyhow!("the server answered non-UTF-8 text")))
    }

    /// `POST path?query` with a streamed body; the raw answer on success (bulk import
    /// answers NDJSON as it goes). Not retried: an expired token is refreshed first, with
    /// a cheap call, so the body is only sent once.
    async fn post_stream(
        &self,
        path: &str,
        query: &impl Serialize,
        content_type: &str,
        body: reqwest::Body,
    ) -> Result<reqwest::Response> {
        self.me().await?;
        let url = format!("{}/api/v1{path}", self.server);
        let mut request = self
            .http
            .post(&url)
            .query(query)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            // A large import takes longer than the usual request timeout.
            .timeout(std::time::Duration::from_secs(24 * 3600))
            .body(body);
        if let Some(token) = self.access_token() {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let bytes = response.bytes().await.map_err(|e| self.unreachable(e))?;
            return Err(ClientError::from_answer(status, &bytes));
        }
        Ok(response)
    }

    /// The error for a broken connection to the server, or for a request that could
    /// not even be built (a value too long for a URL): then nothing was sent, and the
    /// message says so without repeating the URL.
    pub fn unreachable(&self, err: reqwest::Error) -> ClientError {
        let builder = err.is_builder();
        let err = if builder { err.without_url() } else { err };
        let mut reason = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            reason = format!("{reason}: {cause}");
            source = cause.source();
        }
        if builder {
            return ClientError::Usage(format!(
                "cannot send this request, nothing was sent ({reason}); a value may be too \
                 long for a URL: the server takes query strings up to 16 KiB"
            ));
        }
        ClientError::Unreachable {
            server: self.server.clone(),
            reason,
        }
    }
}

/// A request body as JSON bytes.
fn to_json(body: &impl Serialize) -> Result<Vec<u8>> {
    serde_json::to_vec(body).map_err(|e| ClientError::Other(e.into()))
}

fn decode<T: DeserializeOwned>(status: u16, bytes: &[u8]) -> Result<ApiResponse<T>> {
    if !(200..300).contains(&status) {
        return Err(ClientError::from_answer(status, bytes));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ClientError::Other(anyhow::anyhow!(
            "unexpected answer from the server ({e}); is it an EduPro+ server of the same version?"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A search too long for a URL is not "cannot reach the server" with the whole URL
    /// repeated: it is a usage error, and nothing is sent.
    #[tokio::test]
    async fn a_request_too_long_to_build_is_a_usage_error_not_an_unreachable_server() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = ApiClient::anonymous("http://127.0.0.1:9").unwrap();
        let long = "a".repeat(100 * 1024);
        let err = client
            .http
            .get(format!("{}/api/v1/courses", client.server))
            .query(&[("search", long.as_str())])
            .send()
            .await
            .map_err(|e| client.unreachable(e))
            .unwrap_err();
        let ClientError::Usage(message) = &err else {
            panic!("not a usage error: {err}");
        };
        assert!(message.contains("nothing was sent"), "{message}");
        assert!(message.len() < 400, "the URL is not repeated: {message}");
    }

    #[test]
    fn slugs_typed_by_hand_stay_one_path_segment() {
        assert_eq!(segment("intro-to-rust"), "intro-to-rust");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn a_form_field_of_the_wrong_type_is_refused_as_the_server_refuses_it() {
        let err = read_body::<edupro_server::api::NewLesson>(serde_json::json!({
            "title": "Cargo", "type": "TEXT", "duration": 99_999_999_999_i64,
        }))
        .unwrap_err();
        let ClientError::Api { status, errors, .. } = err else {
            panic!("not an API error: {err}");
        };
        assert_eq!(status, 400);
        assert_eq!(errors[0].field, "duration");
        let missing = read_body::<edupro_server::api::NewSection>(serde_json::json!({}));
        let Err(ClientError::Api { errors, .. }) = missing else {
            panic!("a missing title was accepted");
        };
        assert_eq!(errors, [FieldError::new("title", "is required")]);
    }

    #[test]
    fn a_regrade_form_that_names_no_tolerance_keeps_the_questions_tolerance() {
        let body = serde_json::json!({ "dryRun": true, "marks": 2.0, "acceptedAnswers": ["4"] });
        let regrade: edupro_server::api::Regrade = read_body(body.clone()).unwrap();
        let sent = serde_json::to_value(&regrade).unwrap();
        assert!(sent.get("numericTolerance").is_none(), "{sent}");
        assert_eq!(sent["acceptedAnswers"], body["acceptedAnswers"]);
    }
}
