//! argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), run on the blocking
//! pool behind a semaphore sized to the CPU count, so a login burst neither stalls the
//! async workers nor allocates unbounded memory.

use std::sync::{Mutex, OnceLock};

use anyhow::Context;
use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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

/// Working memory for verifications, kept between them: one buffer per verification
/// running (at most one per core, by the semaphore). Allocating and zeroing 19 MiB for
/// each login cost about a fifth of its time (27.8 → 21.6 ms per verification).
/// Argon2 writes every block before reading it, so what a buffer held before does not
/// matter.
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Argon2's own verification (parameters, salt and algorithm from the stored hash, a
/// constant-time comparison of the output) in a pooled buffer.
fn verify_in_pooled_memory(password: &[u8], stored: &PasswordHash) -> anyhow::Result<bool> {
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return Ok(false);
    };
    fn bad(e: impl std::fmt::Display) -> anyhow::Error {
        anyhow::anyhow!("stored hash: {e}")
    }
    let params = Params::try_from(stored).map_err(bad)?;
    let algorithm = Algorithm::try_from(stored.algorithm.as_str()).map_err(bad)?;
    let version = stored
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(bad)?
        .unwrap_or_default();
    let blocks = params.block_count();
    let mut memory = MEMORY
        .lock()
        .ok()
        .and_then(|mut pool| pool.pop())
        .unwrap_or_default();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt.as_ref(),
        &mut out,
        &mut memory[..blocks],
    );
    if let Ok(mut pool) = MEMORY.lock() {
        pool.push(memory);
    }
    hashed.map_err(|e| anyhow::anyhow!("argon2 verification failed: {e}"))?;
    Ok(Output::new(&out).is_ok_and(|computed| &computed == expected))
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
        let matches = verify_in_pooled_memory(password.expose_secret().as_bytes(), &parsed)?;
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
    async fn a_hash_made_with_other_parameters_verifies_with_its_own() {
        // Hashes stored under earlier (or later) parameters keep working.
        let params = Params::new(8 * 1024, 3, 1, Some(24)).unwrap();
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_with_salt(b"Old-Pa55word!", b"saltsaltsaltsalt")
            .unwrap()
            .to_string();
        assert!(
            other.starts_with("$argon2id$v=19$m=8192,t=3,p=1$"),
            "{other}"
        );
        assert!(
            verify("Old-Pa55word!".into(), Some(other.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("Old-Pa55word?".into(), Some(other)).await.unwrap());
        // And a bigger one after it, in the same pooled buffer.
        let stored = hash(SecretString::from("Str0ng!pass")).await.unwrap();
        assert!(verify("Str0ng!pass".into(), Some(stored)).await.unwrap());
    }

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
