//! `/auth`: signing in (with the 2FA step), the signed-in user, token refresh, sessions
//! and personal access tokens.

use edupro_server::api::{
    AccessTokenList, AuthSession, CreatedAccessToken, Login, LoginOutcome, NewAccessToken,
    RefreshRequest, SessionList, TokenPair, User, VerifyMfa,
};
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use super::{ApiClient, Auth, decode, to_json};
use crate::error::{ClientError, Result};

impl ApiClient {
    /// `POST /auth/login`: a session, or the challenge of a second factor.
    pub async fn login(&self, body: &Login) -> Result<LoginOutcome> {
        self.post_json("/auth/login", body).await
    }

    /// `POST /auth/2fa/verify`: the challenge of [`Self::login`] answered with a code.
    pub async fn verify_mfa(&self, body: &VerifyMfa) -> Result<AuthSession> {
        self.post_json("/auth/2fa/verify", body).await
    }

    /// `GET /auth/me`: who the credentials belong to. Cheap, so it also refreshes an
    /// expired token before a request that can't be sent twice.
    pub async fn me(&self) -> Result<User> {
        self.get("/auth/me", &()).await
    }

    /// `POST /auth/logout`: ends this session on the server. The answer is an empty
    /// object, which has no wire type.
    pub async fn logout(&self) -> Result<Value> {
        self.post_action("/auth/logout").await
    }

    /// `GET /auth/sessions`: the signed-in devices.
    pub async fn sessions(&self) -> Result<SessionList> {
        self.get("/auth/sessions", &()).await
    }

    /// `DELETE /auth/sessions/{id}`: signs a device out (an empty object answers).
    pub async fn revoke_session(&self, id: Uuid) -> Result<Value> {
        self.delete(&format!("/auth/sessions/{id}"), &()).await
    }

    /// `POST /auth/tokens`: a personal access token, shown this once.
    pub async fn create_access_token(&self, body: &NewAccessToken) -> Result<CreatedAccessToken> {
        self.post_json("/auth/tokens", body).await
    }

    /// `GET /auth/tokens`: the caller's tokens, without their secrets.
    pub async fn access_tokens(&self) -> Result<AccessTokenList> {
        self.get("/auth/tokens", &()).await
    }

    /// `DELETE /auth/tokens/{id}` (an empty object answers).
    pub async fn revoke_access_token(&self, id: Uuid) -> Result<Value> {
        self.delete(&format!("/auth/tokens/{id}"), &()).await
    }

    /// `POST /auth/refresh-token`: trades the stored refresh token for a new pair and
    /// stores it. `false` when there is nothing to refresh with (anonymous,
    /// `EDUPRO_TOKEN`, a personal access token). Sent as is, never retried: it is what
    /// a retry calls.
    pub(super) async fn refresh(&self) -> Result<bool> {
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
        let body = to_json(&RefreshRequest { refresh_token })?;
        let (status, bytes) = self
            .send(Method::POST, "/auth/refresh-token", &(), Some(&body))
            .await?;
        if status != 200 {
            return Err(ClientError::Api {
                status: 401,
                message: "your session has ended (signed out elsewhere, or expired)".into(),
                errors: Vec::new(),
            });
        }
        let pair: TokenPair = decode(status, &bytes)?.data;
        let updated = {
            let mut guard = credentials
                .lock()
                .map_err(|_| anyhow::anyhow!("credential lock poisoned"))?;
            guard.access_token = pair.access_token;
            guard.refresh_token = Some(pair.refresh_token);
            guard.clone()
        };
        store.save(&updated)?;
        Ok(true)
    }
}
