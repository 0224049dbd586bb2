//! Opaque secrets: refresh tokens, personal access tokens, one-time and recovery codes.
//! Only hashes are stored: SHA-256 for high-entropy tokens, HMAC-SHA256 keyed by the
//! server secret for short codes (a leaked table can't be brute-forced offline).

use data_encoding::{BASE64URL_NOPAD, HEXLOWER};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of refresh tokens.
pub const REFRESH_PREFIX: &str = "edupro_rt_";
/// Prefix of personal access tokens; `Bearer edupro_pat_…` is looked up, not decoded.
pub const PAT_PREFIX: &str = "edupro_pat_";

/// A new random token: `prefix` + 32 random bytes, base64url.
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", BASE64URL_NOPAD.encode(&bytes))
}

/// SHA-256 of a high-entropy token, hex.
pub fn token_hash(token: &str) -> String {
    HEXLOWER.encode(&Sha256::digest(token.as_bytes()))
}

/// A random 6-digit code, `000000`–`999999`.
pub fn new_otp() -> String {
    format!("{:06}", rand::rng().next_u32() % 1_000_000)
}

/// A random recovery code like `k3f9-x2mq-8z1d`.
pub fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let mut code = String::with_capacity(14);
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        let idx = (rng.next_u32() as usize) % ALPHABET.len();
        code.push(char::from(ALPHABET[idx]));
    }
    code
}

/// HMAC-SHA256 of a short code, bound to its context (user and purpose), hex.
pub fn code_hash(key: &[u8], context: &str, code: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC accepts keys of any length; this arm can't be reached.
        Err(_) => return token_hash(&format!("{context}:{code}")),
    };
    mac.update(context.as_bytes());
    mac.update(b":");
    mac.update(code.trim().to_lowercase().as_bytes());
    HEXLOWER.encode(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hash_stably() {
        let (a, b) = (new_token(REFRESH_PREFIX), new_token(REFRESH_PREFIX));
        assert!(a.starts_with(REFRESH_PREFIX) && a.len() > 40);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(token_hash(&a).len(), 64);
    }

    #[test]
    fn otps_have_six_digits() {
        for _ in 0..100 {
            let otp = new_otp();
            assert_eq!(otp.len(), 6);
            assert!(otp.chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn code_hashes_depend_on_key_and_context() {
        let h = code_hash(b"k1", "user:EMAIL", "123456");
        assert_eq!(h, code_hash(b"k1", "user:EMAIL", " 123456 "));
        assert_ne!(h, code_hash(b"k2", "user:EMAIL", "123456"));
        assert_ne!(h, code_hash(b"k1", "user:RESET", "123456"));
    }
}
