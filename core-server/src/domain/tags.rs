//! A course's tags: at most 20, each 1–40 characters, trimmed, without duplicates
//! (ignoring case); the first spelling wins.

/// The tags of a course, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<String>);

impl Tags {
    pub const MAX_TAGS: usize = 20;
    pub const MAX_LEN: usize = 40;

    pub fn parse(raw: &[String]) -> Result<Self, String> {
        let mut tags: Vec<String> = Vec::new();
        for tag in raw {
            let tag = tag.trim();
            if tag.is_empty() {
                return Err("must not contain empty tags".into());
            }
            if tag.chars().count() > Self::MAX_LEN {
                return Err(format!(
                    "each tag must be at most {} characters",
                    Self::MAX_LEN
                ));
            }
            if tag.chars().any(char::is_control) {
                return Err("tags must not contain control characters".into());
            }
            if !tags.iter().any(|t| t.to_lowercase() == tag.to_lowercase()) {
                tags.push(tag.to_owned());
            }
        }
        if tags.len() > Self::MAX_TAGS {
            return Err(format!("must hold at most {} tags", Self::MAX_TAGS));
        }
        Ok(Self(tags))
    }

    pub fn into_inner(self) -> Vec<String> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Tags;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated_ignoring_case() {
        let tags = Tags::parse(&strings(&[" Rust ", "rust", "Web"])).unwrap();
        assert_eq!(tags.into_inner(), strings(&["Rust", "Web"]));
    }

    #[test]
    fn empty_long_and_too_many_tags_are_refused() {
        assert!(Tags::parse(&strings(&[" "])).is_err());
        assert!(Tags::parse(&[("x".repeat(41))]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&many).is_err());
    }
}
