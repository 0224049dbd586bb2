//! An absolute http(s) URL, such as a thumbnail or a lesson's video, at most 2048 bytes.

/// A link the API stores and hands to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl(String);

impl WebUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.len() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let url = url::Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err("must be an http(s) URL".into());
        }
        Ok(Self(raw.to_owned()))
    }
}

impl AsRef<str> for WebUrl {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::WebUrl;

    #[test]
    fn http_and_https_urls_are_kept_as_given() {
        let url = "https://cdn.school.test/rust.png?v=2";
        assert_eq!(WebUrl::parse(url).unwrap().as_ref(), url);
    }

    #[test]
    fn other_schemes_and_non_urls_are_refused() {
        for bad in [
            "javascript:alert(1)",
            "ftp://x.test/a",
            "not a url",
            "/relative",
        ] {
            assert!(WebUrl::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
