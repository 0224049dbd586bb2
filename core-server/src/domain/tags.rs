//! A course's tags: at most 20, each 1–40 characters, trimmed, without duplicates
//! (ignoring case); the first spelling wins.

use std::collections::HashSet;

/// The tags of a course, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<String>);

impl Tags {
    pub const MAX_TAGS: usize = 20;
    pub const MAX_LEN: usize = 40;

    /// Parses the tags a client sent. The count is checked before any tag is looked at
    /// (duplicates count), and duplicates are found with a set: a 20,000-tag body is
    /// refused at once instead of being compared pair by pair.
    pub fn parse(raw: &[String]) -> Result<Self, String> {
        if raw.len() > Self::MAX_TAGS {
            return Err(format!(
                "must hold at most {} tags ({} given)",
                Self::MAX_TAGS,
                raw.len()
            ));
        }
        let mut tags: Vec<String> = Vec::with_capacity(raw.len());
        let mut seen: HashSet<String> = HashSet::with_capacity(raw.len());
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
            if seen.insert(tag.to_lowercase()) {
                tags.push(tag.to_owned());
            }
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
        // Counted as sent: repeats of one tag are still too many.
        assert!(Tags::parse(&vec!["same".to_owned(); 21]).is_err());
    }
}
