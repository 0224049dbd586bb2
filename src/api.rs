//! Typed HTTP client for the EduPro+ API: unwraps the envelope, maps errors to
//! [`ClientError`], and refreshes an expired access token once, silently.

pub mod room;
pub mod ws;

use std::sync::Mutex;

use edupro_server::api::{ApiResponse, TokenPair};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::config::Target;
use crate::credentials::{CredentialStore, StoredCredentials};
use crate::error::{ClientError, Result};

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
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &impl Serialize) -> Result<T> {
        Ok(self.request(Method::GET, path, query, None).await?.data)
    }

    /// `POST path` with a JSON body, returning the whole success envelope.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<ApiResponse<T>> {
        self.request(Method::POST, path, &(), Some(body)).await
    }

    /// Any method, returning the whole success envelope.
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &impl Serialize,
        body: Option<&Value>,
    ) -> Result<ApiResponse<T>> {
        let (status, bytes) = self.send(method.clone(), path, query, body).await?;
        if status == 401 && self.refresh().await? {
            let (status, bytes) = self.send(method, path, query, body).await?;
            return decode(status, &bytes);
        }
        decode(status, &bytes)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &impl Serialize,
        body: Option<&Value>,
    ) -> Result<(u16, Vec<u8>)> {
        let url = format!("{}/api/v1{path}", self.server);
        let mut request = self.http.request(method, &url).query(query);
        if let Some(token) = self.access_token() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(e))?;
        Ok((status, bytes.to_vec()))
    }

    /// `GET path?query`, returning the body as text (exports and CSV answers, which have
    /// no envelope).
    pub async fn get_text(&self, path: &str, query: &impl Serialize) -> Result<String> {
        let (mut status, mut bytes) = self.send(Method::GET, path, query, None).await?;
        if status == 401 && self.refresh().await? {
            (status, bytes) = self.send(Method::GET, path, query, None).await?;
        }
        if !(200..300).contains(&status) {
            return Err(ClientError::from_answer(status, &bytes));
        }
        String::from_utf8(bytes)
            .map_err(|_| ClientError::Other(anyhow::anyhow!("the server answered non-UTF-8 text")))
    }

    /// `POST path?query` with a streamed body; the raw answer on success (bulk import
    /// answers NDJSON as it goes). Not retried: call something cheap first so an
    /// expired token is refreshed before the body starts.
    pub async fn post_stream(
        &self,
        path: &str,
        query: &impl Serialize,
        content_type: &str,
        body: reqwest::Body,
    ) -> Result<reqwest::Response> {
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

    /// The error for a broken connection to the server.
    pub fn unreachable(&self, err: reqwest::Error) -> ClientError {
        let mut reason = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            reason = format!("{reason}: {cause}");
            source = cause.source();
        }
        ClientError::Unreachable {
            server: self.server.clone(),
            reason,
        }
    }

    /// Trades the stored refresh token for a new pair and stores it. `false` when there
    /// is nothing to refresh with (anonymous, `EDUPRO_TOKEN`, a personal access token).
    async fn refresh(&self) -> Result<bool> {
        let Auth::Stored { store, credentials } = &self.auth else {
            return Ok(false);
        };
        let Some(refresh_token) = credentials
            .lock()
            .ok()
            .and_then(|c| c.refresh_token.clone())
        else {
            return Ok(false);
        };
        let (status, bytes) = self
            .send(
                Method::POST,
                "/auth/refresh-token",
                &(),
                Some(&json!({ "refreshToken": refresh_token })),
            )
            .await?;
        if status != 200 {
            return Err(ClientError::Api {
                status: 401,
                message: "your session has ended (signed out elsewhere, or expired)".into(),
                errors: Vec::new(),
            });
        }
        let pair: ApiResponse<TokenPair> = decode(status, &bytes)?;
        let updated = {
            let mut guard = credentials
                .lock()
                .map_err(|_| anyhow::anyhow!("credential lock poisoned"))?;
            guard.access_token = pair.data.access_token;
            guard.refresh_token = Some(pair.data.refresh_token);
            guard.clone()
        };
        store.save(&updated)?;
        Ok(true)
    }
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
