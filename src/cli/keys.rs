//! The human keys a command accepts where it names something, besides its id:
//!
//! | noun   | accepted                                                      |
//! |--------|---------------------------------------------------------------|
//! | user   | id, email, SIS `user_id` (`externalId`)                       |
//! | course | id, slug, SIS `course_id` (`externalId`)                      |
//! | batch  | id, or `COURSE/NAME` (names are unique per course)            |
//! | test   | id, or `COURSE/TITLE`                                         |
//! | class  | id, or `COURSE/TITLE`: the next occurrence not yet over       |
//!
//! Users and courses are resolved by the server (`GET /users/{key}`,
//! `GET /courses/{key}`); the others by reading the course's list. A slug never holds a
//! `/`, so `COURSE/NAME` splits at the first one. Names and titles match whole and
//! ignoring case; two matches are an error that lists them.

use edupro_server::api::{LiveClassFilter, PageQuery, TestList};
use uuid::Uuid;

use crate::api::ApiClient;
use crate::error::{ClientError, Result};

/// A user's id from their id, email or SIS id.
pub async fn user(client: &ApiClient, key: &str) -> Result<Uuid> {
    match Uuid::parse_str(key.trim()) {
        Ok(id) => Ok(id),
        Err(_) => Ok(client.user(key.trim()).await?.id),
    }
}

/// A course's id from its id, slug or SIS id.
pub async fn course(client: &ApiClient, key: &str) -> Result<Uuid> {
    match Uuid::parse_str(key.trim()) {
        Ok(id) => Ok(id),
        Err(_) => Ok(client.course(key.trim()).await?.id),
    }
}

/// `COURSE/NAME` split at its first `/`, or a usage error showing the form.
fn course_and_name<'k>(key: &'k str, noun: &str, example: &str) -> Result<(&'k str, &'k str)> {
    match key.trim().split_once('/') {
        Some((course, name)) if !course.trim().is_empty() && !name.trim().is_empty() => {
            Ok((course.trim(), name.trim()))
        }
        _ => Err(ClientError::Usage(format!(
            "`{key}` is not a {noun}: give its id or COURSE/NAME, e.g. `{example}`"
        ))),
    }
}

fn not_found(message: String) -> ClientError {
    ClientError::Api {
        status: 404,
        message,
        errors: Vec::new(),
    }
}

/// The one item whose name is `name` (ignoring case), or an error naming the matches.
fn only_one<T>(
    items: Vec<T>,
    name: &str,
    what: &str,
    course: &str,
    describe: impl Fn(&T) -> String,
    id: impl Fn(&T) -> Uuid,
) -> Result<Uuid> {
    match items.as_slice() {
        [] => Err(not_found(format!(
            "course {course} has no {what} named “{name}”"
        ))),
        [one] => Ok(id(one)),
        many => Err(ClientError::Usage(format!(
            "course {course} has {} {what}s named “{name}”; use an id:\n{}",
            many.len(),
            many.iter()
                .map(|t| format!("  {}  {}", id(t), describe(t)))
                .collect::<Vec<_>>()
                .join("\n")
        ))),
    }
}

/// A batch's id from its id or `COURSE/NAME`.
pub async fn batch(client: &ApiClient, key: &str) -> Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(key.trim()) {
        return Ok(id);
    }
    let (course, name) = course_and_name(key, "batch", "rust-for-beginners/Morning")?;
    let batches = client.batches(course).await?.batches;
    let matching = batches
        .into_iter()
        .filter(|b| b.name.eq_ignore_ascii_case(name))
        .collect();
    only_one(
        matching,
        name,
        "batch",
        course,
        |b| b.name.clone(),
        |b| b.id,
    )
}

/// A batch's id from its id, `COURSE/NAME`, or its name alone in `course`.
pub async fn batch_in(client: &ApiClient, course: &str, key: &str) -> Result<Uuid> {
    if Uuid::parse_str(key.trim()).is_ok() || key.contains('/') {
        batch(client, key).await
    } else {
        batch(client, &format!("{}/{}", course.trim(), key.trim())).await
    }
}

/// A test's id from its id or `COURSE/TITLE`.
pub async fn test(client: &ApiClient, key: &str) -> Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(key.trim()) {
        return Ok(id);
    }
    let (course, title) = course_and_name(key, "test", "rust-for-beginners/Quiz 1")?;
    let mut matching = Vec::new();
    let mut page = 1;
    loop {
        let list: TestList = client
            .tests(Some(course), crate::api::page(page, PageQuery::MAX_LIMIT))
            .await?;
        let pages = list.pagination.pages;
        matching.extend(
            list.tests
                .into_iter()
                .filter(|t| t.title.eq_ignore_ascii_case(title)),
        );
        if page >= pages {
            break;
        }
        page += 1;
    }
    only_one(
        matching,
        title,
        "test",
        course,
        |t| format!("{} ({})", t.title, t.status),
        |t| t.id,
    )
}

/// A live class's id from its id or `COURSE/TITLE`: of the classes with that title, the
/// earliest that has not ended (the next occurrence of a series).
pub async fn class(client: &ApiClient, key: &str) -> Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(key.trim()) {
        return Ok(id);
    }
    let (course_key, title) = course_and_name(key, "class", "rust-for-beginners/Office hours")?;
    let course_id = course(client, course_key).await?;
    let filter = LiveClassFilter {
        course_id: Some(course_id),
        from: Some(chrono::Utc::now()),
        ..LiveClassFilter::default()
    };
    let mut page = 1;
    loop {
        let list = client
            .live_classes(&filter, crate::api::page(page, PageQuery::MAX_LIMIT))
            .await?;
        // Earliest first: the first match is the next occurrence.
        if let Some(c) = list.classes.iter().find(|c| {
            c.title.eq_ignore_ascii_case(title)
                && !matches!(c.status, edupro_server::api::LiveClassStatus::Cancelled)
        }) {
            return Ok(c.id);
        }
        if page >= list.pagination.pages {
            return Err(not_found(format!(
                "course {course_key} has no class named “{title}” that has not ended"
            )));
        }
        page += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn course_and_name_splits_at_the_first_slash_and_shows_the_form_otherwise() {
        assert_eq!(
            course_and_name("rust/Morning / A", "batch", "x").expect("splits"),
            ("rust", "Morning / A")
        );
        let err = course_and_name("Morning", "batch", "rust-for-beginners/Morning")
            .expect_err("no course");
        assert!(
            err.to_string()
                .contains("give its id or COURSE/NAME, e.g. `rust-for-beginners/Morning`"),
            "{err}"
        );
        assert!(course_and_name("/Morning", "batch", "x").is_err());
        assert!(course_and_name("rust/ ", "batch", "x").is_err());
    }
}
