//! argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), run on the blocking
//! pool behind a semaphore sized to the CPU count, so a login burst neither stalls the
//! async workers nor allocates unbounded memory.

use std::sync::OnceLock;

use anyhow::Context;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

fn hasher() -> Argon2<'static> {
    // OWASP: m = 19 MiB, t = 2, p = 1 — argon2's defaults, spelled out so they can't drift.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

/// A hash of a random password, verified against when the account does not exist, so
/// unknown emails take as long as wrong passwords.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = crate::service::auth::secrets::new_token("dummy-");
        hasher()
            .hash_password(random.as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Hashes a password to a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    let _permit = permits().acquire().await.context("hashing pool closed")?;
    tokio::task::spawn_blocking(move || {
        hasher()
            .hash_password(password.expose_secret().as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
    })
    .await
    .context("hashing task panicked")?
}

/// Whether `password` matches `stored`; with no stored hash (unknown user, or one who
/// never set a password) it still spends the time of a real verification and says no.
pub async fn verify(password: SecretString, stored: Option<String>) -> anyhow::Result<bool> {
    let _permit = permits().acquire().await.context("hashing pool closed")?;
    tokio::task::spawn_blocking(move || {
        let (phc, real) = match &stored {
            Some(hash) => (hash.as_str(), true),
            None => (dummy_hash(), false),
        };
        let parsed = PasswordHash::new(phc).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        let matches = hasher()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok();
        Ok(matches && real)
    })
    .await
    .context("verification task panicked")?
}

/// Computes the dummy hash now rather than on the first unknown-email login.
pub fn warm_up() {
    let _ = dummy_hash();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let stored = hash(SecretString::from("Str0ng!pass")).await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(
            verify("Str0ng!pass".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("str0ng!pass".into(), Some(stored)).await.unwrap());
    }

    #[tokio::test]
    async fn a_missing_hash_never_verifies() {
        assert!(!verify("anything".into(), None).await.unwrap());
    }
}
