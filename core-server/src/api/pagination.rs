//! Page-based listing: `?page=&limit=` in, a `pagination` object out.

use serde::{Deserialize, Serialize};

/// Query parameters every list accepts: `page` from 1 to [`PageQuery::MAX_PAGE`], `limit`
/// from 1 to [`PageQuery::MAX_LIMIT`]. The server refuses values outside those bounds
/// with a 400 naming the parameter (one check for every list, in its query extractor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
pub struct PageQuery {
    pub page: Option<u64>,
    pub limit: Option<u64>,
}

impl PageQuery {
    pub const DEFAULT_LIMIT: u64 = 20;
    pub const MAX_LIMIT: u64 = 100;
    /// The deepest page: with the largest limit an offset of ten million rows, far
    /// beyond any list here and far below what a database offset can hold.
    pub const MAX_PAGE: u64 = 100_000;

    /// The page number, between 1 and [`Self::MAX_PAGE`].
    pub fn page(&self) -> u64 {
        self.page.unwrap_or(1).clamp(1, Self::MAX_PAGE)
    }

    /// The page size, between 1 and [`Self::MAX_LIMIT`].
    pub fn limit(&self) -> u64 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }

    /// Rows to skip for this page; bounded by `MAX_PAGE × MAX_LIMIT`, so it never
    /// overflows nor exceeds what a database offset holds, whatever the fields hold.
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
    fn any_u64_gives_an_offset_a_database_can_hold() {
        let q = PageQuery {
            page: Some(u64::MAX),
            limit: Some(u64::MAX),
        };
        assert_eq!(q.page(), PageQuery::MAX_PAGE);
        assert_eq!(q.offset(), (PageQuery::MAX_PAGE - 1) * PageQuery::MAX_LIMIT);
        assert!(i64::try_from(q.offset()).is_ok());
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
