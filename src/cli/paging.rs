//! Every page of a paged list (`?page=&limit=` in, `{…, pagination}` out), or the first
//! `--limit` items: what every `… list` command prints.

use edupro_server::api::{
    CourseEnrollmentList, CourseList, ImportRunList, MyCourses, PageQuery, Pagination, UserList,
};
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

/// `GET path?filter` page after page (the server's largest pages) until the last one,
/// or until `limit` items are in hand.
pub async fn all_pages<P: Page>(
    client: &ApiClient,
    path: &str,
    filter: &impl Serialize,
    limit: Option<u64>,
) -> Result<Vec<P::Item>> {
    // One page size throughout: the server pages by offset = (page - 1) * limit.
    let size = limit.map_or(PageQuery::MAX_LIMIT, |l| l.clamp(1, PageQuery::MAX_LIMIT));
    let mut items = Vec::new();
    let mut page = 1;
    loop {
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
        let (batch, pagination) = answer.into_parts();
        let empty = batch.is_empty();
        items.extend(batch);
        if let Some(limit) = limit
            && items.len() as u64 >= limit
        {
            items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            break;
        }
        if !pagination.has_next || empty {
            break;
        }
        page += 1;
    }
    Ok(items)
}
