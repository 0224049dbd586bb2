//! Every page of a paged list (`?page=&limit=` in, `{…, pagination}` out), or the first
//! `--limit` items: what every `… list` command prints.

use edupro_server::api::{
    CourseEnrollmentList, CourseList, DoubtList, ImportRunList, MyCourses, PageQuery, Pagination,
    UserList,
};
use futures_util::StreamExt;

use crate::api;
use crate::error::Result;

/// A page of a list as the server answers it: its items and the `pagination` object.
pub trait Page {
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
page!(DoubtList, doubts, edupro_server::api::Doubt);
page!(
    edupro_server::api::WebhookEndpointList,
    webhooks,
    edupro_server::api::WebhookEndpoint
);
page!(
    edupro_server::api::WebhookDeliveryList,
    deliveries,
    edupro_server::api::WebhookDelivery
);
page!(
    edupro_server::api::PaymentList,
    payments,
    edupro_server::api::Payment
);
page!(
    edupro_server::api::CouponList,
    coupons,
    edupro_server::api::Coupon
);

/// Pages fetched at once after the first: enough to hide round trips, few enough not
/// to crowd a server that others use too.
const IN_FLIGHT: usize = 4;

/// Every page `fetch` gives (the server's largest pages), or until `limit` items are in
/// hand. The first page says how many there are; the rest are fetched [`IN_FLIGHT`] at a
/// time and kept in order.
pub async fn all_pages<P, F, Fut>(limit: Option<u64>, fetch: F) -> Result<Vec<P::Item>>
where
    P: Page,
    F: Fn(PageQuery) -> Fut,
    Fut: Future<Output = Result<P>>,
{
    // One page size throughout: the server pages by offset = (page - 1) * limit.
    let size = limit.map_or(PageQuery::MAX_LIMIT, |l| l.clamp(1, PageQuery::MAX_LIMIT));
    let fetch = |at: u64| {
        let answer = fetch(api::page(at, size));
        async move { Ok::<_, crate::error::ClientError>(answer.await?.into_parts()) }
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
