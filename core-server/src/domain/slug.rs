//! A URL slug: 1–120 of `a-z`, `0-9` and single inner hyphens. Made from a title
//! (accents folded, anything else a separator) or parsed as given.

/// The human-readable key of a course or category in URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 120;

    /// Parses a slug someone typed; it must already be in canonical form.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let slug = raw.trim();
        if slug.is_empty() {
            return Err("is required".into());
        }
        if slug.len() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let valid_chars = slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_chars || slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
            return Err(
                "must be lowercase letters, digits and single hyphens between them (e.g. `intro-to-rust`)"
                    .into(),
            );
        }
        Ok(Self(slug.to_owned()))
    }

    /// A slug made from `text`: lowercased, common accents folded, every other run of
    /// characters a hyphen. Text with nothing usable gives `fallback`.
    pub fn from_text(text: &str, fallback: &str) -> Self {
        let mut slug = String::new();
        let mut pending_hyphen = false;
        for c in text.chars().flat_map(char::to_lowercase) {
            let folded = fold(c);
            if folded.is_empty() {
                pending_hyphen = !slug.is_empty();
                continue;
            }
            if pending_hyphen {
                slug.push('-');
                pending_hyphen = false;
            }
            slug.push_str(folded);
        }
        // Leave room for a `-NN` suffix; never end on a hyphen after cutting.
        let max = Self::MAX_LEN - 8;
        if slug.len() > max {
            slug.truncate(max);
            while slug.ends_with('-') {
                slug.pop();
            }
        }
        if slug.is_empty() {
            slug = fallback.to_owned();
        }
        Self(slug)
    }

    /// `self-n`, for the n-th course with the same title.
    pub fn with_suffix(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }
}

/// `c` as slug characters: itself for `a-z0-9`, a base letter for common accented
/// Latin letters, nothing (a separator) for anything else.
fn fold(c: char) -> &'static str {
    const PLAIN: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
    if c.is_ascii_alphanumeric() {
        let i = PLAIN.find(c).unwrap_or(0);
        return &PLAIN[i..=i];
    }
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' => "i",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' => "u",
        'ý' | 'ÿ' => "y",
        'ß' => "ss",
        'ś' | 'š' => "s",
        'ź' | 'ż' | 'ž' => "z",
        'ł' => "l",
        'ř' => "r",
        'ť' => "t",
        'ď' => "d",
        '&' => "and",
        '+' => "plus",
        '#' => "sharp",
        _ => "",
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Slug;

    #[test]
    fn a_title_becomes_lowercase_words_joined_by_hyphens() {
        assert_eq!(
            Slug::from_text("  Intro to Rust: Part 2!! ", "course").as_ref(),
            "intro-to-rust-part-2"
        );
        assert_eq!(
            Slug::from_text("C++ & C#", "course").as_ref(),
            "cplusplus-and-csharp"
        );
        assert_eq!(
            Slug::from_text("Física Básica", "course").as_ref(),
            "fisica-basica"
        );
    }

    #[test]
    fn a_title_with_nothing_usable_gets_the_fallback() {
        assert_eq!(Slug::from_text("गणित", "course").as_ref(), "course");
        assert_eq!(Slug::from_text("!!!", "category").as_ref(), "category");
    }

    #[test]
    fn long_titles_leave_room_for_a_suffix() {
        let slug = Slug::from_text(&"word ".repeat(60), "course");
        assert!(slug.as_ref().len() <= Slug::MAX_LEN - 8);
        assert!(!slug.as_ref().ends_with('-'));
        assert!(Slug::parse(slug.with_suffix(99).as_ref()).is_ok());
    }

    #[test]
    fn suffixes_are_numbered() {
        assert_eq!(
            Slug::from_text("Rust", "c").with_suffix(2).as_ref(),
            "rust-2"
        );
    }

    #[test]
    fn typed_slugs_must_be_canonical() {
        assert!(Slug::parse("intro-to-rust").is_ok());
        for bad in [
            "",
            "Intro",
            "a--b",
            "-a",
            "a-",
            "a b",
            "ä",
            &"a".repeat(121),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
