//! `/activity`, `/dashboard/…` and `/analytics/…`: the activity log (heartbeats and
//! imported history), the daily roll-ups, each role's dashboard, and the course and
//! student analytics, as JSON or as the server's `series,date,value` CSV.

use edupro_server::api::{
    ActivityImport, ActivityImportReceipt, AdminDashboard, CourseAnalytics, DateRange,
    HeartbeatBatch, HeartbeatReceipt, RollupReport, StudentAnalytics, StudentDashboard,
    TeacherDashboard,
};

use super::{ApiClient, segment};
use crate::error::Result;

/// `Accept` for the CSV variants.
const CSV: [(&str, &str); 1] = [("Accept", "text/csv")];

/// `/dashboard/admin`, answered as JSON or CSV.
const ADMIN_DASHBOARD: &str = "/dashboard/admin";

impl ApiClient {
    /// `POST /activity` (students): heartbeats of time on a lesson or its video; all
    /// stored or none, and a heartbeat sent again is a duplicate, not more time.
    pub async fn send_heartbeats(&self, body: &HeartbeatBatch) -> Result<HeartbeatReceipt> {
        self.post_json("/activity", body).await
    }

    /// `POST /activity/import` (admins): 1–1000 rows of historical activity, all stored
    /// or none; a row whose id is already stored is a duplicate.
    pub async fn import_activity(&self, body: &ActivityImport) -> Result<ActivityImportReceipt> {
        self.post_json("/activity/import", body).await
    }

    /// `POST /analytics/rollup` (admins): recompute the daily roll-ups now.
    pub async fn rollup(&self) -> Result<RollupReport> {
        self.post_action("/analytics/rollup").await
    }

    /// `GET /dashboard/student`: the signed-in student's dashboard.
    pub async fn dashboard_student(&self) -> Result<StudentDashboard> {
        self.get("/dashboard/student", &()).await
    }

    /// `GET /dashboard/teacher`: over the courses the signed-in teacher owns or teaches.
    pub async fn dashboard_teacher(&self) -> Result<TeacherDashboard> {
        self.get("/dashboard/teacher", &()).await
    }

    /// `GET /dashboard/admin?since=&until=`: the whole school.
    pub async fn dashboard_admin(&self, range: &DateRange) -> Result<AdminDashboard> {
        self.get(ADMIN_DASHBOARD, range).await
    }

    /// `GET /dashboard/admin` as CSV: every day series, `series,date,value`.
    pub async fn dashboard_admin_csv(&self, range: &DateRange) -> Result<String> {
        self.get_text_with(ADMIN_DASHBOARD, range, &CSV).await
    }

    /// `GET /analytics/course/{key}?since=&until=`: `key` is the course's id, slug or
    /// external id.
    pub async fn course_analytics(&self, key: &str, range: &DateRange) -> Result<CourseAnalytics> {
        self.get(&course_analytics_path(key), range).await
    }

    /// `GET /analytics/course/{key}` as CSV: every day series, `series,date,value`.
    pub async fn course_analytics_csv(&self, key: &str, range: &DateRange) -> Result<String> {
        self.get_text_with(&course_analytics_path(key), range, &CSV)
            .await
    }

    /// `GET /analytics/student/{key}?since=&until=`: one student's standing (for
    /// themselves, their parents, their teachers and admins); `key` is the student's
    /// id, email or SIS id.
    pub async fn student_analytics(
        &self,
        key: &str,
        range: &DateRange,
    ) -> Result<StudentAnalytics> {
        self.get(&student_analytics_path(key), range).await
    }

    /// `GET /analytics/student/{key}` as CSV: every day series, `series,date,value`.
    pub async fn student_analytics_csv(&self, key: &str, range: &DateRange) -> Result<String> {
        self.get_text_with(&student_analytics_path(key), range, &CSV)
            .await
    }
}

/// `/analytics/course/{key}`.
fn course_analytics_path(key: &str) -> String {
    format!("/analytics/course/{}", segment(key))
}

/// `/analytics/student/{key}`.
fn student_analytics_path(key: &str) -> String {
    format!("/analytics/student/{}", segment(key))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    /// The query string reqwest sends for `range`.
    fn query_of(range: &DateRange) -> Option<String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let request = reqwest::Client::new()
            .get("http://localhost/x")
            .query(range)
            .build()
            .expect("a request to build");
        request.url().query().map(str::to_owned)
    }

    #[test]
    fn an_open_date_range_sends_no_query_and_a_closed_one_sends_days() {
        assert_eq!(query_of(&DateRange::default()).unwrap_or_default(), "");
        let closed = DateRange {
            since: NaiveDate::from_ymd_opt(2025, 1, 2),
            until: NaiveDate::from_ymd_opt(2025, 1, 31),
        };
        assert_eq!(
            query_of(&closed).as_deref(),
            Some("since=2025-01-02&until=2025-01-31")
        );
    }
}
