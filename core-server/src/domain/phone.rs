//! A phone number: digits with an optional leading `+`, spaces and dashes dropped.

/// A phone number of 7–15 digits (E.164 length), optionally starting with `+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", trimmed),
        };
        let digits: String = rest
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        if digits.len() < 7 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err("must be a phone number of 7 to 15 digits, e.g. +91 98765 43210".into());
        }
        Ok(Self(format!("{plus}{digits}")))
    }
}

impl AsRef<str> for Phone {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Phone;

    #[test]
    fn phone_numbers_are_normalised() {
        assert_eq!(
            Phone::parse("+91 98765-43210").unwrap().as_ref(),
            "+919876543210"
        );
    }

    #[test]
    fn letters_and_short_numbers_are_refused() {
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("call me").is_err());
    }
}
