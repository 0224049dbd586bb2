//! Access tokens and 2FA challenges as HS256 JWTs: one pinned algorithm, and `exp`,
//! `iat`, `iss`, `aud`, `sub` required and checked. The two kinds differ by audience,
//! so a challenge can never be used as an access token.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Issuer of every token.
pub const ISSUER: &str = "edupro";
/// Audience of access tokens.
pub const ACCESS_AUDIENCE: &str = "edupro-api";
/// Audience of 2FA challenge tokens.
pub const MFA_AUDIENCE: &str = "edupro-mfa";
/// Access tokens live 15 minutes.
pub const ACCESS_TTL_SECS: u64 = 15 * 60;
/// A 2FA challenge must be answered within 5 minutes.
pub const MFA_TTL_SECS: u64 = 5 * 60;

/// What an access token or challenge says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    /// The user's token version when issued; a bump revokes every older token.
    pub ver: i32,
    /// The session (refresh-token family) the token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// Signing and verification keys derived from the server's JWT secret, plus the key
/// that HMACs one-time codes.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    code_key: Vec<u8>,
}

impl Keys {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            code_key: crate::service::auth::secrets::token_hash(&format!(
                "codes:{}",
                secret.expose_secret()
            ))
            .into_bytes(),
        }
    }

    /// The key for [`crate::service::auth::secrets::code_hash`].
    pub fn code_key(&self) -> &[u8] {
        &self.code_key
    }

    fn issue(
        &self,
        sub: Uuid,
        ver: i32,
        sid: Option<Uuid>,
        audience: &str,
        ttl: u64,
    ) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub,
            ver,
            sid,
            iat: now,
            exp: now + i64::try_from(ttl)?,
            iss: ISSUER.to_owned(),
            aud: audience.to_owned(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// A 15-minute access token for `user` in session `sid`.
    pub fn access_token(&self, user: Uuid, ver: i32, sid: Uuid) -> anyhow::Result<String> {
        self.issue(user, ver, Some(sid), ACCESS_AUDIENCE, ACCESS_TTL_SECS)
    }

    /// A 5-minute token proving the password step of a 2FA login.
    pub fn mfa_challenge(&self, user: Uuid, ver: i32) -> anyhow::Result<String> {
        self.issue(user, ver, None, MFA_AUDIENCE, MFA_TTL_SECS)
    }

    /// Verifies a token for `audience`: signature, algorithm, expiry, issuer, audience.
    pub fn verify(&self, token: &str, audience: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use data_encoding::BASE64URL_NOPAD;

    fn keys() -> Keys {
        Keys::new(&SecretString::from("k".repeat(40)))
    }

    #[test]
    fn an_access_token_verifies_for_its_audience_only() {
        let keys = keys();
        let (user, sid) = (Uuid::now_v7(), Uuid::now_v7());
        let token = keys.access_token(user, 3, sid).unwrap();
        let claims = keys.verify(&token, ACCESS_AUDIENCE).unwrap();
        assert_eq!((claims.sub, claims.ver, claims.sid), (user, 3, Some(sid)));
        assert!(keys.verify(&token, MFA_AUDIENCE).is_none());
        let challenge = keys.mfa_challenge(user, 3).unwrap();
        assert!(keys.verify(&challenge, ACCESS_AUDIENCE).is_none());
    }

    #[test]
    fn tokens_signed_with_another_key_or_alg_none_are_refused() {
        let token = keys()
            .access_token(Uuid::now_v7(), 0, Uuid::now_v7())
            .unwrap();
        let other = Keys::new(&SecretString::from("x".repeat(40)));
        assert!(other.verify(&token, ACCESS_AUDIENCE).is_none());

        let payload = token.split('.').nth(1).unwrap();
        let header = BASE64URL_NOPAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(
            keys()
                .verify(&format!("{header}.{payload}."), ACCESS_AUDIENCE)
                .is_none()
        );
    }
}
