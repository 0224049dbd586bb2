//! Pages of the public catalogue (what anonymous callers and students see) kept in
//! memory: the busiest read of the server, the same for every student, and changed
//! rarely. A page is keyed by its filters; every committed change that can alter a
//! public page (a course written, published, archived or deleted, an enrollment or
//! review changing its counters, a category or an owner's name) calls
//! `service::catalogue::catalogue_changed`, which bumps the generation here and tells
//! the other instances. A page read under an older generation is never served, so a
//! page read while a change was committing cannot outlive it. The time to live
//! (`EDUPRO_CATALOGUE_CACHE`, 30 s by default, 0 to turn the cache off) bounds
//! staleness should an announcement between instances be lost.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::api::CourseList;

/// Distinct cached pages beyond this are dropped all at once.
const CAPACITY: usize = 4_096;

/// About this many bytes of pages at most: filters are the caller's to vary (a price
/// bound, a search, a page number), and a page of 100 courses with long descriptions
/// is megabytes, so the entry count alone would not bound the memory.
const BUDGET_BYTES: usize = 64 << 20;

pub struct CatalogueCache {
    ttl: Duration,
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    generation: u64,
    pages: HashMap<String, Page>,
    /// What the kept pages and their keys take, roughly.
    bytes: usize,
}

struct Page {
    generation: u64,
    loaded: Instant,
    list: Arc<CourseList>,
    size: usize,
}

impl CatalogueCache {
    /// Pages are served for at most `ttl` (none if zero).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            inner: RwLock::default(),
        }
    }

    /// The generation to pass to [`put`](Self::put) for a page about to be read.
    pub fn generation(&self) -> u64 {
        self.inner.read().map_or(u64::MAX, |i| i.generation)
    }

    /// The page for `key`, if read in the current generation and within the TTL.
    pub fn get(&self, key: &str) -> Option<Arc<CourseList>> {
        let inner = self.inner.read().ok()?;
        let page = inner.pages.get(key)?;
        (page.generation == inner.generation && page.loaded.elapsed() < self.ttl)
            .then(|| Arc::clone(&page.list))
    }

    /// Keeps the page for `key` read under `generation`, unless the catalogue changed
    /// since.
    pub fn put(&self, generation: u64, key: String, list: Arc<CourseList>) {
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        if inner.generation != generation || self.ttl.is_zero() {
            return;
        }
        let size = key.len() + approximate_size(&list);
        if inner.pages.len() >= CAPACITY || inner.bytes + size > BUDGET_BYTES {
            inner.pages.clear();
            inner.bytes = 0;
        }
        inner.bytes += size;
        if let Some(old) = inner.pages.insert(
            key,
            Page {
                generation,
                loaded: Instant::now(),
                list,
                size,
            },
        ) {
            inner.bytes = inner.bytes.saturating_sub(old.size);
        }
    }

    /// Something a public page shows changed: every kept page is dropped.
    pub fn changed(&self) {
        if let Ok(mut inner) = self.inner.write() {
            inner.generation += 1;
            inner.pages.clear();
            inner.bytes = 0;
        }
    }
}

/// The heap a page takes, roughly: its strings plus a fixed cost per course.
fn approximate_size(list: &CourseList) -> usize {
    list.courses
        .iter()
        .map(|c| {
            512 + c.title.len()
                + c.slug.len()
                + c.description.len()
                + c.language.len()
                + c.currency.len()
                + c.tags.iter().map(|t| t.len() + 24).sum::<usize>()
                + c.thumbnail.as_ref().map_or(0, String::len)
                + c.external_id.as_ref().map_or(0, String::len)
                + c.teacher.first_name.len()
                + c.teacher.last_name.len()
        })
        .sum::<usize>()
        + 256
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{PageQuery, Pagination};

    fn list(total: u64) -> Arc<CourseList> {
        Arc::new(CourseList {
            courses: vec![],
            pagination: Pagination::new(
                PageQuery {
                    page: Some(1),
                    limit: Some(20),
                },
                total,
            ),
        })
    }

    #[test]
    fn a_page_read_before_a_change_is_not_kept_after_it() {
        let cache = CatalogueCache::new(Duration::from_secs(30));
        let before = cache.generation();
        cache.changed();
        cache.put(before, "k".into(), list(1));
        assert!(cache.get("k").is_none());
        let now = cache.generation();
        cache.put(now, "k".into(), list(2));
        assert_eq!(cache.get("k").unwrap().pagination.total, 2);
        cache.changed();
        assert!(cache.get("k").is_none());
    }

    #[test]
    fn pages_are_kept_within_a_memory_budget() {
        let cache = CatalogueCache::new(Duration::from_secs(30));
        let big = {
            let mut list = (*list(1)).clone();
            let json = serde_json::json!({
                "id": uuid::Uuid::nil(), "title": "t", "slug": "s",
                "description": "d".repeat(1 << 20), "level": "BEGINNER", "language": "en",
                "price": 0, "currency": "INR", "isFree": true, "tags": [],
                "status": "PUBLISHED", "teacher": {"id": uuid::Uuid::nil(), "firstName": "a", "lastName": "b"},
                "totalStudents": 0, "rating": 0.0, "totalReviews": 0,
                "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z",
            });
            list.courses = vec![serde_json::from_value(json).unwrap()];
            Arc::new(list)
        };
        for n in 0..200 {
            cache.put(cache.generation(), format!("k{n}"), Arc::clone(&big));
        }
        let inner = cache.inner.read().unwrap();
        assert!(inner.bytes <= BUDGET_BYTES, "{}", inner.bytes);
        assert!(inner.pages.len() < 200, "{}", inner.pages.len());
        assert!(inner.pages.contains_key("k199"), "the newest page is kept");
    }

    #[test]
    fn with_no_time_to_live_nothing_is_kept() {
        let cache = CatalogueCache::new(Duration::ZERO);
        cache.put(cache.generation(), "k".into(), list(1));
        assert!(cache.get("k").is_none());
    }
}
