//! The title of a section or lesson, or a category's name: trimmed, 1–200 characters,
//! no control characters.

/// A short human-readable label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX_LEN: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let title = raw.trim();
        if title.is_empty() {
            return Err("is required".into());
        }
        if title.chars().count() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        if title.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(title.to_owned()))
    }
}

impl AsRef<str> for Title {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Title;

    #[test]
    fn one_character_is_enough_and_whitespace_is_trimmed() {
        assert_eq!(Title::parse(" 1 ").unwrap().as_ref(), "1");
    }

    #[test]
    fn empty_long_and_control_titles_are_refused() {
        assert!(Title::parse("").is_err());
        assert!(Title::parse(&"é".repeat(201)).is_err());
        assert!(Title::parse("a\tb").is_err());
    }
}
