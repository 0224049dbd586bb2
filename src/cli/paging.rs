//! Every page of a paged list (`?page=&limit=` in, `{…, pagination}` out), or the first
//! `--limit` items: what every `… list` command prints.

use edupro_server::api::{
    CourseEnrollmentList, CourseList, ImportRunList, MyCourses, PageQuery, Pagination, UserList,
};
use futures_util::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::ApiClient;
use crate::error::Result;

/// A page of a list as the server answers it: its items and the `pagination` object.
pub trait Page: DeserializeOwned {
    type Item;
    fn into_parts(self) -> (Vec<Self::Item>, Pagination);
}

macro_rules! page {
    ($list:ty, $field:ident, $item:ty) => {
        impl Page for $list {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, Pagination) {
                (self.$field, self.pagination)
            }
        }
    };
}

page!(CourseList, courses, edupro_server::api::Course);
page!(UserList, users, edupro_server::api::User);
page!(
    CourseEnrollmentList,
    enrollments,
    edupro_server::api::CourseEnrollment
);
page!(MyCourses, enrollments, edupro_server::api::MyEnrollment);
page!(ImportRunList, imports, edupro_server::api::ImportRun);

#[derive(Serialize)]
struct PagedQuery<'a, F: Serialize> {
    #[serde(flatten)]
    filter: &'a F,
    page: u64,
    limit: u64,
}

/// Pages fetched at once after the first: enough to hide round trips, few enough not
/// to crowd a server that others use too.
const IN_FLIGHT: usize = 4;

/// `GET path?filter` for every page (the server's largest pages), or until `limit`
/// items are in hand. The first page says how many there are; the rest are fetched
/// [`IN_FLIGHT`] at a time and kept in order.
pub async fn all_pages<P: Page>(
    client: &ApiClient,
    path: &str,
    filter: &impl Serialize,
    limit: Option<u64>,
) -> Result<Vec<P::Item>> {
    // One page size throughout: the server pages by offset = (page - 1) * limit.
    let size = limit.map_or(PageQuery::MAX_LIMIT, |l| l.clamp(1, PageQuery::MAX_LIMIT));
    let fetch = |page: u64| async move {
        let answer: P = client
            .get(
                path,
                &PagedQuery {
                    filter,
                    page,
                    limit: size,
                },
            )
            .await?;
        Ok::<_, crate::error::ClientError>(answer.into_parts())
    };
    // Sequential first: an expired token is refreshed once, before the others start.
    let (mut items, pagination) = fetch(1).await?;
    let wanted_pages = limit.map_or(u64::MAX, |l| l.div_ceil(size));
    let last = pagination.pages.min(wanted_pages);
    let mut rest = futures_util::stream::iter(2..=last)
        .map(fetch)
        .buffered(IN_FLIGHT);
    while let Some(page) = rest.next().await {
        let (batch, _) = page?;
        if batch.is_empty() {
            break;
        }
        items.extend(batch);
    }
    if let Some(limit) = limit {
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(items)
}
