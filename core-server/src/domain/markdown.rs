//! The Markdown body of a post (a doubt, an answer): trimmed, 1–20,000 characters, no
//! control characters but line breaks and tabs.

/// A post's text, as its author wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Markdown(String);

impl Markdown {
    pub const MAX_LEN: usize = 20_000;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err("is required".into());
        }
        if text.chars().count() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(
                "must not contain control characters other than line breaks and tabs".into(),
            );
        }
        Ok(Self(text.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Markdown;

    #[test]
    fn line_breaks_stay_and_the_ends_are_trimmed() {
        let md = Markdown::parse("  # Why?\n\n`code`\tmore \n").unwrap();
        assert_eq!(md.into_string(), "# Why?\n\n`code`\tmore");
    }

    #[test]
    fn blank_oversized_and_control_characters_are_refused() {
        assert_eq!(Markdown::parse(" \n ").unwrap_err(), "is required");
        assert!(Markdown::parse(&"x".repeat(20_001)).is_err());
        assert!(Markdown::parse("a\u{7}b").is_err());
    }
}
