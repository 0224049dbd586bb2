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

pub struct CatalogueCache {
    ttl: Duration,
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    generation: u64,
    pages: HashMap<String, Page>,
}

struct Page {
    generation: u64,
    loaded: Instant,
    list: Arc<CourseList>,
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
        if inner.pages.len() >= CAPACITY {
            inner.pages.clear();
        }
        inner.pages.insert(
            key,
            Page {
                generation,
                loaded: Instant::now(),
                list,
            },
        );
    }

    /// Something a public page shows changed: every kept page is dropped.
    pub fn changed(&self) {
        if let Ok(mut inner) = self.inner.write() {
            inner.generation += 1;
            inner.pages.clear();
        }
    }
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
    fn with_no_time_to_live_nothing_is_kept() {
        let cache = CatalogueCache::new(Duration::ZERO);
        cache.put(cache.generation(), "k".into(), list(1));
        assert!(cache.get("k").is_none());
    }
}
