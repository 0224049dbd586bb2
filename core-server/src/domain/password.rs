//! A new password that meets the policy: 8–128 characters with an uppercase letter, a
//! lowercase letter, a digit and a special character.

use secrecy::{ExposeSecret, SecretString};

/// A password that passed the policy. Its `Debug` never shows it.
#[derive(Debug, Clone)]
pub struct Password(SecretString);

impl Password {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars < Self::MIN_LEN {
            return Err(format!("must be at least {} characters", Self::MIN_LEN));
        }
        if chars > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let mut missing = Vec::new();
        if !raw.chars().any(char::is_uppercase) {
            missing.push("an uppercase letter");
        }
        if !raw.chars().any(char::is_lowercase) {
            missing.push("a lowercase letter");
        }
        if !raw.chars().any(|c| c.is_ascii_digit()) {
            missing.push("a digit");
        }
        if !raw
            .chars()
            .any(|c| !c.is_alphanumeric() && !c.is_whitespace())
        {
            missing.push("a special character");
        }
        if missing.is_empty() {
            Ok(Self(SecretString::from(raw.to_owned())))
        } else {
            Err(format!("must contain {}", missing.join(", ")))
        }
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::Password;

    #[test]
    fn a_password_meeting_the_policy_is_accepted() {
        assert!(Password::parse("Str0ng!pass").is_ok());
    }

    #[test]
    fn each_missing_class_is_named() {
        let err = Password::parse("alllowercase").unwrap_err();
        assert!(
            err.contains("uppercase") && err.contains("digit") && err.contains("special"),
            "{err}"
        );
        assert!(
            Password::parse("Sh0rt!")
                .unwrap_err()
                .contains("at least 8")
        );
        assert!(
            Password::parse(&format!("Aa1!{}", "x".repeat(125)))
                .unwrap_err()
                .contains("at most 128")
        );
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let p = Password::parse("Str0ng!pass").unwrap();
        assert!(!format!("{p:?}").contains("Str0ng"));
    }
}
