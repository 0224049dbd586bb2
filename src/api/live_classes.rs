//! `/live-classes`: scheduling (one class or a weekly series), running, attendance and
//! the calendar feed.

use edupro_server::api::{
    AttendanceReport, CalendarFeed, LiveClass, LiveClassCreated, LiveClassFilter, LiveClassList,
    LiveClassesChanged, NewLiveClass, PageQuery, ScopeQuery, UpdateLiveClass,
};
use uuid::Uuid;

use super::ApiClient;
use crate::error::Result;

impl ApiClient {
    /// `GET /live-classes`: page `at` of the classes `filter` matches, earliest first
    /// (its own `page` and `limit` give way to `at`'s).
    pub async fn live_classes(
        &self,
        filter: &LiveClassFilter,
        at: PageQuery,
    ) -> Result<LiveClassList> {
        let query = LiveClassFilter {
            page: at.page,
            limit: at.limit,
            ..filter.clone()
        };
        self.get("/live-classes", &query).await
    }

    /// `POST /live-classes`: a class, or every occurrence of a weekly series.
    pub async fn schedule_live_class(&self, body: &NewLiveClass) -> Result<LiveClassCreated> {
        self.post_json("/live-classes", body).await
    }

    /// `PATCH /live-classes/{id}?scope=`: every class changed.
    pub async fn update_live_class(
        &self,
        id: Uuid,
        scope: &ScopeQuery,
        body: &UpdateLiveClass,
    ) -> Result<LiveClassesChanged> {
        self.patch(&format!("/live-classes/{id}"), scope, body)
            .await
    }

    /// `DELETE /live-classes/{id}?scope=`: every class cancelled.
    pub async fn cancel_live_class(
        &self,
        id: Uuid,
        scope: &ScopeQuery,
    ) -> Result<LiveClassesChanged> {
        self.delete(&format!("/live-classes/{id}"), scope).await
    }

    /// `POST /live-classes/{id}/start` (its host).
    pub async fn start_live_class(&self, id: Uuid) -> Result<LiveClass> {
        self.post_action(&format!("/live-classes/{id}/start")).await
    }

    /// `POST /live-classes/{id}/end` (its host).
    pub async fn end_live_class(&self, id: Uuid) -> Result<LiveClass> {
        self.post_action(&format!("/live-classes/{id}/end")).await
    }

    /// `GET /live-classes/{id}/attendance` (staff).
    pub async fn attendance(&self, id: Uuid) -> Result<AttendanceReport> {
        self.get(&format!("/live-classes/{id}/attendance"), &())
            .await
    }

    /// `POST /live-classes/calendar-token`: a new feed URL; an older one stops working.
    pub async fn create_calendar_feed(&self) -> Result<CalendarFeed> {
        self.post_action("/live-classes/calendar-token").await
    }
}
