//! TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) with a ±1 step window and
//! replay protection: a code is accepted once per time step.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

const STEP_SECS: u64 = 30;
const DIGITS: u32 = 6;

/// A new 160-bit secret, base32 (what authenticator apps accept).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    BASE32_NOPAD.encode(&bytes)
}

/// `otpauth://totp/EduPro+:email?secret=…&issuer=EduPro%2B…` for a QR code.
pub fn otpauth_uri(secret: &str, account: &str) -> String {
    let label = format!("EduPro+:{account}");
    let mut url = match url::Url::parse("otpauth://totp/") {
        Ok(url) => url,
        Err(_) => return String::new(),
    };
    url.set_path(&label);
    url.query_pairs_mut()
        .append_pair("secret", secret)
        .append_pair("issuer", "EduPro+")
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", "6")
        .append_pair("period", "30");
    url.to_string()
}

/// The code for `secret` at time step `step`.
pub fn code_at(secret: &str, step: u64) -> Option<String> {
    let key = BASE32_NOPAD
        .decode(secret.trim_end_matches('=').as_bytes())
        .ok()?;
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    Some(format!("{:06}", binary % 10u32.pow(DIGITS)))
}

/// The time step of a Unix time.
pub fn step_of(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

/// The step at which `code` is valid now (±1 step), if it is valid and newer than
/// `last_used_step`. Store the returned step to refuse the same code again.
pub fn verify(
    secret: &str,
    code: &str,
    unix_secs: u64,
    last_used_step: Option<i64>,
) -> Option<u64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_secs);
    let floor = last_used_step.and_then(|s| u64::try_from(s).ok());
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .filter(|step| floor.is_none_or(|last| *step > last))
        .find(|step| code_at(secret, *step).is_some_and(|expected| constant_eq(&expected, &code)))
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA1 secret "12345678901234567890"; 6-digit truncations.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        assert_eq!(code_at(RFC_SECRET, step_of(59)).unwrap(), "287082");
        assert_eq!(
            code_at(RFC_SECRET, step_of(1_111_111_109)).unwrap(),
            "081804"
        );
        assert_eq!(
            code_at(RFC_SECRET, step_of(1_234_567_890)).unwrap(),
            "005924"
        );
        assert_eq!(
            code_at(RFC_SECRET, step_of(2_000_000_000)).unwrap(),
            "279037"
        );
    }

    #[test]
    fn a_code_is_accepted_within_one_step_and_only_once() {
        let t = 1_234_567_890;
        let code = code_at(RFC_SECRET, step_of(t)).unwrap();
        let step = verify(RFC_SECRET, &code, t + 30, None).expect("previous step accepted");
        assert_eq!(verify(RFC_SECRET, &code, t, Some(step as i64)), None);
        assert_eq!(verify(RFC_SECRET, &code, t + 90, None), None);
        assert_eq!(verify(RFC_SECRET, "12345", t, None), None);
    }

    #[test]
    fn the_uri_names_issuer_and_account() {
        let uri = otpauth_uri("ABC", "ada@school.edu");
        assert!(
            uri.starts_with("otpauth://totp/EduPro+:ada@school.edu?secret=ABC"),
            "{uri}"
        );
        assert!(uri.contains("issuer=EduPro%2B"), "{uri}");
    }
}
