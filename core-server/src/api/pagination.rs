//! Page-based listing: `?page=&limit=` in, a `pagination` object out.

use serde::{Deserialize, Serialize};

/// Query parameters every list accepts. `page` starts at 1; `limit` is capped at 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
pub struct PageQuery {
    pub page: Option<u64>,
    pub limit: Option<u64>,
}

impl PageQuery {
    pub const DEFAULT_LIMIT: u64 = 20;
    pub const MAX_LIMIT: u64 = 100;

    /// The page number, at least 1.
    pub fn page(&self) -> u64 {
        self.page.unwrap_or(1).max(1)
    }

    /// The page size, between 1 and [`Self::MAX_LIMIT`].
    pub fn limit(&self) -> u64 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }

    /// Rows to skip for this page.
    pub fn offset(&self) -> u64 {
        (self.page() - 1) * self.limit()
    }
}

/// `{page, limit, total, pages, hasNext, hasPrev}` next to the items of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub page: u64,
    pub limit: u64,
    pub total: u64,
    pub pages: u64,
    pub has_next: bool,
    pub has_prev: bool,
}

impl Pagination {
    /// Describes page `query` of a list holding `total` items.
    pub fn new(query: PageQuery, total: u64) -> Self {
        let (page, limit) = (query.page(), query.limit());
        let pages = total.div_ceil(limit);
        Self {
            page,
            limit,
            total,
            pages,
            has_next: page < pages,
            has_prev: page > 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_capped_and_page_starts_at_one() {
        let q = PageQuery {
            page: Some(0),
            limit: Some(1000),
        };
        assert_eq!(q.page(), 1);
        assert_eq!(q.limit(), 100);
        assert_eq!(q.offset(), 0);
    }

    #[test]
    fn pagination_counts_pages_and_neighbours() {
        let q = PageQuery {
            page: Some(2),
            limit: Some(10),
        };
        let p = Pagination::new(q, 25);
        assert_eq!((p.pages, p.has_next, p.has_prev), (3, true, true));
        let last = Pagination::new(PageQuery { page: Some(3), ..q }, 25);
        assert!(!last.has_next);
        assert_eq!(Pagination::new(q, 0).pages, 0);
    }
}
