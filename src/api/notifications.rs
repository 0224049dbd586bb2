//! `/notifications`: the signed-in user's inbox.

use edupro_server::api::{
    MarkedRead, Notification, NotificationFilter, NotificationList, PageQuery,
};

use reqwest::Method;

use super::ApiClient;
use crate::error::Result;

impl ApiClient {
    /// `GET /notifications`: page `at`, newest first (the filter's own `page` and
    /// `limit` give way to `at`'s).
    pub async fn notifications(
        &self,
        filter: &NotificationFilter,
        at: PageQuery,
    ) -> Result<NotificationList> {
        let query = NotificationFilter {
            page: at.page,
            limit: at.limit,
            ..filter.clone()
        };
        self.get("/notifications", &query).await
    }

    /// `PATCH /notifications/{id}/read` (no body: the path says it all).
    pub async fn mark_read(&self, id: i64) -> Result<Notification> {
        self.call(
            Method::PATCH,
            &format!("/notifications/{id}/read"),
            &(),
            None,
        )
        .await
    }

    /// `PATCH /notifications/read-all`.
    pub async fn mark_all_read(&self) -> Result<MarkedRead> {
        self.call(Method::PATCH, "/notifications/read-all", &(), None)
            .await
    }
}
