//! A course's title: trimmed, 3–200 characters, no control characters.

/// The title of a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseTitle(String);

impl CourseTitle {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let title = raw.trim();
        if title.is_empty() {
            return Err("is required".into());
        }
        let len = title.chars().count();
        if len < Self::MIN_LEN {
            return Err(format!("must be at least {} characters", Self::MIN_LEN));
        }
        if len > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        if title.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(title.to_owned()))
    }
}

impl AsRef<str> for CourseTitle {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::CourseTitle;

    #[test]
    fn titles_are_trimmed_and_keep_unicode() {
        assert_eq!(
            CourseTitle::parse("  Física básica ").unwrap().as_ref(),
            "Física básica"
        );
    }

    #[test]
    fn short_long_empty_and_control_titles_are_refused() {
        assert_eq!(CourseTitle::parse("  ").unwrap_err(), "is required");
        assert!(CourseTitle::parse("ab").is_err());
        assert!(CourseTitle::parse(&"x".repeat(201)).is_err());
        assert!(CourseTitle::parse(&"x".repeat(200)).is_ok());
        assert!(CourseTitle::parse("Rust\u{7}101").is_err());
    }
}
