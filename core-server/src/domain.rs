//! Parse, don't validate: request fields become these types on a handler's first line,
//! and nothing unparsed reaches the database. Each `parse` names what is wrong.

mod course_title;
mod email;
pub mod events;
mod markdown;
mod money;
mod password;
mod person_name;
mod phone;
pub mod rating;
mod slug;
mod tags;
mod title;
mod web_url;
pub mod webhook_events;
pub mod xp;

pub use course_title::CourseTitle;
pub use email::Email;
pub use markdown::Markdown;
pub use money::{Currency, Money};
pub use password::Password;
pub use person_name::PersonName;
pub use phone::Phone;
pub use rating::Rating;
pub use slug::Slug;
pub use tags::Tags;
pub use title::Title;
pub use web_url::WebUrl;
pub use webhook_events::WebhookEvents;

use crate::api::FieldError;

/// Collects field errors so a request reports every bad field at once.
#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    /// Keeps the value, or records `field`'s error and returns `None`.
    pub fn take<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.push(FieldError::new(field, message));
                None
            }
        }
    }

    /// Records an error that no parser produced.
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// `Err(Validation)` when any field failed.
    pub fn finish(self) -> Result<(), crate::error::ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(crate::error::ApiError::Validation(self.errors))
        }
    }
}
