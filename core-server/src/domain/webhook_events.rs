//! The event types a webhook endpoint subscribes to: names of domain events
//! (`course.enrolled`, `payment.success`…), the contract's aliases for them
//! (`class.started` is the stored `live_class.started`), or `*` for every event.

use super::events::event_names;

/// The contract's names for events stored under another name.
pub const ALIASES: &[(&str, &str)] = &[("class.started", "live_class.started")];

/// Every event (what `*` subscribes to).
pub const ALL: &str = "*";

/// At most this many types per endpoint.
pub const MAX_TYPES: usize = 50;

/// A non-empty, de-duplicated list of known event types, aliases written as the stored
/// names, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvents(Vec<String>);

impl WebhookEvents {
    pub fn parse(raw: &[String]) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("must name at least one event type".into());
        }
        if raw.len() > MAX_TYPES {
            return Err(format!("must name at most {MAX_TYPES} event types"));
        }
        let mut types: Vec<String> = Vec::with_capacity(raw.len());
        let mut unknown = Vec::new();
        for name in raw {
            let name = name.trim();
            let canonical = match ALIASES.iter().find(|(alias, _)| *alias == name) {
                Some((_, stored)) => (*stored).to_owned(),
                None if name == ALL || event_names().iter().any(|n| n == name) => name.to_owned(),
                None => {
                    unknown.push(format!("`{}`", name.chars().take(64).collect::<String>()));
                    continue;
                }
            };
            if !types.contains(&canonical) {
                types.push(canonical);
            }
        }
        if !unknown.is_empty() {
            return Err(format!(
                "{} {} not an event type; known: {}",
                unknown.join(", "),
                if unknown.len() == 1 { "is" } else { "are" },
                known().join(", ")
            ));
        }
        Ok(Self(types))
    }

    /// Whether an endpoint subscribed to `types` receives events of kind `kind`.
    pub fn matches(types: &[String], kind: &str) -> bool {
        types.iter().any(|t| t == ALL || t == kind)
    }

    pub fn into_inner(self) -> Vec<String> {
        self.0
    }
}

/// The names a subscription may use: `*`, every event's, and the aliases.
pub fn known() -> Vec<String> {
    let mut names = vec![ALL.to_owned()];
    names.extend(event_names().iter().cloned());
    names.extend(ALIASES.iter().map(|(alias, _)| (*alias).to_owned()));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(names: &[&str]) -> Result<Vec<String>, String> {
        let raw: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        WebhookEvents::parse(&raw).map(WebhookEvents::into_inner)
    }

    #[test]
    fn aliases_become_the_stored_names_and_repeats_go() {
        assert_eq!(
            parse(&["class.started", "course.enrolled", "live_class.started"]).unwrap(),
            ["live_class.started", "course.enrolled"]
        );
        assert_eq!(parse(&["*"]).unwrap(), ["*"]);
    }

    #[test]
    fn unknown_and_empty_lists_are_refused_naming_what_is_wrong() {
        let err = parse(&["course.enroled"]).unwrap_err();
        assert!(
            err.contains("`course.enroled`") && err.contains("course.enrolled"),
            "{err}"
        );
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn a_wildcard_matches_everything() {
        let types = vec!["*".to_owned()];
        assert!(WebhookEvents::matches(&types, "doubt.asked"));
        let types = vec!["course.enrolled".to_owned()];
        assert!(!WebhookEvents::matches(&types, "doubt.asked"));
    }
}
